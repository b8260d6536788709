using System.Globalization;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.FineTuning;

/// <summary>One row of the band map from a dataset's bands to the corpus's.</summary>
/// <param name="Source">The band as the dataset names it (EuroSAT: B01-B12 with B08A and B10).</param>
/// <param name="Target">The corpus (L2A) band it feeds, or null when it is dropped.</param>
/// <param name="Note">What differs, or why it is dropped.</param>
public sealed record BandMapping(string Source, string? Target, string Note);

/// <summary>
/// The bands of EuroSAT-style datasets and their explicit map onto the corpus's 12 Sentinel-2
/// L2A bands (<see cref="TrainingPatch.S2BandNames"/>). EuroSAT's MS variant (Helber et al.)
/// stores 13 Level-1C bands per GeoTIFF, B01-B12 with B08A and B10, as UInt16 top-of-atmosphere
/// reflectance x 10000; the corpus holds Level-2A bottom-of-atmosphere (surface) reflectance x
/// 10000 with the baseline-04.00 offset removed. B10 (cirrus, 1375 nm) is not in L2A products and
/// is dropped; every other band keeps its name (B08A is the corpus's B8A) and its DN scale, so the
/// values fall in the same numeric range. They are not the same quantity: TOA reflectance still
/// holds the atmosphere (brighter in B01-B03 from path radiance, darker in the water-vapour band
/// B09), so an encoder pretrained on L2A sees L1C input as shifted, and the map says so rather
/// than pretending to correct it.
/// </summary>
public static class EuroSatBands
{
    /// <summary>EuroSAT MS's band order in its GeoTIFFs (13 L1C bands).</summary>
    public static IReadOnlyList<string> L1CBands { get; } = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B08A", "B09", "B10", "B11", "B12"];

    /// <summary>The bands of an RGB image (EuroSAT's RGB variant, JPEG): red, green, blue = B04, B03, B02.</summary>
    public static IReadOnlyList<string> RgbBands { get; } = ["B04", "B03", "B02"];

    /// <summary>The explicit map of EuroSAT's 13 L1C bands onto the corpus's 12 L2A bands.</summary>
    public static IReadOnlyList<BandMapping> L1CToL2A { get; } =
    [
        new("B01", "B01", "coastal aerosol, 60 m; TOA (L1C) vs BOA (L2A): the atmosphere is not removed"),
        new("B02", "B02", "blue, 10 m; TOA vs BOA"),
        new("B03", "B03", "green, 10 m; TOA vs BOA"),
        new("B04", "B04", "red, 10 m; TOA vs BOA"),
        new("B05", "B05", "red edge 1, 20 m; TOA vs BOA"),
        new("B06", "B06", "red edge 2, 20 m; TOA vs BOA"),
        new("B07", "B07", "red edge 3, 20 m; TOA vs BOA"),
        new("B08", "B08", "NIR, 10 m; TOA vs BOA"),
        new("B08A", "B8A", "narrow NIR, 20 m; the corpus names it B8A"),
        new("B09", "B09", "water vapour, 60 m; TOA vs BOA"),
        new("B10", null, "cirrus, 60 m: dropped (L2A products have no B10)"),
        new("B11", "B11", "SWIR 1, 20 m; TOA vs BOA"),
        new("B12", "B12", "SWIR 2, 20 m; TOA vs BOA"),
    ];

    /// <summary>
    /// A band name in the corpus's spelling: "B8A", "B08A", "b8a" and "8A" are B8A; "B1" and
    /// "B01" are B01; "B10" stays B10 (it has no corpus band). Null when the text is no
    /// Sentinel-2 band name (GDAL's "Band 1" and empty descriptions are not).
    /// </summary>
    public static string? Canonical(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return null;
        }

        var s = name.Trim().ToUpperInvariant();
        if (s.StartsWith('B'))
        {
            s = s[1..];
        }

        if (s is "8A" or "08A")
        {
            return "B8A";
        }

        return int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 12 && s.Length <= 2
            ? string.Create(CultureInfo.InvariantCulture, $"B{n:00}")
            : null;
    }

    /// <summary>The corpus channel (index into <see cref="TrainingPatch.S2BandNames"/>) of a canonical band name, or -1 (B10 and unknown names).</summary>
    public static int CorpusChannel(string canonical)
    {
        for (var i = 0; i < TrainingPatch.S2BandNames.Count; i++)
        {
            if (TrainingPatch.S2BandNames[i] == canonical)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Band names in corpus channel order (B01 ... B8A, B09, B11, B12), B10 and unknown names left out, no duplicates.</summary>
    public static List<string> InCorpusOrder(IEnumerable<string> canonical) =>
        canonical.Where(b => CorpusChannel(b) >= 0).Distinct(StringComparer.Ordinal).OrderBy(CorpusChannel).ToList();
}
