using System.Globalization;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Sampling;
using DeepSentinel.Core.Tests.Raster;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Sampling;

/// <summary>
/// The tests of issue 16's remote reads: GDAL's request counters against what a loopback COG
/// server answered, and reads in flight per worker (-IoConcurrency) as the server sees them. GDAL
/// counts for the whole process, so this collection runs alone (after the parallel ones).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RemoteReadCollection : ICollectionFixture<DemoCatalogFixture>
{
    public const string Name = "Remote reads (alone: GDAL's counters are process-wide)";
}

[Collection(RemoteReadCollection.Name)]
public sealed class RemoteReadTests(DemoCatalogFixture fixture) : IDisposable
{
    private readonly TemporaryFolders _folders = new();

    public void Dispose() => _folders.Dispose();

    /// <summary>
    /// Serves the catalog with Range support under a unique prefix (GDAL caches remote files by
    /// URL for the process), holding every COG request <paramref name="delay"/> and recording the
    /// most COG requests in flight at once.
    /// </summary>
    private async Task<(LoopbackServer Server, Uri Root, Func<int> PeakInFlight)> ServeAsync(TimeSpan delay)
    {
        var prefix = "r" + Guid.NewGuid().ToString("N")[..12] + "/";
        var root = fixture.Root;
        int inFlight = 0, peak = 0;
        var server = await LoopbackServer.StartAsync(async (context, request) =>
        {
            var relative = Uri.UnescapeDataString(request.Path.TrimStart('/'));
            if (!relative.StartsWith(prefix, StringComparison.Ordinal))
            {
                context.Response.StatusCode = 404;
                return;
            }

            var path = Path.GetFullPath(Path.Combine(root, relative[prefix.Length..]));
            if (!path.StartsWith(root, StringComparison.Ordinal) || !File.Exists(path))
            {
                context.Response.StatusCode = 404;
                return;
            }

            var cog = path.EndsWith(".tif", StringComparison.Ordinal);
            if (cog)
            {
                var now = Interlocked.Increment(ref inFlight);
                int seen;
                while ((seen = Volatile.Read(ref peak)) < now && Interlocked.CompareExchange(ref peak, now, seen) != seen)
                {
                }

                await Task.Delay(delay);
            }

            try
            {
                context.Response.ContentType = cog ? "image/tiff" : "application/json";
                await Microsoft.AspNetCore.Http.Results.File(path, context.Response.ContentType, enableRangeProcessing: true).ExecuteAsync(context);
            }
            finally
            {
                if (cog)
                {
                    Interlocked.Decrement(ref inFlight);
                }
            }
        });
        return (server, new Uri(server.BaseUri, prefix), () => Volatile.Read(ref peak));
    }

    private PatchSampleRequest Request(Uri root, int count, int throttle, int io) =>
        CorpusTestSupport.Request(fixture, new Uri(root, "catalog.json").AbsoluteUri, _folders.New("ds-remote-"), count, throttle: throttle) with { IoConcurrency = io, MaxPoints = 40 };

    private static async Task<(List<PatchSample> Samples, PatchSampleRunSummary Summary, RecordingReporter Reporter)> RunAsync(PatchSampleRequest request)
    {
        var service = new PatchSampleService(TestServices.Create());
        var reporter = new RecordingReporter();
        var samples = new List<PatchSample>();
        await foreach (var sample in service.RunAsync(request, reporter, null, CancellationToken.None))
        {
            samples.Add(sample);
        }

        return (samples, service.LastRun!, reporter);
    }

    [Fact]
    public async Task The_run_summary_counts_the_COG_requests_and_bytes_the_server_answered()
    {
        var (server, root, _) = await ServeAsync(TimeSpan.Zero);
        await using var _ = server;

        var (samples, summary, reporter) = await RunAsync(Request(root, count: 3, throttle: 2, io: 4));

        Assert.Empty(reporter.Errors);
        Assert.Equal(3, samples.Count);
        // Parallel workers may write a sample past the corpus's end (removed at the end): counted, as its reads were.
        Assert.InRange(summary.Accepted, 3, 4);
        var cogs = server.Requests.Where(r => r.Path.EndsWith(".tif", StringComparison.Ordinal)).ToList();
        var gets = cogs.Where(r => r.Method == "GET").ToList();
        var heads = cogs.Count(r => r.Method == "HEAD");
        Assert.NotEmpty(gets);
        Assert.Equal(gets.Count, summary.CogGets);
        Assert.Equal(heads, summary.CogHeads);
        // Bytes: what each GET's range asked for, cut at the end of its file.
        long Served(RecordedRequest r)
        {
            var size = new FileInfo(Path.Combine(fixture.Root, Uri.UnescapeDataString(r.Path[root.AbsolutePath.Length..]))).Length;
            if (!r.Headers.TryGetValue("Range", out var range))
            {
                return size;
            }

            var parts = range.Replace("bytes=", string.Empty, StringComparison.Ordinal).Split('-');
            var from = long.Parse(parts[0], CultureInfo.InvariantCulture);
            var to = parts[1].Length == 0 ? size - 1 : Math.Min(size - 1, long.Parse(parts[1], CultureInfo.InvariantCulture));
            return to - from + 1;
        }

        Assert.Equal(gets.Sum(Served), summary.CogBytes);
        Assert.Equal((double)(gets.Count + heads) / summary.Accepted, summary.RequestsPerSample, 9);
        // The figures are in the run's verbose summary and the last progress record.
        Assert.Contains(reporter.VerboseMessages, v => v.StartsWith("Run summary:", StringComparison.Ordinal) && v.Contains($"{gets.Count} GET and {heads} HEAD", StringComparison.Ordinal));
        Assert.Contains(reporter.ProgressUpdates, p => p.Completed && p.Status.Contains($"{gets.Count + heads} COG requests", StringComparison.Ordinal));
    }

    [Fact]
    public async Task One_worker_keeps_IoConcurrency_reads_in_flight_and_builds_the_same_corpus()
    {
        // Every COG request is held 30 ms, so reads that overlap are seen at the server.
        var (server, root, peak) = await ServeAsync(TimeSpan.FromMilliseconds(30));
        await using var _ = server;

        var sequential = Request(root, count: 2, throttle: 1, io: 1);
        var (one, _, r1) = await RunAsync(sequential);
        var peakSequential = peak();
        // A new prefix: GDAL's cache would otherwise answer the second run without requests.
        var (server2, root2, peak2) = await ServeAsync(TimeSpan.FromMilliseconds(30));
        await using var __ = server2;
        var overlapped = Request(root2, count: 2, throttle: 1, io: 6);
        var (six, _, r6) = await RunAsync(overlapped);

        Assert.Empty(r1.Errors);
        Assert.Empty(r6.Errors);
        // GDAL itself fetches the tile rows of one window in parallel (2 at most here), so even
        // one lane has that many in flight; six lanes read six files at a time.
        Assert.InRange(peakSequential, 1, 2);
        Assert.True(peak2() >= 6, $"at most {peak2()} COG requests in flight with 6 lanes (one lane: {peakSequential})");
        Assert.Equal(one.Select(s => s.Id), six.Select(s => s.Id));
        foreach (var (a, b) in one.Zip(six))
        {
            foreach (var key in new[] { PatchSample.AssetKeys.S2, PatchSample.AssetKeys.Scl, PatchSample.AssetKeys.S1 })
            {
                Assert.Equal(File.ReadAllBytes(a.AssetLocation(key)), File.ReadAllBytes(b.AssetLocation(key)));
            }
        }
    }
}
