using System.Globalization;
using DeepSentinel.Core.Geometry;

namespace DeepSentinel.Core.Scenes;

/// <summary>
/// A Sentinel-1 or Sentinel-2 acquisition found in a STAC API or catalog: what
/// Get-SentinelScene writes, and what downstream cmdlets take from the pipeline.
/// </summary>
public sealed class SentinelScene
{
    private readonly Dictionary<string, SceneAsset> _assets;

    /// <summary>Creates a scene.</summary>
    public SentinelScene(string id, string collection, SentinelMission mission, DateTimeOffset datetime, NetTopologySuite.Geometries.Geometry footprint, BoundingBox bbox, IEnumerable<SceneAsset> assets)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(footprint);
        ArgumentNullException.ThrowIfNull(assets);
        Id = id;
        Collection = collection ?? string.Empty;
        Mission = mission;
        Datetime = datetime.ToUniversalTime();
        Footprint = footprint;
        BoundingBox = bbox;
        _assets = new Dictionary<string, SceneAsset>(StringComparer.OrdinalIgnoreCase);
        foreach (var asset in assets)
        {
            _assets[asset.Key] = asset;
        }
    }

    /// <summary>The STAC item id.</summary>
    public string Id { get; }

    /// <summary>The STAC collection id (e.g. sentinel-2-l2a, sentinel-1-rtc).</summary>
    public string Collection { get; }

    /// <summary>S1 or S2.</summary>
    public SentinelMission Mission { get; }

    /// <summary>The satellite (e.g. Sentinel-2B, SENTINEL-1A), as the item names it.</summary>
    public string? Platform { get; init; }

    /// <summary>The acquisition time, in UTC.</summary>
    public DateTimeOffset Datetime { get; }

    /// <summary>The scene's footprint in WGS 84 longitude/latitude.</summary>
    public NetTopologySuite.Geometries.Geometry Footprint { get; }

    /// <summary>The footprint's bounding box (west, south, east, north).</summary>
    public BoundingBox BoundingBox { get; }

    /// <summary>The EPSG code of the scene's native grid (proj:epsg), when given.</summary>
    public int? Epsg { get; init; }

    /// <summary>Scene cloud cover in percent (eo:cloud_cover); Sentinel-2 only.</summary>
    public double? CloudCover { get; init; }

    /// <summary>Ascending or descending pass (sat:orbit_state).</summary>
    public OrbitState? OrbitState { get; init; }

    /// <summary>The relative orbit number (sat:relative_orbit).</summary>
    public int? RelativeOrbit { get; init; }

    /// <summary>Polarisations acquired (sar:polarizations, e.g. VV, VH); Sentinel-1 only.</summary>
    public IReadOnlyList<string> Polarizations { get; init; } = [];

    /// <summary>The SAR instrument mode (sar:instrument_mode, e.g. IW); Sentinel-1 only.</summary>
    public string? InstrumentMode { get; init; }

    /// <summary>The MGRS tile (e.g. 31UDQ); Sentinel-2 only.</summary>
    public string? MgrsTile { get; init; }

    /// <summary>The processing baseline (e.g. 05.09); Sentinel-2 only.</summary>
    public string? ProcessingBaseline { get; init; }

    /// <summary>
    /// Whether the provider says it already removed the processing baseline 04.00+ radiometric
    /// offset from the DNs (Earth Search's earthsearch:boa_offset_applied); null when it says nothing.
    /// </summary>
    public bool? BoaOffsetApplied { get; init; }

    /// <summary>The provider the scene came from (e.g. PlanetaryComputer, or the API's URL).</summary>
    public string Provider { get; init; } = string.Empty;

    /// <summary>The STAC item's own URL, when it has a self link or was read from a file.</summary>
    public Uri? SelfHref { get; init; }

    /// <summary>The scene's assets by key (case-insensitive).</summary>
    public IReadOnlyDictionary<string, SceneAsset> Assets => _assets;

    /// <summary>The keys of the data assets, for display.</summary>
    public string[] Bands => _assets.Values.Where(a => a.Roles.Count == 0 || a.Roles.Contains("data")).Select(a => a.BandName ?? a.Key).ToArray();

    /// <summary>The acquisition time as the default table shows it.</summary>
    public string DisplayTime => Datetime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    /// <summary>Orbit direction and relative orbit as the default table shows them (e.g. "desc 43").</summary>
    public string DisplayOrbit => (OrbitState switch
    {
        Scenes.OrbitState.Ascending => "asc",
        Scenes.OrbitState.Descending => "desc",
        _ => string.Empty,
    } + (RelativeOrbit is { } r ? " " + r.ToString(CultureInfo.InvariantCulture) : string.Empty)).Trim();

    /// <summary>
    /// Finds the asset for a band by asset key, then by band name (B04, SCL, VV ...): "B04",
    /// "red" (Earth Search's key) and "vv" all work where the item allows.
    /// </summary>
    public SceneAsset? FindBand(string band)
    {
        ArgumentException.ThrowIfNullOrEmpty(band);
        if (_assets.TryGetValue(band, out var byKey))
        {
            return byKey;
        }

        // Some providers publish a band at several resolutions (B02_10m, B02_20m): take the finest.
        return _assets.Values
            .Where(a => string.Equals(a.BandName, band, StringComparison.OrdinalIgnoreCase))
            .OrderBy(a => a.ResolutionM ?? double.MaxValue)
            .FirstOrDefault();
    }

    /// <inheritdoc />
    public override string ToString() => Id;

    /// <summary>The item's JSON as the STAC API sent it (unsigned hrefs), kept only for the scene cache.</summary>
    internal string? ItemJson { get; set; }
}
