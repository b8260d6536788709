using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Sampling;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Services;
using DeepSentinel.Core.Stac;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Builds (or resumes) a corpus of matched Sentinel-1 + Sentinel-2 patches, 256 x 256 px at 10 m.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "PatchSample", SupportsShouldProcess = true, DefaultParameterSetName = ProviderSet)]
[OutputType(typeof(PatchSample))]
public sealed class NewPatchSampleCommand : StorageCmdlet
{
    /// <summary>Scenes from a STAC API.</summary>
    public const string ProviderSet = "Provider";

    /// <summary>Scenes from a static catalog.</summary>
    public const string CatalogSet = "Catalog";

    /// <summary>Scenes from the pipeline.</summary>
    public const string InputObjectSet = "InputObject";

    /// <summary>Scenes from STAC-GeoParquet item tables.</summary>
    public const string ItemTableSet = "ItemTable";

    private readonly List<SentinelScene> _scenes = [];
    private string _destination = string.Empty;
    private string? _catalog;
    private string[]? _tables;
    private NetTopologySuite.Geometries.Geometry? _area;
    private Core.Storage.StorageOptions? _storage;
    private int _shard;
    private int _shardCount = 1;

    /// <summary>Scenes to sample inside.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet, HelpMessage = "Sentinel-1 and Sentinel-2 scenes from Get-SentinelScene; points are sampled inside the Sentinel-2 footprints and matched among these scenes.")]
    public SentinelScene[] InputObject { get; set; } = [];

    /// <summary>Where to write.</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "Where the corpus goes: a folder, az://account/container/prefix, https://account.blob.core.windows.net/container/prefix or gs://bucket/prefix. Rerunning with the same parameters resumes it; -Count may grow.")]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = string.Empty;

    /// <summary>Number of samples.</summary>
    [Parameter(HelpMessage = "Samples in the whole corpus, all shards together (default 100).")]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; } = 100;

    /// <summary>Date range start.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ProviderSet, HelpMessage = "Start of the date range (UTC when no zone is given).")]
    [Parameter(Mandatory = true, ParameterSetName = CatalogSet, HelpMessage = "Start of the date range (UTC when no zone is given).")]
    [Parameter(Mandatory = true, ParameterSetName = ItemTableSet, HelpMessage = "Start of the date range (UTC when no zone is given).")]
    [Parameter(ParameterSetName = InputObjectSet, HelpMessage = "Start of the date range (UTC when no zone is given); default: the earliest piped scene.")]
    public DateTime Start { get; set; }

    /// <summary>Date range end.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ProviderSet, HelpMessage = "End of the date range (UTC when no zone is given).")]
    [Parameter(Mandatory = true, ParameterSetName = CatalogSet, HelpMessage = "End of the date range (UTC when no zone is given).")]
    [Parameter(Mandatory = true, ParameterSetName = ItemTableSet, HelpMessage = "End of the date range (UTC when no zone is given).")]
    [Parameter(ParameterSetName = InputObjectSet, HelpMessage = "End of the date range (UTC when no zone is given); default: the latest piped scene.")]
    public DateTime End { get; set; }

    /// <summary>STAC API.</summary>
    [Parameter(ParameterSetName = ProviderSet, HelpMessage = "The STAC API to search: PlanetaryComputer (default), EarthSearch or CopernicusDataSpace.")]
    public StacProvider Provider { get; set; } = StacProvider.PlanetaryComputer;

    /// <summary>STAC API URL.</summary>
    [Parameter(ParameterSetName = ProviderSet, HelpMessage = "A STAC API root URL (with -Provider: that provider's API at another address).")]
    [ValidateNotNull]
    public Uri? StacUrl { get; set; }

    /// <summary>Static catalog.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CatalogSet, HelpMessage = "A static STAC catalog (folder, catalog.json or URL), e.g. one from New-DemoCatalog.")]
    [ValidateNotNullOrEmpty]
    public string Catalog { get; set; } = string.Empty;

    /// <summary>STAC-GeoParquet item tables.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ItemTableSet, HelpMessage = "STAC-GeoParquet item tables (stac-geoparquet's layout, as Planetary Computer exports its collections), e.g. one for Sentinel-2 and one for Sentinel-1: local .parquet files or az://, https blob or gs:// URLs (credentials as for -Destination). The scenes in the date range are read once and matched in memory, as with -Catalog.")]
    [ValidateNotNullOrEmpty]
    public string[] ItemTable { get; set; } = [];

    /// <summary>Area limit.</summary>
    [Parameter(HelpMessage = "Sample only inside this area: GeoJSON or WKT in WGS 84 longitude/latitude.")]
    [ValidateNotNullOrEmpty]
    public string? Intersects { get; set; }

    /// <summary>Seed.</summary>
    [Parameter(HelpMessage = "Seed of the point sequence: the same seed and parameters rebuild the same corpus (default 0).")]
    public long Seed { get; set; }

    /// <summary>Scene cloud limit.</summary>
    [Parameter(HelpMessage = "Maximum Sentinel-2 scene cloud cover in percent (default 30).")]
    [ValidateRange(0.0, 100.0)]
    public double MaxCloudCover { get; set; } = 30;

    /// <summary>Patch cloud limit.</summary>
    [Parameter(HelpMessage = "Maximum cloud, cirrus and cloud shadow in the patch according to SCL, in percent (default 10).")]
    [ValidateRange(0.0, 100.0)]
    public double MaxPatchCloud { get; set; } = 10;

    /// <summary>Nodata limit.</summary>
    [Parameter(HelpMessage = "Maximum share of the patch without data in either sensor, in percent (default 5).")]
    [ValidateRange(0.0, 100.0)]
    public double MaxNoData { get; set; } = 5;

    /// <summary>Days between acquisitions.</summary>
    [Parameter(HelpMessage = "Maximum days between the Sentinel-1 and Sentinel-2 acquisitions (default 3).")]
    [ValidateRange(0.0, 60.0)]
    public double MaxDaysApart { get; set; } = 3;

    /// <summary>This shard.</summary>
    [Parameter(HelpMessage = "This machine's shard, 0 to ShardCount - 1: it builds its share of the corpus from every ShardCount-th point; the run that finds all Count samples in the shared destination merges them into the unsharded corpus.")]
    [ValidateRange(0, 100000)]
    public int Shard { get; set; }

    /// <summary>Number of shards.</summary>
    [Parameter(HelpMessage = "Number of shards building the corpus together (default 1).")]
    [ValidateRange(1, 100000)]
    public int ShardCount { get; set; } = 1;

    /// <summary>Shard from the environment.</summary>
    [Parameter(HelpMessage = "Take this machine's shard from JOB_COMPLETION_INDEX (set by Kubernetes in each pod of an Indexed Job) and the shard count from -ShardCount or DEEPSENTINEL_SHARD_COUNT, so the same command runs on a laptop and in every pod. Not with -Shard.")]
    public SwitchParameter ShardFromEnvironment { get; set; }

    /// <summary>How scenes are looked up on a STAC API.</summary>
    [Parameter(ParameterSetName = ProviderSet, HelpMessage = "How scenes are found on the STAC API: Cached (default) searches once per 1-degree cell, mission and 12-day bin and keeps the result for the run and in the corpus's scene-cache/ folder; PerPoint searches for every point. Both build the same corpus.")]
    public SceneLookup SceneLookup { get; set; } = SceneLookup.Cached;

    /// <summary>Workers.</summary>
    [Parameter(HelpMessage = "Parallel workers, each with its own GDAL handles (default: the number of cores for COGs on disk; four times it, at most 32, for COGs read over HTTP).")]
    [ValidateRange(1, 64)]
    public int ThrottleLimit { get; set; }

    /// <summary>Reads in flight per worker.</summary>
    [Parameter(HelpMessage = "Files of one patch each worker reads at the same time (the 13 Sentinel-2 COGs, then VV and VH): HTTP requests in flight per worker for remote COGs, separate from -ThrottleLimit, which sets the CPU work in parallel (default 8; 1 reads one file after another).")]
    [ValidateRange(1, 64)]
    public int IoConcurrency { get; set; } = PatchSampleRequest.DefaultIoConcurrency;

    /// <summary>Attempt limit.</summary>
    [Parameter(HelpMessage = "Give up after trying this many new points (default: 20 per sample wanted, plus 100).")]
    [ValidateRange(1, long.MaxValue)]
    public long? MaxPoints { get; set; }

    /// <inheritdoc />
    protected override void ResolveInput()
    {
        _destination = ResolveLocation(Destination);
        _storage = ResolveStorageOptions();
        if (ParameterSetName == CatalogSet)
        {
            _catalog = Uri.TryCreate(Catalog, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" ? Catalog : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Catalog);
        }

        if (ParameterSetName == ItemTableSet)
        {
            _tables = ItemTable.Select(t => Uri.TryCreate(t, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" or "az" or "gs" ? t : SessionState.Path.GetUnresolvedProviderPathFromPSPath(t)).ToArray();
        }

        _area = Intersects is null ? null : GeoJson.ParseUserGeometry(Intersects);
        if (ShardFromEnvironment.IsPresent)
        {
            if (MyInvocation.BoundParameters.ContainsKey(nameof(Shard)))
            {
                throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, "Give either -Shard or -ShardFromEnvironment, not both.", Shard);
            }

            (_shard, _shardCount) = ShardEnvironment.Resolve(MyInvocation.BoundParameters.ContainsKey(nameof(ShardCount)) ? ShardCount : null, Environment.GetEnvironmentVariable);
            WriteVerbose($"Shard {_shard} of {_shardCount} (from {ShardEnvironment.IndexVariable}).");
        }
        else
        {
            (_shard, _shardCount) = (Shard, ShardCount);
        }
        _scenes.AddRange(InputObject.Where(s => s is not null));
    }

    /// <inheritdoc />
    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        var request = BuildRequest();
        var service = new PatchSampleService(CoreServices.Default);
        await foreach (var sample in service.RunAsync(request, Reporter, ShouldProcessAsync, cancellationToken).ConfigureAwait(false))
        {
            Emit(sample);
        }
    }

    private PatchSampleRequest BuildRequest()
    {
        var piped = ParameterSetName == InputObjectSet;
        if (piped && _scenes.Count == 0)
        {
            throw new DeepSentinelException(ErrorIds.NoScenesAvailable, ErrorKind.InvalidArgument, "No scenes came through the pipeline.", null);
        }

        var bound = MyInvocation.BoundParameters;
        var start = bound.ContainsKey(nameof(Start)) ? Utc(Start) : _scenes.Min(s => s.Datetime);
        var end = bound.ContainsKey(nameof(End)) ? Utc(End) : _scenes.Max(s => s.Datetime).AddSeconds(1);
        return new PatchSampleRequest
        {
            Destination = _destination,
            Count = Count,
            Start = start,
            End = end,
            Seed = Seed,
            MaxCloudCover = MaxCloudCover,
            MaxPatchCloud = MaxPatchCloud,
            MaxNoData = MaxNoData,
            MaxDaysApart = MaxDaysApart,
            Area = _area,
            Shard = _shard,
            ShardCount = _shardCount,
            ThrottleLimit = MyInvocation.BoundParameters.ContainsKey(nameof(ThrottleLimit)) ? ThrottleLimit : null,
            IoConcurrency = IoConcurrency,
            MaxPoints = MaxPoints,
            SceneLookup = SceneLookup,
            Storage = _storage,
            Scenes = piped ? _scenes : null,
            Source = piped ? null : _tables is not null
                ? new SceneSearchRequest { ItemTables = _tables, Storage = _storage }
                : _catalog is not null
                ? new SceneSearchRequest { Catalog = _catalog }
                : new SceneSearchRequest { Provider = bound.ContainsKey(nameof(Provider)) || StacUrl is null ? Provider : null, StacUrl = StacUrl },
        };
    }

    private static DateTimeOffset Utc(DateTime value) => value.Kind == DateTimeKind.Local
        ? new DateTimeOffset(value).ToUniversalTime()
        : new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
