using System.Globalization;
using DeepSentinel.Core.Scenes;

namespace DeepSentinel.Core.Sampling;

/// <summary>
/// The one radiometric convention of every corpus sample: Sentinel-2 L2A surface reflectance =
/// DN x 0.0001, no offset, 0 = nodata (the convention of processing baselines before 04.00).
/// Since baseline 04.00 (25 January 2022) L2A DNs carry BOA_ADD_OFFSET = -1000
/// (reflectance = (DN - 1000) / 10000); it is removed while the patch is read, unless the
/// provider already removed it.
/// </summary>
public static class S2Radiometry
{
    /// <summary>Reflectance per stored DN.</summary>
    public const double Scale = 0.0001;

    /// <summary>The DN offset of baseline 04.00 and later (BOA_ADD_OFFSET is -1000 for every band).</summary>
    public const int BaselineFourOffset = 1000;

    /// <summary>The day baseline 04.00 took over; decides when a scene declares no baseline.</summary>
    public static readonly DateTimeOffset BaselineFourStart = new(2022, 1, 25, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// The DN offset to remove from a band of a scene, decided in this order: the provider says it
    /// removed the offset (earthsearch:boa_offset_applied true): 0; a baseline before 04.00: 0;
    /// an offset declared in raster:bands (e.g. Earth Search's and CDSE's -0.1 with scale 0.0001):
    /// offset / scale; a baseline of 04.00 or later (Planetary Computer's s2:processing_baseline):
    /// 1000; no baseline: 1000 for acquisitions from 25 January 2022 on, else 0.
    /// </summary>
    public static int OffsetToRemove(SentinelScene scene, SceneAsset asset)
    {
        ArgumentNullException.ThrowIfNull(scene);
        ArgumentNullException.ThrowIfNull(asset);
        if (scene.BoaOffsetApplied == true)
        {
            return 0;
        }

        var baseline = ParseBaseline(scene.ProcessingBaseline);
        if (baseline is < 4.0)
        {
            return 0;
        }

        if (asset.Offset is { } offset && asset.Scale is { } scale && scale > 0)
        {
            return Math.Max(0, (int)Math.Round(-offset / scale));
        }

        return baseline is not null || scene.Datetime >= BaselineFourStart ? BaselineFourOffset : 0;
    }

    /// <summary>Removes <paramref name="offset"/> from DNs in place: 0 stays nodata, valid values floor at 1.</summary>
    public static void Remove(ushort[] values, int offset)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (offset <= 0)
        {
            return;
        }

        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            if (v != 0)
            {
                values[i] = v > offset ? (ushort)(v - offset) : (ushort)1;
            }
        }
    }

    /// <summary>A baseline such as "05.09" or "N0509" as a number, or null.</summary>
    public static double? ParseBaseline(string? baseline)
    {
        if (string.IsNullOrWhiteSpace(baseline))
        {
            return null;
        }

        var text = baseline.Trim().TrimStart('N', 'n');
        if (text.Length == 4 && !text.Contains('.', StringComparison.Ordinal))
        {
            text = text[..2] + "." + text[2..];
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;
    }
}
