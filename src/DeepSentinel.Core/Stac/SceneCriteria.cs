using System.Text.Json.Nodes;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Scenes;
using NetTopologySuite.Geometries;

namespace DeepSentinel.Core.Stac;

/// <summary>
/// One property filter of a scene query, in every form it can take: a CQL2-JSON expression,
/// a Query-extension condition, and a predicate for filtering on the client.
/// </summary>
internal sealed record SceneCriterion(
    string Name,
    SentinelMission? AppliesTo,
    Func<SentinelScene, bool> Matches,
    JsonNode? Cql2,
    bool Cql2NeedsArrayFunctions,
    string? QueryProperty,
    JsonObject? QueryCondition)
{
    public bool Applies(SentinelMission? mission) => AppliesTo is null || mission is null || AppliesTo == mission;
}

/// <summary>Builds the criteria of a query, and the spatial and temporal predicates for catalogs.</summary>
internal static class SceneCriteria
{
    /// <summary>The property criteria (cloud, orbit, tile, polarisation) of a validated query.</summary>
    public static List<SceneCriterion> Build(SceneQuery query, ProviderProfile? profile)
    {
        var criteria = new List<SceneCriterion>();
        if (query.MaxCloudCover is { } cloud)
        {
            criteria.Add(new SceneCriterion(
                "MaxCloudCover",
                SentinelMission.S2,
                s => s.CloudCover is { } c && c <= cloud,
                Compare("<=", "eo:cloud_cover", cloud),
                false,
                "eo:cloud_cover",
                new JsonObject { ["lte"] = cloud }));
        }

        if (query.OrbitState is { } state)
        {
            var text = state == OrbitState.Ascending ? "ascending" : "descending";
            criteria.Add(new SceneCriterion(
                "OrbitState",
                null,
                s => s.OrbitState == state,
                Compare("=", "sat:orbit_state", text),
                false,
                "sat:orbit_state",
                new JsonObject { ["eq"] = text }));
        }

        if (query.RelativeOrbit is { } orbit)
        {
            criteria.Add(new SceneCriterion(
                "RelativeOrbit",
                null,
                s => s.RelativeOrbit == orbit,
                Compare("=", "sat:relative_orbit", orbit),
                false,
                "sat:relative_orbit",
                new JsonObject { ["eq"] = orbit }));
        }

        if (query.MgrsTiles.Count > 0)
        {
            var tiles = query.MgrsTiles.ToHashSet(StringComparer.OrdinalIgnoreCase);
            JsonNode? cql = null;
            string? queryProperty = null;
            JsonObject? queryCondition = null;
            if (profile?.MgrsQueryable is { } queryable)
            {
                var values = query.MgrsTiles.Select(queryable.Format).ToArray();
                cql = values.Length == 1
                    ? Compare("=", queryable.Property, values[0])
                    : new JsonObject { ["op"] = "or", ["args"] = new JsonArray(values.Select(v => (JsonNode)Compare("=", queryable.Property, v)).ToArray()) };
                queryProperty = queryable.Property;
                queryCondition = values.Length == 1 ? new JsonObject { ["eq"] = values[0] } : new JsonObject { ["in"] = new JsonArray(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()) };
            }

            criteria.Add(new SceneCriterion("MgrsTile", SentinelMission.S2, s => s.MgrsTile is { } t && tiles.Contains(t), cql, false, queryProperty, queryCondition));
        }

        if (query.Polarizations.Count > 0)
        {
            var wanted = query.Polarizations.ToArray();
            var cql = new JsonObject
            {
                ["op"] = "a_contains",
                ["args"] = new JsonArray(new JsonObject { ["property"] = "sar:polarizations" }, new JsonArray(wanted.Select(w => (JsonNode?)JsonValue.Create(w)).ToArray())),
            };

            // The Query extension has no "array contains" operator: without CQL2 array functions
            // this one is always checked on the client.
            criteria.Add(new SceneCriterion("Polarization", SentinelMission.S1, s => wanted.All(w => s.Polarizations.Contains(w, StringComparer.OrdinalIgnoreCase)), cql, true, null, null));
        }

        return criteria;
    }

    /// <summary>The area to search as a geometry (a box becomes a polygon, two across the antimeridian).</summary>
    public static NetTopologySuite.Geometries.Geometry? SearchArea(SceneQuery query)
    {
        if (query.Intersects is { } geometry)
        {
            return geometry;
        }

        if (query.BoundingBox is not { } box)
        {
            return null;
        }

        var f = GeoJson.Wgs84Factory;
        var parts = box.LongitudeSpans().Select(span => (Polygon)f.ToGeometry(new Envelope(span.West, span.East, box.South, box.North))).ToArray();
        return parts.Length == 1 ? parts[0] : f.CreateMultiPolygon(parts);
    }

    /// <summary>True when the scene was acquired inside the query's time range.</summary>
    public static bool InTimeRange(SceneQuery query, SentinelScene scene) =>
        (query.Start is not { } start || scene.Datetime >= start) && (query.End is not { } end || scene.Datetime <= end);

    private static JsonObject Compare(string op, string property, JsonNode? value) =>
        new() { ["op"] = op, ["args"] = new JsonArray(new JsonObject { ["property"] = property }, value) };

    private static JsonObject Compare(string op, string property, double value) => Compare(op, property, JsonValue.Create(value));

    private static JsonObject Compare(string op, string property, int value) => Compare(op, property, JsonValue.Create(value));

    private static JsonObject Compare(string op, string property, string value) => Compare(op, property, JsonValue.Create(value));
}
