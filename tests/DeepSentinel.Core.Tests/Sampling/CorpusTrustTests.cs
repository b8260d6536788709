using System.Text.Json.Nodes;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Sampling;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Tests.Raster;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Sampling;

/// <summary>
/// The corpus guarantees: its identity covers everything that decides its samples, it is the
/// first Count accepted points in point order however it was built (resumed, sharded, with
/// transient read failures), nothing outside the index stays on disk, one radiometric convention
/// (checked against the source DNs with rasterio), and reruns that write nothing.
/// </summary>
[Collection(DemoCatalogCollection.Name)]
public sealed class CorpusTrustTests(DemoCatalogFixture fixture) : IDisposable
{
    private readonly TemporaryFolders _folders = new();

    public void Dispose() => _folders.Dispose();

    private string NewFolder(string prefix = "ds-trust-") => _folders.New(prefix);

    private PatchSampleRequest Request(string destination, int count, string? catalog = null, int throttle = 2) =>
        CorpusTestSupport.Request(fixture, catalog ?? fixture.Root, destination, count, seed: 7, throttle);

    private static Task<List<PatchSample>> RunAsync(PatchSampleRequest request, RecordingReporter? reporter = null) => CorpusTestSupport.RunAsync(request, reporter);

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

    private static string[] SampleFolders(string corpus) =>
        Directory.Exists(Path.Combine(corpus, "samples"))
            ? Directory.GetDirectories(Path.Combine(corpus, "samples")).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal).ToArray()
            : [];

    /// <summary>A copy of the demo catalog that a test may change.</summary>
    private string CopyCatalog()
    {
        var copy = NewFolder("ds-catalog-");
        foreach (var file in Directory.GetFiles(fixture.Root, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(fixture.Root, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return copy;
    }

    private static async Task<List<SentinelScene>> ScenesOf(string catalog)
    {
        var scenes = new List<SentinelScene>();
        await foreach (var scene in new SceneSearchService(TestServices.Create()).SearchAsync(new SceneSearchRequest { Catalog = catalog }, new RecordingReporter(), CancellationToken.None))
        {
            scenes.Add(scene);
        }

        return scenes;
    }

    [Fact]
    public async Task A_rerun_with_another_catalog_or_other_piped_scenes_is_refused()
    {
        var corpus = NewFolder();
        await RunAsync(Request(corpus, 2));

        var otherCatalog = await Assert.ThrowsAsync<DeepSentinelException>(() => RunAsync(Request(corpus, 3, catalog: CopyCatalog())));

        Assert.Equal(ErrorIds.CorpusParametersMismatch, otherCatalog.ErrorId);
        Assert.Contains("Source", otherCatalog.Message, StringComparison.Ordinal);
        Assert.Equal(2, ReadIndex(corpus).Count);

        // Piped scenes: the same scenes resume, one scene fewer is another corpus.
        var scenes = await ScenesOf(fixture.Root);
        var piped = NewFolder();
        var fromPipe = Request(piped, 2) with { Source = null, Scenes = scenes };
        await RunAsync(fromPipe);
        Assert.Equal(3, (await RunAsync(fromPipe with { Count = 3 })).Count);
        var fewer = scenes.Where(s => s != scenes.First(x => x.Mission == SentinelMission.S2)).ToList();
        var otherScenes = await Assert.ThrowsAsync<DeepSentinelException>(() => RunAsync(fromPipe with { Scenes = fewer }));
        Assert.Equal(ErrorIds.CorpusParametersMismatch, otherScenes.ErrorId);

        // A catalog corpus is not resumed from piped scenes either.
        Assert.Equal(ErrorIds.CorpusParametersMismatch, (await Assert.ThrowsAsync<DeepSentinelException>(() => RunAsync(fromPipe with { Destination = corpus }))).ErrorId);
    }

    [Fact]
    public async Task A_point_below_the_last_accepted_one_is_finished_on_rerun_whatever_order_workers_journaled_in()
    {
        // The repro: build one sample more with one worker, remove the last-but-one
        // accepted point as if a worker had not finished it when another journaled the last one.
        var corpus = NewFolder();
        var full = await RunAsync(Request(corpus, 6, throttle: 1));
        var expected = full.Take(5).Select(s => s.Id).ToList();
        var unfinished = full[4];
        File.Delete(Path.Combine(corpus, PatchCorpus.JournalKey(unfinished.Index, accepted: true)));
        Directory.Delete(Path.Combine(corpus, "samples", unfinished.Id), recursive: true);

        var resumed = await RunAsync(Request(corpus, 5, throttle: 1));

        Assert.Equal(expected, ReadIndex(corpus).Select(s => s.Id));
        Assert.Equal(expected, resumed.Select(s => s.Id));
        // The sixth sample is outside the 5-sample corpus: it is not left on disk.
        Assert.Equal(expected.Order(StringComparer.Ordinal), SampleFolders(corpus));
    }

    [Fact]
    public async Task Shards_built_one_after_another_into_one_destination_are_the_unsharded_corpus()
    {
        var reference = NewFolder();
        var sharded = NewFolder();
        var unsharded = await RunAsync(Request(reference, 7));

        foreach (var shard in new[] { 0, 1, 2 })
        {
            await RunAsync(Request(sharded, 7) with { Shard = shard, ShardCount = 3 });
        }

        var ids = unsharded.Select(s => s.Id).ToList();
        Assert.Equal(ids, ReadIndex(reference).Select(s => s.Id));
        Assert.Equal(ids, ReadIndex(sharded).Select(s => s.Id));
        Assert.Equal(ids.Order(StringComparer.Ordinal), SampleFolders(sharded));
        Assert.Single(Directory.GetFiles(Path.Combine(sharded, "index")));
        // Another split of the same corpus resumes it (the shard count does not decide samples).
        var again = await RunAsync(Request(sharded, 7) with { Shard = 1, ShardCount = 2 });
        Assert.Equal(ids, ReadIndex(sharded).Select(s => s.Id));
        Assert.All(again, s => Assert.Contains(s.Id, ids));
    }

    [Fact]
    public async Task Nothing_outside_the_index_stays_on_disk_and_leftovers_of_killed_runs_are_cleaned()
    {
        var corpus = NewFolder();
        await RunAsync(Request(corpus, 2));
        // What a killed run leaves: its staging folder (its lock released with the process) and
        // temporary journal and sample files of a process that no longer runs.
        var deadPid = DeadProcessId();
        Directory.CreateDirectory(Path.Combine(corpus, ".staging", "ds00000001_31UDQ_20190801-0badf00d"));
        File.WriteAllText(Path.Combine(corpus, "journal", $"0000000999.accepted.json.{deadPid}-0badf00d.partial"), "{");
        var firstSample = SampleFolders(corpus)[0];
        File.WriteAllText(Path.Combine(corpus, "samples", firstSample, $"s2.tif.{deadPid}-0badf00e.partial"), "truncated");

        var samples = await RunAsync(Request(corpus, 6, throttle: 4));

        Assert.Equal(6, samples.Count);
        Assert.Equal(ReadIndex(corpus).Select(s => s.Id).Order(StringComparer.Ordinal), SampleFolders(corpus));
        Assert.Empty(Directory.GetFiles(corpus, "*.partial", SearchOption.AllDirectories));
        Assert.False(Directory.Exists(Path.Combine(corpus, ".staging")));
    }

    [Fact]
    public async Task WhatIf_creates_no_folder_and_a_rerun_of_a_finished_corpus_rewrites_nothing()
    {
        var planned = NewFolder();
        var plan = await CorpusTestSupport.RunAsync(Request(planned, 2), shouldProcess: (_, _) => Task.FromResult(false));
        Assert.Empty(plan);
        Assert.False(Directory.Exists(planned));

        var corpus = NewFolder();
        await RunAsync(Request(corpus, 3));
        var files = Directory.GetFiles(corpus, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        var before = files.Select(f => (File.ReadAllBytes(f), File.GetLastWriteTimeUtc(f))).ToArray();

        var again = await RunAsync(Request(corpus, 3));

        Assert.Equal(3, again.Count);
        Assert.Equal(files, Directory.GetFiles(corpus, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
        for (var i = 0; i < files.Length; i++)
        {
            Assert.True(before[i].Item1.AsSpan().SequenceEqual(File.ReadAllBytes(files[i])), $"{files[i]} was rewritten with other bytes");
            Assert.True(before[i].Item2 == File.GetLastWriteTimeUtc(files[i]), $"{files[i]} was rewritten");
        }
    }

    [Fact]
    public async Task A_transient_read_failure_is_not_journaled_and_a_rerun_gives_the_clean_corpus()
    {
        var catalog = CopyCatalog();
        var clean = NewFolder();
        var reference = await RunAsync(Request(clean, 5, catalog: catalog));
        // Truncate a band of the scene the first sample came from, build, restore, rerun.
        var scene = reference[0].S2SceneId;
        var b08 = Directory.GetFiles(catalog, "B08.tif", SearchOption.AllDirectories).Single(f => f.Contains(scene, StringComparison.Ordinal));
        var bytes = File.ReadAllBytes(b08);
        File.WriteAllBytes(b08, bytes[..(bytes.Length / 3)]);
        var corpus = NewFolder();
        var reporter = new RecordingReporter();

        await RunAsync(Request(corpus, 5, catalog: catalog), reporter);
        File.WriteAllBytes(b08, bytes);
        var rerun = await RunAsync(Request(corpus, 5, catalog: catalog));

        Assert.NotEmpty(reporter.Errors);
        Assert.All(reporter.Errors, e => Assert.Equal(ErrorIds.RasterUnreadable, e.ErrorId));
        Assert.Equal(reference.Select(s => s.Id), ReadIndex(corpus).Select(s => s.Id));
        Assert.Equal(reference.Select(s => s.Id), rerun.Select(s => s.Id));
        Assert.Equal(reference.Select(s => s.Id).Order(StringComparer.Ordinal), SampleFolders(corpus));
        // Only data decides a rejection: up to the corpus's last point, the run with the fault
        // journaled no rejection that the clean build did not.
        static IEnumerable<string> Rejected(string c) => Directory.GetFiles(Path.Combine(c, "journal"), "*.rejected.json").Select(f => Path.GetFileName(f));
        var cleanRejected = Rejected(clean).ToHashSet(StringComparer.Ordinal);
        Assert.All(Rejected(corpus).Where(r => long.Parse(r[..10], System.Globalization.CultureInfo.InvariantCulture) <= reference[^1].Index), r => Assert.Contains(r, cleanRejected));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_sample_stores_reflectance_x_10000_without_offset_whatever_the_processing_baseline(bool offsetAppliedByProvider)
    {
        // The demo scenes are baseline 02.14 (no offset). A copy declares 05.09, whose DNs carry
        // BOA_ADD_OFFSET -1000 (as Planetary Computer serves them), or, Earth Search style, 05.09
        // with the offset already applied by the provider and raster:bands offset -0.1.
        var catalog = CopyCatalog();
        foreach (var itemPath in Directory.GetFiles(Path.Combine(catalog, "sentinel-2-l2a"), "*.json", SearchOption.AllDirectories))
        {
            var sceneItem = JsonNode.Parse(File.ReadAllText(itemPath))!;
            if ((string?)sceneItem["type"] != "Feature")
            {
                continue;
            }

            sceneItem["properties"]!["s2:processing_baseline"] = "05.09";
            if (offsetAppliedByProvider)
            {
                sceneItem["properties"]!["earthsearch:boa_offset_applied"] = true;
                foreach (var asset in sceneItem["assets"]!.AsObject().Where(a => a.Key.StartsWith('B')))
                {
                    asset.Value!["raster:bands"] = new JsonArray(new JsonObject { ["nodata"] = 0, ["data_type"] = "uint16", ["scale"] = 0.0001, ["offset"] = -0.1 });
                }
            }

            File.WriteAllText(itemPath, sceneItem.ToJsonString());
        }

        var old = (await RunAsync(Request(NewFolder(), 1)))[0];
        var recent = (await RunAsync(Request(NewFolder(), 1, catalog: catalog)))[0];

        Assert.Equal(old.Id, recent.Id);
        var expectedShift = offsetAppliedByProvider ? 0 : 1000;
        // rasterio reads the stored patches and the source B04 window on its own.
        // A local source is named by its file beside the scene's Item (no path of this machine).
        var sourceName = (string)JsonNode.Parse(File.ReadAllText(recent.AssetLocation(PatchSample.AssetKeys.Item)))!["properties"]!["deepsentinel:source_assets"]!["B04"]!;
        var source = Path.Combine(catalog, "sentinel-2-l2a", recent.S2SceneId, sourceName);
        var result = Independent.Python(
            """
            import sys, rasterio, numpy as np
            from rasterio.windows import from_bounds
            old, recent, source, shift = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
            with rasterio.open(old) as o, rasterio.open(recent) as r:
                a = o.read().astype(int); b = r.read().astype(int); bounds = r.bounds
            expected = np.where(a == 0, 0, np.maximum(a - shift, 1))
            with rasterio.open(source) as s:
                src = s.read(1, window=from_bounds(*bounds, transform=s.transform).round_offsets().round_lengths()).astype(int)
            b04 = np.where(src == 0, 0, np.maximum(src - shift, 1))
            print(int(np.abs(b - expected).max()), int(np.abs(b[3] - b04).max()), int((src > 1000).sum()), int(((src > 0) & (src <= 1000)).sum()))
            """,
            old.AssetLocation(PatchSample.AssetKeys.S2),
            recent.AssetLocation(PatchSample.AssetKeys.S2),
            source,
            expectedShift.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var parts = result.Trim().Split(' ').Select(int.Parse).ToArray();
        Assert.Equal(0, parts[0]);
        Assert.Equal(0, parts[1]);
        Assert.True(parts[2] > 1000, "the test needs source values above the offset");

        // The Item declares the one convention: reflectance = DN x 0.0001, no offset.
        var item = JsonNode.Parse(File.ReadAllText(recent.AssetLocation(PatchSample.AssetKeys.Item)))!;
        Assert.All(item["assets"]!["s2"]!["raster:bands"]!.AsArray(), b =>
        {
            Assert.Equal(0.0001, (double)b!["scale"]!);
            Assert.Equal(0.0, (double)b["offset"]!);
        });
        Assert.Equal("05.09", (string)item["properties"]!["deepsentinel:s2_processing_baseline"]!);
        Assert.Equal(expectedShift, (int)item["properties"]!["deepsentinel:s2_offset_removed"]!);
    }

    private static int DeadProcessId()
    {
        using var process = System.Diagnostics.Process.Start("/bin/true")!;
        process.WaitForExit();
        return process.Id;
    }
}
