using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Stac;
using DeepSentinel.Core.Storage;
using DeepSentinel.Core.Tests.TestServers;
using NetTopologySuite.IO;
using Parquet;
using Parquet.Schema;
using Parquet.Serialization;

namespace DeepSentinel.Core.Tests.Stac;

/// <summary>
/// STAC-GeoParquet item tables as a scene source. The tables are written by hyparquet-writer (npm,
/// pure JavaScript: tests/tools/write-item-table.mjs, in stac-geoparquet's layout) from the same
/// Items the loopback STAC API and the static catalog serve, and the same query must select the
/// same scenes from each.
/// </summary>
public sealed class ItemTableTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ds-table-" + Guid.NewGuid().ToString("N"));

    public ItemTableTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>The queries compared: each filter the sources apply, alone and together.</summary>
    public static TheoryData<string> Queries() => new(QueryCases.Keys);

    private static readonly Dictionary<string, SceneQuery> QueryCases = new()
    {
        ["everything"] = new SceneQuery(),
        ["S2 near Paris, cloud <= 30"] = new SceneQuery { Missions = [SentinelMission.S2], BoundingBox = new BoundingBox(1.5, 48.4, 3.5, 49.5), MaxCloudCover = 30 },
        ["S1 VV+VH ascending"] = new SceneQuery { Missions = [SentinelMission.S1], Polarizations = ["VV", "VH"], OrbitState = OrbitState.Ascending },
        ["a date window"] = new SceneQuery { Start = new DateTimeOffset(2019, 8, 10, 0, 0, 0, TimeSpan.Zero), End = new DateTimeOffset(2019, 8, 30, 0, 0, 0, TimeSpan.Zero) },
        ["tile 31TFL"] = new SceneQuery { MgrsTiles = ["31TFL"] },
        ["relative orbit 139"] = new SceneQuery { RelativeOrbit = 139 },
        ["a point"] = new SceneQuery { Intersects = GeoJson.ParseUserGeometry("POINT (2.0 48.9)"), Start = new DateTimeOffset(2019, 8, 1, 0, 0, 0, TimeSpan.Zero), End = new DateTimeOffset(2019, 9, 1, 0, 0, 0, TimeSpan.Zero) },
        ["collection sentinel-1-rtc"] = new SceneQuery { Collections = ["sentinel-1-rtc"] },
    };

    /// <summary>Writes items (a JSON array) as a table with hyparquet-writer; returns the table's path.</summary>
    internal static string WriteTable(string folder, IEnumerable<JsonObject> items, string name = "items.parquet", params string[] options)
    {
        var json = Path.Combine(folder, Path.GetFileNameWithoutExtension(name) + ".json");
        File.WriteAllText(json, new JsonArray(items.Select(i => (JsonNode)i.DeepClone()).ToArray()).ToJsonString());
        var path = Path.Combine(folder, name);
        var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // hyparquet-writer writes data page v2 only, whose repeated columns Parquet.Net 6.1 cannot
        // read: lists go as JSON text unless a test asks for Parquet lists ("--parquet-lists").
        var arguments = options.Contains("--parquet-lists") ? options.Where(o => o != "--parquet-lists") : options.Append("--lists-as-json");
        foreach (var a in new[] { Path.Combine(NodeEmulator.ToolsFolder, "write-item-table.mjs"), json, path }.Concat(arguments))
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, "write-item-table.mjs failed: " + stderr.Result);
        return path;
    }

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task A_table_of_the_loopback_APIs_items_yields_the_scenes_the_API_does_signed_the_same_way(string name)
    {
        var query = QueryCases[name];
        var items = SampleItems.Standard();
        await using var server = await StacApiServer.StartAsync(items, new StacApiOptions { ExactGeometry = true });
        var table = WriteTable(_root, items);
        var service = new SceneSearchService(TestServices.Create());

        var api = await service.SearchAllAsync(new SceneSearchRequest { Provider = StacProvider.PlanetaryComputer, StacUrl = server.RootUrl, SasTokenEndpoint = server.TokenEndpoint, Query = query });
        var fromTable = await service.SearchAllAsync(new SceneSearchRequest { ItemTables = [table], SasTokenEndpoint = server.TokenEndpoint, Query = query });

        Assert.NotEmpty(api);
        Assert.Equal(Describe(api), Describe(fromTable));
        // Planetary Computer hrefs are signed from the table as from the API (the token endpoint's SAS).
        Assert.Equal(Signed(api), Signed(fromTable));
        Assert.Contains(fromTable.SelectMany(s => s.Assets.Values), a => a.SignedHref is not null && a.SignedHref.Reveal().Contains("sig=", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("hyparquet-writer: struct bbox, lists as JSON text")]
    [InlineData("Parquet.Net (data page v1): struct bbox, Parquet lists of strings and numbers")]
    public async Task A_table_of_a_static_catalogs_items_yields_the_scenes_the_catalog_does(string layout)
    {
        var items = SampleItems.Standard();
        var catalog = Path.Combine(_root, "catalog");
        StaticCatalogTests.WriteCatalog(catalog, items);
        // The catalog's items as stac-geoparquet stores them: hrefs made absolute.
        var absolute = Directory.GetFiles(catalog, "*.json", SearchOption.AllDirectories)
            .Select(f => (File: f, Node: JsonNode.Parse(File.ReadAllText(f))!.AsObject()))
            .Where(x => (string?)x.Node["type"] == "Feature")
            .Select(x =>
            {
                foreach (var (_, asset) in x.Node["assets"]!.AsObject())
                {
                    asset!["href"] = new Uri(new Uri(x.File), (string)asset["href"]!).AbsoluteUri;
                }

                x.Node.Remove("links");
                return x.Node;
            })
            .OrderBy(i => (string)i["id"]!, StringComparer.Ordinal)
            .ToList();
        string table;
        if (layout.StartsWith("hyparquet", StringComparison.Ordinal))
        {
            table = WriteTable(_root, absolute);
        }
        else
        {
            table = Path.Combine(_root, "dotnet.parquet");
            await ItemTableWriter.WriteAsync(table, absolute, CancellationToken.None);
        }

        var service = new SceneSearchService(TestServices.Create());

        foreach (var (name, query) in QueryCases)
        {
            var fromCatalog = await service.SearchAllAsync(new SceneSearchRequest { Catalog = catalog, Query = query });
            var fromTable = await service.SearchAllAsync(new SceneSearchRequest { ItemTables = [table], Query = query, SignAssets = false });
            Assert.True(fromCatalog.Count > 0, name);
            Assert.Equal(Describe(fromCatalog), Describe(fromTable));
            // Band metadata comes through lists of structs and JSON text alike.
            foreach (var (a, b) in fromCatalog.OrderBy(s => s.Id).Zip(fromTable.OrderBy(s => s.Id)))
            {
                Assert.Equal(a.Assets.Values.Select(x => $"{x.Key} {x.BandName} {x.ResolutionM} {x.NoData} {x.DataType} {x.Scale} {x.Offset} {string.Join(',', x.Roles)} {x.MediaType} {x.Title}").Order(), b.Assets.Values.Select(x => $"{x.Key} {x.BandName} {x.ResolutionM} {x.NoData} {x.DataType} {x.Scale} {x.Offset} {string.Join(',', x.Roles)} {x.MediaType} {x.Title}").Order());
                Assert.True(a.Footprint.EqualsExact(b.Footprint), a.Id);
                Assert.Equal(a.BoundingBox, b.BoundingBox);
            }
        }
    }

    [Fact]
    public async Task Row_groups_outside_the_time_range_or_latitudes_are_skipped_on_their_statistics_with_the_same_result()
    {
        var items = SampleItems.Standard().OrderBy(i => (string)i["properties"]!["datetime"]!, StringComparer.Ordinal).ToList();
        var table = WriteTable(_root, items, "items.parquet", "--row-group-size", "4");
        var service = new SceneSearchService(TestServices.Create());
        var late = new SceneQuery { Start = new DateTimeOffset(2019, 9, 5, 0, 0, 0, TimeSpan.Zero) };
        var reporter = new RecordingReporter();

        var scenes = await service.SearchAllAsync(new SceneSearchRequest { ItemTables = [table], Query = late, SignAssets = false }, reporter);
        var all = await service.SearchAllAsync(new SceneSearchRequest { ItemTables = [table], SignAssets = false });

        Assert.Equal(Describe(all.Where(s => s.Datetime >= late.Start).ToList()), Describe(scenes));
        Assert.NotEmpty(scenes);
        var line = Assert.Single(reporter.VerboseMessages, m => m.StartsWith("Item table ", StringComparison.Ordinal));
        Assert.Contains("20 rows; 5 row groups read, 0 skipped", Assert.Single(Verbose(await Search(service, table, new SceneQuery()))), StringComparison.Ordinal);
        var skipped = int.Parse(System.Text.RegularExpressions.Regex.Match(line, @"(\d+) skipped").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(skipped >= 3, line);

        // Far north of every footprint: every row group is ruled out by its bbox statistics.
        var north = await Search(service, table, new SceneQuery { BoundingBox = new BoundingBox(0, 70, 10, 75) });
        Assert.Empty(north.Scenes);
        Assert.Contains("0 row groups read, 5 skipped", Assert.Single(Verbose(north)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Several_tables_one_per_collection_are_read_in_turn()
    {
        var items = SampleItems.Standard();
        var s2 = WriteTable(_root, items.Where(i => (string)i["collection"]! == "sentinel-2-l2a"), "s2.parquet");
        var s1 = WriteTable(_root, items.Where(i => (string)i["collection"]! != "sentinel-2-l2a"), "s1.parquet");
        var one = WriteTable(_root, items, "all.parquet");
        var service = new SceneSearchService(TestServices.Create());

        var both = await service.SearchAllAsync(new SceneSearchRequest { ItemTables = [s2, s1], SignAssets = false });
        var single = await service.SearchAllAsync(new SceneSearchRequest { ItemTables = [one], SignAssets = false });

        Assert.Equal(20, both.Count);
        Assert.Equal(Describe(single), Describe(both));
        var unknown = await Assert.ThrowsAsync<DeepSentinelException>(() => service.SearchAllAsync(new SceneSearchRequest { ItemTables = [s2], Query = new SceneQuery { Collections = ["sentinel-1-grd"] }, SignAssets = false }));
        Assert.Equal(ErrorIds.UnknownCollection, unknown.ErrorId);
        Assert.Contains("sentinel-2-l2a", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_that_is_not_Parquet_or_does_not_exist_is_ItemTableInvalid()
    {
        var service = new SceneSearchService(TestServices.Create());
        var text = Path.Combine(_root, "items.parquet");
        File.WriteAllText(text, "{\"type\": \"FeatureCollection\", \"features\": []}");

        var notParquet = await Assert.ThrowsAsync<DeepSentinelException>(() => service.SearchAllAsync(new SceneSearchRequest { ItemTables = [text] }));
        var missing = await Assert.ThrowsAsync<DeepSentinelException>(() => service.SearchAllAsync(new SceneSearchRequest { ItemTables = [Path.Combine(_root, "none.parquet")] }));
        var folder = await Assert.ThrowsAsync<DeepSentinelException>(() => service.SearchAllAsync(new SceneSearchRequest { ItemTables = [_root] }));

        Assert.Equal((ErrorIds.ItemTableInvalid, ErrorKind.InvalidData), (notParquet.ErrorId, notParquet.Kind));
        Assert.Contains("is not a readable Parquet file", notParquet.Message, StringComparison.Ordinal);
        Assert.Equal((ErrorIds.ItemTableInvalid, ErrorKind.ObjectNotFound), (missing.ErrorId, missing.Kind));
        Assert.Equal((ErrorIds.ItemTableInvalid, ErrorKind.InvalidArgument), (folder.ErrorId, folder.Kind));
    }

    [Fact]
    public async Task Lists_in_data_page_v2_which_Parquet_Net_cannot_read_are_ItemTableInvalid_saying_so()
    {
        var table = WriteTable(_root, SampleItems.Standard().Take(2), "v2.parquet", "--parquet-lists");

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => new SceneSearchService(TestServices.Create()).SearchAllAsync(new SceneSearchRequest { ItemTables = [table], SignAssets = false }));

        Assert.Equal(ErrorIds.ItemTableInvalid, error.ErrorId);
        Assert.Contains("data page version 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Parquet_file_without_the_item_columns_is_ItemTableInvalid_naming_them()
    {
        var path = Path.Combine(_root, "other.parquet");
        var schema = new ParquetSchema(new DataField<string>("id", false), new DataField<double>("value", false));
        await using (var file = File.Create(path))
        {
            await ParquetSerializer.SerializeUntypedAsync(new List<IDictionary<string, object?>> { new Dictionary<string, object?> { ["id"] = "a", ["value"] = 1.0 } }, schema, file, null, null, CancellationToken.None);
        }

        var service = new SceneSearchService(TestServices.Create());
        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => service.SearchAllAsync(new SceneSearchRequest { ItemTables = [path] }));

        Assert.Equal(ErrorIds.ItemTableInvalid, error.ErrorId);
        Assert.Contains("geometry (WKB binary), datetime", error.Message, StringComparison.Ordinal);
        Assert.Contains("its columns: id, value", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_row_whose_geometry_is_not_WKB_is_an_error_for_that_item_and_the_others_are_read()
    {
        // Written with Parquet.Net here (hyparquet-writer only writes valid WKB): timestamps as
        // DateTimeDataField in Timestamp format, not legacy INT96.
        var path = Path.Combine(_root, "broken.parquet");
        var schema = new ParquetSchema(
            new DataField<string>("id", false),
            new DataField<string>("collection", false),
            new DataField<byte[]>("geometry", false),
            new DateTimeDataField("datetime", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: false));
        var polygon = GeoJson.Wgs84Factory.ToGeometry(new NetTopologySuite.Geometries.Envelope(2, 3, 48, 49));
        var rows = new List<IDictionary<string, object?>>
        {
            new Dictionary<string, object?> { ["id"] = "good", ["collection"] = "sentinel-2-l2a", ["geometry"] = new ReadOnlyMemory<byte>(new WKBWriter().Write(polygon)), ["datetime"] = new DateTime(2019, 8, 1, 10, 0, 0, DateTimeKind.Utc) },
            new Dictionary<string, object?> { ["id"] = "bad", ["collection"] = "sentinel-2-l2a", ["geometry"] = new ReadOnlyMemory<byte>([1, 2, 3]), ["datetime"] = new DateTime(2019, 8, 2, 10, 0, 0, DateTimeKind.Utc) },
        };
        await using (var file = File.Create(path))
        {
            await ParquetSerializer.SerializeUntypedAsync(rows, schema, file, null, null, CancellationToken.None);
        }

        var reporter = new RecordingReporter();
        var scenes = await new SceneSearchService(TestServices.Create()).SearchAllAsync(new SceneSearchRequest { ItemTables = [path] }, reporter);

        var scene = Assert.Single(scenes);
        Assert.Equal("good", scene.Id);
        Assert.Equal(new DateTimeOffset(2019, 8, 1, 10, 0, 0, TimeSpan.Zero), scene.Datetime);
        var error = Assert.Single(reporter.Errors);
        Assert.Equal(ErrorIds.ItemTableInvalid, error.ErrorId);
        Assert.Contains("item 'bad'", error.Message, StringComparison.Ordinal);
        Assert.Contains("not readable WKB", error.Message, StringComparison.Ordinal);
    }

    /// <summary>What a test compares of a scene list: identity, time, cloud, orbit, polarisations, tile, EPSG and every asset's href, in id order.</summary>
    internal static List<string> Describe(IEnumerable<SentinelScene> scenes) =>
        scenes.OrderBy(s => s.Id, StringComparer.Ordinal).Select(s => string.Create(CultureInfo.InvariantCulture,
            $"{s.Id} {s.Collection} {s.Mission} {s.Datetime:O} cloud={s.CloudCover} {s.OrbitState} {s.RelativeOrbit} [{string.Join(',', s.Polarizations)}] {s.MgrsTile} {s.Epsg} {s.Platform} {s.ProcessingBaseline} | {string.Join(' ', s.Assets.Values.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => a.Key + "=" + a.Href.AbsoluteUri))}")).ToList();

    private static List<string> Signed(IEnumerable<SentinelScene> scenes) =>
        scenes.OrderBy(s => s.Id, StringComparer.Ordinal).SelectMany(s => s.Assets.Values.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{s.Id} {a.Key} {a.SignedHref?.Unsigned.AbsoluteUri}")).ToList();

    private static async Task<(List<SentinelScene> Scenes, RecordingReporter Reporter)> Search(SceneSearchService service, string table, SceneQuery query)
    {
        var reporter = new RecordingReporter();
        return (await service.SearchAllAsync(new SceneSearchRequest { ItemTables = [table], Query = query, SignAssets = false }, reporter), reporter);
    }

    private static IEnumerable<string> Verbose((List<SentinelScene> Scenes, RecordingReporter Reporter) search) =>
        search.Reporter.VerboseMessages.Where(m => m.StartsWith("Item table ", StringComparison.Ordinal));
}

/// <summary>An item table in Azure Blob Storage (Azurite), read in ranged requests through the storage layer.</summary>
[Collection("StorageEmulators")]
public sealed class ItemTableBlobTests(AzuriteFixture azurite) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ds-table-blob-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_table_in_Azure_Blob_yields_the_scenes_of_the_local_file_and_a_SAS_never_shows_in_errors()
    {
        var items = SampleItems.Standard();
        var table = ItemTableTests.WriteTable(_root, items);
        var location = azurite.NewLocation("tables/");
        var options = new StorageOptions { AzureAccountKey = AzuriteFixture.AccountKey, Environment = _ => null };
        var store = ObjectStores.Open(location, options);
        await using (var file = File.OpenRead(table))
        {
            await store.PutAsync("sentinel.parquet", file, PutOptions.Overwrite, CancellationToken.None);
        }

        var service = new SceneSearchService(TestServices.Create());
        var query = new SceneQuery { Start = new DateTimeOffset(2019, 8, 5, 0, 0, 0, TimeSpan.Zero) };
        var local = await service.SearchAllAsync(new SceneSearchRequest { ItemTables = [table], Query = query, SignAssets = false });
        var remote = await service.SearchAllAsync(new SceneSearchRequest { ItemTables = [location + "sentinel.parquet"], Storage = options, Query = query, SignAssets = false });

        Assert.NotEmpty(local);
        Assert.Equal(ItemTableTests.Describe(local), ItemTableTests.Describe(remote));

        const string secret = "c2VjcmV0LXNpZ25hdHVyZQ";
        var reporter = new RecordingReporter();
        var missing = await Assert.ThrowsAsync<DeepSentinelException>(() => service.SearchAllAsync(new SceneSearchRequest { ItemTables = [location + "none.parquet"], Storage = options }, reporter));
        Assert.Equal((ErrorIds.ItemTableInvalid, ErrorKind.ObjectNotFound), (missing.ErrorId, missing.Kind));
        // A SAS that the server refuses: the storage layer's error, without the signature.
        var refused = await Assert.ThrowsAsync<DeepSentinelException>(() => service.SearchAllAsync(new SceneSearchRequest { ItemTables = [location + "none.parquet?sv=2024-08-04&sr=c&sp=rl&sig=" + secret] }, reporter));
        Assert.Contains(refused.ErrorId, new[] { ErrorIds.ItemTableInvalid, ErrorIds.StorageAccessDenied });
        Assert.DoesNotContain(secret, refused.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, reporter.AllText, StringComparison.Ordinal);
    }
}
