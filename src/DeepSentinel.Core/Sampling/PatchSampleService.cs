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

    /// <summary>
    /// Parallel workers (one GDAL handle set each); null for the default, <see cref="DefaultWorkers"/>:
    /// the number of cores when the COGs are files, more when they are read over HTTP.
    /// </summary>
    public int? ThrottleLimit { get; init; }

    /// <summary>The workers this request runs: <see cref="ThrottleLimit"/>, else the default for its source.</summary>
    public int Workers => ThrottleLimit ?? DefaultWorkers(ReadsOverHttp());

    /// <summary>
    /// The default number of workers: the number of cores for COGs on disk; four times it (at most
    /// 32) for COGs read over HTTP, where a worker spends most of a sample waiting for its reads and
    /// one worker a core leaves the link idle while it decodes and writes (measured in the README,
    /// "Remote reads": 2 workers x 8 reads 4.0 samples/s, 8 workers x 8 reads 5.5, at the bench's
    /// bandwidth cap, on 2 cores).
    /// </summary>
    public static int DefaultWorkers(bool overHttp) => overHttp ? Math.Min(32, 4 * Environment.ProcessorCount) : Environment.ProcessorCount;

    /// <summary>
    /// Whether the COGs come over HTTP: a STAC API, a catalog or item table at a URL (a blob URL
    /// included), or piped scenes with URL hrefs.
    /// </summary>
    internal bool ReadsOverHttp()
    {
        static bool Url(string? s) => s is not null && ((s.Contains("://", StringComparison.Ordinal) && !s.StartsWith("file://", StringComparison.OrdinalIgnoreCase)) || s.StartsWith("/vsicurl", StringComparison.OrdinalIgnoreCase));
        if (Source is { } source)
        {
            if (source.ItemTables is { Count: > 0 } tables)
            {
                return tables.Any(Url);
            }

            return source.Catalog is null || Url(source.Catalog);
        }

        return Scenes is { } scenes && scenes.Any(scene => scene.Assets.Values.Any(asset => asset.Href.IsAbsoluteUri && asset.Href.Scheme is "http" or "https"));
    }

    /// <summary>
    /// Files of one patch each worker reads at the same time (the 13 Sentinel-2 files, VV and VH):
    /// HTTP requests in flight per worker for remote COGs; separate from <see cref="ThrottleLimit"/>,
    /// which sets the CPU work in parallel.
    /// </summary>
    public int IoConcurrency { get; init; } = DefaultIoConcurrency;

    /// <summary>The default <see cref="IoConcurrency"/>.</summary>
    public const int DefaultIoConcurrency = 8;

    /// <summary>Give up after trying this many points in this run (null: 20 per sample wanted, plus 100).</summary>
    public long? MaxPoints { get; init; }

    /// <summary>Where scenes come from: a provider or static catalog search (its Query collections and filters are kept).</summary>
    public SceneSearchRequest? Source { get; init; }

    /// <summary>Credentials and transfer settings for a cloud destination.</summary>
    public Storage.StorageOptions? Storage { get; init; }

    /// <summary>How scenes are looked up on a live STAC API: cached per grid cell and 12-day bin (default), or searched per point.</summary>
    public SceneLookup SceneLookup { get; init; } = SceneLookup.Cached;

    /// <summary>Counts the run's STAC requests (searches, HTTP requests, retries, cache hits); read it during or after the run.</summary>
    public Stac.StacRequestCounter StacRequests { get; init; } = new();

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
        Require(ThrottleLimit is null or (>= 1 and <= 64), $"ThrottleLimit must be between 1 and 64; it was {ThrottleLimit}.", ThrottleLimit);
        Require(IoConcurrency is >= 1 and <= 64, $"IoConcurrency must be between 1 and 64; it was {IoConcurrency}.", IoConcurrency);
        Require(MaxPoints is null or >= 1, $"MaxPoints must be at least 1; it was {MaxPoints}.", MaxPoints);
        Require(Source is not null || Scenes is not null, "Give scenes from the pipeline, a catalog or a provider.", null);
    }

    /// <summary>The share of the corpus's samples that shard <paramref name="shard"/> builds from its own points before the corpus is merged.</summary>
    public int ShareOf(int shard) => (Count / ShardCount) + (shard < Count % ShardCount ? 1 : 0);

    /// <summary>
    /// The identity of the scene source for the manifest: what decides which scenes a point can
    /// match. Secrets in URLs are redacted; piped scenes are hashed by id.
    /// </summary>
    public string SourceFingerprint()
    {
        if (Scenes is { } scenes)
        {
            var ids = scenes.Select(s => s.Id).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", ids)))).ToLowerInvariant();
            return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"scenes: {ids.Count} from the pipeline, sha256 of their sorted ids {hash}");
        }

        var source = Source!;
        if (source.ItemTables is { Count: > 0 } tables)
        {
            // A local table by its full path; a URL without its query (a SAS changes, the table does not).
            return "item tables: " + string.Join(", ", tables.Select(t =>
                Uri.TryCreate(t, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" or "az" or "gs" ? SecretRedactor.Redact(t.Split('?')[0]) : Path.GetFullPath(t)));
        }

        if (source.Catalog is { } catalog)
        {
            // A folder and its catalog.json are the same catalog.
            var file = Directory.Exists(catalog) ? Path.Combine(Path.GetFullPath(catalog), "catalog.json") : catalog;
            return "catalog: " + SecretRedactor.Redact(file);
        }

        var q = source.Query;
        var filters = new List<string>();
        void Add(string name, object? value)
        {
            if (value is not null && (value is not System.Collections.ICollection c || c.Count > 0))
            {
                filters.Add(name + "=" + (value is System.Collections.IEnumerable e and not string ? string.Join(",", e.Cast<object>()) : value));
            }
        }

        Add("collections", q.Collections);
        Add("missions", q.Missions);
        Add("orbit", q.OrbitState);
        Add("relative-orbit", q.RelativeOrbit);
        Add("polarizations", q.Polarizations);
        Add("tiles", q.MgrsTiles);
        return SecretRedactor.Redact($"provider: {source.Provider?.ToString() ?? "STAC"} {source.StacUrl} {string.Join(" ", filters)}".Trim());
    }
}

/// <summary>
/// Builds a matched Sentinel-1 + Sentinel-2 patch corpus: the engine of New-PatchSample.
/// Points come from a seeded sequence over land (or over the given scenes' footprints); for each,
/// a Sentinel-2 scene of the point's 12-day cycle below the cloud limit and a dual-polarisation
/// Sentinel-1 scene within MaxDaysApart are matched; the patch is read (windows for S2, a warp for
/// S1), checked against SCL cloud and nodata limits, and written.
/// <para>
/// The corpus is the first Count accepted points in point order, whatever the workers, shards,
/// kills and reruns: a point below the Count-th accepted one is always finished, points beyond it
/// are not started (or their samples removed), and a point's rejection is journaled only for
/// reasons of the data. A shard (i of n) first builds its share (every n-th point from i); the run
/// that finds the journal holding Count accepted points finishes any point below the last one
/// that is still open, whichever shard's it is, and writes the one index.
/// </para>
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

    /// <summary>What the last run of this service did (points, samples, COG requests and bytes); null before a run ends.</summary>
    public PatchSampleRunSummary? LastRun { get; private set; }

    /// <summary>
    /// Builds (or completes) the corpus and yields its samples in point order (those of earlier
    /// runs included) as far as this run establishes them: the whole corpus when the run completes
    /// it; a shard run that leaves the corpus to other shards yields the prefix it can establish.
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
        var location = StoreLocation.Parse(request.Destination);
        var manifest = new CorpusManifest
        {
            Seed = request.Seed,
            Start = request.Start,
            End = request.End,
            MaxDaysApart = request.MaxDaysApart,
            MaxCloudCover = request.MaxCloudCover,
            MaxPatchCloud = request.MaxPatchCloud,
            MaxNoData = request.MaxNoData,
            Area = request.Area?.AsText(),
            Source = pool.Description,
            SourceFingerprint = request.SourceFingerprint(),
        };

        // -WhatIf: plan the samples without writing anything, not even the destination folder.
        var planOnly = shouldProcess is not null && !await shouldProcess(location.DisplayName, "Create or resume a patch corpus").ConfigureAwait(false);
        PatchCorpus? corpus = null;
        if (!planOnly)
        {
            corpus = PatchCorpus.Open(request.Destination, request.Storage, _services, reporter);
            await corpus.EnsureManifestAsync(manifest, cancellationToken).ConfigureAwait(false);
            (pool as CachedStacScenePool)?.AttachCorpus(corpus.Store, readOnly: false);
        }
        else if (location.Kind != StoreKind.Local || Directory.Exists(location.LocalPath))
        {
            corpus = PatchCorpus.Open(request.Destination, request.Storage, _services, reporter);
            var existing = await corpus.ReadManifestAsync(cancellationToken).ConfigureAwait(false);
            if (existing?.OlderLayoutError(corpus.Store.DisplayName) is { } older)
            {
                throw older;
            }

            if (existing is not null && existing.DifferencesFrom(manifest) is { Count: > 0 } differences)
            {
                throw new DeepSentinelException(ErrorIds.CorpusParametersMismatch, ErrorKind.InvalidArgument, $"The corpus in {corpus.Store.DisplayName} was built with other parameters: {string.Join("; ", differences)}.", corpus.Store.DisplayName);
            }

            // A plan may read the corpus's scene cache (of this same corpus: the manifest matched), never write it.
            if (existing is not null)
            {
                (pool as CachedStacScenePool)?.AttachCorpus(corpus.Store, readOnly: true);
            }
        }

        var state = new CorpusState(request.Count, request.ShardCount);
        if (corpus is not null)
        {
            await state.LoadAsync(corpus, cancellationToken).ConfigureAwait(false);
            if (state.Known > 0)
            {
                reporter.Verbose($"Resuming: {state.AcceptedCount} samples and {state.Known - state.AcceptedCount} rejected points already in the journal of {corpus.Store.DisplayName}.");
            }
        }

        using var staging = corpus is null ? null : new StagingArea(StagingRoot(corpus));
        if (!planOnly)
        {
            CleanLeftovers(corpus!, reporter);
        }

        var emitter = new Emitter(state, corpus, request.Count);
        var counters = new Counters { NetworkAtStart = Interop.Gdal.GdalNetworkStatistics.Read() };
        var phases = new List<Phase>
        {
            request.ShardCount == 1
                ? new Phase(First: 0, Step: 1, Share: null)
                : new Phase(First: request.Shard, Step: request.ShardCount, Share: (request.Shard, request.ShareOf(request.Shard))),
        };
        var merged = request.ShardCount == 1;
        for (var p = 0; p < phases.Count; p++)
        {
            var run = new Run(_services, request, points, pool, corpus, state, phases[p], counters, staging, planOnly, reporter, shouldProcess, cancellationToken);
            // A plan reads no pixels: one worker keeps it exact (parallel workers could plan a point too many).
            var workers = Enumerable.Range(0, planOnly ? 1 : request.Workers).Select(run.StartWorker).ToList();
            var completion = Task.Run(
                () =>
                {
                    foreach (var worker in workers)
                    {
                        worker.Join();
                    }

                    run.Results.Writer.TryComplete();
                },
                CancellationToken.None);

            await foreach (var _ in run.Results.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                await foreach (var sample in emitter.AdvanceAsync(flush: false, cancellationToken).ConfigureAwait(false))
                {
                    yield return sample;
                }
            }

            await completion.ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (run.Fatal is { } fatal)
            {
                throw fatal;
            }

            // A shard's share is built: if the journal (all shards' entries) now holds Count
            // accepted points, this run merges the corpus: it finishes every open point below the
            // Count-th accepted one, whichever shard's, and writes the one index.
            if (p == 0 && request.ShardCount > 1 && !planOnly)
            {
                await state.LoadAsync(corpus!, cancellationToken).ConfigureAwait(false);
                if (state.AcceptedCount >= request.Count)
                {
                    merged = true;
                    phases.Add(new Phase(First: 0, Step: 1, Share: null));
                }
            }
        }

        // Points this run could not decide (read failures) are passed once it is done, when it
        // merged the corpus; a shard run that did not yields only what is established.
        await foreach (var sample in emitter.AdvanceAsync(flush: merged && !planOnly, cancellationToken).ConfigureAwait(false))
        {
            yield return sample;
        }

        if (!planOnly)
        {
            await FinishAsync(corpus!, manifest, request, merged, counters, reporter, cancellationToken).ConfigureAwait(false);
        }

        if (pool is StacScenePool or CachedStacScenePool)
        {
            reporter.Verbose(request.StacRequests.Describe(counters.NewAccepted));
        }

        var summary = counters.Summary(request, counters.Clock.Elapsed);
        LastRun = summary;
        reporter.Verbose(summary.ToString());
        reporter.Progress(new ProgressUpdate(ProgressId, "Building patch corpus", "done: " + summary.Rates(), 100, 0, Completed: true));
    }

    private static string StagingRoot(PatchCorpus corpus) =>
        corpus.Store is LocalObjectStore local ? Path.Combine(local.Root, ".staging") : Path.Combine(Path.GetTempPath(), "deepsentinel-staging");

    private static void CleanLeftovers(PatchCorpus corpus, IOperationReporter reporter)
    {
        // What killed runs left: staging folders whose owner is gone, and temporary files of
        // writers that no longer run. Live runs (other shards on this machine) keep theirs.
        var staging = StagingArea.DeleteAbandoned(StagingRoot(corpus));
        var partials = 0;
        if (corpus.Store is LocalObjectStore local)
        {
            partials += local.DeleteAbandonedTemporaryFiles("journal");
            partials += local.DeleteAbandonedTemporaryFiles("samples");
            partials += local.DeleteAbandonedTemporaryFiles("index");
            partials += local.DeleteAbandonedTemporaryFiles(CachedStacScenePool.CacheFolder);
        }

        if (staging + partials > 0)
        {
            reporter.Verbose($"Removed what killed runs left in {corpus.Store.DisplayName}: {staging} staging folders, {partials} temporary files.");
        }
    }

    /// <summary>
    /// Removes samples outside the corpus (accepted points beyond the Count-th accepted one, folders
    /// no journal entry owns beyond it) and writes the index and Collection where they changed.
    /// </summary>
    private static async Task FinishAsync(PatchCorpus corpus, CorpusManifest manifest, PatchSampleRequest request, bool merged, Counters counters, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        var state = new CorpusState(request.Count, request.ShardCount);
        await state.LoadAsync(corpus, cancellationToken).ConfigureAwait(false);
        var limit = state.Limit;
        var chosen = state.AcceptedUpTo(limit);
        var removed = 0;
        foreach (var index in state.AcceptedBeyond(limit))
        {
            // The journal entry first: a kill between the two leaves a folder no entry owns, which
            // the sweep below removes on the next run.
            await corpus.DeleteJournalEntryAsync(index, accepted: true, cancellationToken).ConfigureAwait(false);
            removed++;
        }

        var inIndex = chosen.ToHashSet();
        var complete = state.IsComplete;
        foreach (var (id, keys) in await corpus.ListSampleFoldersAsync(cancellationToken).ConfigureAwait(false))
        {
            var index = PatchCorpus.IndexOfSampleId(id);
            // Beyond the Count-th accepted point a folder is outside the corpus whatever wrote it;
            // below it, only a complete corpus knows that a folder without an entry is stale (a
            // concurrent shard may be writing it).
            if (index is { } i && !inIndex.Contains(i) && (i > limit || complete))
            {
                await corpus.DeleteSampleFolderAsync(id, keys, cancellationToken).ConfigureAwait(false);
                removed++;
            }
        }

        if (removed > 0)
        {
            reporter.Verbose($"Removed {removed} samples outside the corpus (beyond its {request.Count}th accepted point).");
        }

        if (!merged)
        {
            reporter.Warning($"Shard {request.Shard} of {request.ShardCount} has built its share ({state.AcceptedCount} of the corpus's {request.Count} samples are in the journal so far). The run that finds all {request.Count} writes the corpus's index: run the other shards into the same destination.");
            return;
        }

        var indexed = new List<PatchSample>();
        if (complete)
        {
            // Points beyond the corpus's last sample that some worker happened to reject: whether
            // one was tried depends on scheduling and kills, so they go too, and a finished corpus
            // is the same files whatever the run's history (a larger -Count later tries them again).
            foreach (var index in state.RejectedBeyond(limit))
            {
                await corpus.DeleteJournalEntryAsync(index, accepted: false, cancellationToken).ConfigureAwait(false);
            }
        }

        var count = await corpus.WriteIndexAsync(Read(chosen), cancellationToken).ConfigureAwait(false);
        // The STAC-GeoParquet table beside the index: the same samples in the same order.
        var table = await CorpusTable.WriteAsync(corpus, reporter, cancellationToken).ConfigureAwait(false);
        reporter.Verbose($"{(table.Written ? "Wrote" : "Kept")} the corpus table {table.Location} ({table.Rows} rows, {table.Bytes:N0} bytes).");
                await corpus.WriteCollectionAsync(manifest, indexed, cancellationToken).ConfigureAwait(false);
        if (count < request.Count)
        {
            reporter.Warning($"Only {count} of {request.Count} samples were found after trying {counters.Attempts} new points ({counters.Rejected} rejected, {counters.Failed} failed). Rerun to retry the failed points, widen the date range or area, or relax -MaxCloudCover / -MaxPatchCloud.");
        }
        else if (!complete)
        {
            reporter.Warning($"{state.OpenBelow(limit)} points below the corpus's last sample could not be processed in this run (read failures): rerun with the same parameters to finish them; the corpus may then change.");
        }

        async IAsyncEnumerable<PatchSample> Read(List<long> indices)
        {
            foreach (var index in indices)
            {
                var sample = await corpus.ReadJournalSampleAsync(index, cancellationToken).ConfigureAwait(false);
                indexed.Add(sample);
                yield return sample;
            }
        }
    }

    private async Task<IScenePool> OpenPoolAsync(PatchSampleRequest request, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        InMemoryScenePool? finite = null;
        if (request.Scenes is { } scenes)
        {
            finite = new InMemoryScenePool(scenes, $"{scenes.Count} scenes from the pipeline");
        }
        else if (request.Source is { Catalog: not null } or { ItemTables.Count: > 0 })
        {
            var margin = TimeSpan.FromDays(request.MaxDaysApart + 1);
            var catalog = request.Source!;
            var query = catalog.Query with { Start = request.Start - margin, End = request.End + margin, BoundingBox = null, Intersects = null };
            finite = await InMemoryScenePool.FromSearchAsync(new SceneSearchService(_services), catalog with { Query = query, Storage = catalog.Storage ?? request.Storage }, reporter, cancellationToken).ConfigureAwait(false);
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
        var template = source with { Query = source.Query with { MaxCloudCover = request.MaxCloudCover }, RequestCounter = request.StacRequests };
        return request.SceneLookup == SceneLookup.PerPoint
            ? new StacScenePool(new SceneSearchService(_services), template, reporter)
            : new CachedStacScenePool(new SceneSearchService(_services), template, request.SourceFingerprint(), request.Start, reporter);
    }

    /// <summary>Which points a pass of workers takes: First, First + Step, ...; with a share, until the shard's own accepted points reach it.</summary>
    private sealed record Phase(long First, long Step, (int Shard, int Quota)? Share);

    /// <summary>Counters of a whole invocation (all passes).</summary>
    private sealed class Counters
    {
        public long Attempts;
        public long NewAccepted;
        public int Rejected;
        public int Failed;
        public int Deferred;
        public Interop.Gdal.NetworkCounts NetworkAtStart;
        public Stopwatch Clock { get; } = Stopwatch.StartNew();

        public PatchSampleRunSummary Summary(PatchSampleRequest request, TimeSpan elapsed)
        {
            var network = Interop.Gdal.GdalNetworkStatistics.Read() - NetworkAtStart;
            return new PatchSampleRunSummary((int)Interlocked.Read(ref NewAccepted), Interlocked.Read(ref Attempts), Volatile.Read(ref Rejected), Volatile.Read(ref Failed), Volatile.Read(ref Deferred), network.Gets, network.Heads, network.Bytes, elapsed, request.Workers, request.IoConcurrency);
        }
    }

    private enum Outcome
    {
        Accepted,
        Rejected,
        Planned,

        /// <summary>Not decided in this run (a read failure, a scene that failed earlier, not needed after all): not journaled.</summary>
        Open,

        /// <summary>
        /// Accepted but not written because its shard's share was full when it finished: in the
        /// parallel workers' order a later point may have filled the share first, so the point is
        /// left untried rather than tried, and the merge that follows takes it in point order.
        /// </summary>
        NotClaimed,
    }

    /// <summary>
    /// What is known about every point: the journal's outcomes and this run's, and the
    /// Count-th accepted point (the corpus's last), which no point beyond is ever needed for.
    /// </summary>
    private sealed class CorpusState(int count, int shardCount)
    {
        private readonly object _gate = new();
        private readonly int[] _perShard = new int[shardCount];
        private readonly Dictionary<long, Outcome> _outcomes = [];
        private readonly Dictionary<long, PatchSample> _samples = [];
        private readonly SortedSet<long> _accepted = [];
        private readonly SortedSet<long> _claimed = [];

        // The smallest `count` accepted or claimed points, largest on top.
        private PriorityQueue<long, long> _smallest = new();

        public int Known
        {
            get
            {
                lock (_gate)
                {
                    return _outcomes.Count(o => o.Value is Outcome.Accepted or Outcome.Rejected);
                }
            }
        }

        public int AcceptedCount
        {
            get
            {
                lock (_gate)
                {
                    return _accepted.Count;
                }
            }
        }

        /// <summary>The corpus's last point as far as known (the Count-th accepted or claimed), or long.MaxValue.</summary>
        public long Limit
        {
            get
            {
                lock (_gate)
                {
                    return _smallest.Count >= count ? _smallest.Peek() : long.MaxValue;
                }
            }
        }

        /// <summary>Every point up to the corpus's last is journaled.</summary>
        public bool IsComplete
        {
            get
            {
                lock (_gate)
                {
                    return _smallest.Count >= count && OpenBelowLocked(_smallest.Peek()) == 0;
                }
            }
        }

        public async Task LoadAsync(PatchCorpus corpus, CancellationToken cancellationToken)
        {
            await foreach (var entry in corpus.ReadJournalAsync(cancellationToken).ConfigureAwait(false))
            {
                lock (_gate)
                {
                    if (_outcomes.TryGetValue(entry.Index, out var known) && known is Outcome.Accepted or Outcome.Rejected)
                    {
                        continue;
                    }

                    _outcomes[entry.Index] = entry.Accepted ? Outcome.Accepted : Outcome.Rejected;
                    if (entry.Accepted)
                    {
                        AddAccepted(entry.Index);
                    }
                }
            }
        }

        /// <summary>Rejected points beyond <paramref name="limit"/> (which points workers tried there depends on scheduling).</summary>
        public List<long> RejectedBeyond(long limit)
        {
            lock (_gate)
            {
                return _outcomes.Where(o => o.Value == Outcome.Rejected && o.Key > limit).Select(o => o.Key).Order().ToList();
            }
        }

        public Outcome? OutcomeOf(long index)
        {
            lock (_gate)
            {
                return _outcomes.TryGetValue(index, out var o) ? o : null;
            }
        }

        public PatchSample? SampleOf(long index)
        {
            lock (_gate)
            {
                return _samples.GetValueOrDefault(index);
            }
        }

        /// <summary>Whether a point can still be in the corpus (it is below the Count-th accepted or claimed point).</summary>
        public bool Needed(long index)
        {
            lock (_gate)
            {
                return _smallest.Count < count || index < _smallest.Peek();
            }
        }

        /// <summary>
        /// Reserves a place in the corpus for a point about to be written; false when it cannot be
        /// in the corpus any more, or when its shard's share is full (<paramref name="shareQuota"/>).
        /// </summary>
        public bool TryClaim(long index, int? shareQuota)
        {
            lock (_gate)
            {
                if (!(_smallest.Count < count || index < _smallest.Peek()) || (shareQuota is { } quota && _perShard[index % shardCount] >= quota))
                {
                    return false;
                }

                _claimed.Add(index);
                _perShard[index % shardCount]++;
                Push(index);
                return true;
            }
        }

        public void ReleaseClaim(long index)
        {
            lock (_gate)
            {
                if (_claimed.Remove(index))
                {
                    _perShard[index % shardCount]--;
                    Rebuild();
                }
            }
        }

        public void Record(long index, Outcome outcome, PatchSample? sample)
        {
            lock (_gate)
            {
                if (outcome == Outcome.NotClaimed)
                {
                    return;
                }

                _outcomes[index] = outcome;
                if (sample is not null)
                {
                    _samples[index] = sample;
                }

                if (outcome is Outcome.Accepted or Outcome.Planned)
                {
                    AddAccepted(index);
                }
            }
        }

        /// <summary>Accepted and claimed points of one shard (every shardCount-th point from shard).</summary>
        public int OwnAccepted(int shard)
        {
            lock (_gate)
            {
                return _perShard[shard];
            }
        }

        /// <summary>The largest point index with an outcome, or -1.</summary>
        public long MaxKnown
        {
            get
            {
                lock (_gate)
                {
                    return _outcomes.Count == 0 ? -1 : _outcomes.Keys.Max();
                }
            }
        }

        public List<long> AcceptedUpTo(long limit)
        {
            lock (_gate)
            {
                return _accepted.GetViewBetween(long.MinValue, limit).Take(count).ToList();
            }
        }

        public List<long> AcceptedBeyond(long limit)
        {
            lock (_gate)
            {
                return limit == long.MaxValue ? [] : _accepted.GetViewBetween(limit + 1, long.MaxValue).ToList();
            }
        }

        public int OpenBelow(long limit)
        {
            lock (_gate)
            {
                return OpenBelowLocked(limit);
            }
        }

        private int OpenBelowLocked(long limit)
        {
            var decided = _outcomes.Count(o => o.Key <= limit && o.Value is Outcome.Accepted or Outcome.Rejected);
            return (int)Math.Max(0, limit + 1 - decided);
        }

        private void AddAccepted(long index)
        {
            if (!_accepted.Add(index))
            {
                return;
            }

            // A claimed point is counted and in the heap already.
            if (!_claimed.Remove(index))
            {
                _perShard[index % shardCount]++;
                Push(index);
            }
        }

        private void Push(long index)
        {
            if (_smallest.Count < count)
            {
                _smallest.Enqueue(index, -index);
            }
            else if (index < _smallest.Peek())
            {
                _smallest.DequeueEnqueue(index, -index);
            }
        }

        private void Rebuild()
        {
            _smallest = new PriorityQueue<long, long>();
            foreach (var index in _accepted.Concat(_claimed))
            {
                Push(index);
            }
        }
    }

    /// <summary>
    /// Yields the corpus's samples in point order behind a frontier: a point is passed once it is
    /// decided (journaled, or processed by this run); accepted ones are yielded until Count.
    /// With <c>flush</c>, points this run could not decide are passed too.
    /// </summary>
    private sealed class Emitter(CorpusState state, PatchCorpus? corpus, int count)
    {
        private long _frontier;
        private int _emitted;

        public async IAsyncEnumerable<PatchSample> AdvanceAsync(bool flush, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var end = flush ? Math.Min(state.Limit, state.MaxKnown) : state.Limit;
            while (_emitted < count && _frontier <= end)
            {
                var outcome = state.OutcomeOf(_frontier);
                if (outcome is null && !flush)
                {
                    yield break;
                }

                var index = _frontier++;
                if (outcome is Outcome.Accepted)
                {
                    _emitted++;
                    yield return state.SampleOf(index) ?? await corpus!.ReadJournalSampleAsync(index, cancellationToken).ConfigureAwait(false);
                }
                else if (outcome is Outcome.Planned)
                {
                    _emitted++;
                }
            }
        }
    }

    /// <summary>A scene that failed earlier in the run would have been tried for this point: its outcome is left open.</summary>
    private sealed class PointDeferredException(string sceneId) : Exception($"scene {sceneId} could not be read earlier in this run")
    {
        public string SceneId { get; } = sceneId;
    }

    /// <summary>One pass of workers: the scheduler, counters and the result channel.</summary>
    private sealed class Run
    {
        private readonly object _gate = new();
        private readonly CoreServices _services;
        private readonly PatchSampleRequest _request;
        private readonly PointSequence _points;
        private readonly IScenePool _pool;
        private readonly PatchCorpus? _corpus;
        private readonly CorpusState _state;
        private readonly Phase _phase;
        private readonly Counters _counters;
        private readonly StagingArea? _staging;
        private readonly bool _planOnly;
        private readonly IOperationReporter _reporter;
        private readonly Func<string, string, Task<bool>>? _shouldProcess;
        private readonly CancellationToken _cancellationToken;
        private readonly long _maxPoints;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _brokenScenes = new(StringComparer.Ordinal);
        private long _next;
        private int _consecutiveWriteFailures;
        private int _newAccepted;
        private readonly Interop.Gdal.NetworkCounts _networkAtStart = Interop.Gdal.GdalNetworkStatistics.Read();
        private Interop.Gdal.NetworkCounts _network;
        private TimeSpan? _networkReadAt;

        public Run(CoreServices services, PatchSampleRequest request, PointSequence points, IScenePool pool, PatchCorpus? corpus, CorpusState state, Phase phase, Counters counters, StagingArea? staging, bool planOnly, IOperationReporter reporter, Func<string, string, Task<bool>>? shouldProcess, CancellationToken cancellationToken)
        {
            _services = services;
            _request = request;
            _points = points;
            _pool = pool;
            _corpus = corpus;
            _state = state;
            _phase = phase;
            _counters = counters;
            _staging = staging;
            _planOnly = planOnly;
            _reporter = reporter;
            _shouldProcess = shouldProcess;
            _cancellationToken = cancellationToken;
            _next = phase.First;
            _maxPoints = request.MaxPoints ?? ((long)request.Count * 20) + 100;
        }

        /// <summary>Every point taken (its outcome is in the state by then).</summary>
        public Channel<long> Results { get; } = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true });

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
                    if (_cancellationToken.IsCancellationRequested || Fatal is not null || _counters.Attempts >= _maxPoints || !_state.Needed(index))
                    {
                        return false;
                    }

                    if (_phase.Share is { } share && _state.OwnAccepted(share.Shard) >= share.Quota)
                    {
                        return false;
                    }

                    _next += _phase.Step;
                    if (_state.OutcomeOf(index) is not null)
                    {
                        // Journaled, or already tried in this run (a failed point waits for a rerun).
                        continue;
                    }

                    _counters.Attempts++;
                    return true;
                }
            }
        }

        private void Work()
        {
            using var extractor = new PatchExtractor(ResolveAsset, _request.IoConcurrency);
            while (TryTake(out var index))
            {
                SamplePoint? point = null;
                var outcome = Outcome.Open;
                PatchSample? sample = null;
                try
                {
                    point = _points[index];
                    (outcome, sample) = ProcessAsync(point, extractor).GetAwaiter().GetResult();
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
                catch (PointDeferredException ex)
                {
                    Interlocked.Increment(ref _counters.Deferred);
                    _reporter.Verbose($"Point {index} ({Where(point)}) left for a rerun: {ex.Message}.");
                }
                catch (Exception ex)
                {
                    // A failing sample never ends the run (and an exception must never escape a
                    // worker thread: it would take the whole PowerShell process down). It is not
                    // journaled: a rerun tries it again.
                    Interlocked.Increment(ref _counters.Failed);
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
                        Stop(new DeepSentinelException(ErrorIds.StorageWriteFailed, ErrorKind.WriteError, $"Stopped: {_corpus?.Store.DisplayName} could not be written 5 times in a row ({SecretRedactor.Redact(ex.Message)}). Check free space and permissions.", _corpus?.Store.DisplayName, ex));
                    }
                }
                finally
                {
                    _state.Record(index, outcome, sample);
                    Results.Writer.TryWrite(index);
                }

                if (Fatal is not null)
                {
                    return;
                }

                ReportProgress();
            }
        }

        private async Task<(Outcome, PatchSample?)> ProcessAsync(SamplePoint point, PatchExtractor extractor)
        {
            // Candidates are chosen as a fault-free run chooses them; a scene that failed earlier
            // in this run defers the point when its turn comes, so that a transient failure never
            // changes which scene a point gets or makes it a journaled rejection.
            var s2Candidates = (await _pool.FindAsync(Scenes.SentinelMission.S2, point.Longitude, point.Latitude, point.WindowStart, point.WindowEnd, _cancellationToken).ConfigureAwait(false))
                .Where(s => s.CloudCover is null || s.CloudCover <= _request.MaxCloudCover)
                .OrderBy(s => s.CloudCover ?? 0)
                .ThenBy(s => s.Datetime)
                .ThenBy(s => s.Id, StringComparer.Ordinal)
                .Take(S2CandidatesPerPoint)
                .ToList();
            var reason = $"no Sentinel-2 scene from {point.WindowStart:yyyy-MM-dd} to {point.WindowEnd:yyyy-MM-dd} with at most {_request.MaxCloudCover}% cloud";
            foreach (var s2 in s2Candidates)
            {
                EnsureUsable(s2);
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
                    return (Outcome.Planned, null);
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
                    EnsureUsable(s1);
                    var s1Pixels = Guard(s1, () => extractor.ReadS1(s1, grid));
                    var (cloudBoth, noDataBoth) = PatchExtractor.Statistics(s2Pixels, s1Pixels);
                    if (noDataBoth * 100 > _request.MaxNoData)
                    {
                        reason = string.Create(CultureInfo.InvariantCulture, $"{noDataBoth:P0} of the patch has no data in {s1.Id}");
                        continue;
                    }

                    // Accepted. Written only while it can still be in the corpus: a point beyond
                    // the Count-th accepted one is left unwritten and unjournaled.
                    if (!_state.TryClaim(point.Index, _phase.Share?.Quota))
                    {
                        _reporter.Verbose($"Point {point.Index} ({Where(point)}) is not written: the corpus's {_request.Count} samples lie before it, or this shard's share is full.");
                        return (Outcome.NotClaimed, null);
                    }

                    try
                    {
                        var sample = await SampleWriter.WriteAsync(_corpus!, new AcceptedPatch(point, s2, s1, grid, footprint, s2Pixels, s1Pixels, cloudBoth, noDataBoth), _staging!.Folder, _cancellationToken).ConfigureAwait(false);
                        await _corpus!.WriteJournalAsync(point.Index, accepted: true, sample.ToJsonLine(), _cancellationToken).ConfigureAwait(false);
                        Interlocked.Increment(ref _newAccepted);
                        Interlocked.Increment(ref _counters.NewAccepted);
                        Interlocked.Exchange(ref _consecutiveWriteFailures, 0);
                        return (Outcome.Accepted, sample);
                    }
                    catch
                    {
                        _state.ReleaseClaim(point.Index);
                        throw;
                    }
                }
            }

            if (!_planOnly)
            {
                var record = new JsonObject { ["index"] = point.Index, ["longitude"] = point.Longitude, ["latitude"] = point.Latitude, ["reason"] = reason };
                await _corpus!.WriteJournalAsync(point.Index, accepted: false, record.ToJsonString(), _cancellationToken).ConfigureAwait(false);
            }

            Interlocked.Increment(ref _counters.Rejected);
            _reporter.Verbose($"Point {point.Index} ({Where(point)}) rejected: {reason}.");
            return (Outcome.Rejected, null);
        }

        private void EnsureUsable(SentinelScene scene)
        {
            if (_brokenScenes.ContainsKey(scene.Id))
            {
                throw new PointDeferredException(scene.Id);
            }
        }

        // A scene that cannot be read (truncated file, HTTP error after GDAL's retries, missing
        // band) fails the sample that met it; later points whose turn it would be are deferred
        // (not journaled) instead of failing one by one. A rerun tries them all again.
        private T Guard<T>(SentinelScene scene, Func<T> read)
        {
            try
            {
                return read();
            }
            catch (DeepSentinelException ex) when (ex.ErrorId is ErrorIds.RasterUnreadable or ErrorIds.SceneBandMissing or ErrorIds.SceneGeoreferenceMissing)
            {
                if (_brokenScenes.TryAdd(scene.Id, ex.Message))
                {
                    _reporter.Warning($"Scene {scene.Id} cannot be read; the points that would use it are left for a rerun: {ex.Message}");
                }

                throw;
            }
        }

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
            var accepted = Math.Min(_state.AcceptedCount, _request.Count);
            var fresh = Volatile.Read(ref _newAccepted);
            var seconds = _clock.Elapsed.TotalSeconds;
            var rate = seconds > 0 ? fresh / seconds : 0;
            var remaining = rate > 0 ? (int)Math.Min(int.MaxValue, (_request.Count - accepted) / rate) : -1;
            var network = NetworkSoFar();
            var perSample = fresh > 0 && network.Requests > 0
                ? string.Create(CultureInfo.InvariantCulture, $", {(double)network.Requests / fresh:0.0} COG requests and {network.Bytes / 1048576.0 / fresh:0.00} MiB a sample")
                : string.Empty;
            _reporter.Progress(new ProgressUpdate(
                ProgressId,
                _planOnly ? "Planning patch corpus" : "Building patch corpus",
                string.Create(CultureInfo.InvariantCulture, $"{accepted}/{_request.Count} samples, {Volatile.Read(ref _counters.Rejected)} points rejected, {Volatile.Read(ref _counters.Failed)} failed, {rate:0.00} samples/s{perSample}{StacStatus(fresh)}"),
                Math.Min(100, accepted * 100 / _request.Count),
                remaining));
        }

        // Live STAC sources: the requests so far per sample accepted in this run.
        private string StacStatus(long accepted)
        {
            if (_pool is not (StacScenePool or CachedStacScenePool))
            {
                return string.Empty;
            }

            var requests = _request.StacRequests.Requests;
            return accepted > 0
                ? string.Create(CultureInfo.InvariantCulture, $", {requests} STAC requests ({(double)requests / accepted:0.00} per sample)")
                : string.Create(CultureInfo.InvariantCulture, $", {requests} STAC requests");
        }

        // GDAL's counters are read at most once a second (a reading serializes GDAL's table).
        private Interop.Gdal.NetworkCounts NetworkSoFar()
        {
            lock (_gate)
            {
                if (_networkReadAt is null || _clock.Elapsed - _networkReadAt.Value >= TimeSpan.FromSeconds(1))
                {
                    _network = Interop.Gdal.GdalNetworkStatistics.Read() - _networkAtStart;
                    _networkReadAt = _clock.Elapsed;
                }

                return _network;
            }
        }

        private static string Where(SamplePoint? point) =>
            point is null ? "position not computed" : string.Create(CultureInfo.InvariantCulture, $"{point.Longitude:0.#####}, {point.Latitude:0.#####}");
    }
}
