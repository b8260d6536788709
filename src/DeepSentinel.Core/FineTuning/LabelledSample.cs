using System.Globalization;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Labels;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.FineTuning;

/// <summary>
/// A patch whose classes are known by other means than a CORINE label (e.g. the class folder of
/// an EuroSAT-style dataset). Corpus samples (<see cref="PatchSample"/>) need not implement it:
/// their classes come from the CLC shares Add-CorineLabel wrote.
/// </summary>
public interface IClassLabelledPatch : ITrainingPatchProvider
{
    /// <summary>Share of the patch each class covers (a whole-patch class label is one class at 1.0).</summary>
    IReadOnlyDictionary<string, double> ClassShares { get; }
}

/// <summary>
/// A patch that knows where it lies, such as a georeferenced EuroSAT GeoTIFF: splits place it in a
/// grid block by its centre (<see cref="SplitBlocking.Grid"/>), as they place corpus samples.
/// </summary>
public interface ILocatedPatch
{
    /// <summary>The projected CRS (metres) of the centre, e.g. EPSG:32631; null when the patch has no usable georeferencing.</summary>
    string? Crs { get; }

    /// <summary>Easting of the patch centre, metres.</summary>
    double? CentreX { get; }

    /// <summary>Northing of the patch centre, metres.</summary>
    double? CentreY { get; }
}

/// <summary>
/// A training patch with its class shares at the chosen CLC level (or its own classes) and where
/// it lies, as splits and fine-tuning take it. Built by <see cref="Resolve"/>; never holds pixels.
/// </summary>
public sealed class LabelledSample
{
    private LabelledSample(ITrainingPatchProvider patch, IReadOnlyDictionary<string, double> shares, string? crs, double? x, double? y, string? tile)
    {
        Patch = patch;
        ClassShares = shares;
        Crs = crs;
        X = x;
        Y = y;
        Tile = tile;
        DominantClass = shares.Count == 0 ? null : shares.OrderByDescending(s => s.Value).ThenBy(s => s.Key, StringComparer.Ordinal).First().Key;
    }

    /// <summary>The sample id.</summary>
    public string Id => Patch.SampleId;

    /// <summary>The patch (its pixels are read when training or predicting).</summary>
    public ITrainingPatchProvider Patch { get; }

    /// <summary>Share of each class (CLC code at the chosen level, or the patch's own class names).</summary>
    public IReadOnlyDictionary<string, double> ClassShares { get; }

    /// <summary>The class covering most of the patch (ties: the smallest code), or null without a label.</summary>
    public string? DominantClass { get; }

    /// <summary>The projected CRS of <see cref="X"/> and <see cref="Y"/> (e.g. EPSG:32631), when known.</summary>
    public string? Crs { get; }

    /// <summary>Easting of the patch centre, metres.</summary>
    public double? X { get; }

    /// <summary>Northing of the patch centre, metres.</summary>
    public double? Y { get; }

    /// <summary>The Sentinel-2 MGRS tile, when known.</summary>
    public string? Tile { get; }

    /// <summary>
    /// The classes of a patch: a corpus sample's CLC shares summed to <paramref name="clcLevel"/>
    /// (1, 2 or 3), or an <see cref="IClassLabelledPatch"/>'s own classes. Null when the patch has
    /// no label (a sample Add-CorineLabel never labelled), so it can be left out with a warning
    /// rather than trained on as a class of its own.
    /// </summary>
    public static LabelledSample? Resolve(ITrainingPatchProvider patch, int clcLevel)
    {
        ArgumentNullException.ThrowIfNull(patch);
        if (clcLevel is < 1 or > 3)
        {
            throw new ArgumentOutOfRangeException(nameof(clcLevel), clcLevel, "CLC levels are 1, 2 and 3.");
        }

        switch (patch)
        {
            case PatchSample sample:
            {
                if (sample.ClcShares.Count == 0)
                {
                    return null;
                }

                var shares = new SortedDictionary<string, double>(StringComparer.Ordinal);
                foreach (var (code, share) in sample.ClcShares)
                {
                    var c = int.Parse(code, CultureInfo.InvariantCulture);
                    var key = ClcCodeAt(c, clcLevel).ToString(CultureInfo.InvariantCulture);
                    shares[key] = shares.GetValueOrDefault(key) + share;
                }

                var gt = sample.GeoTransform;
                return gt.Length == 6
                    ? new LabelledSample(sample, shares, string.Create(CultureInfo.InvariantCulture, $"EPSG:{sample.Epsg}"), gt[0] + (sample.Width * gt[1] / 2), gt[3] + (sample.Height * gt[5] / 2), sample.MgrsTile)
                    : new LabelledSample(sample, shares, null, null, null, sample.MgrsTile);
            }

            case IClassLabelledPatch labelled:
            {
                if (labelled.ClassShares.Count == 0)
                {
                    return null;
                }

                var shares = new SortedDictionary<string, double>(labelled.ClassShares.ToDictionary(), StringComparer.Ordinal);
                return labelled is ILocatedPatch { Crs: { } crs, CentreX: { } x, CentreY: { } y }
                    ? new LabelledSample(labelled, shares, crs, x, y, null)
                    : new LabelledSample(labelled, shares, null, null, null, null);
            }

            default:
                return null;
        }
    }

    /// <summary>A level-3 code at level 1, 2 or 3 (311 -> 3, 31, 311).</summary>
    public static int ClcCodeAt(int level3Code, int level) => level switch
    {
        1 => level3Code / 100,
        2 => level3Code / 10,
        _ => level3Code,
    };

    /// <summary>The name of a class: the CLC legend's name for a code at its level, otherwise the key itself.</summary>
    public static string ClassName(string key)
    {
        if (!int.TryParse(key, NumberStyles.Integer, CultureInfo.InvariantCulture, out var code))
        {
            return key;
        }

        return key.Length switch
        {
            1 => ClcLegend.Level1Names.GetValueOrDefault(code, key),
            2 => ClcLegend.Level2Names.GetValueOrDefault(code, key),
            3 => ClcLegend.Find(code)?.Name ?? key,
            _ => key,
        };
    }

    /// <inheritdoc />
    public override string ToString() => Id;
}
