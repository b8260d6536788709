using System.Globalization;
using System.Text.Json.Nodes;
using DeepSentinel.Core.Geometry;
using NetTopologySuite.IO;
using Parquet;
using Parquet.Schema;
using Parquet.Serialization;

namespace DeepSentinel.Core.Stac;

/// <summary>
/// Writes Sentinel-1/2 STAC Items as a STAC-GeoParquet item table in stac-geoparquet's layout (what
/// <see cref="ItemTableReader"/> reads, and what Planetary Computer publishes): one row per Item;
/// <c>id</c>, <c>collection</c>, <c>geometry</c> as WKB with GeoParquet 1.1 "geo" metadata, <c>bbox</c>
/// as a struct, <c>datetime</c> as a UTC microsecond timestamp (Parquet.Net's DateTimeDataField in
/// Timestamp format, not legacy INT96), the Sentinel properties as top-level columns and
/// <c>assets</c> as a struct of one struct per asset key (href, type, title, roles, gsd, projection;
/// raster:bands and eo:bands as JSON text, which stac-geoparquet readers accept). Used for the demo
/// catalog's table; the file is written to a temporary name and moved into place.
/// </summary>
internal static class ItemTableWriter
{
    private static readonly string[] StringProperties = ["platform", "constellation", "s2:mgrs_tile", "s2:processing_baseline", "sat:orbit_state", "sar:instrument_mode", "sar:product_type"];
    private static readonly string[] DoubleProperties = ["eo:cloud_cover", "s2:nodata_pixel_percentage"];
    private static readonly string[] IntegerProperties = ["sat:relative_orbit", "proj:epsg"];

    /// <summary>Writes <paramref name="given"/> to <paramref name="path"/> (hrefs as they are).</summary>
    public static async Task WriteAsync(string path, IReadOnlyList<JsonObject> given, CancellationToken cancellationToken)
    {
        // Parsed anew, so that every number converts to the column's type.
        var items = given.Select(i => JsonNode.Parse(i.ToJsonString())!.AsObject()).ToList();
        var assetKeys = items.SelectMany(i => i["assets"] is JsonObject a ? a.Select(p => p.Key) : []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var schema = Schema(assetKeys);
        var wkb = new WKBWriter(ByteOrder.LittleEndian, handleSRID: false, emitZ: false);
        var extent = new NetTopologySuite.Geometries.Envelope();
        var types = new SortedSet<string>(StringComparer.Ordinal);
        var rows = new List<IDictionary<string, object?>>(items.Count);
        foreach (var item in items)
        {
            var geometry = GeoJson.ReadGeometry(System.Text.Json.JsonSerializer.SerializeToElement(item["geometry"]));
            extent.ExpandToInclude(geometry.EnvelopeInternal);
            types.Add(geometry.GeometryType);
            var bbox = item["bbox"] is JsonArray b && b.Count >= 4 ? b.Select(v => (double)v!).ToArray() : null;
            var box = bbox is null ? Antimeridian.BoundingBoxOf(geometry) : bbox.Length == 6 ? new BoundingBox(bbox[0], bbox[1], bbox[3], bbox[4]) : new BoundingBox(bbox[0], bbox[1], bbox[2], bbox[3]);
            var p = item["properties"]!.AsObject();
            var row = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["type"] = "Feature",
                ["stac_version"] = (string?)item["stac_version"] ?? "1.0.0",
                ["id"] = (string)item["id"]!,
                ["collection"] = (string?)item["collection"],
                ["geometry"] = new ReadOnlyMemory<byte>(wkb.Write(geometry)),
                ["bbox"] = new Dictionary<string, object?> { ["xmin"] = box.West, ["ymin"] = box.South, ["xmax"] = box.East, ["ymax"] = box.North },
                ["datetime"] = DateTimeOffset.Parse((string)p["datetime"]!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).UtcDateTime,
                ["sar:polarizations"] = Strings(p["sar:polarizations"]),
            };
            foreach (var name in StringProperties)
            {
                row[name] = p[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
            }

            foreach (var name in DoubleProperties)
            {
                row[name] = p[name] is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;
            }

            foreach (var name in IntegerProperties)
            {
                row[name] = p[name] is JsonValue v && v.TryGetValue<long>(out var l) ? l : null;
            }

            var assets = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var key in assetKeys)
            {
                var a = item["assets"]?[key] as JsonObject;
                assets[key] = new Dictionary<string, object?>
                {
                    ["href"] = (string?)a?["href"],
                    ["type"] = (string?)a?["type"],
                    ["title"] = (string?)a?["title"],
                    ["roles"] = Strings(a?["roles"]),
                    ["gsd"] = a?["gsd"] is JsonValue g && g.TryGetValue<double>(out var gsd) ? gsd : null,
                    ["proj:shape"] = a?["proj:shape"] is JsonArray shape ? shape.Select(v => (long)v!).ToArray() : Array.Empty<long>(),
                    ["proj:transform"] = a?["proj:transform"] is JsonArray t ? t.Select(v => (double)v!).ToArray() : Array.Empty<double>(),
                    ["raster:bands"] = a?["raster:bands"]?.ToJsonString(),
                    ["eo:bands"] = a?["eo:bands"]?.ToJsonString(),
                };
            }

            row["assets"] = assets;
            rows.Add(row);
        }

        var geo = new JsonObject
        {
            ["version"] = Corpus.CorpusTable.GeoParquetVersion,
            ["primary_column"] = "geometry",
            ["columns"] = new JsonObject
            {
                ["geometry"] = new JsonObject
                {
                    ["encoding"] = "WKB",
                    ["geometry_types"] = new JsonArray(types.Select(t => (JsonNode?)t).ToArray()),
                    ["bbox"] = extent.IsNull ? null : new JsonArray(extent.MinX, extent.MinY, extent.MaxX, extent.MaxY),
                    ["covering"] = new JsonObject { ["bbox"] = new JsonObject { ["xmin"] = new JsonArray("bbox", "xmin"), ["ymin"] = new JsonArray("bbox", "ymin"), ["xmax"] = new JsonArray("bbox", "xmax"), ["ymax"] = new JsonArray("bbox", "ymax") } },
                },
            },
        };
        var temp = path + ".partial";
        await using (var file = new FileStream(temp, FileMode.Create, FileAccess.ReadWrite, FileShare.None))
        {
            await ParquetSerializer.SerializeUntypedAsync(rows, schema, file, new ParquetOptions { CompressionMethod = CompressionMethod.Snappy }, new Dictionary<string, string> { ["geo"] = geo.ToJsonString() }, cancellationToken).ConfigureAwait(false);
        }

        File.Move(temp, path, overwrite: true);
    }

    // The serializer takes a list's strings as character memory.
    private static ReadOnlyMemory<char>[] Strings(JsonNode? node) =>
        node is JsonArray array ? array.Select(v => ((string)v!).AsMemory()).ToArray() : [];

    private static ParquetSchema Schema(string[] assetKeys)
    {
        var fields = new List<Field>
        {
            new DataField<string>("type", false),
            new DataField<string>("stac_version", false),
            new DataField<string>("id", false),
            new DataField<string>("collection", true),
            new DataField<byte[]>("geometry", false),
            new StructField("bbox", new DataField<double>("xmin", false), new DataField<double>("ymin", false), new DataField<double>("xmax", false), new DataField<double>("ymax", false)),
            new DateTimeDataField("datetime", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: false),
            new ListField("sar:polarizations", new DataField<string>("element", false)),
        };
        fields.AddRange(StringProperties.Select(n => (Field)new DataField<string>(n, true)));
        fields.AddRange(DoubleProperties.Select(n => (Field)new DataField<double>(n, true)));
        fields.AddRange(IntegerProperties.Select(n => (Field)new DataField<long>(n, true)));
        fields.Add(new StructField("assets", assetKeys.Select(k => (Field)new StructField(
            k,
            new DataField<string>("href", true),
            new DataField<string>("type", true),
            new DataField<string>("title", true),
            new ListField("roles", new DataField<string>("element", false)),
            new DataField<double>("gsd", true),
            new ListField("proj:shape", new DataField<long>("element", false)),
            new ListField("proj:transform", new DataField<double>("element", false)),
            new DataField<string>("raster:bands", true),
            new DataField<string>("eo:bands", true))).ToArray()));
        return new ParquetSchema(fields);
    }
}
