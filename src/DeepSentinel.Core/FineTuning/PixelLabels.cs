using System.Globalization;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Gdal;
using DeepSentinel.Core.Labels;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.FineTuning;

/// <summary>
/// The class of every pixel of a patch: an index into <see cref="Keys"/> per pixel, row-major,
/// or -1 where the pixel has no label (nodata, a CLC no-data code such as 999, no OSM class).
/// </summary>
/// <param name="Width">Pixels per row.</param>
/// <param name="Height">Rows.</param>
/// <param name="Keys">Class keys: CLC codes at the chosen level ("2", "21", "211"), or OSM class names.</param>
/// <param name="Index">Per pixel, an index into <paramref name="Keys"/> or -1.</param>
public sealed record PixelLabelMap(int Width, int Height, IReadOnlyList<string> Keys, int[] Index)
{
    /// <summary>Labelled pixels of each key.</summary>
    public long[] Counts()
    {
        var counts = new long[Keys.Count];
        foreach (var i in Index)
        {
            if (i >= 0)
            {
                counts[i]++;
            }
        }

        return counts;
    }
}

/// <summary>
/// A patch whose per-pixel classes are known by other means than the corpus's label files (e.g. a
/// generated dataset). Corpus samples (<see cref="PatchSample"/>) need not implement it: their
/// pixel labels are read from clc.tif and osm.tif.
/// </summary>
public interface IPixelLabelledPatch : ITrainingPatchProvider
{
    /// <summary>The patch's pixel labels from <paramref name="source"/>, or null when it has none.</summary>
    ValueTask<PixelLabelMap?> LoadPixelLabelsAsync(SegmentationLabelSource source, int clcLevel, CancellationToken cancellationToken);
}

/// <summary>Reads pixel labels: a corpus sample's clc.tif or osm.tif, or an <see cref="IPixelLabelledPatch"/>'s own.</summary>
public static class PixelLabelReader
{
    /// <summary>The label file's asset key for a source.</summary>
    public static string AssetKey(SegmentationLabelSource source) => source == SegmentationLabelSource.Osm ? "osm" : "clc";

    /// <summary>The pixel labels of a patch, or null when it has none from <paramref name="source"/> (Add-CorineLabel / Add-OsmLabel never labelled it).</summary>
    public static async ValueTask<PixelLabelMap?> LoadAsync(ITrainingPatchProvider patch, SegmentationLabelSource source, int clcLevel, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(patch);
        if (clcLevel is < 1 or > 3)
        {
            throw new ArgumentOutOfRangeException(nameof(clcLevel), clcLevel, "CLC levels are 1, 2 and 3.");
        }

        switch (patch)
        {
            case IPixelLabelledPatch labelled:
                return await labelled.LoadPixelLabelsAsync(source, clcLevel, cancellationToken).ConfigureAwait(false);
            case PatchSample sample:
                var key = AssetKey(source);
                if (!sample.Labels.ContainsKey(key))
                {
                    return null;
                }

                var location = sample.AssetLocation(key);
                if (!location.Contains("://", StringComparison.Ordinal) && !File.Exists(location))
                {
                    return null;
                }

                using (var dataset = OpenLabel(sample, location))
                {
                    if (dataset.Width != sample.Width || dataset.Height != sample.Height)
                    {
                        throw new DeepSentinelException(ErrorIds.TrainingInputInvalid, ErrorKind.InvalidData, $"Sample {sample.Id}: {key}.tif is {dataset.Width} x {dataset.Height} px, the patch {sample.Width} x {sample.Height} px.", sample.Id);
                    }

                    return source == SegmentationLabelSource.Osm ? ReadOsm(dataset) : ReadClc(dataset, clcLevel);
                }

            default:
                return null;
        }
    }

    /// <summary>CLC level-3 codes (0 and codes outside the legend: unlabelled) at a level.</summary>
    public static PixelLabelMap FromClcCodes(int width, int height, ReadOnlySpan<ushort> codes, int clcLevel)
    {
        var keys = new List<string>();
        var byCode = new Dictionary<int, int>();
        var index = new int[codes.Length];
        for (var i = 0; i < codes.Length; i++)
        {
            var code = codes[i];
            if (code == 0 || ClcLegend.Find(code) is null)
            {
                index[i] = -1;
                continue;
            }

            var at = LabelledSample.ClcCodeAt(code, clcLevel);
            if (!byCode.TryGetValue(at, out var k))
            {
                k = keys.Count;
                byCode[at] = k;
                keys.Add(at.ToString(CultureInfo.InvariantCulture));
            }

            index[i] = k;
        }

        return new PixelLabelMap(width, height, keys, index);
    }

    private static GdalDataset OpenLabel(PatchSample sample, string location)
    {
        try
        {
            return GdalDataset.Open(location);
        }
        catch (DeepSentinelException ex)
        {
            throw new DeepSentinelException(ErrorIds.RasterUnreadable, ErrorKind.InvalidData, $"Sample {sample.Id}: the label file {location} cannot be read: {ex.Message}", sample.Id, ex);
        }
    }

    private static PixelLabelMap ReadClc(GdalDataset dataset, int clcLevel)
    {
        var codes = new ushort[dataset.Width * dataset.Height];
        dataset.Read<ushort>(1, 0, 0, dataset.Width, dataset.Height, codes, dataset.Width, dataset.Height);
        return FromClcCodes(dataset.Width, dataset.Height, codes, clcLevel);
    }

    // One band per OSM class (1 = present); the first class present in band order wins.
    private static PixelLabelMap ReadOsm(GdalDataset dataset)
    {
        var n = dataset.Width * dataset.Height;
        var keys = Enumerable.Range(1, dataset.BandCount).Select(b => dataset.Description(b) is { Length: > 0 } d ? d : $"band{b}").ToList();
        var index = new int[n];
        Array.Fill(index, -1);
        var mask = new byte[n];
        for (var b = 0; b < keys.Count; b++)
        {
            dataset.Read<byte>(b + 1, 0, 0, dataset.Width, dataset.Height, mask, dataset.Width, dataset.Height);
            for (var i = 0; i < n; i++)
            {
                if (index[i] < 0 && mask[i] != 0)
                {
                    index[i] = b;
                }
            }
        }

        return new PixelLabelMap(dataset.Width, dataset.Height, keys, index);
    }
}
