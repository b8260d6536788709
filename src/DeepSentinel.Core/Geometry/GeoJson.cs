using System.Text.Json;
using DeepSentinel.Core.Errors;
using NetTopologySuite;
using NetTopologySuite.Features;
using NetTopologySuite.Geometries;
using NetTopologySuite.IO;
using NetTopologySuite.IO.Converters;
using NetTopologySuite.Operation.Valid;

namespace DeepSentinel.Core.Geometry;

/// <summary>
/// Reads and writes GeoJSON geometries (RFC 7946) as NetTopologySuite geometries in WGS 84, with
/// NetTopologySuite.IO.GeoJSON4STJ, and validates the areas users give.
/// </summary>
public static class GeoJson
{
    /// <summary>The factory for WGS 84 longitude/latitude geometries (SRID 4326).</summary>
    public static GeometryFactory Wgs84Factory { get; } = NtsGeometryServices.Instance.CreateGeometryFactory(4326);

    // NetTopologySuite.IO.GeoJSON4STJ reads and writes; rings are written in the order they have.
    private static readonly JsonSerializerOptions SerializerOptions = new()
    {
        Converters = { new GeoJsonConverterFactory(Wgs84Factory, false, GeoJsonConverterFactory.DefaultIdPropertyName, RingOrientationOption.DoNotModify) },
    };

    /// <summary>
    /// Parses a user-supplied area: a GeoJSON Geometry, Feature or FeatureCollection, or WKT.
    /// The result is validated: coordinates within longitude/latitude ranges, a valid shape.
    /// </summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.InvalidGeometry"/>.</exception>
    public static NetTopologySuite.Geometries.Geometry ParseUserGeometry(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw InvalidGeometry("The geometry is empty. Give GeoJSON (e.g. {\"type\":\"Point\",\"coordinates\":[2.35,48.85]}) or WKT (e.g. POINT (2.35 48.85)).", text);
        }

        var trimmed = text.Trim();
        NetTopologySuite.Geometries.Geometry geometry;
        if (trimmed.StartsWith('{'))
        {
            try
            {
                using var document = JsonDocument.Parse(trimmed);
                geometry = ReadAny(document.RootElement);
            }
            catch (JsonException ex)
            {
                throw InvalidGeometry($"The geometry is not valid JSON: {ex.Message}", Shorten(trimmed));
            }
        }
        else
        {
            try
            {
                geometry = new WKTReader(NtsGeometryServices.Instance).Read(trimmed);
                geometry.SRID = 4326;
            }
            catch (Exception ex) when (ex is ParseException or ArgumentException or FormatException or InvalidOperationException)
            {
                throw InvalidGeometry($"The geometry is neither GeoJSON nor valid WKT: {ex.Message}", Shorten(trimmed));
            }
        }

        if (geometry.IsEmpty)
        {
            throw InvalidGeometry("The geometry is empty.", Shorten(trimmed));
        }

        foreach (var c in geometry.Coordinates)
        {
            if (double.IsNaN(c.X) || double.IsNaN(c.Y) || c.X < -180 || c.X > 180 || c.Y < -90 || c.Y > 90)
            {
                throw InvalidGeometry($"The geometry has the coordinate ({c.X}, {c.Y}) outside longitude -180..180 / latitude -90..90. Coordinates are longitude first, in WGS 84 degrees.", Shorten(trimmed));
            }
        }

        var validity = new IsValidOp(geometry).ValidationError;
        if (validity is not null)
        {
            throw InvalidGeometry($"The geometry is not valid: {validity.Message} at ({validity.Coordinate?.X}, {validity.Coordinate?.Y}).", Shorten(trimmed));
        }

        return geometry;
    }

    /// <summary>Reads a GeoJSON Geometry object (NetTopologySuite's reader).</summary>
    /// <exception cref="FormatException">The element is not a GeoJSON geometry.</exception>
    public static NetTopologySuite.Geometries.Geometry ReadGeometry(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            throw new FormatException("A GeoJSON geometry must be an object with a \"type\".");
        }

        try
        {
            return element.Deserialize<NetTopologySuite.Geometries.Geometry>(SerializerOptions) ?? throw new FormatException("The GeoJSON geometry is null.");
        }
        catch (JsonException ex)
        {
            throw new FormatException(ex.Message, ex);
        }
    }

    /// <summary>Writes a geometry as a GeoJSON Geometry object (NetTopologySuite's writer).</summary>
    public static void WriteGeometry(Utf8JsonWriter writer, NetTopologySuite.Geometries.Geometry geometry)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(geometry);
        JsonSerializer.Serialize(writer, geometry, SerializerOptions);
    }

    /// <summary>Returns a geometry as a GeoJSON string.</summary>
    public static string ToJson(NetTopologySuite.Geometries.Geometry geometry)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        return JsonSerializer.Serialize(geometry, SerializerOptions);
    }

    private static NetTopologySuite.Geometries.Geometry ReadAny(JsonElement root)
    {
        try
        {
            var type = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            switch (type)
            {
                case "Feature":
                    return root.Deserialize<IFeature>(SerializerOptions)?.Geometry ?? throw new FormatException("The Feature has no geometry.");
                case "FeatureCollection":
                    var parts = (root.Deserialize<FeatureCollection>(SerializerOptions) ?? []).Select(f => f.Geometry).Where(g => g is not null).ToArray();
                    if (parts.Length == 0)
                    {
                        throw new FormatException("The FeatureCollection has no features with a geometry.");
                    }

                    return parts.Length == 1 ? parts[0] : Wgs84Factory.BuildGeometry(parts).Union();
                default:
                    return ReadGeometry(root);
            }
        }
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException or ArgumentException or NotSupportedException)
        {
            throw InvalidGeometry($"The GeoJSON is not a valid geometry: {ex.Message}", Shorten(root.GetRawText()));
        }
    }

    private static DeepSentinelException InvalidGeometry(string message, object? target) =>
        DeepSentinelException.InvalidArgument(ErrorIds.InvalidGeometry, message, target);

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";
}
