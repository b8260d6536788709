using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Stac;
using DeepSentinel.Core.Storage;
using NetTopologySuite.Geometries;

namespace DeepSentinel.Core.Sampling;

/// <summary>How New-PatchSample finds the scenes of a point on a live STAC API.</summary>
public enum SceneLookup
{
    /// <summary>One search per grid cell (1 x 1 degree), mission and 12-day bin, kept for the run and in the corpus.</summary>
    Cached,

    /// <summary>One search per point and mission (the behaviour before issue 16; for comparison).</summary>
    PerPoint,
}

/// <summary>
/// A live STAC API searched once per grid cell (1 x 1 degree), mission and 12-day bin of the date
/// range (the bins are the point sequence's cycles), instead of once per point. A point's scenes
/// are those of its cell's bins whose footprint intersects the point and whose time is in the
/// asked range: what a per-point search (intersects = the point) returns, so the corpus is the
/// same sample for sample (tested against <see cref="StacScenePool"/>).
/// <para>
/// Thread-safe: concurrent workers asking for the same key wait on one request. Results are kept
/// in memory for the run (the most recent <see cref="MemoryKeys"/> keys) and, when a corpus is
/// attached, in its <c>scene-cache/</c> folder, one JSON object per key, written atomically and
/// named by the SHA-256 of the key: the STAC source (provider, URL, collections, filters), the
/// mission, its filters (cloud limit, polarisations), the cell and the bin. A different query
/// never reads another query's file; a file whose recorded key differs from the one asked
/// (corrupt, or from an older format) is ignored and replaced.
/// </para>
/// </summary>
public sealed class CachedStacScenePool : IScenePool
{
    /// <summary>The corpus folder that holds the cache files.</summary>
    public const string CacheFolder = "scene-cache";

    /// <summary>Cell size in degrees.</summary>
    public const double CellDegrees = 1.0;

    private const int FormatVersion = 1;
    private readonly SceneSearchService _search;
    private readonly SceneSearchRequest _template;
    private readonly string _sourceFingerprint;
    private readonly DateTimeOffset _origin;
    private readonly TimeSpan _bin;
    private readonly IOperationReporter _reporter;
    private readonly StacScenePool _perPoint;
    private readonly ConcurrentDictionary<string, Lazy<Task<IReadOnlyList<SentinelScene>>>> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();
    private readonly ConcurrentDictionary<string, bool> _oversized = new(StringComparer.Ordinal);
    private IObjectStore? _store;
    private bool _readOnly;

    /// <summary>Creates the pool.</summary>
    /// <param name="search">The search service.</param>
    /// <param name="template">The provider request (its collections and filters are kept; its counter counts the requests).</param>
    /// <param name="sourceFingerprint">What identifies the STAC source in cache keys (<see cref="PatchSampleRequest.SourceFingerprint"/>).</param>
    /// <param name="origin">The first bin's start (the date range's start).</param>
    /// <param name="reporter">Verbose messages and warnings.</param>
    public CachedStacScenePool(SceneSearchService search, SceneSearchRequest template, string sourceFingerprint, DateTimeOffset origin, IOperationReporter reporter)
    {
        ArgumentNullException.ThrowIfNull(search);
        ArgumentNullException.ThrowIfNull(template);
        _search = search;
        _template = template with { KeepItemJson = true };
        _sourceFingerprint = sourceFingerprint;
        _origin = origin.ToUniversalTime();
        _bin = TimeSpan.FromDays(PointSequence.CycleDays);
        _reporter = reporter ?? NullReporter.Instance;
        _perPoint = new StacScenePool(search, template, _reporter);
    }

    /// <summary>The most keys kept in memory (the oldest are dropped first; the corpus keeps them all).</summary>
    public int MemoryKeys { get; init; } = 4096;

    /// <summary>
    /// The most scenes one key's search may return; a cell and bin holding more (paged through to
    /// this limit) is searched per point instead, with a warning, so that no scene is ever dropped.
    /// </summary>
    public int MaxScenesPerKey { get; init; } = 2000;

    /// <inheritdoc />
    public string Description => _template.ToString();

    /// <inheritdoc />
    public NetTopologySuite.Geometries.Geometry? Coverage => null;

    /// <summary>Keeps (or, read-only, only reads) the cache in a corpus store's <see cref="CacheFolder"/>.</summary>
    public void AttachCorpus(IObjectStore store, bool readOnly)
    {
        _store = store;
        _readOnly = readOnly;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SentinelScene>> FindAsync(SentinelMission mission, double longitude, double latitude, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var point = GeoJson.Wgs84Factory.CreatePoint(new Coordinate(longitude, latitude));
        var (cellX, cellY) = CellOf(longitude, latitude);
        var first = (long)Math.Floor((from.ToUniversalTime() - _origin) / _bin);
        var last = Math.Max(first, (long)Math.Ceiling((to.ToUniversalTime() - _origin) / _bin) - 1);
        var found = new List<SentinelScene>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var bin = first; bin <= last; bin++)
        {
            var key = Key(mission, cellX, cellY, bin);
            if (_oversized.ContainsKey(key.Name))
            {
                return await _perPoint.FindAsync(mission, longitude, latitude, from, to, cancellationToken).ConfigureAwait(false);
            }

            IReadOnlyList<SentinelScene> scenes;
            try
            {
                scenes = await GetAsync(key, cancellationToken).ConfigureAwait(false);
            }
            catch (OversizedKeyException)
            {
                return await _perPoint.FindAsync(mission, longitude, latitude, from, to, cancellationToken).ConfigureAwait(false);
            }

            foreach (var scene in scenes)
            {
                if (scene.Datetime >= from && scene.Datetime <= to && scene.Footprint.Intersects(point) && ids.Add(scene.Id))
                {
                    found.Add(scene);
                }
            }
        }

        return found;
    }

    /// <summary>The grid cell of a point: whole degrees, west and south edges (the east and north edges of the world fold into the last cell).</summary>
    public static (int X, int Y) CellOf(double longitude, double latitude) =>
        ((int)Math.Min(179, Math.Floor(longitude / CellDegrees)), (int)Math.Min(89, Math.Floor(latitude / CellDegrees)));

    private async Task<IReadOnlyList<SentinelScene>> GetAsync(CacheKey key, CancellationToken cancellationToken)
    {
        var counter = _template.RequestCounter;
        var candidate = new Lazy<Task<IReadOnlyList<SentinelScene>>>(() => LoadAsync(key, cancellationToken), LazyThreadSafetyMode.ExecutionAndPublication);
        var lazy = _entries.GetOrAdd(key.Name, candidate);
        if (!ReferenceEquals(lazy, candidate))
        {
            counter?.CountCacheHit(fromCorpus: false);
        }

        try
        {
            return await lazy.Value.ConfigureAwait(false);
        }
        catch
        {
            // A failed search is not kept: the next point asking for the key searches again.
            _entries.TryRemove(new KeyValuePair<string, Lazy<Task<IReadOnlyList<SentinelScene>>>>(key.Name, lazy));
            throw;
        }
    }

    private async Task<IReadOnlyList<SentinelScene>> LoadAsync(CacheKey key, CancellationToken cancellationToken)
    {
        var counter = _template.RequestCounter;
        var fromCorpus = await ReadCorpusAsync(key, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<SentinelScene> scenes;
        if (fromCorpus is not null)
        {
            counter?.CountCacheHit(fromCorpus: true);
            scenes = fromCorpus;
        }
        else
        {
            counter?.CountCacheMiss();
            var searched = new List<SentinelScene>();
            await foreach (var scene in _search.SearchAsync(_template with { Query = key.Query }, _reporter, cancellationToken).ConfigureAwait(false))
            {
                searched.Add(scene);
            }

            if (searched.Count > MaxScenesPerKey)
            {
                _oversized[key.Name] = true;
                _reporter.Warning($"More than {MaxScenesPerKey} {key.Mission} scenes in cell {key.Describe()}: that cell is searched per point instead of cached.");
                throw new OversizedKeyException();
            }

            await WriteCorpusAsync(key, searched, cancellationToken).ConfigureAwait(false);
            foreach (var scene in searched)
            {
                scene.ItemJson = null;
            }

            scenes = searched;
        }

        Remember(key.Name);
        return scenes;
    }

    private void Remember(string name)
    {
        _order.Enqueue(name);
        while (_order.Count > MemoryKeys && _order.TryDequeue(out var oldest))
        {
            _entries.TryRemove(oldest, out _);
        }
    }

    private async Task<List<SentinelScene>?> ReadCorpusAsync(CacheKey key, CancellationToken cancellationToken)
    {
        if (_store is null)
        {
            return null;
        }

        string text;
        try
        {
            if (await _store.GetInfoAsync(key.ObjectKey, cancellationToken).ConfigureAwait(false) is null)
            {
                return null;
            }

            await using var stream = await _store.OpenReadAsync(key.ObjectKey, cancellationToken).ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            text = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Errors.DeepSentinelException ex)
        {
            _reporter.Verbose($"Scene cache {key.ObjectKey} could not be read ({ex.Message}); searching instead.");
            return null;
        }

        try
        {
            var root = JsonNode.Parse(text)?.AsObject();
            if (root?["key"] is not JsonObject recorded || !JsonNode.DeepEquals(recorded, key.Json) || root["items"] is not JsonArray items)
            {
                _reporter.Verbose($"Scene cache {key.ObjectKey} was written for another query; searching instead.");
                return null;
            }

            return await _search.ReadItemsAsync(_template with { Query = key.Query }, items.Select(i => i!.ToJsonString()), _reporter, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            _reporter.Verbose($"Scene cache {key.ObjectKey} is not valid JSON; searching instead.");
            return null;
        }
    }

    private async Task WriteCorpusAsync(CacheKey key, List<SentinelScene> scenes, CancellationToken cancellationToken)
    {
        if (_store is null || _readOnly)
        {
            return;
        }

        var items = new JsonArray();
        foreach (var scene in scenes)
        {
            items.Add(JsonNode.Parse(scene.ItemJson ?? throw new InvalidOperationException("A cached scene lacks its item JSON.")));
        }

        var root = new JsonObject { ["key"] = key.Json.DeepClone(), ["items"] = items };
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(root.ToJsonString()));
        await _store.PutAsync(key.ObjectKey, stream, new PutOptions { ContentType = "application/json" }, cancellationToken).ConfigureAwait(false);
    }

    private CacheKey Key(SentinelMission mission, int cellX, int cellY, long bin)
    {
        var start = _origin + (bin * _bin);
        var end = start + _bin;
        var q = _template.Query;
        double? cloud = mission == SentinelMission.S2 ? q.MaxCloudCover : null;
        string[] polarizations = mission == SentinelMission.S1 ? ["VV", "VH"] : [];
        var collections = q.Collections.Where(c => ProviderProfile.InferMission(c) is null || ProviderProfile.InferMission(c) == mission).ToArray();
        var query = q with
        {
            Missions = [mission],
            Intersects = null,
            BoundingBox = new BoundingBox(cellX * CellDegrees, cellY * CellDegrees, (cellX + 1) * CellDegrees, (cellY + 1) * CellDegrees),
            Start = start,
            End = end,
            Polarizations = polarizations,
            MaxCloudCover = cloud,
            Collections = collections,
            First = MaxScenesPerKey + 1,
        };
        var json = new JsonObject
        {
            ["format"] = FormatVersion,
            ["source"] = _sourceFingerprint,
            ["mission"] = mission.ToString(),
            ["collections"] = new JsonArray(collections.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
            ["max_cloud_cover"] = cloud,
            ["polarizations"] = new JsonArray(polarizations.Select(p => (JsonNode?)JsonValue.Create(p)).ToArray()),
            ["orbit_state"] = q.OrbitState?.ToString(),
            ["relative_orbit"] = q.RelativeOrbit,
            ["mgrs_tiles"] = new JsonArray(q.MgrsTiles.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
            ["bbox"] = new JsonArray(cellX * CellDegrees, cellY * CellDegrees, (cellX + 1) * CellDegrees, (cellY + 1) * CellDegrees),
            ["start"] = start.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
            ["end"] = end.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
        };
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(json.ToJsonString()))).ToLowerInvariant();
        return new CacheKey(hash, $"{CacheFolder}/{hash[..2]}/{hash}.json", mission, query, json);
    }

    private sealed record CacheKey(string Name, string ObjectKey, SentinelMission Mission, SceneQuery Query, JsonObject Json)
    {
        public string Describe() => string.Create(CultureInfo.InvariantCulture, $"{Query.BoundingBox} from {Query.Start:yyyy-MM-dd} to {Query.End:yyyy-MM-dd}");
    }

    private sealed class OversizedKeyException : Exception
    {
    }
}
