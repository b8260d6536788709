using System.Text.Json.Nodes;
using DeepSentinel.Core.Sampling;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Tests.Raster;
using DeepSentinel.Core.Tests.TestServers;
using Xunit.Abstractions;

namespace DeepSentinel.Core.Tests.Sampling;

/// <summary>
/// New-PatchSample against a loopback STAC API serving the demo catalog's items: the cached scene
/// lookup builds the same corpus, file for file, as a search per point, with far fewer requests;
/// a rerun reads the corpus's scene cache.
/// </summary>
[Collection(DemoCatalogCollection.Name)]
public sealed class SceneCacheCorpusTests(DemoCatalogFixture fixture, ITestOutputHelper output) : IDisposable
{
    private readonly TemporaryFolders _folders = new();

    public void Dispose() => _folders.Dispose();

    /// <summary>The demo catalog's items with absolute asset hrefs, as an API would serve them.</summary>
    private List<JsonObject> DemoItems()
    {
        var items = new List<JsonObject>();
        foreach (var collection in new[] { "sentinel-2-l2a", "sentinel-1-rtc" })
        {
            foreach (var file in Directory.GetFiles(Path.Combine(fixture.Root, collection), "*.json", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != "collection.json"))
            {
                var item = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
                foreach (var (_, asset) in item["assets"]!.AsObject())
                {
                    var href = (string)asset!["href"]!;
                    asset["href"] = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, href));
                }

                item["links"] = new JsonArray();
                items.Add(item);
            }
        }

        return items;
    }

    private PatchSampleRequest Request(Uri api, string destination, SceneLookup lookup, int count)
    {
        var catalog = CorpusTestSupport.Request(fixture, fixture.Root, destination, count);
        // Points over the demo tiles (a live API has no coverage: the area says where).
        var coverage = new InMemoryScenePool(new SceneSearchService(TestServices.Create()).SearchAllAsync(catalog.Source!).GetAwaiter().GetResult(), "demo").Coverage!;
        return catalog with
        {
            Source = new SceneSearchRequest { StacUrl = api, Query = new SceneQuery { Collections = ["sentinel-2-l2a", "sentinel-1-rtc"] } },
            Area = coverage,
            SceneLookup = lookup,
            StacRequests = new DeepSentinel.Core.Stac.StacRequestCounter(),
        };
    }

    private static SortedDictionary<string, byte[]> Files(string root, params string[] except) =>
        new(Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(f => !except.Any(e => f.StartsWith(e, StringComparison.Ordinal)))
            .ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(root, f))), StringComparer.Ordinal);

    [Fact]
    public async Task The_cached_lookup_builds_the_per_point_corpus_byte_for_byte_with_fewer_requests()
    {
        await using var server = await StacApiServer.StartAsync(DemoItems(), new StacApiOptions { ExactGeometry = true });
        var perPointFolder = _folders.New("ds-perpoint-");
        var cachedFolder = _folders.New("ds-cached-");
        var perPoint = Request(server.RootUrl, perPointFolder, SceneLookup.PerPoint, 6);
        var cached = Request(server.RootUrl, cachedFolder, SceneLookup.Cached, 6);
        var reporter = new RecordingReporter();

        var a = await CorpusTestSupport.RunAsync(perPoint);
        var before = server.Server.Requests.Count;
        var b = await CorpusTestSupport.RunAsync(cached, reporter);

        Assert.Equal(6, a.Count);
        Assert.Equal(a.Select(s => (s.Id, s.S2SceneId, s.S1SceneId)), b.Select(s => (s.Id, s.S2SceneId, s.S1SceneId)));
        var perPointFiles = Files(perPointFolder, ".staging");
        var cachedFiles = Files(cachedFolder, ".staging", "scene-cache/");
        Assert.Equal(perPointFiles.Keys, cachedFiles.Keys);
        Assert.All(perPointFiles, f => Assert.True(f.Value.AsSpan().SequenceEqual(cachedFiles[f.Key]), $"{f.Key} differs"));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(cachedFolder, CachedStacScenePool.CacheFolder), "*.json", SearchOption.AllDirectories));

        // The counters agree with the server, and the cache asks a fraction of the per-point searches.
        Assert.Equal(before, perPoint.StacRequests.Attempts);
        Assert.Equal(server.Server.Requests.Count - before, cached.StacRequests.Attempts);
        Assert.True(cached.StacRequests.Searches * 5 <= perPoint.StacRequests.Searches, $"cached {cached.StacRequests.Searches} searches, per point {perPoint.StacRequests.Searches}");
        Assert.Contains(reporter.VerboseMessages, m => m.StartsWith("STAC: ", StringComparison.Ordinal) && m.Contains("per accepted sample", StringComparison.Ordinal));
        Assert.Contains(reporter.ProgressUpdates, p => p.Status.Contains("STAC requests", StringComparison.Ordinal));

        output.WriteLine($"per point: {perPoint.StacRequests.Describe(a.Count)}");
        output.WriteLine($"cached:    {cached.StacRequests.Describe(b.Count)}");

        // A rerun asking for more samples reads the corpus's scene cache: the same keys, no search.
        var more = Request(server.RootUrl, cachedFolder, SceneLookup.Cached, 8);
        var c = await CorpusTestSupport.RunAsync(more);
        Assert.Equal(b.Select(s => s.Id), c.Take(6).Select(s => s.Id));
        Assert.True(more.StacRequests.CorpusCacheHits > 0);
        var morePerPoint = Request(server.RootUrl, perPointFolder, SceneLookup.PerPoint, 8);
        var d = await CorpusTestSupport.RunAsync(morePerPoint);
        Assert.Equal(d.Select(s => (s.Id, s.S2SceneId, s.S1SceneId)), c.Select(s => (s.Id, s.S2SceneId, s.S1SceneId)));
        Assert.True(more.StacRequests.Searches < morePerPoint.StacRequests.Searches);
        output.WriteLine($"rerun to 8, per point: {morePerPoint.StacRequests.Describe(2)}");
        output.WriteLine($"rerun to 8, cached:    {more.StacRequests.Describe(2)}");
    }
}
