using System.Globalization;
using System.Text.Json.Nodes;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Tests.Raster;
using DeepSentinel.Core.Tests.Sampling;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Corpus;

/// <summary>The corpus's STAC-GeoParquet table, read back by hyparquet (npm), not by Parquet.Net.</summary>
[Collection(DemoCatalogCollection.Name)]
public sealed class CorpusTableTests(DemoCatalogFixture fixture) : IDisposable
{
    private readonly TemporaryFolders _folders = new();

    public void Dispose() => _folders.Dispose();

    private Task<List<PatchSample>> BuildAsync(string corpus, int count, int shard = 0, int shardCount = 1) =>
        CorpusTestSupport.RunAsync(CorpusTestSupport.Request(fixture, fixture.Root, corpus, count) with { Shard = shard, ShardCount = shardCount });

    private static List<PatchSample> ReadIndex(string corpus)
    {
        var samples = new List<PatchSample>();
        var enumerator = PatchCorpus.Open(corpus).ReadIndexAsync(null, CancellationToken.None).GetAsyncEnumerator();
        while (enumerator.MoveNextAsync().AsTask().GetAwaiter().GetResult())
        {
            samples.Add(enumerator.Current);
        }

        return samples;
    }

    [Fact]
    public async Task The_table_lists_the_index_in_order_as_STAC_GeoParquet_that_hyparquet_reads()
    {
        var corpus = _folders.New("ds-table-");
        await BuildAsync(corpus, count: 4);
        var index = ReadIndex(corpus);

        var table = Independent.Hyparquet(Path.Combine(corpus, CorpusTable.Key));

        var geo = JsonNode.Parse((string)table["metadata"]!["geo"]!)!;
        Assert.Equal("1.1.0", (string)geo["version"]!);
        Assert.Equal("geometry", (string)geo["primary_column"]!);
        var column = geo["columns"]!["geometry"]!;
        Assert.Equal("WKB", (string)column["encoding"]!);
        Assert.Equal(["Polygon"], column["geometry_types"]!.AsArray().Select(t => (string)t!));
        Assert.Equal("OGC", (string)column["crs"]!["id"]!["authority"]!);
        Assert.Equal("CRS84", (string)column["crs"]!["id"]!["code"]!);
        Assert.Equal(["bbox", "xmin"], column["covering"]!["bbox"]!["xmin"]!.AsArray().Select(t => (string)t!));
        // A real timestamp (INT64, TIMESTAMP micros, UTC), not legacy INT96.
        var datetime = table["schema"]!.AsArray().Single(s => (string)s!["name"]! == "datetime")!;
        Assert.Equal("INT64", (string)datetime["type"]!);
        Assert.Equal("TIMESTAMP", (string)datetime["logical"]!["type"]!);
        Assert.Equal("MICROS", (string)datetime["logical"]!["unit"]!);
        Assert.True((bool)datetime["logical"]!["isAdjustedToUTC"]!);

        var rows = table["rows"]!.AsArray();
        Assert.Equal(4, (int)table["num_rows"]!);
        Assert.Equal(index.Select(s => s.Id), rows.Select(r => (string)r!["id"]!));
        var extent = column["bbox"]!.AsArray().Select(v => (double)v!).ToArray();
        foreach (var (row, sample) in rows.Zip(index))
        {
            Assert.Equal("Feature", (string)row!["type"]!);
            Assert.Equal(PatchCorpus.CollectionId, (string)row["collection"]!);
            Assert.Equal(sample.S2Datetime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture), (string)row["datetime"]!);
            Assert.Equal(sample.Epsg, (int)row["proj:epsg"]!);
            Assert.Equal(sample.CloudFraction, (double)row["deepsentinel:cloud_fraction"]!);
            Assert.Equal(sample.NoDataFraction, (double)row["deepsentinel:nodata_fraction"]!);
            Assert.Equal(sample.DaysApart, (double)row["deepsentinel:days_apart"]!);
            Assert.Equal(sample.Index, (long)row["deepsentinel:index"]!);
            Assert.Empty(row["deepsentinel:labels"]!.AsArray());

            // hyparquet decoded the WKB itself: the four corners are the Item's (its densified
            // ring has them at vertices 0, 8, 16 and 24), counter-clockwise.
            var geometry = row["geometry"]!;
            Assert.Equal("Polygon", (string)geometry["type"]!);
            var ring = geometry["coordinates"]![0]!.AsArray().Select(p => (X: (double)p![0]!, Y: (double)p[1]!)).ToList();
            Assert.Equal(5, ring.Count);
            Assert.Equal(ring[0], ring[4]);
            var item = JsonNode.Parse(File.ReadAllText(Path.Combine(corpus, sample.Assets[PatchSample.AssetKeys.Item])))!;
            var itemRing = item["geometry"]!["coordinates"]![0]!.AsArray().Select(p => (X: (double)p![0]!, Y: (double)p[1]!)).ToList();
            Assert.Equal(new[] { itemRing[0], itemRing[8], itemRing[16], itemRing[24] }.Order(), ring.Take(4).Order());
            var signedArea = ring.Zip(ring.Skip(1), (a, b) => (a.X * b.Y) - (b.X * a.Y)).Sum() / 2;
            Assert.True(signedArea > 0, "the exterior ring is counter-clockwise");
            var bbox = row["bbox"]!;
            Assert.Equal(ring.Min(p => p.X), (double)bbox["xmin"]!);
            Assert.Equal(ring.Max(p => p.Y), (double)bbox["ymax"]!);
            Assert.InRange((double)bbox["xmin"]!, extent[0], extent[2]);
            Assert.InRange((double)bbox["ymax"]!, extent[1], extent[3]);

            // Hrefs relative to the corpus root (the table's folder), each naming a file there.
            var assets = row["assets"]!.AsObject();
            foreach (var key in new[] { "s2", "s1", "scl", "s2_preview", "s1_preview", "item" })
            {
                var href = (string)assets[key]!["href"]!;
                Assert.Equal(sample.Assets[key], href);
                Assert.False(Path.IsPathRooted(href));
                Assert.True(File.Exists(Path.Combine(corpus, href)), href);
            }

            Assert.Null(assets["clc"]!["href"]);
        }

        var collection = JsonNode.Parse(File.ReadAllText(Path.Combine(corpus, PatchCorpus.CollectionKey)))!;
        Assert.Equal("./" + CorpusTable.Key, (string)collection["assets"]!["geoparquet-items"]!["href"]!);
        Assert.Equal(CorpusTable.MediaType, (string)collection["assets"]!["geoparquet-items"]!["type"]!);
    }

    [Fact]
    public async Task A_sharded_corpus_gets_the_same_table_bytes_as_one_process_and_a_rerun_writes_nothing()
    {
        var single = _folders.New("ds-table-one-");
        var sharded = _folders.New("ds-table-shards-");
        await BuildAsync(single, count: 5);
        await BuildAsync(sharded, count: 5, shard: 1, shardCount: 2);
        var afterFirstShard = File.Exists(Path.Combine(sharded, CorpusTable.Key));
        await BuildAsync(sharded, count: 5, shard: 0, shardCount: 2);
        var table = Path.Combine(sharded, CorpusTable.Key);
        var written = File.GetLastWriteTimeUtc(table);

        await BuildAsync(sharded, count: 5);

        Assert.False(afterFirstShard, "a shard that leaves the corpus to others writes no table");
        Assert.Equal(File.ReadAllBytes(Path.Combine(single, CorpusTable.Key)), File.ReadAllBytes(table));
        Assert.Equal(written, File.GetLastWriteTimeUtc(table));
        Assert.Empty(Directory.GetFiles(sharded, "*.partial", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Row_groups_stream_the_samples_and_the_last_footer_covers_them_all()
    {
        var corpus = _folders.New("ds-table-groups-");
        await BuildAsync(corpus, count: 5);
        var index = ReadIndex(corpus);
        var path = Path.Combine(_folders.New("ds-table-file-"), "t.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);

        var (rows, labelled) = await CorpusTable.WriteFileAsync(path, ToAsync(index), rowGroupSize: 2, CancellationToken.None);

        var table = Independent.Hyparquet(path);
        Assert.Equal(5, rows);
        Assert.Equal(0, labelled);
        Assert.Equal([2, 2, 1], table["row_groups"]!.AsArray().Select(n => (int)n!));
        Assert.Equal(index.Select(s => s.Id), table["rows"]!.AsArray().Select(r => (string)r!["id"]!));
        var extent = JsonNode.Parse((string)table["metadata"]!["geo"]!)!["columns"]!["geometry"]!["bbox"]!.AsArray().Select(v => (double)v!).ToArray();
        var boxes = table["rows"]!.AsArray().Select(r => r!["bbox"]!).ToList();
        Assert.Equal(boxes.Min(b => (double)b["xmin"]!), extent[0]);
        Assert.Equal(boxes.Min(b => (double)b["ymin"]!), extent[1]);
        Assert.Equal(boxes.Max(b => (double)b["xmax"]!), extent[2]);
        Assert.Equal(boxes.Max(b => (double)b["ymax"]!), extent[3]);
    }

    [Fact]
    public async Task A_patch_across_the_antimeridian_is_a_MultiPolygon_of_its_two_halves_with_a_bbox_from_west_to_east()
    {
        // UTM 60S near Fiji: x 817,000 m is 179.977 E, 819,560 m is 179.999 W (GDAL says).
        var across = new PatchSample { Id = "ds00000001_60KZF_20190801", Index = 1, Epsg = 32760, GeoTransform = [817000, 10, 0, 8120000, 0, -10], Width = 256, Height = 256, S2Datetime = new DateTimeOffset(2019, 8, 1, 0, 0, 0, TimeSpan.Zero), S1Datetime = new DateTimeOffset(2019, 8, 2, 0, 0, 0, TimeSpan.Zero) };
        var beside = new PatchSample { Id = "ds00000002_60KYF_20190801", Index = 2, Epsg = 32760, GeoTransform = [700000, 10, 0, 8120000, 0, -10], Width = 256, Height = 256, S2Datetime = new DateTimeOffset(2019, 8, 1, 0, 0, 0, TimeSpan.Zero), S1Datetime = new DateTimeOffset(2019, 8, 2, 0, 0, 0, TimeSpan.Zero) };
        var path = Path.Combine(_folders.New("ds-table-180-"), "t.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);

        await CorpusTable.WriteFileAsync(path, ToAsync([across, beside]), CorpusTable.RowGroupSize, CancellationToken.None);

        var table = Independent.Hyparquet(path);
        var geo = JsonNode.Parse((string)table["metadata"]!["geo"]!)!["columns"]!["geometry"]!;
        Assert.Equal(["MultiPolygon", "Polygon"], geo["geometry_types"]!.AsArray().Select(t => (string)t!));
        var row = table["rows"]![0]!;
        Assert.Equal("MultiPolygon", (string)row["geometry"]!["type"]!);
        var halves = row["geometry"]!["coordinates"]!.AsArray().Select(p => p![0]!.AsArray().Select(c => (X: (double)c![0]!, Y: (double)c[1]!)).ToList()).ToList();
        Assert.Equal(2, halves.Count);
        Assert.Contains(halves, h => h.Max(c => c.X) == 180 && h.Min(c => c.X) > 179.9);
        Assert.Contains(halves, h => h.Min(c => c.X) == -180 && h.Max(c => c.X) < -179.9);
        Assert.All(halves, h => Assert.True(h.Zip(h.Skip(1), (a, b) => (a.X * b.Y) - (b.X * a.Y)).Sum() > 0, "each exterior ring is counter-clockwise"));
        Assert.True((double)row["bbox"]!["xmin"]! > 179.9);
        Assert.True((double)row["bbox"]!["xmax"]! < -179.9);
        Assert.Equal("Polygon", (string)table["rows"]![1]!["geometry"]!["type"]!);
        Assert.True((double)table["rows"]![1]!["bbox"]!["xmin"]! < (double)table["rows"]![1]!["bbox"]!["xmax"]!);
    }

    [Fact]
    public async Task An_empty_table_is_still_a_GeoParquet_file()
    {
        var path = Path.Combine(_folders.New("ds-table-empty-"), "t.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);

        var (rows, _) = await CorpusTable.WriteFileAsync(path, ToAsync([]), CorpusTable.RowGroupSize, CancellationToken.None);

        var table = Independent.Hyparquet(path);
        Assert.Equal(0, rows);
        Assert.Equal(0, (int)table["num_rows"]!);
        Assert.Equal("1.1.0", (string)JsonNode.Parse((string)table["metadata"]!["geo"]!)!["version"]!);
    }

    private static async IAsyncEnumerable<PatchSample> ToAsync(IEnumerable<PatchSample> samples)
    {
        foreach (var sample in samples)
        {
            yield return sample;
        }

        await Task.CompletedTask;
    }
}
