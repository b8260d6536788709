using System.Text.Json;
using System.Text.Json.Serialization;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Gdal;

namespace DeepSentinel.Core.Labels;

/// <summary>
/// One tag rule: features whose <see cref="Key"/> tag has one of <see cref="Values"/> (any value
/// but "no" when empty) and the right geometry belong to <see cref="Class"/>. Lines with a
/// <see cref="Width"/> are buffered to that width in metres before rasterising.
/// </summary>
public sealed record OsmRule
{
    /// <summary>The class (one mask band per class, in order of first appearance).</summary>
    public required string Class { get; init; }

    /// <summary>The OSM tag key (a field of the source layer, e.g. highway, building).</summary>
    public required string Key { get; init; }

    /// <summary>Tag values that match; empty for any value except "no".</summary>
    public IReadOnlyList<string> Values { get; init; } = [];

    /// <summary>Which geometries the rule takes: Line or Area.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<GeometryKind>))]
    public GeometryKind Geometry { get; init; } = GeometryKind.Area;

    /// <summary>For lines: the feature's width in metres (0 rasterises the centreline only).</summary>
    public double Width { get; init; }

    internal bool Matches(string? value) => value is not null && (Values.Count == 0 ? !string.Equals(value, "no", StringComparison.OrdinalIgnoreCase) : Values.Contains(value, StringComparer.Ordinal));
}

/// <summary>
/// The tag-to-class mapping of Add-OsmLabel. The default covers buildings, roads by class with a
/// typical carriageway width, railways, waterways, water bodies and landuse/natural cover; a JSON
/// file (an array of <see cref="OsmRule"/>, property names in camel or snake case) replaces it.
/// </summary>
public sealed class OsmClassMap
{
    private OsmClassMap(IReadOnlyList<OsmRule> rules)
    {
        Rules = rules;
        Classes = rules.Select(r => r.Class).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>The rules, in order.</summary>
    public IReadOnlyList<OsmRule> Rules { get; }

    /// <summary>The classes, one mask band each, in order.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>
    /// The default mapping. Road widths are typical paved widths in metres for European roads of
    /// each highway class (lanes x about 3.5 m, with shoulders for motorways and trunks); they are
    /// defaults for 10 m pixels, not survey values.
    /// </summary>
    public static OsmClassMap Default { get; } = new(
    [
        new OsmRule { Class = "building", Key = "building", Geometry = GeometryKind.Area },
        Road("motorway", 25), Road("motorway_link", 8), Road("trunk", 20), Road("trunk_link", 8),
        Road("primary", 15), Road("primary_link", 7), Road("secondary", 12), Road("secondary_link", 7),
        Road("tertiary", 10), Road("tertiary_link", 6), Road("unclassified", 7), Road("residential", 7),
        Road("living_street", 6), Road("service", 5), Road("track", 3), Road("pedestrian", 5),
        Road("footway", 2), Road("cycleway", 2), Road("path", 1.5),
        Line("railway", "railway", 6, "rail"), Line("railway", "railway", 5, "light_rail", "subway"), Line("railway", "railway", 4, "tram", "narrow_gauge"),
        Line("waterway", "waterway", 20, "river"), Line("waterway", "waterway", 15, "canal"), Line("waterway", "waterway", 3, "stream"), Line("waterway", "waterway", 2, "ditch", "drain"),
        new OsmRule { Class = "water", Key = "natural", Values = ["water"] },
        new OsmRule { Class = "water", Key = "landuse", Values = ["reservoir", "basin"] },
        new OsmRule { Class = "forest", Key = "landuse", Values = ["forest"] },
        new OsmRule { Class = "forest", Key = "natural", Values = ["wood"] },
        new OsmRule { Class = "farmland", Key = "landuse", Values = ["farmland", "farmyard", "orchard", "vineyard", "allotments"] },
        new OsmRule { Class = "grassland", Key = "landuse", Values = ["meadow", "grass", "village_green"] },
        new OsmRule { Class = "grassland", Key = "natural", Values = ["grassland", "heath", "scrub"] },
        new OsmRule { Class = "wetland", Key = "natural", Values = ["wetland"] },
        new OsmRule { Class = "built_up", Key = "landuse", Values = ["residential", "commercial", "industrial", "retail", "construction"] },
    ]);

    /// <summary>Reads a mapping from a JSON file.</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.LabelClassMapInvalid"/>.</exception>
    public static OsmClassMap Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new DeepSentinelException(ErrorIds.LabelClassMapInvalid, ErrorKind.ObjectNotFound, $"The OSM class map '{path}' does not exist.", path);
        }

        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Reads a mapping from JSON text.</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.LabelClassMapInvalid"/>.</exception>
    public static OsmClassMap Parse(string json, string source = "the class map")
    {
        List<OsmRule>? rules;
        try
        {
            rules = JsonSerializer.Deserialize<List<OsmRule>>(json, new JsonSerializerOptions { PropertyNameCaseInsensitive = true });
        }
        catch (JsonException ex)
        {
            throw new DeepSentinelException(ErrorIds.LabelClassMapInvalid, ErrorKind.InvalidData, $"{source} is not a JSON array of rules ({{\"class\", \"key\", \"values\", \"geometry\": \"Line\"|\"Area\", \"width\"}}): {ex.Message}", source, ex);
        }

        if (rules is not { Count: > 0 } || rules.Any(r => string.IsNullOrWhiteSpace(r.Class) || string.IsNullOrWhiteSpace(r.Key) || r.Geometry == GeometryKind.Other || r.Width < 0 || double.IsNaN(r.Width)))
        {
            throw new DeepSentinelException(ErrorIds.LabelClassMapInvalid, ErrorKind.InvalidData, $"{source} needs at least one rule, each with a class, a key, a geometry of Line or Area and a width of 0 or more.", source);
        }

        return new OsmClassMap(rules);
    }

    private static OsmRule Road(string value, double width) => Line("road", "highway", width, value);

    private static OsmRule Line(string name, string key, double width, params string[] values) =>
        new() { Class = name, Key = key, Values = values, Geometry = GeometryKind.Line, Width = width };
}
