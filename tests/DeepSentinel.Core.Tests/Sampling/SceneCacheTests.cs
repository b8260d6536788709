using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Sampling;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Stac;
using DeepSentinel.Core.Storage;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Sampling;

/// <summary>
/// The scene lookup cache (issue 16) against the loopback STAC API: the same scenes as a search
/// per point, one search per key under concurrency, the corpus cache keyed by the query, paging
/// and rate limits. Request counts are checked against what the server recorded.
/// </summary>
public sealed class SceneCacheTests : IDisposable
{
    private static readonly DateTimeOffset Origin = new(2019, 8, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly TemporaryFolders _folders = new();

    public void Dispose() => _folders.Dispose();

    private static SceneSearchRequest Template(Uri root, StacRequestCounter counter, double maxCloud = 60, int pageSize = 100) => new()
    {
        StacUrl = root,
        PageSize = pageSize,
        Query = new SceneQuery { Collections = ["sentinel-2-l2a", "sentinel-1-rtc"], MaxCloudCover = maxCloud },
        RequestCounter = counter,
    };

    private static CachedStacScenePool Cached(SceneSearchRequest template, RecordingReporter? reporter = null, int maxScenesPerKey = 2000) =>
        new(new SceneSearchService(TestServices.Create()), template, "provider: STAC " + template.StacUrl + " cloud " + template.Query.MaxCloudCover.ToString()!, Origin, reporter ?? new RecordingReporter()) { MaxScenesPerKey = maxScenesPerKey };

    private static StacScenePool PerPoint(SceneSearchRequest template) =>
        new(new SceneSearchService(TestServices.Create()), template, new RecordingReporter());

    private static List<string> Ids(IEnumerable<SentinelScene> scenes) => scenes.Select(s => s.Id).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task The_cache_finds_exactly_the_scenes_a_search_per_point_finds_with_a_fraction_of_the_requests()
    {
        await using var server = await StacApiServer.StartAsync(options: new StacApiOptions { ExactGeometry = true });
        var perPointCounter = new StacRequestCounter();
        var cachedCounter = new StacRequestCounter();
        var perPoint = PerPoint(Template(server.RootUrl, perPointCounter));
        var cached = Cached(Template(server.RootUrl, cachedCounter));
        var random = new Random(16);
        var lookups = 0;
        var nonEmpty = 0;
        for (var i = 0; i < 200; i++)
        {
            // Points over the standard items (Paris, Lyon, the Sentinel-1 strip), cycles of 12 days
            // and +/- 3 day windows around a time, as New-PatchSample asks.
            // Around the Paris and Lyon tiles, a little beyond their edges.
            var paris = i % 2 == 0;
            var lon = (paris ? 1.4 : 4.0) + (random.NextDouble() * 1.8);
            var lat = (paris ? 48.4 : 45.0) + (random.NextDouble() * 1.4);
            var cycle = random.Next(0, 4);
            var s2From = Origin.AddDays(12 * cycle);
            var s2 = await cached.FindAsync(SentinelMission.S2, lon, lat, s2From, s2From.AddDays(12), CancellationToken.None);
            Assert.Equal(Ids(await perPoint.FindAsync(SentinelMission.S2, lon, lat, s2From, s2From.AddDays(12), CancellationToken.None)), Ids(s2));
            var at = s2From.AddHours(random.Next(0, 12 * 24));
            var s1 = await cached.FindAsync(SentinelMission.S1, lon, lat, at.AddDays(-3), at.AddDays(3), CancellationToken.None);
            Assert.Equal(Ids(await perPoint.FindAsync(SentinelMission.S1, lon, lat, at.AddDays(-3), at.AddDays(3), CancellationToken.None)), Ids(s1));
            lookups += 2;
            nonEmpty += (s2.Count > 0 ? 1 : 0) + (s1.Count > 0 ? 1 : 0);
        }

        Assert.True(nonEmpty > 100, $"only {nonEmpty} of {lookups} lookups found scenes: the comparison would prove little");
        Assert.Equal(lookups, perPointCounter.Searches);
        // One search per key at most: 10 cells x (4 Sentinel-2 cycles + 6 Sentinel-1 bins), whatever the number of points.
        Assert.True(cachedCounter.Searches <= 100, $"cached {cachedCounter.Searches} searches");
        Assert.True(cachedCounter.Searches * 3 < perPointCounter.Searches, $"cached {cachedCounter.Searches} searches vs {perPointCounter.Searches} per point");
        Assert.Equal(cachedCounter.Searches, cachedCounter.CacheMisses);
        // Every lookup asked at least one key (an S1 window across a bin boundary asks two).
        Assert.True(cachedCounter.CacheHits + cachedCounter.CacheMisses >= lookups);
        // What the server saw is what the counters say.
        Assert.Equal(server.Server.Requests.Count, perPointCounter.Attempts + cachedCounter.Attempts);
        Assert.Equal(server.SearchRequests.Count, perPointCounter.Pages + cachedCounter.Pages);
    }

    [Fact]
    public async Task Concurrent_lookups_of_one_key_wait_on_one_search()
    {
        await using var server = await StacApiServer.StartAsync(options: new StacApiOptions { ExactGeometry = true });
        var counter = new StacRequestCounter();
        var cached = Cached(Template(server.RootUrl, counter));
        using var start = new ManualResetEventSlim();
        var results = new List<string>[16];
        var threads = Enumerable.Range(0, 16).Select(i => new Thread(() =>
        {
            start.Wait();
            results[i] = Ids(cached.FindAsync(SentinelMission.S2, 2.0 + (i * 0.01), 49.0 + (i * 0.01), Origin, Origin.AddDays(12), CancellationToken.None).GetAwaiter().GetResult());
        })).ToList();
        threads.ForEach(t => t.Start());
        start.Set();
        threads.ForEach(t => t.Join());

        Assert.Single(server.SearchRequests);
        Assert.Equal(1, counter.Searches);
        Assert.Equal(15, counter.CacheHits);
        Assert.All(results, r => Assert.Equal(results[0], r));
        Assert.NotEmpty(results[0]);
    }

    [Fact]
    public async Task The_corpus_cache_is_reused_only_by_the_same_query()
    {
        await using var server = await StacApiServer.StartAsync(options: new StacApiOptions { ExactGeometry = true });
        var folder = _folders.New("ds-scenecache-");
        var store = new LocalObjectStore(folder);

        var first = new StacRequestCounter();
        var pool = Cached(Template(server.RootUrl, first));
        pool.AttachCorpus(store, readOnly: false);
        var scenes = Ids(await pool.FindAsync(SentinelMission.S2, 2.3, 48.9, Origin, Origin.AddDays(12), CancellationToken.None));
        Assert.NotEmpty(scenes);
        var files = Directory.GetFiles(Path.Combine(folder, CachedStacScenePool.CacheFolder), "*.json", SearchOption.AllDirectories);
        Assert.Single(files);
        var written = JsonNode.Parse(File.ReadAllText(files[0]))!;
        Assert.Equal("S2", (string)written["key"]!["mission"]!);
        Assert.Equal(60, (double)written["key"]!["max_cloud_cover"]!);
        Assert.Empty(Directory.GetFiles(folder, "*.tmp*", SearchOption.AllDirectories));

        // The same query in a new run: answered from the corpus, no request at all.
        var again = new StacRequestCounter();
        var rerun = Cached(Template(server.RootUrl, again));
        rerun.AttachCorpus(store, readOnly: false);
        Assert.Equal(scenes, Ids(await rerun.FindAsync(SentinelMission.S2, 2.3, 48.9, Origin, Origin.AddDays(12), CancellationToken.None)));
        Assert.Equal(0, again.Requests);
        Assert.Equal(1, again.CorpusCacheHits);

        // Another cloud limit is another query: it searches and gets its own file.
        var other = new StacRequestCounter();
        var stricter = Cached(Template(server.RootUrl, other, maxCloud: 5));
        stricter.AttachCorpus(store, readOnly: false);
        var strict = Ids(await stricter.FindAsync(SentinelMission.S2, 2.3, 48.9, Origin, Origin.AddDays(12), CancellationToken.None));
        Assert.Equal(1, other.Searches);
        Assert.Equal(0, other.CorpusCacheHits);
        Assert.NotEqual(scenes, strict);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(folder, CachedStacScenePool.CacheFolder), "*.json", SearchOption.AllDirectories).Length);

        // A file whose recorded key is not the one asked (tampered, corrupt) is never used.
        written["key"]!["max_cloud_cover"] = 99;
        written["items"] = new JsonArray();
        File.WriteAllText(files[0], written.ToJsonString());
        var tampered = new StacRequestCounter();
        var check = Cached(Template(server.RootUrl, tampered));
        check.AttachCorpus(store, readOnly: false);
        Assert.Equal(scenes, Ids(await check.FindAsync(SentinelMission.S2, 2.3, 48.9, Origin, Origin.AddDays(12), CancellationToken.None)));
        Assert.Equal(1, tampered.Searches);
        File.WriteAllText(files[0], "{\"key\":");
        var truncated = new StacRequestCounter();
        var check2 = Cached(Template(server.RootUrl, truncated));
        check2.AttachCorpus(store, readOnly: true);
        Assert.Equal(scenes, Ids(await check2.FindAsync(SentinelMission.S2, 2.3, 48.9, Origin, Origin.AddDays(12), CancellationToken.None)));
        Assert.Equal(1, truncated.Searches);
        Assert.Equal("{\"key\":", File.ReadAllText(files[0]));
    }

    private static List<JsonObject> ManyItems(int count)
    {
        // count Sentinel-2 scenes over one cell, a few hours apart within the first cycle.
        return Enumerable.Range(0, count)
            .Select(i => SampleItems.S2(i, Origin.AddHours(1 + (i % 250)).AddSeconds(i), cloud: i % 50, tile: "31UDQ", west: 1.6, south: 48.6))
            .ToList();
    }

    [Theory]
    [InlineData(PagingStyle.PlanetaryComputer)]
    [InlineData(PagingStyle.EarthSearch)]
    [InlineData(PagingStyle.Get)]
    public async Task Large_searches_are_paged_to_the_end(PagingStyle paging)
    {
        await using var server = await StacApiServer.StartAsync(ManyItems(730), new StacApiOptions { Paging = paging, AllowPost = paging != PagingStyle.Get, ExactGeometry = true });
        var counter = new StacRequestCounter();
        var cached = Cached(Template(server.RootUrl, counter, pageSize: 100));

        var found = await cached.FindAsync(SentinelMission.S2, 2.3, 48.9, Origin, Origin.AddDays(12), CancellationToken.None);

        Assert.Equal(730, found.Count);
        Assert.Equal(730, found.Select(s => s.Id).Distinct().Count());
        Assert.Equal(1, counter.Searches);
        Assert.Equal(8, counter.Pages);
        Assert.Equal(8, server.SearchRequests.Count(r => r.Method == (paging == PagingStyle.Get ? "GET" : "POST")));
    }

    [Fact]
    public async Task A_key_beyond_the_limit_is_searched_per_point_with_a_warning()
    {
        await using var server = await StacApiServer.StartAsync(ManyItems(130), new StacApiOptions { ExactGeometry = true });
        var reporter = new RecordingReporter();
        var cached = Cached(Template(server.RootUrl, new StacRequestCounter(), pageSize: 50), reporter, maxScenesPerKey: 100);
        var perPoint = PerPoint(Template(server.RootUrl, new StacRequestCounter(), pageSize: 50));

        var found = await cached.FindAsync(SentinelMission.S2, 2.3, 48.9, Origin, Origin.AddDays(12), CancellationToken.None);

        Assert.Equal(Ids(await perPoint.FindAsync(SentinelMission.S2, 2.3, 48.9, Origin, Origin.AddDays(12), CancellationToken.None)), Ids(found));
        Assert.Contains(reporter.Warnings, w => w.Contains("More than 100", StringComparison.Ordinal) && w.Contains("per point", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_rate_limited_key_backs_off_without_stalling_other_lookups(bool httpDate)
    {
        // Searches of the Lyon cell get two 429s each before they are served; Paris is never throttled.
        var options = new StacApiOptions
        {
            ExactGeometry = true,
            ThrottleIf = body => body["bbox"] is JsonArray b && (double)b[1]! == 45,
            ThrottledTimes = 2,
            RetryAfterSeconds = httpDate ? null : 2,
            RetryAfterDate = httpDate ? TimeSpan.FromSeconds(3) : null,
        };
        await using var server = await StacApiServer.StartAsync(options: options);
        var counter = new StacRequestCounter();
        var cached = Cached(Template(server.RootUrl, counter));
        var clock = Stopwatch.StartNew();

        var lyon = Task.Run(() => cached.FindAsync(SentinelMission.S2, 4.8, 45.7, Origin, Origin.AddDays(12), CancellationToken.None));
        await Task.Delay(200);
        var paris = await cached.FindAsync(SentinelMission.S2, 2.3, 48.9, Origin, Origin.AddDays(12), CancellationToken.None);
        var parisDone = clock.Elapsed;
        Assert.False(lyon.IsCompleted, "the throttled lookup finished before the other: the test proves nothing");
        var lyonScenes = await lyon;
        var lyonDone = clock.Elapsed;

        Assert.NotEmpty(paris);
        Assert.NotEmpty(lyonScenes);
        Assert.True(parisDone < TimeSpan.FromSeconds(1.5), $"an unthrottled lookup took {parisDone.TotalSeconds:0.0} s");
        Assert.True(lyonDone > TimeSpan.FromSeconds(2), $"the throttled lookup did not wait out Retry-After ({lyonDone.TotalSeconds:0.0} s)");
        Assert.Equal(2, server.RateLimited);
        Assert.Equal(2, counter.Retries);
        Assert.Equal(server.Server.Requests.Count, counter.Attempts);
    }

    [Fact]
    public async Task Endless_429s_end_in_RateLimited_and_a_later_lookup_searches_again()
    {
        var options = new StacApiOptions { ThrottleIf = _ => true, ThrottledTimes = TestServices.FastRetry.MaxAttempts, RetryAfterSeconds = 0 };
        await using var server = await StacApiServer.StartAsync(options: options);
        var counter = new StacRequestCounter();
        var cached = Cached(Template(server.RootUrl, counter));

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => cached.FindAsync(SentinelMission.S2, 2.3, 48.9, Origin, Origin.AddDays(12), CancellationToken.None));

        Assert.Equal(ErrorIds.RateLimited, error.ErrorId);
        Assert.Contains("429", error.Message, StringComparison.Ordinal);
        Assert.Equal(TestServices.FastRetry.MaxAttempts, server.RateLimited);
        Assert.Equal(TestServices.FastRetry.MaxAttempts - 1, counter.Retries);

        // The failure was not cached: the next lookup of the key searches (and is served now).
        var found = await cached.FindAsync(SentinelMission.S2, 2.3, 48.9, Origin, Origin.AddDays(12), CancellationToken.None);
        Assert.NotEmpty(found);
        Assert.Equal(2, counter.Searches);
    }
}
