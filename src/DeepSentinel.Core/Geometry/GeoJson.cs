using System.Text.Json;
using DeepSentinel.Core.Errors;
using NetTopologySuite;
using NetTopologySuite.Geometries;
using NetTopologySuite.IO;
using NetTopologySuite.Operation.Valid;

namespace DeepSentinel.Core.Geometry;

/// <summary>
/// Reads and writes GeoJSON geometries (RFC 7946) as NetTopologySuite geometries in WGS 84.
/// NetTopologySuite.IO.GeoJSON is not available here, and this is all the project needs of it.
/// </summary>
public static class GeoJson
{
    /// <summary>The factory for WGS 84 longitude/latitude geometries (SRID 4326).</summary>
    public static GeometryFactory Wgs84Factory { get; } = NtsGeometryServices.Instance.CreateGeometryFactory(4326);

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

    /// <summary>Reads a GeoJSON Geometry object.</summary>
    /// <exception cref="FormatException">The element is not a GeoJSON geometry.</exception>
    public static NetTopologySuite.Geometries.Geometry ReadGeometry(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
        {
            throw new FormatException("A GeoJSON geometry must be an object with a \"type\".");
        }

        var f = Wgs84Factory;
        var type = typeElement.GetString();
        if (type == "GeometryCollection")
        {
            var members = element.GetProperty("geometries").EnumerateArray().Select(ReadGeometry).ToArray();
            return f.CreateGeometryCollection(members);
        }

        if (!element.TryGetProperty("coordinates", out var c))
        {
            throw new FormatException($"The GeoJSON {type} has no \"coordinates\".");
        }

        return type switch
        {
            "Point" => f.CreatePoint(Position(c)),
            "MultiPoint" => f.CreateMultiPointFromCoords(Positions(c)),
            "LineString" => f.CreateLineString(Positions(c)),
            "MultiLineString" => f.CreateMultiLineString(c.EnumerateArray().Select(l => f.CreateLineString(Positions(l))).ToArray()),
            "Polygon" => Polygon(f, c),
            "MultiPolygon" => f.CreateMultiPolygon(c.EnumerateArray().Select(p => Polygon(f, p)).ToArray()),
            _ => throw new FormatException($"\"{type}\" is not a GeoJSON geometry type."),
        };
    }

    /// <summary>Writes a geometry as a GeoJSON Geometry object.</summary>
    public static void WriteGeometry(Utf8JsonWriter writer, NetTopologySuite.Geometries.Geometry geometry)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(geometry);
        writer.WriteStartObject();
        switch (geometry)
        {
            case Point p:
                writer.WriteString("type", "Point");
                writer.WritePropertyName("coordinates");
                WritePosition(writer, p.Coordinate);
                break;
            case LineString l:
                writer.WriteString("type", "LineString");
                writer.WritePropertyName("coordinates");
                WritePositions(writer, l.Coordinates);
                break;
            case Polygon poly:
                writer.WriteString("type", "Polygon");
                writer.WritePropertyName("coordinates");
                WriteRings(writer, poly);
                break;
            case MultiPoint mp:
                writer.WriteString("type", "MultiPoint");
                writer.WritePropertyName("coordinates");
                WritePositions(writer, mp.Coordinates);
                break;
            case MultiLineString ml:
                writer.WriteString("type", "MultiLineString");
                writer.WritePropertyName("coordinates");
                writer.WriteStartArray();
                foreach (var part in ml.Geometries)
                {
                    WritePositions(writer, part.Coordinates);
                }

                writer.WriteEndArray();
                break;
            case MultiPolygon mpoly:
                writer.WriteString("type", "MultiPolygon");
                writer.WritePropertyName("coordinates");
                writer.WriteStartArray();
                foreach (var part in mpoly.Geometries)
                {
                    WriteRings(writer, (Polygon)part);
                }

                writer.WriteEndArray();
                break;
            case GeometryCollection gc:
                writer.WriteString("type", "GeometryCollection");
                writer.WritePropertyName("geometries");
                writer.WriteStartArray();
                foreach (var part in gc.Geometries)
                {
                    WriteGeometry(writer, part);
                }

                writer.WriteEndArray();
                break;
            default:
                throw new NotSupportedException($"Cannot write a {geometry.GeometryType} as GeoJSON.");
        }

        writer.WriteEndObject();
    }

    /// <summary>Returns a geometry as a GeoJSON string.</summary>
    public static string ToJson(NetTopologySuite.Geometries.Geometry geometry)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            WriteGeometry(writer, geometry);
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static NetTopologySuite.Geometries.Geometry ReadAny(JsonElement root)
    {
        try
        {
            var type = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            switch (type)
            {
                case "Feature":
                    return ReadGeometry(root.GetProperty("geometry"));
                case "FeatureCollection":
                    var parts = root.GetProperty("features").EnumerateArray().Select(feature => ReadGeometry(feature.GetProperty("geometry"))).ToArray();
                    if (parts.Length == 0)
                    {
                        throw new FormatException("The FeatureCollection has no features.");
                    }

                    return parts.Length == 1 ? parts[0] : Wgs84Factory.BuildGeometry(parts).Union();
                default:
                    return ReadGeometry(root);
            }
        }
        catch (Exception ex) when (ex is FormatException or KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            throw InvalidGeometry($"The GeoJSON is not a valid geometry: {ex.Message}", Shorten(root.GetRawText()));
        }
    }

    private static Polygon Polygon(GeometryFactory f, JsonElement rings)
    {
        var all = rings.EnumerateArray().Select(r => f.CreateLinearRing(Positions(r))).ToArray();
        if (all.Length == 0)
        {
            return f.CreatePolygon();
        }

        return f.CreatePolygon(all[0], all[1..]);
    }

    private static Coordinate Position(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() < 2)
        {
            throw new FormatException("A GeoJSON position must be an array of at least two numbers.");
        }

        return new Coordinate(e[0].GetDouble(), e[1].GetDouble());
    }

    private static Coordinate[] Positions(JsonElement e) => e.EnumerateArray().Select(Position).ToArray();

    private static void WritePosition(Utf8JsonWriter writer, Coordinate c)
    {
        writer.WriteStartArray();
        writer.WriteNumberValue(c.X);
        writer.WriteNumberValue(c.Y);
        writer.WriteEndArray();
    }

    private static void WritePositions(Utf8JsonWriter writer, Coordinate[] coordinates)
    {
        writer.WriteStartArray();
        foreach (var c in coordinates)
        {
            WritePosition(writer, c);
        }

        writer.WriteEndArray();
    }

    private static void WriteRings(Utf8JsonWriter writer, Polygon polygon)
    {
        writer.WriteStartArray();
        WritePositions(writer, polygon.ExteriorRing.Coordinates);
        foreach (var hole in polygon.InteriorRings)
        {
            WritePositions(writer, hole.Coordinates);
        }

        writer.WriteEndArray();
    }

    private static DeepSentinelException InvalidGeometry(string message, object? target) =>
        DeepSentinelException.InvalidArgument(ErrorIds.InvalidGeometry, message, target);

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";
}
