using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Gdal;
using DeepSentinel.Core.Raster;
using DeepSentinel.Core.Storage;
using NetTopologySuite.IO;
using Parquet;
using Parquet.Schema;
using Parquet.Serialization;

namespace DeepSentinel.Core.Corpus;

/// <summary>What writing a corpus's GeoParquet table did.</summary>
public sealed record CorpusTableResult
{
    /// <summary>The corpus (as samples name it).</summary>
    public required string Corpus { get; init; }

    /// <summary>The table's location (the corpus root plus <see cref="CorpusTable.Key"/>).</summary>
    public required string Location { get; init; }

    /// <summary>Rows (samples) in the table.</summary>
    public long Rows { get; init; }

    /// <summary>Rows whose sample has at least one label (CLC or OSM).</summary>
    public long Labelled { get; init; }

    /// <summary>Size of the table in bytes.</summary>
    public long Bytes { get; init; }

    /// <summary>False when the store already held exactly these bytes (nothing was written).</summary>
    public bool Written { get; init; }
}

/// <summary>
/// The corpus as one STAC-GeoParquet table, <c>items.parquet</c> at the corpus root beside the
/// ndjson index: one row per sample in index (point) order, one column per STAC field, so a data
/// scientist can query the corpus with any Parquet reader (GeoPandas, DuckDB, pyarrow, hyparquet).
/// <para>
/// Columns follow STAC-GeoParquet: <c>type</c>, <c>stac_version</c>, <c>id</c>, <c>collection</c>,
/// <c>geometry</c> (WKB, the patch's four corners in WGS 84, counter-clockwise; a patch across
/// 180 degrees is a MultiPolygon of its two halves), <c>bbox</c>
/// (struct xmin/ymin/xmax/ymax, the GeoParquet 1.1 bbox covering), the Item's properties as
/// top-level columns (<c>datetime</c>, <c>start_datetime</c>, <c>end_datetime</c> as UTC
/// microsecond timestamps; <c>proj:epsg</c>; cloud and nodata fractions; days apart; the labels
/// present) and <c>assets</c> (struct of asset key to struct href/type, hrefs relative to the
/// corpus root, which is also the table's folder). The file's <c>geo</c> metadata is GeoParquet
/// 1.1.0 (encoding WKB, the geometry types present, CRS OGC:CRS84 as PROJJSON, bbox, covering).
/// </para>
/// The table is written to a local temporary file in row groups of <see cref="RowGroupSize"/>
/// rows (memory does not grow with the corpus) and put under its key in one atomic write, only
/// when its bytes differ from what the store holds: rerunning a finished corpus writes nothing,
/// and a reader never sees half a table.
/// </summary>
public static class CorpusTable
{
    /// <summary>The table's key in the corpus.</summary>
    public const string Key = "items.parquet";

    /// <summary>The media type of the table.</summary>
    public const string MediaType = "application/vnd.apache.parquet";

    /// <summary>The GeoParquet version of the "geo" metadata.</summary>
    public const string GeoParquetVersion = "1.1.0";

    private const string CogType = "image/tiff; application=geotiff; profile=cloud-optimized";

    /// <summary>Every asset column, in order, with its media type (label assets are null in unlabelled rows).</summary>
    private static readonly (string Key, string Type)[] AssetColumns =
    [
        (PatchSample.AssetKeys.S2, CogType),
        (PatchSample.AssetKeys.S1, CogType),
        (PatchSample.AssetKeys.Scl, CogType),
        (PatchSample.AssetKeys.S2Preview, "image/png"),
        (PatchSample.AssetKeys.S1Preview, "image/png"),
        (PatchSample.AssetKeys.Item, "application/geo+json"),
        ("clc", CogType),
        ("clc_preview", "image/png"),
        ("osm", CogType),
    ];

    /// <summary>Rows per row group (a row group is the unit a reader skips or reads).</summary>
    public const int RowGroupSize = 10_000;

    /// <summary>Items read at once to learn each sample's labels.</summary>
    internal const int ItemReadParallelism = 16;

    /// <summary>OGC:CRS84 (WGS 84, longitude first) as PROJJSON: what GDAL 3.6 exports for it, with its OGC id.</summary>
    private const string Crs84ProjJson = """{"$schema":"https://proj.org/schemas/v0.5/projjson.schema.json","type":"GeographicCRS","name":"WGS 84 (CRS84)","datum":{"type":"GeodeticReferenceFrame","name":"World Geodetic System 1984","ellipsoid":{"name":"WGS 84","semi_major_axis":6378137,"inverse_flattening":298.257223563},"id":{"authority":"EPSG","code":6326}},"coordinate_system":{"subtype":"ellipsoidal","axis":[{"name":"Longitude","abbreviation":"lon","direction":"east","unit":"degree"},{"name":"Latitude","abbreviation":"lat","direction":"north","unit":"degree"}]},"id":{"authority":"OGC","code":"CRS84"}}""";

    /// <summary>The table's schema.</summary>
    internal static ParquetSchema Schema { get; } = BuildSchema();

    /// <summary>
    /// Writes the corpus's table from its index, each sample's labels read from its STAC Item
    /// (the one record of labels: see Add-CorineLabel), unless the store already holds these bytes.
    /// A sample whose Item cannot be read is reported and left out, as Get-PatchSample leaves it out.
    /// </summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.CorpusNotFound"/>, <see cref="ErrorIds.StorageWriteFailed"/> and the store's errors.</exception>
    public static async Task<CorpusTableResult> WriteAsync(PatchCorpus corpus, IOperationReporter? reporter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        reporter ??= NullReporter.Instance;
        var samples = WithLabelsAsync(corpus, corpus.ReadIndexAsync(reporter.Error, cancellationToken), reporter, cancellationToken);
        return await WriteAsync(corpus, samples, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the table from samples in the order given (their <see cref="PatchSample.Labels"/> as they are), unless the store already holds these bytes.</summary>
    internal static async Task<CorpusTableResult> WriteAsync(PatchCorpus corpus, IAsyncEnumerable<PatchSample> samples, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(samples);
        var temp = Path.Combine(Path.GetTempPath(), "deepsentinel-table-" + Guid.NewGuid().ToString("N") + ".parquet");
        try
        {
            var (rows, labelled) = await WriteFileAsync(temp, samples, RowGroupSize, cancellationToken).ConfigureAwait(false);
            var bytes = new FileInfo(temp).Length;
            var written = false;
            if (!await SameBytesAsync(corpus.Store, temp, cancellationToken).ConfigureAwait(false))
            {
                await using var stream = File.OpenRead(temp);
                await corpus.Store.PutAsync(Key, stream, PutOptions.Overwrite with { ContentType = MediaType }, cancellationToken).ConfigureAwait(false);
                written = true;
            }

            return new CorpusTableResult
            {
                Corpus = corpus.Location,
                Location = corpus.Location.Contains("://", StringComparison.Ordinal) ? corpus.Location.TrimEnd('/') + "/" + Key : Path.Combine(corpus.Location, Key),
                Rows = rows,
                Labelled = labelled,
                Bytes = bytes,
                Written = written,
            };
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Writes the table for <paramref name="samples"/> (in their order, their labels as they are) to a local file, in row groups of <paramref name="rowGroupSize"/> rows; returns the rows and the labelled rows.</summary>
    public static async Task<(long Rows, long Labelled)> WriteFileAsync(string path, IAsyncEnumerable<PatchSample> samples, int rowGroupSize, CancellationToken cancellationToken)
    {
        var transforms = new Dictionary<int, CoordinateTransform>();
        var extent = new NetTopologySuite.Geometries.Envelope();
        var types = new HashSet<string>(StringComparer.Ordinal);
        var wkb = new WKBWriter(ByteOrder.LittleEndian, handleSRID: false, emitZ: false);
        long rows = 0, labelled = 0;
        var groups = 0;
        try
        {
            await using var file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None);
            // Each row group is held until the next one is full, so the last one written, whose
            // footer a reader takes, carries the extent of the whole table.
            List<IDictionary<string, object?>>? pending = null;
            var batch = new List<IDictionary<string, object?>>(rowGroupSize);
            await foreach (var sample in samples.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                var (row, envelope, type) = ToRow(sample, Transform(transforms, sample.Epsg), wkb);
                extent.ExpandToInclude(envelope);
                types.Add(type);
                batch.Add(row);
                rows++;
                if (LabelKinds(sample).Count > 0)
                {
                    labelled++;
                }

                if (batch.Count == rowGroupSize)
                {
                    if (pending is not null)
                    {
                        await SerializeAsync(file, pending, groups++ > 0, extent, types, cancellationToken).ConfigureAwait(false);
                    }

                    pending = batch;
                    batch = new List<IDictionary<string, object?>>(rowGroupSize);
                }
            }

            if (pending is not null)
            {
                await SerializeAsync(file, pending, groups++ > 0, extent, types, cancellationToken).ConfigureAwait(false);
            }

            if (batch.Count > 0 || groups == 0)
            {
                await SerializeAsync(file, batch, groups++ > 0, extent, types, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (var transform in transforms.Values)
            {
                transform.Dispose();
            }
        }

        return (rows, labelled);
    }

    /// <summary>The GeoParquet "geo" metadata for a table covering <paramref name="extent"/> with geometries of <paramref name="types"/>.</summary>
    internal static string GeoMetadata(NetTopologySuite.Geometries.Envelope extent, IReadOnlyCollection<string> types)
    {
        ArgumentNullException.ThrowIfNull(extent);
        ArgumentNullException.ThrowIfNull(types);
        var column = new JsonObject
        {
            ["encoding"] = "WKB",
            ["geometry_types"] = new JsonArray(types.Order(StringComparer.Ordinal).Select(t => (JsonNode?)t).ToArray()),
            ["crs"] = JsonNode.Parse(Crs84ProjJson),
            ["orientation"] = "counterclockwise",
            ["edges"] = "planar",
            ["covering"] = new JsonObject
            {
                ["bbox"] = new JsonObject
                {
                    ["xmin"] = new JsonArray("bbox", "xmin"),
                    ["ymin"] = new JsonArray("bbox", "ymin"),
                    ["xmax"] = new JsonArray("bbox", "xmax"),
                    ["ymax"] = new JsonArray("bbox", "ymax"),
                },
            },
        };
        if (!extent.IsNull)
        {
            column["bbox"] = new JsonArray(extent.MinX, extent.MinY, extent.MaxX, extent.MaxY);
        }

        return new JsonObject
        {
            ["version"] = GeoParquetVersion,
            ["primary_column"] = "geometry",
            ["columns"] = new JsonObject { ["geometry"] = column },
        }.ToJsonString();
    }

    /// <summary>The kinds of label a sample has (clc, osm), without their quicklooks.</summary>
    internal static List<string> LabelKinds(PatchSample sample) =>
        sample.Labels.Keys.Where(k => !k.EndsWith("_preview", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

    private static async Task SerializeAsync(FileStream file, List<IDictionary<string, object?>> rows, bool append, NetTopologySuite.Geometries.Envelope extent, IReadOnlyCollection<string> types, CancellationToken cancellationToken)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["geo"] = GeoMetadata(extent, types) };
        var options = new ParquetOptions { CompressionMethod = CompressionMethod.Snappy, Append = append };
        file.Position = append ? file.Position : 0;
        await ParquetSerializer.SerializeUntypedAsync(rows, Schema, file, options, metadata, cancellationToken).ConfigureAwait(false);
    }

    private static ParquetSchema BuildSchema()
    {
        static DateTimeDataField Timestamp(string name) => new(name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: false);
        return new ParquetSchema(
            new DataField<string>("type", false),
            new DataField<string>("stac_version", false),
            new DataField<string>("id", false),
            new DataField<string>("collection", false),
            new DataField<byte[]>("geometry", false),
            new StructField("bbox", new DataField<double>("xmin", false), new DataField<double>("ymin", false), new DataField<double>("xmax", false), new DataField<double>("ymax", false)),
            Timestamp("datetime"),
            Timestamp("start_datetime"),
            Timestamp("end_datetime"),
            new DataField<int>("proj:epsg", false),
            new DataField<string>("s2:mgrs_tile", true),
            new DataField<string>("sat:orbit_state", true),
            new DataField<double>("eo:cloud_cover", false),
            new DataField<long>("deepsentinel:index", false),
            new DataField<double>("deepsentinel:cloud_fraction", false),
            new DataField<double>("deepsentinel:nodata_fraction", false),
            new DataField<double>("deepsentinel:days_apart", false),
            new DataField<string>("deepsentinel:s2_scene", false),
            new DataField<string>("deepsentinel:s1_scene", false),
            Timestamp("deepsentinel:s1_datetime"),
            new ListField("deepsentinel:labels", new DataField<string>("element", false)),
            new DataField<int>("deepsentinel:clc_dominant", true),
            new StructField("assets", AssetColumns.Select(a => (Field)new StructField(a.Key, new DataField<string>("href", true), new DataField<string>("type", true))).ToArray()));
    }

    private static (Dictionary<string, object?> Row, NetTopologySuite.Geometries.Envelope Envelope, string GeometryType) ToRow(PatchSample sample, CoordinateTransform toWgs84, WKBWriter wkb)
    {
        if (sample.GeoTransform.Length != 6 || sample.Width < 1 || sample.Height < 1)
        {
            throw new DeepSentinelException(ErrorIds.CorpusEntryInvalid, ErrorKind.InvalidData, $"Sample {sample.Id} in {sample.Corpus} has no patch grid (geotransform, width, height) in the index, so it cannot be placed in the table. Rebuild the corpus with New-PatchSample.", sample.Id);
        }

        var grid = new PatchGrid(sample.Epsg, sample.GeoTransform[0], sample.GeoTransform[3], sample.GeoTransform[1], sample.Width, sample.Height);
        // The four corners counter-clockwise (bottom-left, bottom-right, top-right, top-left),
        // rounded as the Item's geometry is: a patch of 2.56 km is straight in WGS 84 to far
        // better than that rounding, so the Item's densified edges add nothing a query needs.
        double[] xs = [grid.OriginX, grid.MaxX, grid.MaxX, grid.OriginX, grid.OriginX];
        double[] ys = [grid.MinY, grid.MinY, grid.OriginY, grid.OriginY, grid.MinY];
        toWgs84.Transform(xs, ys);
        var ring = xs.Zip(ys, (x, y) => new NetTopologySuite.Geometries.Coordinate(Math.Round(x, 7), Math.Round(y, 7))).ToArray();
        // One polygon, or for a patch across 180 degrees a MultiPolygon of its two halves (RFC 7946
        // 3.1.9) whose bbox runs west > east (GeoParquet 1.1: xmin > xmax crosses the antimeridian).
        var polygon = Geometry.Antimeridian.FromRing(ring);
        var box = Geometry.Antimeridian.BoundingBoxOf(polygon);
        var (bboxWest, bboxEast) = (box.West, box.East);
        var envelope = polygon.EnvelopeInternal;
        var start = sample.S1Datetime < sample.S2Datetime ? sample.S1Datetime : sample.S2Datetime;
        var end = sample.S1Datetime > sample.S2Datetime ? sample.S1Datetime : sample.S2Datetime;
        var assets = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, type) in AssetColumns)
        {
            var href = sample.Assets.TryGetValue(key, out var a) ? a : sample.Labels.TryGetValue(key, out var l) ? l : null;
            assets[key] = href is null
                ? new Dictionary<string, object?> { ["href"] = null, ["type"] = null }
                : new Dictionary<string, object?> { ["href"] = href, ["type"] = type };
        }

        var row = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["type"] = "Feature",
            ["stac_version"] = "1.0.0",
            ["id"] = sample.Id,
            ["collection"] = PatchCorpus.CollectionId,
            ["geometry"] = new ReadOnlyMemory<byte>(wkb.Write(polygon)),
            ["bbox"] = new Dictionary<string, object?> { ["xmin"] = bboxWest, ["ymin"] = envelope.MinY, ["xmax"] = bboxEast, ["ymax"] = envelope.MaxY },
            ["datetime"] = sample.S2Datetime.UtcDateTime,
            ["start_datetime"] = start.UtcDateTime,
            ["end_datetime"] = end.UtcDateTime,
            ["proj:epsg"] = sample.Epsg,
            ["s2:mgrs_tile"] = sample.MgrsTile,
            ["sat:orbit_state"] = sample.S1OrbitState,
            ["eo:cloud_cover"] = Math.Round(sample.CloudFraction * 100, 3),
            ["deepsentinel:index"] = sample.Index,
            ["deepsentinel:cloud_fraction"] = sample.CloudFraction,
            ["deepsentinel:nodata_fraction"] = sample.NoDataFraction,
            ["deepsentinel:days_apart"] = sample.DaysApart,
            ["deepsentinel:s2_scene"] = sample.S2SceneId,
            ["deepsentinel:s1_scene"] = sample.S1SceneId,
            ["deepsentinel:s1_datetime"] = sample.S1Datetime.UtcDateTime,
            // The serializer takes a list's strings as character memory.
            ["deepsentinel:labels"] = LabelKinds(sample).Select(k => k.AsMemory()).ToArray(),
            ["deepsentinel:clc_dominant"] = sample.DominantClc,
            ["assets"] = assets,
        };
        return (row, envelope, polygon.GeometryType);
    }

    private static CoordinateTransform Transform(Dictionary<int, CoordinateTransform> transforms, int epsg)
    {
        if (!transforms.TryGetValue(epsg, out var transform))
        {
            transform = new CoordinateTransform(epsg, 4326);
            transforms[epsg] = transform;
        }

        return transform;
    }

    /// <summary>Samples in their order, each with the labels its Item lists; Items are read <see cref="ItemReadParallelism"/> at a time.</summary>
    private static async IAsyncEnumerable<PatchSample> WithLabelsAsync(PatchCorpus corpus, IAsyncEnumerable<PatchSample> samples, IOperationReporter reporter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var batch = new List<PatchSample>(ItemReadParallelism * 8);
        await foreach (var sample in samples.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            batch.Add(sample);
            if (batch.Count == batch.Capacity)
            {
                foreach (var done in await AttachAsync(batch).ConfigureAwait(false))
                {
                    yield return done;
                }

                batch.Clear();
            }
        }

        foreach (var done in await AttachAsync(batch).ConfigureAwait(false))
        {
            yield return done;
        }

        async Task<List<PatchSample>> AttachAsync(List<PatchSample> items)
        {
            using var gate = new SemaphoreSlim(ItemReadParallelism);
            var reads = items.Select(async sample =>
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    Labels.LabelRunner.AttachLabels(sample, await Labels.LabelRunner.ReadItemAsync(corpus, sample, cancellationToken).ConfigureAwait(false));
                    return sample;
                }
                catch (DeepSentinelException ex)
                {
                    reporter.Error(ex);
                    return null;
                }
                finally
                {
                    gate.Release();
                }
            }).ToList();
            var read = await Task.WhenAll(reads).ConfigureAwait(false);
            return read.Where(s => s is not null).Select(s => s!).ToList();
        }
    }

    private static async Task<bool> SameBytesAsync(IObjectStore store, string path, CancellationToken cancellationToken)
    {
        var length = new FileInfo(path).Length;
        if (await store.GetInfoAsync(Key, cancellationToken).ConfigureAwait(false) is not { } info || info.Length != length)
        {
            return false;
        }

        await using var existing = await store.OpenReadAsync(Key, cancellationToken).ConfigureAwait(false);
        await using var mine = File.OpenRead(path);
        var a = new byte[81920];
        var b = new byte[81920];
        while (true)
        {
            var n = await existing.ReadAtLeastAsync(a, a.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            var m = await mine.ReadAtLeastAsync(b, b.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (n != m || !a.AsSpan(0, n).SequenceEqual(b.AsSpan(0, m)))
            {
                return false;
            }

            if (n == 0)
            {
                return true;
            }
        }
    }
}
