using System.Text.Json.Nodes;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Sampling;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Tests.Raster;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Sampling;

/// <summary>New-PatchSample's engine on the synthetic demo catalog, checked with gdalinfo and rasterio.</summary>
[Collection(DemoCatalogCollection.Name)]
public sealed class PatchSampleTests(DemoCatalogFixture fixture) : IDisposable
{
    private readonly TemporaryFolders _folders = new();

    public void Dispose() => _folders.Dispose();

    private string NewFolder() => _folders.New("ds-corpus-");

    private PatchSampleRequest Request(string destination, int count = 4, long seed = 7, int throttle = 2) =>
        CorpusTestSupport.Request(fixture, fixture.Root, destination, count, seed, throttle);

    private static Task<List<PatchSample>> RunAsync(PatchSampleRequest request, RecordingReporter? reporter = null, Func<string, string, Task<bool>>? shouldProcess = null, CancellationToken cancellationToken = default) =>
        CorpusTestSupport.RunAsync(request, reporter, shouldProcess, cancellationToken);

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
    public async Task Builds_matched_patches_that_an_independent_reader_accepts()
    {
        var corpus = NewFolder();
        var reporter = new RecordingReporter();

        var samples = await RunAsync(Request(corpus), reporter);

        Assert.Empty(reporter.Errors);
        Assert.Equal(4, samples.Count);
        Assert.Equal(samples.Select(s => s.Id).Order(), ReadIndex(corpus).Select(s => s.Id).Order());
        var sample = samples[0];
        Assert.InRange(sample.DaysApart, 0, 3);
        Assert.InRange(sample.CloudFraction, 0, 0.2);
        Assert.Equal(32631, sample.Epsg);
        Assert.Equal(256, sample.Width);

        var s2 = Independent.GdalInfo(sample.AssetLocation(PatchSample.AssetKeys.S2));
        Assert.Equal(new[] { 256, 256 }, s2["size"]!.AsArray().Select(v => (int)v!));
        Assert.Equal(12, s2["bands"]!.AsArray().Count);
        Assert.Equal(PatchExtractor.S2Bands, s2["bands"]!.AsArray().Select(b => (string)b!["description"]!));
        Assert.All(s2["bands"]!.AsArray(), b => Assert.Equal("UInt16", (string)b!["type"]!));
        Assert.All(s2["bands"]!.AsArray(), b => Assert.Equal(0.0, (double)b!["noDataValue"]!));
        Assert.Equal("COG", (string)s2["metadata"]!["IMAGE_STRUCTURE"]!["LAYOUT"]!);
        Assert.Equal(sample.GeoTransform, s2["geoTransform"]!.AsArray().Select(v => (double)v!));
        Assert.Contains("\"EPSG\",32631", s2["coordinateSystem"]!["wkt"]!.ToString().Replace(" ", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);

        var s1 = Independent.GdalInfo(sample.AssetLocation(PatchSample.AssetKeys.S1));
        Assert.Equal(new[] { "VV", "VH" }, s1["bands"]!.AsArray().Select(b => (string)b!["description"]!));
        Assert.All(s1["bands"]!.AsArray(), b => Assert.Equal("Float32", (string)b!["type"]!));
        Assert.Equal("linear", (string)s1["metadata"]![""]!["BACKSCATTER_UNITS"]!);
        Assert.True(File.Exists(sample.AssetLocation(PatchSample.AssetKeys.S2Preview)));
        Assert.True(File.Exists(sample.AssetLocation(PatchSample.AssetKeys.S1Preview)));
    }

    [Fact]
    public async Task Pixels_match_the_source_scene_and_the_S1_view_is_warped_from_its_own_grid()
    {
        var corpus = NewFolder();
        var sample = (await RunAsync(Request(corpus, count: 1)))[0];
        var item = JsonNode.Parse(File.ReadAllText(sample.AssetLocation(PatchSample.AssetKeys.Item)))!;
        var b04Source = (string)item["properties"]!["deepsentinel:source_assets"]!["B04"]!;

        // rasterio reads the same window from the source scene: the 10 m band must match exactly.
        var result = Independent.Python(
            """
            import sys, rasterio, numpy as np
            from rasterio.windows import from_bounds
            patch, source = sys.argv[1], sys.argv[2]
            with rasterio.open(patch) as p:
                b04 = p.read(4); bounds = p.bounds; crs = p.crs
                assert p.count == 12 and p.descriptions[3] == 'B04', p.descriptions
            with rasterio.open(source) as s:
                assert s.crs == crs
                w = from_bounds(*bounds, transform=s.transform)
                ref = s.read(1, window=w.round_offsets().round_lengths())
            print(int(np.abs(b04.astype(int) - ref.astype(int)).max()), ref.shape[0], ref.shape[1])
            """,
            sample.AssetLocation(PatchSample.AssetKeys.S2),
            Path.Combine(fixture.Root, "sentinel-2-l2a", sample.S2SceneId, b04Source));
        var parts = result.Trim().Split(' ');
        Assert.Equal("0", parts[0]);
        Assert.Equal("256", parts[1]);
        Assert.Equal("ResampledWindow,Window", string.Join(",", ((string)item["properties"]!["deepsentinel:read_methods"]!["s2"]!).Split(',').Order()));
        Assert.Equal("Warp", (string)item["properties"]!["deepsentinel:read_methods"]!["s1"]!);
        Assert.Equal("deepsentinel-patches", (string)item["collection"]!);
        // Local scenes are named by id, not linked by a path of this machine (the corpus moves).
        Assert.Equal("B04.tif", b04Source);
        Assert.Equal(0, item["links"]!.AsArray().Count(l => (string)l!["rel"]! == "derived_from"));
        Assert.DoesNotContain("file:", item.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Root, item.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_seed_builds_the_same_corpus_and_another_seed_does_not()
    {
        var first = NewFolder();
        var second = NewFolder();
        var other = NewFolder();

        await RunAsync(Request(first, throttle: 2));
        await RunAsync(Request(second, throttle: 1));
        await RunAsync(Request(other, seed: 8));

        var a = ReadIndex(first);
        var b = ReadIndex(second);
        Assert.Equal(a.Select(s => s.Id), b.Select(s => s.Id));
        Assert.Equal(a.Select(s => s.GeoTransform[0]), b.Select(s => s.GeoTransform[0]));
        Assert.Equal(File.ReadAllBytes(a[0].AssetLocation("s2")), File.ReadAllBytes(b[0].AssetLocation("s2")));
        Assert.NotEqual(a.Select(s => s.Id), ReadIndex(other).Select(s => s.Id));
        Assert.Equal(a.Select(s => s.Index).Order(), a.Select(s => s.Index));
    }

    [Fact]
    public async Task A_cancelled_run_resumes_to_the_same_corpus_without_duplicates()
    {
        var interrupted = NewFolder();
        var reference = NewFolder();
        using var cts = new CancellationTokenSource();
        var firstRun = new List<PatchSample>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var sample in new PatchSampleService(TestServices.Create()).RunAsync(Request(interrupted, count: 6), new RecordingReporter(), null, cts.Token))
            {
                firstRun.Add(sample);
                if (firstRun.Count == 2)
                {
                    cts.Cancel();
                }
            }
        });
        // Leftovers a killed process could leave: a staging folder and a temporary file.
        Directory.CreateDirectory(Path.Combine(interrupted, ".staging", "ds-stale"));
        File.WriteAllText(Path.Combine(interrupted, "samples", firstRun[0].Id, "s2.tif.0badf00d.partial"), "truncated");

        var resumed = await RunAsync(Request(interrupted, count: 6));
        await RunAsync(Request(reference, count: 6));

        Assert.True(firstRun.Count >= 2);
        Assert.Equal(ReadIndex(reference).Select(s => s.Id), ReadIndex(interrupted).Select(s => s.Id));
        Assert.Equal(6, ReadIndex(interrupted).Count);
        Assert.Equal(resumed.Select(s => s.Id).Distinct().Count(), resumed.Count);
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(interrupted, "samples"), "*.partial", SearchOption.AllDirectories), f => !f.Contains("0badf00d", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_rerun_of_a_finished_corpus_writes_nothing_new_and_a_larger_count_extends_it()
    {
        var corpus = NewFolder();
        await RunAsync(Request(corpus, count: 3));
        var journal = Directory.GetFiles(Path.Combine(corpus, "journal")).Length;
        var itemTime = File.GetLastWriteTimeUtc(Directory.GetFiles(Path.Combine(corpus, "samples"), "item.json", SearchOption.AllDirectories)[0]);

        var again = await RunAsync(Request(corpus, count: 3));
        var journalAfter = Directory.GetFiles(Path.Combine(corpus, "journal")).Length;
        var more = await RunAsync(Request(corpus, count: 5));

        Assert.Equal(3, again.Count);
        Assert.Equal(journal, journalAfter);
        Assert.Equal(itemTime, File.GetLastWriteTimeUtc(Directory.GetFiles(Path.Combine(corpus, "samples"), "item.json", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal).First()));
        Assert.Equal(5, ReadIndex(corpus).Count);
        Assert.Equal(5, more.Select(s => s.Id).Distinct().Count());
    }

    [Fact]
    public async Task A_shard_builds_its_share_of_every_nth_point_and_the_index_waits_for_the_last_shard()
    {
        var corpus = NewFolder();
        var reporter = new RecordingReporter();

        var shard0 = await RunAsync(Request(corpus, count: 5) with { Shard = 0, ShardCount = 2 }, reporter);
        var journal0 = Directory.GetFiles(Path.Combine(corpus, "journal"), "*.accepted.json").Select(f => long.Parse(Path.GetFileName(f)[..10], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var indexAfterShard0 = Directory.Exists(Path.Combine(corpus, "index"));
        await RunAsync(Request(corpus, count: 5) with { Shard = 1, ShardCount = 2 });
        var other = await Assert.ThrowsAsync<DeepSentinelException>(() => RunAsync(Request(corpus, count: 5) with { Seed = 8 }));

        Assert.Equal(3, journal0.Count);
        Assert.All(journal0, i => Assert.Equal(0, i % 2));
        Assert.False(indexAfterShard0);
        Assert.Contains(reporter.Warnings, w => w.Contains("other shards", StringComparison.Ordinal));
        Assert.All(shard0, s => Assert.Contains(s.Index, journal0));
        Assert.Equal(5, ReadIndex(corpus).Select(s => s.Id).Distinct().Count());
        Assert.Single(Directory.GetFiles(Path.Combine(corpus, "index")));
        Assert.Equal(ErrorIds.CorpusParametersMismatch, other.ErrorId);
        Assert.Contains("Seed", other.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rejected_points_are_journaled_with_reasons_and_not_tried_again()
    {
        var corpus = NewFolder();
        var strict = Request(corpus, count: 2) with { MaxPatchCloud = 0, MaxCloudCover = 100, MaxPoints = 30 };
        var reporter = new RecordingReporter();

        await RunAsync(strict, reporter);
        var rejected = Directory.GetFiles(Path.Combine(corpus, "journal"), "*.rejected.json");
        var again = new RecordingReporter();
        await RunAsync(strict, again);

        Assert.NotEmpty(rejected);
        Assert.Contains("reason", File.ReadAllText(rejected[0]), StringComparison.Ordinal);
        Assert.Contains(reporter.VerboseMessages, m => m.Contains("rejected", StringComparison.Ordinal));
        Assert.DoesNotContain(again.VerboseMessages, m => rejected.Any(r => m.Contains($"Point {long.Parse(Path.GetFileName(r)[..10], System.Globalization.CultureInfo.InvariantCulture)} ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task WhatIf_plans_without_reading_pixels_or_writing()
    {
        var corpus = NewFolder();
        var asked = new List<(string Target, string Action)>();

        var samples = await RunAsync(Request(corpus, count: 3), shouldProcess: (target, action) =>
        {
            lock (asked)
            {
                asked.Add((target, action));
            }

            return Task.FromResult(false);
        });

        Assert.Empty(samples);
        Assert.False(Directory.Exists(corpus));
        Assert.Equal(4, asked.Count);
        Assert.All(asked.Skip(1), a => Assert.StartsWith("Write a patch from S2", a.Action, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0, 3.0, 0)]
    [InlineData(5, -1.0, 0)]
    [InlineData(5, 3.0, -1)]
    public async Task Invalid_arguments_are_rejected_before_any_work(int count, double maxDaysApart, int endOffsetDays)
    {
        var corpus = NewFolder();
        var request = Request(corpus, count: count) with { MaxDaysApart = maxDaysApart };
        if (endOffsetDays < 0)
        {
            request = request with { End = request.Start.AddDays(endOffsetDays) };
        }

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => RunAsync(request));

        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Contains(error.ErrorId, new[] { ErrorIds.InvalidParameterValue, ErrorIds.EndBeforeStart });
        Assert.False(Directory.Exists(corpus));
    }
}
