using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Services;
using DeepSentinel.Core.Storage;

namespace DeepSentinel.Core.Sampling;

/// <summary>The input of New-PatchSample.</summary>
public sealed record PatchSampleRequest
{
    /// <summary>The corpus location (a folder).</summary>
    public required string Destination { get; init; }

    /// <summary>Samples in the whole corpus (all shards together).</summary>
    public int Count { get; init; } = 100;

    /// <summary>Start of the date range.</summary>
    public DateTimeOffset Start { get; init; }

    /// <summary>End of the date range.</summary>
    public DateTimeOffset End { get; init; }

    /// <summary>The seed of the point sequence.</summary>
    public long Seed { get; init; }

    /// <summary>Maximum Sentinel-2 scene cloud cover, percent.</summary>
    public double MaxCloudCover { get; init; } = 30;

    /// <summary>Maximum cloud and cloud shadow in the patch (SCL), percent.</summary>
    public double MaxPatchCloud { get; init; } = 10;

    /// <summary>Maximum nodata in the patch, percent.</summary>
    public double MaxNoData { get; init; } = 5;

    /// <summary>Maximum days between the S1 and S2 acquisitions.</summary>
    public double MaxDaysApart { get; init; } = 3;

    /// <summary>Sample only inside this area (WGS 84), besides land and scene coverage.</summary>
    public NetTopologySuite.Geometries.Geometry? Area { get; init; }

    /// <summary>This machine's shard (0-based).</summary>
    public int Shard { get; init; }

    /// <summary>Number of shards.</summary>
    public int ShardCount { get; init; } = 1;

    /// <summary>Parallel workers (one GDAL handle set each).</summary>
    public int ThrottleLimit { get; init; } = Environment.ProcessorCount;

    /// <summary>Give up after trying this many points in this run (null: 20 per sample wanted, plus 100).</summary>
    public long? MaxPoints { get; init; }

    /// <summary>Where scenes come from: a provider or static catalog search (its Query collections and filters are kept).</summary>
    public SceneSearchRequest? Source { get; init; }

    /// <summary>Credentials and transfer settings for a cloud destination.</summary>
    public Storage.StorageOptions? Storage { get; init; }

    /// <summary>Scenes from the pipeline: sample inside their footprints instead of searching.</summary>
    public IReadOnlyList<SentinelScene>? Scenes { get; init; }

    /// <summary>Checks values.</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.InvalidParameterValue"/> or <see cref="ErrorIds.EndBeforeStart"/>.</exception>
    public void Validate()
    {
        static void Require(bool ok, string message, object? value)
        {
            if (!ok)
            {
                throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, message, value);
            }
        }

        Require(!string.IsNullOrWhiteSpace(Destination), "A destination is required.", Destination);
        Require(Count >= 1, $"Count must be at least 1; it was {Count}.", Count);
        if (End <= Start)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.EndBeforeStart, $"The end of the date range ({End:u}) must be after its start ({Start:u}).", End);
        }

        Require(MaxDaysApart >= 0 && MaxDaysApart <= 60, $"MaxDaysApart must be between 0 and 60 days; it was {MaxDaysApart}.", MaxDaysApart);
        Require(MaxCloudCover is >= 0 and <= 100, $"MaxCloudCover must be between 0 and 100; it was {MaxCloudCover}.", MaxCloudCover);
        Require(MaxPatchCloud is >= 0 and <= 100, $"MaxPatchCloud must be between 0 and 100; it was {MaxPatchCloud}.", MaxPatchCloud);
        Require(MaxNoData is >= 0 and <= 100, $"MaxNoData must be between 0 and 100; it was {MaxNoData}.", MaxNoData);
        Require(ShardCount >= 1 && Shard >= 0 && Shard < ShardCount, $"Shard must be between 0 and ShardCount - 1; it was {Shard} of {ShardCount}.", Shard);
        Require(ThrottleLimit is >= 1 and <= 64, $"ThrottleLimit must be between 1 and 64; it was {ThrottleLimit}.", ThrottleLimit);
        Require(MaxPoints is null or >= 1, $"MaxPoints must be at least 1; it was {MaxPoints}.", MaxPoints);
        Require(Source is not null || Scenes is not null, "Give scenes from the pipeline, a catalog or a provider.", null);
    }

    /// <summary>The number of samples shard <paramref name="shard"/> contributes.</summary>
    public int QuotaOf(int shard) => (Count / ShardCount) + (shard < Count % ShardCount ? 1 : 0);
}

/// <summary>
/// Builds a matched Sentinel-1 + Sentinel-2 patch corpus: the engine of New-PatchSample.
/// Points come from a seeded sequence over land (or over the given scenes' footprints); for each,
/// a Sentinel-2 scene of the point's 12-day cycle below the cloud limit and a dual-polarisation
/// Sentinel-1 scene within MaxDaysApart are matched; the patch is read (windows for S2, a warp for
/// S1), checked against SCL cloud and nodata limits, and written. Resumable and idempotent
/// through the corpus journal; deterministic for a seed; shardable.
/// </summary>
public sealed class PatchSampleService
{
    private const int ProgressId = 3;
    private const int S2CandidatesPerPoint = 3;
    private const int S1CandidatesPerPoint = 2;
    private readonly CoreServices _services;

    /// <summary>Creates the service.</summary>
    public PatchSampleService(CoreServices services)
    {
        ArgumentNullException.ThrowIfNull(services);
        _services = services;
    }

    /// <summary>
    /// Builds (or completes) the corpus and yields its samples: those finished by earlier runs
    /// first, then new ones as they are written.
    /// </summary>
    /// <param name="request">What to build.</param>
    /// <param name="reporter">Progress, verbose and per-sample errors.</param>
    /// <param name="shouldProcess">Asked before each sample's pixels are read (target, action); false skips it, as -WhatIf does.</param>
    /// <param name="cancellationToken">Stops the run; finished samples stay, nothing half-written remains.</param>
    public async IAsyncEnumerable<PatchSample> RunAsync(PatchSampleRequest request, IOperationReporter reporter, Func<string, string, Task<bool>>? shouldProcess, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        reporter ??= NullReporter.Instance;
        request.Validate();
        Interop.Gdal.Gdal.EnsureInitialized();

        var pool = await OpenPoolAsync(request, reporter, cancellationToken).ConfigureAwait(false);
        var area = request.Area;
        if (pool.Coverage is { } coverage)
        {
            area = area is null ? coverage : area.Intersection(coverage);
            if (area.IsEmpty)
            {
                throw new DeepSentinelException(ErrorIds.NoScenesAvailable, ErrorKind.InvalidArgument, "The sampling area does not overlap any Sentinel-2 scene footprint.", null);
            }
        }

        var points = new PointSequence(request.Seed, request.Start, request.End, area);
        var corpus = PatchCorpus.Open(request.Destination, request.Storage, _services, reporter);
        var manifest = new CorpusManifest
        {
            Seed = request.Seed,
            Start = request.Start,
            End = request.End,
            MaxDaysApart = request.MaxDaysApart,
            MaxCloudCover = request.MaxCloudCover,
            MaxPatchCloud = request.MaxPatchCloud,
            MaxNoData = request.MaxNoData,
            ShardCount = request.ShardCount,
            Area = request.Area?.AsText(),
            Source = pool.Description,
        };
        var planOnly = false;
        if (shouldProcess is not null && !await shouldProcess(corpus.Store.DisplayName, "Create or resume a patch corpus").ConfigureAwait(false))
        {
            // -WhatIf: plan the samples without writing anything, not even the manifest.
            planOnly = true;
        }
        else
        {
            await corpus.EnsureManifestAsync(manifest, cancellationToken).ConfigureAwait(false);
        }

        var quota = request.QuotaOf(request.Shard);
        var done = new Dictionary<long, bool>();
        await foreach (var entry in corpus.ReadJournalAsync(cancellationToken).ConfigureAwait(false))
        {
            if (entry.Index % request.ShardCount == request.Shard)
            {
                done[entry.Index] = entry.Accepted;
            }
        }

        var previous = done.Where(d => d.Value).Select(d => d.Key).Order().ToList();
        if (previous.Count > 0 || done.Count > 0)
        {
            reporter.Verbose($"Resuming: {previous.Count} samples and {done.Count - previous.Count} rejected points already in the journal of {corpus.Store.DisplayName}.");
        }

        // Samples of earlier runs first (at most the quota: a run may have journaled a few extra).
        var emitted = 0;
        foreach (var index in previous.Take(quota))
        {
            emitted++;
            yield return await corpus.ReadJournalSampleAsync(index, cancellationToken).ConfigureAwait(false);
        }

        var run = new Run(_services, request, points, pool, corpus, done, previous.Count, quota, planOnly, reporter, shouldProcess, cancellationToken);
        // A plan reads no pixels: one worker keeps it exact (parallel workers could plan a point too many).
        var workers = Enumerable.Range(0, planOnly ? 1 : request.ThrottleLimit).Select(w => run.StartWorker(w)).ToList();
        var completion = Task.Run(() =>
        {
            foreach (var worker in workers)
            {
                worker.Join();
            }

            run.Results.Writer.TryComplete();
        }, CancellationToken.None);

        // Workers finish out of order and may overshoot the quota by a few points: emit samples in
        // point order behind a frontier, so the output is exactly the corpus, in sequence order.
        var pending = new Dictionary<long, PatchSample?>();
        var frontier = (long)request.Shard;
        await foreach (var (index, sample) in run.Results.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            pending[index] = sample;
            while (true)
            {
                while (done.ContainsKey(frontier))
                {
                    frontier += request.ShardCount;
                }

                if (!pending.Remove(frontier, out var next))
                {
                    break;
                }

                frontier += request.ShardCount;
                if (next is not null && emitted < quota)
                {
                    emitted++;
                    yield return next;
                }
            }
        }

        await completion.ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (run.Fatal is { } fatal)
        {
            throw fatal;
        }

        if (!planOnly)
        {
            var inIndex = await WriteIndexAsync(corpus, request, quota, cancellationToken).ConfigureAwait(false);
            await corpus.WriteCollectionAsync(manifest, inIndex, cancellationToken).ConfigureAwait(false);
            if (inIndex < quota)
            {
                reporter.Warning($"Only {inIndex} of {quota} samples were found after trying {run.Attempts} new points ({run.Rejected} rejected, {run.Failed} failed). Rerun to retry the failed points, widen the date range or area, or relax -MaxCloudCover / -MaxPatchCloud.");
            }
        }

        reporter.Progress(new ProgressUpdate(ProgressId, "Building patch corpus", "done", 100, 0, Completed: true));
    }

    private async Task<IScenePool> OpenPoolAsync(PatchSampleRequest request, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        InMemoryScenePool? finite = null;
        if (request.Scenes is { } scenes)
        {
            finite = new InMemoryScenePool(scenes, $"{scenes.Count} scenes from the pipeline");
        }
        else if (request.Source is { Catalog: not null } catalog)
        {
            var margin = TimeSpan.FromDays(request.MaxDaysApart + 1);
            var query = catalog.Query with { Start = request.Start - margin, End = request.End + margin, BoundingBox = null, Intersects = null };
            finite = await InMemoryScenePool.FromSearchAsync(new SceneSearchService(_services), catalog with { Query = query }, reporter, cancellationToken).ConfigureAwait(false);
        }

        if (finite is not null)
        {
            if (finite.S2Count == 0 || finite.S1Count == 0)
            {
                throw new DeepSentinelException(ErrorIds.NoScenesAvailable, ErrorKind.InvalidArgument, $"{finite.Description} holds {finite.S2Count} Sentinel-2 and {finite.S1Count} Sentinel-1 scenes in the date range; both are needed.", finite.Description);
            }

            reporter.Verbose($"Matching against {finite.Description}: {finite.S2Count} Sentinel-2 and {finite.S1Count} Sentinel-1 scenes.");
            return finite;
        }

        var source = request.Source!;
        return new StacScenePool(new SceneSearchService(_services), source with { Query = source.Query with { MaxCloudCover = request.MaxCloudCover } }, reporter);
    }

    private static async Task<int> WriteIndexAsync(PatchCorpus corpus, PatchSampleRequest request, int quota, CancellationToken cancellationToken)
    {
        // The corpus is the first `quota` accepted points of the shard in sequence order, whatever
        // order workers finished in: a rerun or another machine builds the same index.
        var accepted = new List<long>();
        await foreach (var entry in corpus.ReadJournalAsync(cancellationToken).ConfigureAwait(false))
        {
            if (entry.Accepted && entry.Index % request.ShardCount == request.Shard)
            {
                accepted.Add(entry.Index);
            }
        }

        var chosen = accepted.Order().Take(quota).ToList();
        await corpus.WriteIndexAsync(request.Shard, request.ShardCount, Read(chosen), cancellationToken).ConfigureAwait(false);
        return chosen.Count;

        async IAsyncEnumerable<PatchSample> Read(List<long> indices)
        {
            foreach (var index in indices)
            {
                yield return await corpus.ReadJournalSampleAsync(index, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>One run's shared state: the scheduler, counters and the result channel.</summary>
    private sealed class Run
    {
        private readonly object _gate = new();
        private readonly CoreServices _services;
        private readonly PatchSampleRequest _request;
        private readonly PointSequence _points;
        private readonly IScenePool _pool;
        private readonly PatchCorpus _corpus;
        private readonly Dictionary<long, bool> _done;
        private readonly int _quota;
        private readonly bool _planOnly;
        private readonly IOperationReporter _reporter;
        private readonly Func<string, string, Task<bool>>? _shouldProcess;
        private readonly CancellationToken _cancellationToken;
        private readonly long _maxPoints;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly string _staging;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _brokenScenes = new(StringComparer.Ordinal);
        private long _next;
        private int _consecutiveWriteFailures;
        private int _accepted;
        private int _newAccepted;

        public Run(CoreServices services, PatchSampleRequest request, PointSequence points, IScenePool pool, PatchCorpus corpus, Dictionary<long, bool> done, int accepted, int quota, bool planOnly, IOperationReporter reporter, Func<string, string, Task<bool>>? shouldProcess, CancellationToken cancellationToken)
        {
            _services = services;
            _request = request;
            _points = points;
            _pool = pool;
            _corpus = corpus;
            _done = done;
            _accepted = accepted;
            _quota = quota;
            _planOnly = planOnly;
            _reporter = reporter;
            _shouldProcess = shouldProcess;
            _cancellationToken = cancellationToken;
            _next = request.Shard;
            _maxPoints = request.MaxPoints ?? ((long)quota * 20) + 100;
            _staging = corpus.Store is LocalObjectStore local ? Path.Combine(local.Root, ".staging") : Path.Combine(Path.GetTempPath(), "deepsentinel-staging");
            CleanStaleStaging(_staging);
        }

        /// <summary>Every point taken, with its sample or null (rejected, failed, planned).</summary>
        public Channel<(long Index, PatchSample? Sample)> Results { get; } = Channel.CreateUnbounded<(long, PatchSample?)>(new UnboundedChannelOptions { SingleReader = true });

        public long Attempts;

        public int Rejected;

        public int Failed;

        public DeepSentinelException? Fatal { get; private set; }

        public Thread StartWorker(int number)
        {
            // GDAL calls block: each worker is a thread of its own with its own datasets.
            var thread = new Thread(Work) { IsBackground = true, Name = $"DeepSentinel patch worker {number}" };
            thread.Start();
            return thread;
        }

        private bool TryTake(out long index)
        {
            lock (_gate)
            {
                while (true)
                {
                    index = _next;
                    if (_cancellationToken.IsCancellationRequested || Fatal is not null || _accepted >= _quota || Attempts >= _maxPoints)
                    {
                        return false;
                    }

                    _next += _request.ShardCount;
                    if (_done.ContainsKey(index))
                    {
                        continue;
                    }

                    Attempts++;
                    return true;
                }
            }
        }

        private void Work()
        {
            using var extractor = new PatchExtractor(ResolveAsset);
            while (TryTake(out var index))
            {
                SamplePoint? point = null;
                PatchSample? sample = null;
                try
                {
                    point = _points[index];
                    sample = ProcessAsync(point, extractor).GetAwaiter().GetResult();
                }
                catch (OperationCanceledException) when (_cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                catch (DeepSentinelException ex) when (ex.ErrorId is ErrorIds.GdalUnavailable)
                {
                    Stop(ex);
                    return;
                }
                catch (Exception ex)
                {
                    // A failing sample never ends the run (and an exception must never escape a
                    // worker thread: it would take the whole PowerShell process down).
                    Interlocked.Increment(ref Failed);
                    var error = ex as DeepSentinelException;
                    var writeFailure = error?.ErrorId == ErrorIds.StorageWriteFailed || ex is IOException or UnauthorizedAccessException;
                    _reporter.Error(new DeepSentinelException(
                        error?.ErrorId ?? (writeFailure ? ErrorIds.StorageWriteFailed : ErrorIds.SampleFailed),
                        error?.Kind ?? (writeFailure ? ErrorKind.WriteError : ErrorKind.NotSpecified),
                        $"Sample point {index} ({Where(point)}): {SecretRedactor.Redact(ex.Message)}",
                        index,
                        ex));
                    if (writeFailure && Interlocked.Increment(ref _consecutiveWriteFailures) >= 5 && Volatile.Read(ref _newAccepted) == 0)
                    {
                        Stop(new DeepSentinelException(ErrorIds.StorageWriteFailed, ErrorKind.WriteError, $"Stopped: {_corpus.Store.DisplayName} could not be written 5 times in a row ({SecretRedactor.Redact(ex.Message)}). Check free space and permissions.", _corpus.Store.DisplayName, ex));
                        return;
                    }
                }

                finally
                {
                    Results.Writer.TryWrite((index, sample));
                }

                ReportProgress();
            }
        }

        private async Task<PatchSample?> ProcessAsync(SamplePoint point, PatchExtractor extractor)
        {
            var s2Candidates = (await _pool.FindAsync(Scenes.SentinelMission.S2, point.Longitude, point.Latitude, point.WindowStart, point.WindowEnd, _cancellationToken).ConfigureAwait(false))
                .Where(s => s.CloudCover is null || s.CloudCover <= _request.MaxCloudCover)
                .Where(Usable)
                .OrderBy(s => s.CloudCover ?? 0)
                .ThenBy(s => s.Datetime)
                .ThenBy(s => s.Id, StringComparer.Ordinal)
                .Take(S2CandidatesPerPoint)
                .ToList();
            var reason = $"no Sentinel-2 scene from {point.WindowStart:yyyy-MM-dd} to {point.WindowEnd:yyyy-MM-dd} with at most {_request.MaxCloudCover}% cloud";
            foreach (var s2 in s2Candidates)
            {
                var grid = Guard(s2, () => extractor.GridFor(s2, point.Longitude, point.Latitude));
                if (grid is null)
                {
                    reason = $"the patch crosses the edge of tile {s2.MgrsTile}";
                    continue;
                }

                var footprint = extractor.Footprint(grid);
                if (!s2.Footprint.Covers(footprint))
                {
                    reason = $"the patch is not inside the data footprint of {s2.Id}";
                    continue;
                }

                var days = TimeSpan.FromDays(_request.MaxDaysApart);
                var s1Candidates = (await _pool.FindAsync(Scenes.SentinelMission.S1, point.Longitude, point.Latitude, s2.Datetime - days, s2.Datetime + days, _cancellationToken).ConfigureAwait(false))
                    .Where(s => s.Polarizations.Contains("VV") && s.Polarizations.Contains("VH") && (s.InstrumentMode is null || s.InstrumentMode.Equals("IW", StringComparison.OrdinalIgnoreCase)))
                    .Where(s => s.Footprint.Covers(footprint))
                    .Where(Usable)
                    .OrderBy(s => Math.Abs((s.Datetime - s2.Datetime).TotalSeconds))
                    .ThenBy(s => s.Id, StringComparer.Ordinal)
                    .Take(S1CandidatesPerPoint)
                    .ToList();
                if (s1Candidates.Count == 0)
                {
                    reason = $"no VV+VH Sentinel-1 scene within {_request.MaxDaysApart} days of {s2.Id}";
                    continue;
                }

                var target = string.Create(CultureInfo.InvariantCulture, $"point {point.Index} ({point.Longitude:0.#####}, {point.Latitude:0.#####})");
                var action = string.Create(CultureInfo.InvariantCulture, $"Write a patch from {s2.Id} and {s1Candidates[0].Id} ({Math.Abs((s1Candidates[0].Datetime - s2.Datetime).TotalDays):0.0} days apart)");
                var proceed = _shouldProcess is null || await _shouldProcess(target, action).ConfigureAwait(false);
                if (_planOnly || !proceed)
                {
                    // Planned (or declined): counts toward the plan's size, writes nothing.
                    Interlocked.Increment(ref _accepted);
                    return null;
                }

                var s2Pixels = Guard(s2, () => extractor.ReadS2(s2, grid));
                var (cloud, noData) = PatchExtractor.Statistics(s2Pixels, null);
                if (noData * 100 > _request.MaxNoData)
                {
                    reason = string.Create(CultureInfo.InvariantCulture, $"{noData:P0} of the Sentinel-2 patch from {s2.Id} has no data");
                    continue;
                }

                if (cloud * 100 > _request.MaxPatchCloud)
                {
                    reason = string.Create(CultureInfo.InvariantCulture, $"{cloud:P0} of the patch from {s2.Id} is cloud or shadow");
                    continue;
                }

                foreach (var s1 in s1Candidates)
                {
                    var s1Pixels = Guard(s1, () => extractor.ReadS1(s1, grid));
                    var (cloudBoth, noDataBoth) = PatchExtractor.Statistics(s2Pixels, s1Pixels);
                    if (noDataBoth * 100 > _request.MaxNoData)
                    {
                        reason = string.Create(CultureInfo.InvariantCulture, $"{noDataBoth:P0} of the patch has no data in {s1.Id}");
                        continue;
                    }

                    var sample = await SampleWriter.WriteAsync(_corpus, new AcceptedPatch(point, s2, s1, grid, footprint, s2Pixels, s1Pixels, cloudBoth, noDataBoth), _staging, _cancellationToken).ConfigureAwait(false);
                    await _corpus.WriteJournalAsync(point.Index, accepted: true, sample.ToJsonLine(), _cancellationToken).ConfigureAwait(false);
                    Interlocked.Increment(ref _accepted);
                    Interlocked.Increment(ref _newAccepted);
                    Interlocked.Exchange(ref _consecutiveWriteFailures, 0);
                    return sample;
                }
            }

            if (!_planOnly)
            {
                var record = new JsonObject { ["index"] = point.Index, ["longitude"] = point.Longitude, ["latitude"] = point.Latitude, ["reason"] = reason };
                await _corpus.WriteJournalAsync(point.Index, accepted: false, record.ToJsonString(), _cancellationToken).ConfigureAwait(false);
            }

            Interlocked.Increment(ref Rejected);
            _reporter.Verbose($"Point {point.Index} ({Where(point)}) rejected: {reason}.");
            return null;
        }

        // A scene that cannot be read (truncated file, HTTP error after GDAL's retries, missing
        // band) fails the sample that met it, then is left out for the rest of the run instead of
        // failing every later point that would pick it. A rerun tries it again.
        private T Guard<T>(SentinelScene scene, Func<T> read)
        {
            try
            {
                return read();
            }
            catch (DeepSentinelException ex) when (ex.ErrorId is ErrorIds.RasterUnreadable or ErrorIds.SceneBandMissing)
            {
                if (_brokenScenes.TryAdd(scene.Id, ex.Message))
                {
                    _reporter.Warning($"Scene {scene.Id} cannot be read and is left out for the rest of this run: {ex.Message}");
                }

                throw;
            }
        }

        private bool Usable(SentinelScene scene) => !_brokenScenes.ContainsKey(scene.Id);

        private void Stop(DeepSentinelException reason)
        {
            lock (_gate)
            {
                Fatal ??= reason;
            }
        }

        private string ResolveAsset(SceneAsset asset)
        {
            // Re-sign Planetary Computer hrefs whose token is about to expire (long runs).
            if (asset.SignedHref is { } signed && signed.ExpiresWithin(TimeSpan.FromMinutes(5), DateTimeOffset.UtcNow))
            {
                var fresh = Stac.PlanetaryComputerSigner.NeedsSigning(asset.Href)
                    ? _services.GetSigner(_request.Source?.SasTokenEndpoint, _request.Source?.SubscriptionKey).SignAsync(asset.Href, _cancellationToken).GetAwaiter().GetResult()
                    : null;
                asset.SignedHref = fresh ?? signed;
            }

            return PatchExtractor.DefaultResolve(asset);
        }

        private void ReportProgress()
        {
            var accepted = Volatile.Read(ref _accepted);
            var fresh = Volatile.Read(ref _newAccepted);
            var seconds = _clock.Elapsed.TotalSeconds;
            var rate = seconds > 0 ? fresh / seconds : 0;
            var remaining = rate > 0 ? (int)Math.Min(int.MaxValue, (_quota - accepted) / rate) : -1;
            _reporter.Progress(new ProgressUpdate(
                ProgressId,
                _planOnly ? "Planning patch corpus" : "Building patch corpus",
                string.Create(CultureInfo.InvariantCulture, $"{accepted}/{_quota} samples, {Volatile.Read(ref Rejected)} points rejected, {Volatile.Read(ref Failed)} failed, {rate:0.00} samples/s"),
                _quota == 0 ? 100 : Math.Min(100, accepted * 100 / _quota),
                remaining));
        }

        private static string Where(SamplePoint? point) =>
            point is null ? "position not computed" : string.Create(CultureInfo.InvariantCulture, $"{point.Longitude:0.#####}, {point.Latitude:0.#####}");

        private static void CleanStaleStaging(string staging)
        {
            if (!Directory.Exists(staging))
            {
                return;
            }

            // Leftovers of killed runs; recent ones may belong to a concurrent process.
            foreach (var dir in Directory.GetDirectories(staging))
            {
                try
                {
                    if (Directory.GetLastWriteTimeUtc(dir) < DateTime.UtcNow.AddHours(-1))
                    {
                        Directory.Delete(dir, recursive: true);
                    }
                }
                catch (IOException)
                {
                }
            }
        }
    }
}
