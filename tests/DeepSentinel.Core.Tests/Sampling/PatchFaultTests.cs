using System.Text.Json.Nodes;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Sampling;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Tests.Raster;
using DeepSentinel.Core.Tests.TestServers;
using Microsoft.AspNetCore.Http;

namespace DeepSentinel.Core.Tests.Sampling;

/// <summary>
/// Remote COGs read through GDAL's /vsicurl/ from a loopback server with HTTP Range support,
/// and broken inputs: a truncated COG, a scene missing a band, HTTP errors mid-read.
/// </summary>
[Collection(DemoCatalogCollection.Name)]
public sealed class PatchFaultTests(DemoCatalogFixture fixture) : IDisposable
{
    private readonly TemporaryFolders _folders = new();

    public void Dispose() => _folders.Dispose();

    private string NewFolder(string prefix = "ds-fault-") => _folders.New(prefix);

    /// <summary>A copy of the demo catalog that a test may damage.</summary>
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

    private PatchSampleRequest Request(string catalog, string destination, int count = 3) =>
        CorpusTestSupport.Request(fixture, catalog, destination, count) with { MaxPoints = 40 };

    private static Task<List<PatchSample>> RunAsync(PatchSampleRequest request, RecordingReporter reporter) => CorpusTestSupport.RunAsync(request, reporter);

    /// <summary>
    /// Serves a folder with HEAD and Range support (what /vsicurl/ needs) under a unique path
    /// prefix: GDAL caches remote files by URL for the whole process, and a later server may get
    /// a freed port. <paramref name="fail"/> can refuse a path.
    /// </summary>
    private static async Task<(LoopbackServer Server, Uri Root)> ServeAsync(string root, Func<string, int?>? fail = null)
    {
        var prefix = "r" + Guid.NewGuid().ToString("N")[..12] + "/";
        var server = await LoopbackServer.StartAsync(async (context, request) =>
        {
            var relative = Uri.UnescapeDataString(request.Path.TrimStart('/'));
            if (!relative.StartsWith(prefix, StringComparison.Ordinal))
            {
                context.Response.StatusCode = 404;
                return;
            }

            relative = relative[prefix.Length..];
            if (fail?.Invoke(relative) is { } status)
            {
                context.Response.StatusCode = status;
                return;
            }

            var path = Path.GetFullPath(Path.Combine(root, relative));
            if (!path.StartsWith(root, StringComparison.Ordinal) || !File.Exists(path))
            {
                context.Response.StatusCode = 404;
                return;
            }

            context.Response.ContentType = path.EndsWith(".json", StringComparison.Ordinal) ? "application/json" : "image/tiff";
            await Microsoft.AspNetCore.Http.Results.File(path, context.Response.ContentType, enableRangeProcessing: true).ExecuteAsync(context);
        });
        return (server, new Uri(server.BaseUri, prefix));
    }

    [Fact]
    public async Task Remote_COGs_are_read_with_range_requests_not_whole_files()
    {
        var (server, root) = await ServeAsync(fixture.Root);
        await using var _ = server;
        var corpus = NewFolder();
        var reporter = new RecordingReporter();

        var samples = await RunAsync(Request(new Uri(root, "catalog.json").AbsoluteUri, corpus), reporter);

        Assert.Empty(reporter.Errors);
        Assert.Equal(3, samples.Count);
        var tiffRequests = server.Requests.Where(r => r.Path.EndsWith(".tif", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(tiffRequests);
        Assert.All(tiffRequests.Where(r => r.Method == "GET"), r => Assert.True(r.Headers.ContainsKey("Range"), $"GET {r.Path} without Range"));
        // No request fetched a whole file: every range is shorter than the file it was cut from
        // (files smaller than GDAL's first 16-32 KB header read, the 60 m bands, excepted).
        string Local(RecordedRequest r) => Path.Combine(fixture.Root, r.Path[root.AbsolutePath.Length..]);
        Assert.All(tiffRequests.Where(r => r.Headers.ContainsKey("Range") && new FileInfo(Local(r)).Length > 65536), r =>
        {
            var local = Local(r);
            var range = r.Headers["Range"].Replace("bytes=", string.Empty, StringComparison.Ordinal).Split('-');
            var length = long.Parse(range[1], System.Globalization.CultureInfo.InvariantCulture) - long.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture) + 1;
            Assert.True(length < new FileInfo(local).Length, $"{r.Path}: {r.Headers["Range"]} is the whole file");
        });
        var item = JsonNode.Parse(File.ReadAllText(samples[0].AssetLocation(PatchSample.AssetKeys.Item)))!;
        Assert.StartsWith(root.AbsoluteUri, (string)item["properties"]!["deepsentinel:source_assets"]!["B04"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HTTP_errors_mid_read_fail_those_samples_and_the_rest_go_on()
    {
        // Every scene of tile 31UDQ answers 500 for its B11 band. GDAL's own HTTP retries are cut
        // to one for the test (they are process-wide).
        const string broken = "T31UDQ";
        Core.Interop.Gdal.Gdal.SetConfig("GDAL_HTTP_MAX_RETRY", "1");
        var (server, root) = await ServeAsync(fixture.Root, path => path.Contains(broken, StringComparison.Ordinal) && path.EndsWith("B11.tif", StringComparison.Ordinal) ? 500 : null);
        await using var _ = server;
        var corpus = NewFolder();
        var reporter = new RecordingReporter();

        var samples = await RunAsync(Request(new Uri(root, "catalog.json").AbsoluteUri, corpus, count: 4), reporter);

        Core.Interop.Gdal.Gdal.SetConfig("GDAL_HTTP_MAX_RETRY", "5");
        // Tile 31UEQ alone is cloudy in the demo catalog: fewer samples than asked, but some.
        Assert.NotEmpty(samples);
        Assert.DoesNotContain(samples, s => s.S2SceneId.Contains(broken, StringComparison.Ordinal));
        // Each broken scene failed one sample; later points that would use it are left for a
        // rerun without an error each: no more errors than broken scenes.
        Assert.InRange(reporter.Errors.Count, 1, 3);
        Assert.Contains(reporter.Warnings, w => w.Contains("left for a rerun", StringComparison.Ordinal));
        Assert.NotEmpty(reporter.Errors);
        Assert.All(reporter.Errors, e => Assert.Equal(ErrorIds.RasterUnreadable, e.ErrorId));
        Assert.Contains(reporter.Errors, e => e.Message.Contains("B11.tif", StringComparison.Ordinal));
        // A failed point is not journaled: a rerun tries it again.
        var failedIndex = (long)reporter.Errors.First().Target!;
        Assert.False(File.Exists(Path.Combine(corpus, PatchCorpus.JournalKey(failedIndex, true))));
        Assert.False(File.Exists(Path.Combine(corpus, PatchCorpus.JournalKey(failedIndex, false))));
    }

    [Fact]
    public async Task A_truncated_COG_fails_its_samples_cleanly()
    {
        var catalog = CopyCatalog();
        var scenes = Directory.GetDirectories(Path.Combine(catalog, "sentinel-2-l2a"));
        foreach (var scene in scenes)
        {
            var b08 = Path.Combine(scene, "B08.tif");
            var bytes = File.ReadAllBytes(b08);
            File.WriteAllBytes(b08, bytes[..(bytes.Length / 3)]);
        }

        var corpus = NewFolder();
        var reporter = new RecordingReporter();

        var samples = await RunAsync(Request(catalog, corpus, count: 2) with { MaxPoints = 4 }, reporter);

        Assert.Empty(samples);
        Assert.NotEmpty(reporter.Errors);
        Assert.All(reporter.Errors, e => Assert.Equal(ErrorIds.RasterUnreadable, e.ErrorId));
        Assert.Contains(reporter.Errors, e => e.Message.Contains("B08.tif", StringComparison.Ordinal));
        // Nothing was written for the failed samples: no sample folder, no item, no journal entry.
        Assert.False(Directory.Exists(Path.Combine(corpus, "samples")) && Directory.GetFiles(Path.Combine(corpus, "samples"), "*", SearchOption.AllDirectories).Length > 0);
        Assert.False(Directory.Exists(Path.Combine(corpus, "journal")) && Directory.GetFiles(Path.Combine(corpus, "journal"), "*.accepted.json").Length > 0);
    }

    [Fact]
    public async Task A_scene_missing_a_band_is_SceneBandMissing_and_others_are_used()
    {
        var catalog = CopyCatalog();
        var sceneDirs = Directory.GetDirectories(Path.Combine(catalog, "sentinel-2-l2a"));
        var damaged = Path.GetFileName(sceneDirs[0]);
        var itemPath = Path.Combine(sceneDirs[0], damaged + ".json");
        var item = JsonNode.Parse(File.ReadAllText(itemPath))!;
        item["assets"]!.AsObject().Remove("SCL");
        File.WriteAllText(itemPath, item.ToJsonString());
        var corpus = NewFolder();
        var reporter = new RecordingReporter();

        var samples = await RunAsync(Request(catalog, corpus, count: 3), reporter);

        Assert.Equal(3, samples.Count);
        Assert.DoesNotContain(samples, s => s.S2SceneId == damaged);
        Assert.All(reporter.Errors, e => Assert.Equal(ErrorIds.SceneBandMissing, e.ErrorId));
    }

    [Fact]
    public async Task A_catalog_without_Sentinel1_is_NoScenesAvailable()
    {
        var catalog = CopyCatalog();
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(catalog, "catalog.json")))!;
        var links = root["links"]!.AsArray();
        links.Remove(links.First(l => ((string)l!["href"]!).Contains("sentinel-1", StringComparison.Ordinal)));
        File.WriteAllText(Path.Combine(catalog, "catalog.json"), root.ToJsonString());

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => RunAsync(Request(catalog, NewFolder()), new RecordingReporter()));

        Assert.Equal(ErrorIds.NoScenesAvailable, error.ErrorId);
        Assert.Contains("0 Sentinel-1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unwritable_destination_stops_the_run_with_a_clear_error()
    {
        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => RunAsync(Request(fixture.Root, "/proc/deepsentinel-corpus"), new RecordingReporter()));

        Assert.Contains(error.ErrorId, new[] { ErrorIds.StorageWriteFailed, ErrorIds.InvalidParameterValue });
    }
}
