using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Services;
using DeepSentinel.Core.Storage;
using NetTopologySuite.IO;
using Parquet;
using Parquet.Meta;
using Parquet.Schema;

namespace DeepSentinel.Core.Stac;

/// <summary>An item read from a STAC-GeoParquet table, as the STAC Item JSON its row stands for.</summary>
internal sealed record TableItem(JsonElement Item, Uri? Location);

/// <summary>What a table reader may skip before an item is built: row groups and rows outside the time range or latitudes, rows of other collections.</summary>
internal sealed record ItemTableFilter(DateTimeOffset? Start, DateTimeOffset? End, NetTopologySuite.Geometries.Envelope? Area, IReadOnlySet<string> Collections);

/// <summary>
/// Reads a STAC-GeoParquet item table (the layout of stac-geoparquet, in which Planetary Computer
/// publishes its collections): one row per Item; <c>id</c>, <c>collection</c>, <c>geometry</c> as
/// WKB, <c>bbox</c> (struct xmin/ymin/xmax/ymax, or the older 4-element list), <c>datetime</c>, the
/// Item's properties as top-level columns and <c>assets</c> as a struct of structs.
/// <para>
/// Only the columns a scene needs are read (identity, footprint, time, the properties
/// <see cref="StacItemReader"/> looks at, and per asset its href, type, title, roles, gsd,
/// projection and first raster band), one row group at a time; a row group whose statistics put
/// all its rows outside the time range or the latitudes asked for is not read at all. Each row is
/// turned back into the Item JSON it came from and read by <see cref="StacItemReader"/>, so a scene
/// from a table is the scene the same Item gives from a catalog or an API. Nested values may be
/// Parquet lists and structs or JSON text (older exports store raster:bands so).
/// </para>
/// A table is a local file, or an object in a store (az://, https blob URL, gs://) read with ranged
/// requests through the storage layer.
/// </summary>
internal sealed class ItemTableReader : IAsyncDisposable
{
    /// <summary>The Item properties read (all others are left unread).</summary>
    internal static readonly string[] PropertyColumns =
    [
        "datetime", "start_datetime", "end_datetime", "platform", "constellation", "eo:cloud_cover",
        "sat:orbit_state", "sat:relative_orbit", "sar:polarizations", "sar:instrument_mode",
        "s2:mgrs_tile", "grid:code", "mgrs:utm_zone", "mgrs:latitude_band", "mgrs:grid_square",
        "sentinel:utm_zone", "sentinel:latitude_band", "sentinel:grid_square", "sentinel:product_id",
        "s2:processing_baseline", "processing:version", "s2:product_uri", "proj:epsg", "proj:code",
        "earthsearch:boa_offset_applied", "sentinel:boa_offset_applied",
    ];

    private static readonly HashSet<string> Properties = new(PropertyColumns, StringComparer.Ordinal);
    private static readonly HashSet<string> AssetFields = new(StringComparer.Ordinal) { "href", "type", "title", "roles", "gsd", "proj:transform", "proj:shape", "raster:bands", "eo:bands" };
    private static readonly HashSet<string> BandFields = new(StringComparer.Ordinal) { "spatial_resolution", "data_type", "nodata", "scale", "offset", "name", "common_name" };

    // Fields whose value may be stored as JSON text instead of a Parquet list or struct.
    private static readonly HashSet<string> JsonValued = new(StringComparer.Ordinal) { "bbox", "raster:bands", "eo:bands", "proj:transform", "proj:shape", "roles", "sar:polarizations" };

    private readonly ParquetReader _reader;
    private readonly List<Leaf> _leaves;
    private readonly Uri? _base;

    private ItemTableReader(ParquetReader reader, List<Leaf> leaves, string displayName, Uri? location, Uri? baseUri)
    {
        _reader = reader;
        _leaves = leaves;
        DisplayName = displayName;
        Location = location;
        _base = baseUri;
    }

    /// <summary>The table, for messages (signatures redacted).</summary>
    public string DisplayName { get; }

    /// <summary>The local file's URI (passed on as the items' location); null for a table in a store.</summary>
    public Uri? Location { get; }

    /// <summary>Collections met in rows read so far (skipped rows included).</summary>
    public HashSet<string> SeenCollections { get; } = new(StringComparer.Ordinal);

    /// <summary>Rows in the table.</summary>
    public long Rows => _reader.Metadata?.NumRows ?? 0;

    /// <summary>Row groups read, and skipped on their statistics.</summary>
    public (int Read, int Skipped) RowGroups { get; private set; }

    /// <summary>Opens a table and checks that it is a STAC-GeoParquet item table.</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.ItemTableInvalid"/>, and the store's errors.</exception>
    public static async Task<ItemTableReader> OpenAsync(string table, StorageOptions? storage, CoreServices services, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(table))
        {
            throw Invalid(ErrorKind.InvalidArgument, "An item table location is empty.", table);
        }

        Stream stream;
        string display;
        Uri? location = null;
        Uri? baseUri;
        var isRemote = Uri.TryCreate(table, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "az" or "gs";
        if (!isRemote)
        {
            var path = table.StartsWith("file:", StringComparison.OrdinalIgnoreCase) ? new Uri(table).LocalPath : Path.GetFullPath(table);
            display = path;
            if (!File.Exists(path))
            {
                throw Invalid(Directory.Exists(path) ? ErrorKind.InvalidArgument : ErrorKind.ObjectNotFound, Directory.Exists(path) ? $"The item table '{path}' is a folder; give the .parquet file (one table per collection, several with commas)." : $"The item table '{path}' does not exist.", path);
            }

            try
            {
                stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new DeepSentinelException(ErrorIds.ItemTableInvalid, ex is UnauthorizedAccessException ? ErrorKind.PermissionDenied : ErrorKind.ObjectNotFound, $"Could not read the item table '{path}': {ex.Message}", path, ex);
            }

            location = new Uri(path);
            baseUri = location;
        }
        else
        {
            // The folder is the store, the file name its key; a SAS query stays with the folder.
            var query = table.IndexOf('?', StringComparison.Ordinal);
            var pathPart = query < 0 ? table : table[..query];
            var slash = pathPart.LastIndexOf('/');
            display = SecretRedactor.Redact(pathPart);
            if (slash < pathPart.IndexOf("://", StringComparison.Ordinal) + 3 || slash == pathPart.Length - 1)
            {
                throw Invalid(ErrorKind.InvalidArgument, $"The item table '{display}' does not name a file; give the .parquet object's full URL.", display);
            }

            var folder = pathPart[..(slash + 1)] + (query < 0 ? string.Empty : table[query..]);
            var key = Uri.UnescapeDataString(pathPart[(slash + 1)..]);
            var store = ObjectStores.Open(folder, storage, services, reporter);
            var info = await store.GetInfoAsync(key, cancellationToken).ConfigureAwait(false)
                ?? throw Invalid(ErrorKind.ObjectNotFound, $"The item table '{display}' does not exist.", display);
            stream = new ObjectRangeStream(store, key, info.Length);
            baseUri = uri!.Scheme is "http" or "https" ? new Uri(pathPart) : null;
        }

        ParquetReader reader;
        try
        {
            reader = await ParquetReader.CreateAsync(stream, new ParquetOptions { TreatByteArrayAsString = false }, leaveStreamOpen: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not DeepSentinelException and not OperationCanceledException)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw new DeepSentinelException(ErrorIds.ItemTableInvalid, ErrorKind.InvalidData, $"'{display}' is not a readable Parquet file ({SecretRedactor.Redact(ex.Message)}). Give a STAC-GeoParquet item table, e.g. a partition of a Planetary Computer collection's GeoParquet export.", display, ex);
        }

        try
        {
            var leaves = Plan(reader, display, reporter);
            return new ItemTableReader(reader, leaves, display, location, baseUri);
        }
        catch
        {
            await reader.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Yields the items of the rows the filter does not rule out, row group by row group.</summary>
    public async IAsyncEnumerable<TableItem> ReadAsync(ItemTableFilter filter, IOperationReporter reporter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var wkb = new WKBReader();
        var dataFields = _reader.Schema.GetDataFields().ToDictionary(f => string.Join('\u0001', f.Path.ToList()), StringComparer.Ordinal);
        for (var g = 0; g < _reader.RowGroupCount; g++)
        {
            var group = _reader.OpenRowGroupReader(g);
            if (SkipOnStatistics(group, dataFields, filter))
            {
                RowGroups = (RowGroups.Read, RowGroups.Skipped + 1);
                continue;
            }

            RowGroups = (RowGroups.Read + 1, RowGroups.Skipped);
            var rows = checked((int)group.RowCount);
            var columns = new List<LeafData>(_leaves.Count);
            foreach (var leaf in _leaves)
            {
                if (dataFields.TryGetValue(leaf.Key, out var field) && await ReadLeafAsync(group, field, leaf, rows, cancellationToken).ConfigureAwait(false) is { } data)
                {
                    columns.Add(data);
                }
            }

            var id = columns.FirstOrDefault(c => c.Leaf.Is("id"));
            var geometry = columns.FirstOrDefault(c => c.Leaf.Is("geometry"));
            var datetime = columns.FirstOrDefault(c => c.Leaf.Is("datetime"));
            var collection = columns.FirstOrDefault(c => c.Leaf.Is("collection"));
            for (var row = 0; row < rows; row++)
            {
                var rowId = id?.Scalar(row) as string;
                var rowCollection = collection?.Scalar(row) as string;
                if (rowCollection is not null)
                {
                    SeenCollections.Add(rowCollection);
                    if (filter.Collections.Count > 0 && !filter.Collections.Contains(rowCollection))
                    {
                        continue;
                    }
                }

                if (datetime?.Scalar(row) is DateTime dt && ((filter.Start is { } s && AsUtc(dt) < s.UtcDateTime) || (filter.End is { } e && AsUtc(dt) > e.UtcDateTime)))
                {
                    continue;
                }

                JsonNode? geoJson;
                try
                {
                    geoJson = geometry?.Scalar(row) is byte[] bytes ? JsonNode.Parse(GeoJson.ToJson(wkb.Read(bytes))) : null;
                }
                catch (Exception ex) when (ex is ParseException or ArgumentException or FormatException or InvalidOperationException or IndexOutOfRangeException or EndOfStreamException or IOException)
                {
                    reporter.Error(new DeepSentinelException(ErrorIds.ItemTableInvalid, ErrorKind.InvalidData, $"Row {row + 1} of row group {g + 1} of the item table '{DisplayName}' (item '{rowId}') has a geometry that is not readable WKB ({ex.Message}); the item is left out.", rowId ?? DisplayName, ex));
                    continue;
                }

                var item = BuildItem(columns, row, geoJson);
                yield return new TableItem(JsonSerializer.SerializeToElement(item), Location);
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await _reader.DisposeAsync().ConfigureAwait(false);

    private JsonObject BuildItem(List<LeafData> columns, int row, JsonNode? geometry)
    {
        var item = new JsonObject { ["type"] = "Feature", ["stac_version"] = "1.0.0" };
        var properties = new JsonObject();
        foreach (var column in columns)
        {
            var leaf = column.Leaf;
            if (leaf.Is("geometry"))
            {
                continue;
            }

            // Top-level columns other than the Item's own fields are its properties.
            var top = leaf.Logical[0];
            var target = top is "id" or "collection" or "bbox" or "assets" or "links" ? item : properties;
            column.Assemble(row, target, this);
        }

        if (geometry is not null)
        {
            item["geometry"] = geometry;
        }

        if (item["bbox"] is JsonObject box && box["xmin"] is not null && box["ymin"] is not null && box["xmax"] is not null && box["ymax"] is not null)
        {
            item["bbox"] = new JsonArray(box["xmin"]!.DeepClone(), box["ymin"]!.DeepClone(), box["xmax"]!.DeepClone(), box["ymax"]!.DeepClone());
        }
        else if (item["bbox"] is not JsonArray)
        {
            item.Remove("bbox");
        }

        item["properties"] = properties;
        return item;
    }

    /// <summary>A value as it goes into the Item JSON: text that holds JSON is parsed where the field may be JSON, relative hrefs are resolved against the table.</summary>
    private JsonNode? ToJson(object? value, string field, bool json)
    {
        switch (value)
        {
            case null:
                return null;
            case byte[] bytes when json:
                // A JSON column the reader hands over as bytes.
                return ToJson(System.Text.Encoding.UTF8.GetString(bytes), field, json);
            case string s when json || (JsonValued.Contains(field) && s.Length > 1 && s[0] is '[' or '{'):
                try
                {
                    return JsonNode.Parse(s);
                }
                catch (JsonException)
                {
                    return JsonValue.Create(s);
                }

            case string s when field == "href" && _base is not null && !IsAbsolute(s) && StacItemReader.Resolve(s, _base) is { } resolved:
                // A relative href is relative to the table (as in a corpus's items.parquet).
                return JsonValue.Create(resolved.AbsoluteUri);
            case string s:
                return JsonValue.Create(s);
            case DateTime d:
                return JsonValue.Create(AsUtc(d).ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
            case double d:
                return double.IsFinite(d) ? JsonValue.Create(d) : null;
            case long l:
                return JsonValue.Create(l);
            case bool b:
                return JsonValue.Create(b);
            default:
                return null;
        }
    }

    private static bool IsAbsolute(string href) =>
        Uri.TryCreate(href, UriKind.Absolute, out var uri) && !(uri.IsFile && !Path.IsPathRooted(href) && !href.StartsWith("file:", StringComparison.OrdinalIgnoreCase));

    private static DateTime AsUtc(DateTime d) => d.Kind switch
    {
        DateTimeKind.Utc => d,
        DateTimeKind.Local => d.ToUniversalTime(),
        _ => DateTime.SpecifyKind(d, DateTimeKind.Utc),
    };

    private bool SkipOnStatistics(ParquetRowGroupReader group, Dictionary<string, DataField> fields, ItemTableFilter filter)
    {
        try
        {
            // The raw INT64 bounds and the schema's unit, not the library's decoding of them (which
            // misreads some writers' timestamp units), and only when they are plausible dates:
            // no earlier than Landsat 1 (1972): Parquet.Net 6.1 writes its timestamp statistics in
            // another unit than its values, which lands them in 1970. INT96 and text are not used.
            var leaf = _leaves.FirstOrDefault(l => l.Is("datetime"));
            if ((filter.Start is not null || filter.End is not null) && leaf is { Physical: Parquet.Meta.Type.INT64, TicksPerUnit: not 0 }
                && fields.TryGetValue("datetime", out var datetime) && group.GetMetadata(datetime)?.MetaData?.Statistics is { NullCount: 0 } stats
                && (stats.MinValue ?? stats.Min) is { Length: 8 } minBytes && (stats.MaxValue ?? stats.Max) is { Length: 8 } maxBytes
                && FromUnixUnits(BitConverter.ToInt64(minBytes), leaf.TicksPerUnit) is var min && FromUnixUnits(BitConverter.ToInt64(maxBytes), leaf.TicksPerUnit) is var max
                && min.Year is >= 1972 and <= 2200 && max.Year is >= 1972 and <= 2200 && min <= max
                && ((filter.End is { } end && min > end.UtcDateTime) || (filter.Start is { } start && max < start.UtcDateTime)))
            {
                return true;
            }

            // Latitudes only: a row across the antimeridian has xmin > xmax, which longitude statistics cannot tell.
            if (filter.Area is { IsNull: false } area
                && fields.TryGetValue("bbox\u0001ymin", out var ymin) && fields.TryGetValue("bbox\u0001ymax", out var ymax)
                && group.ColumnExists(ymin) && group.ColumnExists(ymax)
                && group.GetStatistics(ymin) is { NullCount: 0, MinValue: double lowest }
                && group.GetStatistics(ymax) is { NullCount: 0, MaxValue: double highest }
                && (lowest > area.MaxY || highest < area.MinY))
            {
                return true;
            }
        }
        catch (Exception ex) when (ex is ParquetException or InvalidCastException or ArgumentException)
        {
            // Statistics are optional and not always reliable: read the group.
        }

        return false;
    }

    /// <summary>Decides which leaf columns to read, and checks the table has what an item needs.</summary>
    private static List<Leaf> Plan(ParquetReader reader, string display, IOperationReporter reporter)
    {
        var schema = reader.Metadata?.Schema ?? throw Invalid(ErrorKind.InvalidData, $"'{display}' has no Parquet schema.", display);
        var index = 1;
        var root = schema[0];
        var all = new List<Leaf>();
        for (var i = 0; i < (root.NumChildren ?? 0) && index < schema.Count; i++)
        {
            Walk(schema, ref index, null, [], [], 0, 0, 0, false, all);
        }

        var wanted = all.Where(Wanted).ToList();
        var names = all.Select(l => l.Logical[0]).Distinct(StringComparer.Ordinal).ToHashSet(StringComparer.Ordinal);
        var missing = new List<string>();
        if (!wanted.Any(l => l.Is("id") && l.Physical == Parquet.Meta.Type.BYTE_ARRAY))
        {
            missing.Add("id (string)");
        }

        if (!wanted.Any(l => l.Is("geometry") && l.Physical == Parquet.Meta.Type.BYTE_ARRAY))
        {
            missing.Add("geometry (WKB binary)");
        }

        if (!wanted.Any(l => l.Is("datetime") || l.Is("start_datetime")))
        {
            missing.Add("datetime");
        }

        if (missing.Count > 0)
        {
            throw Invalid(ErrorKind.InvalidData, $"The Parquet file '{display}' is not a STAC-GeoParquet item table: it lacks the column{(missing.Count > 1 ? "s" : string.Empty)} {string.Join(", ", missing)} (its columns: {string.Join(", ", names.Take(20))}{(names.Count > 20 ? ", ..." : string.Empty)}). Give a table written by stac-geoparquet (one row per Item), e.g. a partition of a Planetary Computer GeoParquet export.", display);
        }

        if (reader.CustomMetadata.TryGetValue("geo", out var geo))
        {
            string? encoding = null;
            try
            {
                encoding = JsonNode.Parse(geo)?["columns"]?["geometry"]?["encoding"]?.GetValue<string>();
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
            {
                reporter.Warning($"The \"geo\" metadata of the item table '{display}' is not valid JSON; its geometry column is read as WKB.");
            }

            if (encoding is not null && !encoding.Equals("WKB", StringComparison.OrdinalIgnoreCase))
            {
                throw Invalid(ErrorKind.InvalidData, $"The geometry of the item table '{display}' is encoded as '{encoding}'; only WKB (what stac-geoparquet writes) is read.", display);
            }
        }
        else
        {
            reporter.Verbose($"The item table '{display}' has no GeoParquet \"geo\" metadata; its geometry column is read as WKB.");
        }

        return wanted;
    }

    private static bool Wanted(Leaf leaf)
    {
        if (leaf.MaxRepetition > 1)
        {
            return false;
        }

        var p = leaf.Logical;
        return p[0] switch
        {
            "id" or "collection" or "geometry" => p.Length == 1,
            "bbox" => true,
            "links" => p.Length == 3 && p[1] == "[]" && p[2] is "rel" or "href",
            "assets" => p.Length >= 3 && AssetFields.Contains(p[2]) && (p.Length == 3 || (p.Length == 4 && p[3] == "[]") || (p.Length == 5 && p[3] == "[]" && BandFields.Contains(p[4]))),
            _ => Properties.Contains(p[0]) && (p.Length == 1 || (p.Length == 2 && p[1] == "[]")),
        };
    }

    /// <summary>Walks the flat schema depth-first, giving each leaf its physical path, its logical path ("[]" for a list element) and its levels.</summary>
    private static void Walk(List<SchemaElement> schema, ref int index, SchemaElement? parent, string[] physical, string[] logical, int def, int rep, int elementDef, bool elementWrapper, List<Leaf> leaves)
    {
        var node = schema[index++];
        var isLeaf = (node.NumChildren ?? 0) == 0 && node.Type is not null;
        var d = def + (node.RepetitionType is FieldRepetitionType.OPTIONAL or FieldRepetitionType.REPEATED ? 1 : 0);
        var r = rep + (node.RepetitionType == FieldRepetitionType.REPEATED ? 1 : 0);
        string[] phys = [.. physical, node.Name];
        string[] path = logical;
        var ed = elementDef;
        var children = node.NumChildren ?? 0;
        if (node.RepetitionType == FieldRepetitionType.REPEATED)
        {
            ed = d;
            var parentIsList = parent is not null && (parent.ConvertedType == ConvertedType.LIST || parent.LogicalType?.LIST is not null);
            path = parentIsList ? [.. logical, "[]"] : [.. logical, node.Name, "[]"];
            if (parentIsList && !isLeaf && children == 1 && node.Name != "array" && !node.Name.EndsWith("_tuple", StringComparison.Ordinal))
            {
                // The standard three-level list: the repeated group wraps the element.
                Walk(schema, ref index, node, phys, path, d, r, ed, true, leaves);
                return;
            }
        }
        else if (!elementWrapper)
        {
            path = [.. logical, node.Name];
        }

        if (isLeaf)
        {
            if (path.Length > 0)
            {
                var json = node.ConvertedType == ConvertedType.JSON || node.LogicalType?.JSON is not null;
                // An INT64 timestamp's unit, should the reader hand it over as a number (nanoseconds, say).
                var unit = node.LogicalType?.TIMESTAMP?.Unit is { } u ? (u.NANOS is not null ? -100L : u.MICROS is not null ? 10L : 10_000L)
                    : node.ConvertedType == ConvertedType.TIMESTAMP_MICROS ? 10L : node.ConvertedType == ConvertedType.TIMESTAMP_MILLIS ? 10_000L : 0L;
                leaves.Add(new Leaf(string.Join('\u0001', phys), path, d, r, ed, node.Type!.Value, json, unit));
            }

            return;
        }

        for (var i = 0; i < children && index < schema.Count; i++)
        {
            Walk(schema, ref index, node, phys, path, d, r, ed, false, leaves);
        }
    }

    private static async Task<LeafData?> ReadLeafAsync(ParquetRowGroupReader group, DataField field, Leaf leaf, int rows, CancellationToken cancellationToken)
    {
        if (group.GetMetadata(field)?.MetaData is not { } meta)
        {
            return null;
        }

        var n = checked((int)meta.NumValues);
        var defs = field.MaxDefinitionLevel > 0 ? new int[n] : null;
        var reps = field.MaxRepetitionLevel > 0 ? new int[n] : null;
        var t = field.ClrType;
        object?[]? values;
        try
        {
            values = t == typeof(string) || t == typeof(ReadOnlyMemory<char>) ? await Raw<ReadOnlyMemory<char>>(v => new string(v.Span)).ConfigureAwait(false)
                : t == typeof(byte[]) || t == typeof(ReadOnlyMemory<byte>) ? await Raw<ReadOnlyMemory<byte>>(v => v.ToArray()).ConfigureAwait(false)
                : t == typeof(double) ? await Raw<double>(v => v).ConfigureAwait(false)
                : t == typeof(float) ? await Raw<float>(v => (double)v).ConfigureAwait(false)
                : t == typeof(int) ? await Raw<int>(v => (long)v).ConfigureAwait(false)
                : t == typeof(long) && leaf.TicksPerUnit != 0 ? await Raw<long>(v => FromUnixUnits(v, leaf.TicksPerUnit)).ConfigureAwait(false)
                : t == typeof(long) ? await Raw<long>(v => v).ConfigureAwait(false)
                : t == typeof(short) ? await Raw<short>(v => (long)v).ConfigureAwait(false)
                : t == typeof(sbyte) ? await Raw<sbyte>(v => (long)v).ConfigureAwait(false)
                : t == typeof(byte) ? await Raw<byte>(v => (long)v).ConfigureAwait(false)
                : t == typeof(ushort) ? await Raw<ushort>(v => (long)v).ConfigureAwait(false)
                : t == typeof(uint) ? await Raw<uint>(v => (long)v).ConfigureAwait(false)
                : t == typeof(ulong) ? await Raw<ulong>(v => (double)v).ConfigureAwait(false)
                : t == typeof(decimal) ? await Raw<decimal>(v => (double)v).ConfigureAwait(false)
                : t == typeof(bool) ? await Raw<bool>(v => v).ConfigureAwait(false)
                : t == typeof(DateTime) ? await Raw<DateTime>(v => v).ConfigureAwait(false)
                : t == typeof(DateTimeOffset) ? await Raw<DateTimeOffset>(v => v.UtcDateTime).ConfigureAwait(false)
                : throw new NotSupportedException($"values of type {t.Name}");
        }
        catch (NotImplementedException ex) when (field.MaxRepetitionLevel > 0)
        {
            // Parquet.Net 6.1 reads repeated columns from data page v1 only (pyarrow's and
            // stac-geoparquet's default), not from v2 pages.
            throw new DeepSentinelException(ErrorIds.ItemTableInvalid, ErrorKind.InvalidData, $"The list column '{string.Join('.', leaf.Logical.Where(p => p != "[]"))}' is stored in Parquet data pages of version 2, whose repeated columns the Parquet reader (Parquet.Net 6.1) cannot read. Write the table with data page version 1 (pyarrow's and stac-geoparquet's default), or store its lists as JSON text.", string.Join('.', leaf.Logical), ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not DeepSentinelException)
        {
            throw new DeepSentinelException(ErrorIds.ItemTableInvalid, ErrorKind.InvalidData, $"The column '{string.Join('.', leaf.Logical)}' could not be read: {ex.Message}", string.Join('.', leaf.Logical), ex);
        }

        return values is null ? null : new LeafData(leaf, values, defs, reps, rows);

        async Task<object?[]> Raw<T>(Func<T, object> convert)
            where T : struct
        {
            var buffer = new T[n];
            await group.ReadRawAsync(field, buffer.AsMemory(), defs is null ? (Memory<int>?)null : defs.AsMemory(), reps is null ? (Memory<int>?)null : reps.AsMemory(), cancellationToken).ConfigureAwait(false);
            var defined = defs is null ? n : defs.Count(x => x == field.MaxDefinitionLevel);
            var result = new object?[defined];
            for (var i = 0; i < defined; i++)
            {
                result[i] = convert(buffer[i]);
            }

            return result;
        }
    }

    private static DateTime? AsDate(object? value, long ticksPerUnit) => value switch
    {
        DateTime d => AsUtc(d),
        DateTimeOffset o => o.UtcDateTime,
        long l when ticksPerUnit != 0 => FromUnixUnits(l, ticksPerUnit),
        _ => null,
    };

    private static DateTime FromUnixUnits(long value, long ticksPerUnit) =>
        DateTime.UnixEpoch.AddTicks(ticksPerUnit > 0 ? value * ticksPerUnit : value / -ticksPerUnit);

    private static DeepSentinelException Invalid(ErrorKind kind, string message, object? target) => new(ErrorIds.ItemTableInvalid, kind, message, target);

    /// <summary>A leaf column: its physical path (key), logical path, and levels; <see cref="ElementDefinition"/> is the definition level of its list element.</summary>
    /// <remarks><see cref="TicksPerUnit"/>: for a timestamp column, ticks per stored unit (negative: units per tick); 0 otherwise.</remarks>
    private sealed record Leaf(string Key, string[] Logical, int MaxDefinition, int MaxRepetition, int ElementDefinition, Parquet.Meta.Type Physical, bool IsJson, long TicksPerUnit)
    {
        public bool Is(string name) => Logical.Length == 1 && Logical[0] == name;
    }

    /// <summary>The values and levels of one leaf in one row group.</summary>
    private sealed class LeafData
    {
        private readonly object?[] _values;
        private readonly int[]? _defs;
        private readonly int[] _entryValue;
        private readonly int[] _rowStart;

        public LeafData(Leaf leaf, object?[] values, int[]? defs, int[]? reps, int rows)
        {
            Leaf = leaf;
            _values = values;
            _defs = defs;
            var entries = defs?.Length ?? reps?.Length ?? values.Length;
            _entryValue = new int[entries];
            var next = 0;
            for (var e = 0; e < entries; e++)
            {
                _entryValue[e] = defs is null || defs[e] == leaf.MaxDefinition ? next++ : -1;
            }

            _rowStart = new int[rows + 1];
            if (reps is null)
            {
                for (var r = 0; r <= rows; r++)
                {
                    _rowStart[r] = Math.Min(r, entries);
                }
            }
            else
            {
                var row = 0;
                for (var e = 0; e < entries && row < rows; e++)
                {
                    if (reps[e] == 0)
                    {
                        _rowStart[row++] = e;
                    }
                }

                for (; row <= rows; row++)
                {
                    _rowStart[row] = entries;
                }
            }
        }

        public Leaf Leaf { get; }

        /// <summary>The value of a non-repeated leaf in a row (null when it or a parent is null).</summary>
        public object? Scalar(int row) => _rowStart[row] < _entryValue.Length && _entryValue[_rowStart[row]] is var v and >= 0 ? _values[v] : null;

        /// <summary>Writes this leaf's value(s) for <paramref name="row"/> into the Item JSON under <paramref name="target"/>.</summary>
        public void Assemble(int row, JsonObject target, ItemTableReader reader)
        {
            var path = Leaf.Logical;
            var list = Array.IndexOf(path, "[]");
            if (list < 0)
            {
                if (Scalar(row) is { } value && reader.ToJson(value, path[^1], Leaf.IsJson) is { } node)
                {
                    Set(target, path, node);
                }

                return;
            }

            var prefix = path[..list];
            var suffix = path[(list + 1)..];
            var start = _rowStart[row];
            var end = _rowStart[row + 1];
            if (start >= end)
            {
                return;
            }

            if (_defs is not null && _defs[start] < Leaf.ElementDefinition)
            {
                // No element: an empty list when the list itself is defined, else nothing.
                if (_defs[start] == Leaf.ElementDefinition - 1 && Parent(target, prefix) is { } owner && owner[prefix[^1]] is null)
                {
                    owner[prefix[^1]] = new JsonArray();
                }

                return;
            }

            var container = Parent(target, prefix);
            if (container is null)
            {
                return;
            }

            if (container[prefix[^1]] is not JsonArray array)
            {
                array = new JsonArray();
                container[prefix[^1]] = array;
            }

            for (var e = start; e < end; e++)
            {
                var i = e - start;
                var v = _entryValue[e] >= 0 ? reader.ToJson(_values[_entryValue[e]], suffix.Length > 0 ? suffix[^1] : prefix[^1], Leaf.IsJson) : null;
                while (array.Count <= i)
                {
                    array.Add(suffix.Length > 0 ? new JsonObject() : null);
                }

                if (suffix.Length == 0)
                {
                    array[i] = v;
                }
                else if (v is not null && array[i] is JsonObject element)
                {
                    Set(element, suffix, v);
                }
            }
        }

        /// <summary>The object that holds the last name of <paramref name="path"/>, created on the way.</summary>
        private static JsonObject? Parent(JsonObject target, string[] path)
        {
            var node = target;
            for (var i = 0; i < path.Length - 1; i++)
            {
                if (node[path[i]] is JsonObject child)
                {
                    node = child;
                }
                else if (node[path[i]] is null)
                {
                    child = new JsonObject();
                    node[path[i]] = child;
                    node = child;
                }
                else
                {
                    return null;
                }
            }

            return node;
        }

        private static void Set(JsonObject target, string[] path, JsonNode value)
        {
            if (Parent(target, path) is { } owner)
            {
                owner[path[^1]] = value;
            }
        }
    }
}

/// <summary>A read-only, seekable view of one object in a store, read in ranged requests of up to 1 MiB (for Parquet readers).</summary>
internal sealed class ObjectRangeStream(IObjectStore store, string key, long length) : Stream
{
    private const int BlockSize = 1 << 20;
    private byte[]? _block;
    private long _blockStart = -1;
    private int _blockLength;
    private long _position;

    /// <summary>Ranged requests sent.</summary>
    public int Requests { get; private set; }

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanSeek => true;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Length => length;

    /// <inheritdoc />
    public override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) =>
        Task.Run(() => ReadAsync(buffer.AsMemory(offset, count)).AsTask()).GetAwaiter().GetResult();

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= length || buffer.Length == 0)
        {
            return 0;
        }

        if (_block is null || _position < _blockStart || _position >= _blockStart + _blockLength)
        {
            if (buffer.Length >= BlockSize)
            {
                var direct = await FillAsync(buffer[..(int)Math.Min(buffer.Length, length - _position)], _position, cancellationToken).ConfigureAwait(false);
                _position += direct;
                return direct;
            }

            _block ??= new byte[BlockSize];
            _blockStart = _position;
            _blockLength = await FillAsync(_block.AsMemory(0, (int)Math.Min(BlockSize, length - _position)), _position, cancellationToken).ConfigureAwait(false);
            if (_blockLength == 0)
            {
                return 0;
            }
        }

        var offset = (int)(_position - _blockStart);
        var n = Math.Min(buffer.Length, _blockLength - offset);
        _block.AsMemory(offset, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => length + offset,
    };

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private async Task<int> FillAsync(Memory<byte> buffer, long at, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            Requests++;
            var n = await store.ReadRangeAsync(key, at + total, buffer[total..], cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }
}
