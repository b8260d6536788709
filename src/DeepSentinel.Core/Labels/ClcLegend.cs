using System.Collections.Frozen;

namespace DeepSentinel.Core.Labels;

/// <summary>A CORINE Land Cover level-3 class with its parents and legend colour.</summary>
/// <param name="Code">The level-3 code (111..523), as CODE_18 holds it.</param>
/// <param name="Index">The class's value in the CLC raster product (1..44).</param>
/// <param name="Name">The level-3 name.</param>
/// <param name="Red">Legend colour, red.</param>
/// <param name="Green">Legend colour, green.</param>
/// <param name="Blue">Legend colour, blue.</param>
public sealed record ClcClass(int Code, int Index, string Name, byte Red, byte Green, byte Blue)
{
    /// <summary>The level-2 code (e.g. 31 for 311).</summary>
    public int Level2 => Code / 10;

    /// <summary>The level-1 code (e.g. 3 for 311).</summary>
    public int Level1 => Code / 100;
}

/// <summary>
/// The CORINE Land Cover nomenclature (CLC 2018, 44 level-3 classes) as project data. Names and
/// RGB colours follow the official CLC legend that the Copernicus Land Monitoring Service ships
/// with the product (clc_legend.csv / the .qml and .lyr styles of the 100 m raster); the raster
/// product's values 1..44 are the classes in code order, 48 is "NODATA" and 49/50 are
/// "UNCLASSIFIED" land and water, which this project treats as no label.
/// </summary>
public static class ClcLegend
{
    /// <summary>The 44 level-3 classes in code order.</summary>
    public static IReadOnlyList<ClcClass> Classes { get; } = Build(
    [
        (111, "Continuous urban fabric", 230, 0, 77),
        (112, "Discontinuous urban fabric", 255, 0, 0),
        (121, "Industrial or commercial units", 204, 77, 242),
        (122, "Road and rail networks and associated land", 204, 0, 0),
        (123, "Port areas", 230, 204, 204),
        (124, "Airports", 230, 204, 230),
        (131, "Mineral extraction sites", 166, 0, 204),
        (132, "Dump sites", 166, 77, 0),
        (133, "Construction sites", 255, 77, 255),
        (141, "Green urban areas", 255, 166, 255),
        (142, "Sport and leisure facilities", 255, 230, 255),
        (211, "Non-irrigated arable land", 255, 255, 168),
        (212, "Permanently irrigated land", 255, 255, 0),
        (213, "Rice fields", 230, 230, 0),
        (221, "Vineyards", 230, 128, 0),
        (222, "Fruit trees and berry plantations", 242, 166, 77),
        (223, "Olive groves", 230, 166, 0),
        (231, "Pastures", 230, 230, 77),
        (241, "Annual crops associated with permanent crops", 255, 230, 166),
        (242, "Complex cultivation patterns", 255, 230, 77),
        (243, "Land principally occupied by agriculture, with significant areas of natural vegetation", 230, 204, 77),
        (244, "Agro-forestry areas", 242, 204, 166),
        (311, "Broad-leaved forest", 128, 255, 0),
        (312, "Coniferous forest", 0, 166, 0),
        (313, "Mixed forest", 77, 255, 0),
        (321, "Natural grasslands", 204, 242, 77),
        (322, "Moors and heathland", 166, 255, 128),
        (323, "Sclerophyllous vegetation", 166, 230, 77),
        (324, "Transitional woodland-shrub", 166, 242, 0),
        (331, "Beaches, dunes, sands", 230, 230, 230),
        (332, "Bare rocks", 204, 204, 204),
        (333, "Sparsely vegetated areas", 204, 255, 204),
        (334, "Burnt areas", 0, 0, 0),
        (335, "Glaciers and perpetual snow", 166, 230, 204),
        (411, "Inland marshes", 166, 166, 255),
        (412, "Peat bogs", 77, 77, 255),
        (421, "Salt marshes", 204, 204, 255),
        (422, "Salines", 230, 230, 255),
        (423, "Intertidal flats", 166, 166, 230),
        (511, "Water courses", 0, 204, 242),
        (512, "Water bodies", 128, 242, 230),
        (521, "Coastal lagoons", 0, 255, 166),
        (522, "Estuaries", 166, 255, 230),
        (523, "Sea and ocean", 230, 242, 255),
    ]);

    /// <summary>Level-2 names by code.</summary>
    public static IReadOnlyDictionary<int, string> Level2Names { get; } = new Dictionary<int, string>
    {
        [11] = "Urban fabric",
        [12] = "Industrial, commercial and transport units",
        [13] = "Mine, dump and construction sites",
        [14] = "Artificial, non-agricultural vegetated areas",
        [21] = "Arable land",
        [22] = "Permanent crops",
        [23] = "Pastures",
        [24] = "Heterogeneous agricultural areas",
        [31] = "Forests",
        [32] = "Scrub and/or herbaceous vegetation associations",
        [33] = "Open spaces with little or no vegetation",
        [41] = "Inland wetlands",
        [42] = "Maritime wetlands",
        [51] = "Inland waters",
        [52] = "Marine waters",
    }.ToFrozenDictionary();

    /// <summary>Level-1 names by code.</summary>
    public static IReadOnlyDictionary<int, string> Level1Names { get; } = new Dictionary<int, string>
    {
        [1] = "Artificial surfaces",
        [2] = "Agricultural areas",
        [3] = "Forest and semi natural areas",
        [4] = "Wetlands",
        [5] = "Water bodies",
    }.ToFrozenDictionary();

    private static readonly FrozenDictionary<int, ClcClass> ByCode = Classes.ToFrozenDictionary(c => c.Code);

    /// <summary>The class of a level-3 code, or null.</summary>
    public static ClcClass? Find(int code) => ByCode.GetValueOrDefault(code);

    /// <summary>
    /// The level-3 code of a source value: a code itself, or a raster index 1..44; 0 for the
    /// values that mean no label (0, 48..50, 128, 255, 990..999 and negatives); -1 for anything
    /// else.
    /// </summary>
    public static int CodeOf(int value) => value switch
    {
        >= 1 and <= 44 => Classes[value - 1].Code,
        <= 0 or 48 or 49 or 50 or 128 or 255 or (>= 990 and <= 999) => 0,
        _ => ByCode.ContainsKey(value) ? value : -1,
    };

    private static List<ClcClass> Build((int Code, string Name, int R, int G, int B)[] rows) =>
        rows.Select((r, i) => new ClcClass(r.Code, i + 1, r.Name, (byte)r.R, (byte)r.G, (byte)r.B)).ToList();
}
