using System.Runtime.CompilerServices;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Scenes;
using NetTopologySuite.Geometries;
using NetTopologySuite.Index.Strtree;
using NetTopologySuite.Operation.Union;

namespace DeepSentinel.Core.Sampling;

/// <summary>Where New-PatchSample finds the scenes covering a point.</summary>
public interface IScenePool
{
    /// <summary>What the pool searches, for messages.</summary>
    string Description { get; }

    /// <summary>
    /// The union of the pool's Sentinel-2 footprints when the pool is a finite set of scenes (a
    /// catalog, piped scenes): points are then sampled inside it. Null for a live STAC API.
    /// </summary>
    NetTopologySuite.Geometries.Geometry? Coverage { get; }

    /// <summary>Scenes of <paramref name="mission"/> whose footprint covers the point, acquired within [from, to].</summary>
    Task<IReadOnlyList<SentinelScene>> FindAsync(SentinelMission mission, double longitude, double latitude, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);
}

/// <summary>A fixed set of scenes (a static catalog read once, or scenes from the pipeline), spatially indexed.</summary>
public sealed class InMemoryScenePool : IScenePool
{
    private readonly Dictionary<SentinelMission, STRtree<SentinelScene>> _trees = [];

    /// <summary>Indexes the scenes.</summary>
    public InMemoryScenePool(IEnumerable<SentinelScene> scenes, string description)
    {
        ArgumentNullException.ThrowIfNull(scenes);
        Description = description;
        var all = scenes.ToList();
        foreach (var mission in new[] { SentinelMission.S1, SentinelMission.S2 })
        {
            var tree = new STRtree<SentinelScene>();
            foreach (var scene in all.Where(s => s.Mission == mission))
            {
                tree.Insert(scene.Footprint.EnvelopeInternal, scene);
            }

            tree.Build();
            _trees[mission] = tree;
        }

        S2Count = all.Count(s => s.Mission == SentinelMission.S2);
        S1Count = all.Count(s => s.Mission == SentinelMission.S1);
        var s2Footprints = all.Where(s => s.Mission == SentinelMission.S2).Select(s => s.Footprint).ToList();
        Coverage = s2Footprints.Count == 0 ? null : CascadedPolygonUnion.Union(s2Footprints);
    }

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    public NetTopologySuite.Geometries.Geometry? Coverage { get; }

    /// <summary>Sentinel-2 scenes in the pool.</summary>
    public int S2Count { get; }

    /// <summary>Sentinel-1 scenes in the pool.</summary>
    public int S1Count { get; }

    /// <summary>Reads every scene of a search into a pool.</summary>
    public static async Task<InMemoryScenePool> FromSearchAsync(SceneSearchService search, SceneSearchRequest request, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(search);
        var scenes = new List<SentinelScene>();
        await foreach (var scene in search.SearchAsync(request, reporter, cancellationToken).ConfigureAwait(false))
        {
            scenes.Add(scene);
        }

        return new InMemoryScenePool(scenes, request.ToString());
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SentinelScene>> FindAsync(SentinelMission mission, double longitude, double latitude, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var point = GeoJson.Wgs84Factory.CreatePoint(new Coordinate(longitude, latitude));
        IReadOnlyList<SentinelScene> found = _trees[mission].Query(point.EnvelopeInternal)
            .Where(s => s.Datetime >= from && s.Datetime <= to && s.Footprint.Covers(point))
            .ToList();
        return Task.FromResult(found);
    }
}

/// <summary>A live STAC API, queried per point (for the open world, where no scene list fits in memory).</summary>
public sealed class StacScenePool : IScenePool
{
    private readonly SceneSearchService _search;
    private readonly SceneSearchRequest _template;
    private readonly IOperationReporter _reporter;

    /// <summary>Creates the pool over a provider request; its query's collections (if any) are kept.</summary>
    public StacScenePool(SceneSearchService search, SceneSearchRequest template, IOperationReporter reporter)
    {
        _search = search;
        _template = template;
        _reporter = reporter;
    }

    /// <inheritdoc />
    public string Description => _template.ToString();

    /// <inheritdoc />
    public NetTopologySuite.Geometries.Geometry? Coverage => null;

    /// <inheritdoc />
    public async Task<IReadOnlyList<SentinelScene>> FindAsync(SentinelMission mission, double longitude, double latitude, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var query = _template.Query with
        {
            Missions = [mission],
            Intersects = GeoJson.Wgs84Factory.CreatePoint(new Coordinate(longitude, latitude)),
            BoundingBox = null,
            Start = from,
            End = to,
            Polarizations = mission == SentinelMission.S1 ? ["VV", "VH"] : [],
            MaxCloudCover = mission == SentinelMission.S2 ? _template.Query.MaxCloudCover : null,
            Collections = _template.Query.Collections.Where(c => Stac.ProviderProfile.InferMission(c) is null || Stac.ProviderProfile.InferMission(c) == mission).ToArray(),
            First = 50,
        };
        var result = new List<SentinelScene>();
        await foreach (var scene in Collect(query, cancellationToken).ConfigureAwait(false))
        {
            result.Add(scene);
        }

        return result;
    }

    private async IAsyncEnumerable<SentinelScene> Collect(SceneQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var scene in _search.SearchAsync(_template with { Query = query }, _reporter, cancellationToken).ConfigureAwait(false))
        {
            yield return scene;
        }
    }
}
