using DeepSentinel.Core.Scenes;

namespace DeepSentinel.Core.Stac;

/// <summary>
/// What DeepSentinel knows about one STAC API: where it is, which collections hold which
/// mission, how it names the MGRS tile, and whether its assets must be signed.
/// </summary>
public sealed record ProviderProfile
{
    /// <summary>The display name (also SentinelScene.Provider).</summary>
    public required string Name { get; init; }

    /// <summary>The API's landing page.</summary>
    public required Uri RootUrl { get; init; }

    /// <summary>The collections searched for a mission when no -Collection is given.</summary>
    public required IReadOnlyDictionary<SentinelMission, string[]> DefaultCollections { get; init; }

    /// <summary>Every collection of interest the provider offers, by mission (for completion and inference).</summary>
    public required IReadOnlyDictionary<string, SentinelMission> KnownCollections { get; init; }

    /// <summary>
    /// The queryable holding the MGRS tile and how a tile is written in it, or null when the
    /// provider has none we know of (then the tile is filtered client-side).
    /// </summary>
    public (string Property, Func<string, string> Format)? MgrsQueryable { get; init; }

    /// <summary>True when asset hrefs need a Planetary Computer SAS token.</summary>
    public bool SignsAssets { get; init; }

    /// <summary>Microsoft Planetary Computer.</summary>
    public static ProviderProfile PlanetaryComputer { get; } = new()
    {
        Name = nameof(StacProvider.PlanetaryComputer),
        RootUrl = new Uri("https://planetarycomputer.microsoft.com/api/stac/v1/"),
        DefaultCollections = new Dictionary<SentinelMission, string[]>
        {
            [SentinelMission.S2] = ["sentinel-2-l2a"],
            [SentinelMission.S1] = ["sentinel-1-rtc"],
        },
        KnownCollections = Known(("sentinel-2-l2a", SentinelMission.S2), ("sentinel-1-rtc", SentinelMission.S1), ("sentinel-1-grd", SentinelMission.S1)),
        MgrsQueryable = ("s2:mgrs_tile", tile => tile),
        SignsAssets = true,
    };

    /// <summary>Element 84 Earth Search v1.</summary>
    public static ProviderProfile EarthSearch { get; } = new()
    {
        Name = nameof(StacProvider.EarthSearch),
        RootUrl = new Uri("https://earth-search.aws.element84.com/v1/"),
        DefaultCollections = new Dictionary<SentinelMission, string[]>
        {
            [SentinelMission.S2] = ["sentinel-2-l2a"],
            [SentinelMission.S1] = ["sentinel-1-grd"],
        },
        KnownCollections = Known(("sentinel-2-l2a", SentinelMission.S2), ("sentinel-2-c1-l2a", SentinelMission.S2), ("sentinel-1-grd", SentinelMission.S1)),
        MgrsQueryable = ("grid:code", tile => "MGRS-" + tile),
    };

    /// <summary>The Copernicus Data Space Ecosystem STAC API (v1, STAC 1.1).</summary>
    public static ProviderProfile CopernicusDataSpace { get; } = new()
    {
        Name = nameof(StacProvider.CopernicusDataSpace),
        RootUrl = new Uri("https://stac.dataspace.copernicus.eu/v1/"),
        DefaultCollections = new Dictionary<SentinelMission, string[]>
        {
            [SentinelMission.S2] = ["sentinel-2-l2a"],
            [SentinelMission.S1] = ["sentinel-1-grd"],
        },
        KnownCollections = Known(("sentinel-2-l2a", SentinelMission.S2), ("sentinel-1-grd", SentinelMission.S1)),
        MgrsQueryable = ("grid:code", tile => "MGRS-" + tile),
    };

    /// <summary>The profile for a named provider.</summary>
    public static ProviderProfile For(StacProvider provider) => provider switch
    {
        StacProvider.PlanetaryComputer => PlanetaryComputer,
        StacProvider.EarthSearch => EarthSearch,
        StacProvider.CopernicusDataSpace => CopernicusDataSpace,
        _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "Unknown provider."),
    };

    /// <summary>A profile for any STAC API: conventional Sentinel collection names, client-side tile filtering.</summary>
    public static ProviderProfile Generic(Uri rootUrl) => new()
    {
        Name = rootUrl.GetLeftPart(UriPartial.Path),
        RootUrl = rootUrl,
        DefaultCollections = new Dictionary<SentinelMission, string[]>
        {
            [SentinelMission.S2] = ["sentinel-2-l2a"],
            [SentinelMission.S1] = ["sentinel-1-grd"],
        },
        KnownCollections = Known(("sentinel-2-l2a", SentinelMission.S2), ("sentinel-1-grd", SentinelMission.S1), ("sentinel-1-rtc", SentinelMission.S1)),
    };

    /// <summary>Infers the mission of a collection from its id (e.g. sentinel-1-grd, SENTINEL-2, sentinel-2-c1-l2a).</summary>
    public SentinelMission? MissionOf(string collection)
    {
        if (KnownCollections.TryGetValue(collection, out var known))
        {
            return known;
        }

        return InferMission(collection);
    }

    /// <summary>Infers a mission from a collection id, platform or constellation name.</summary>
    public static SentinelMission? InferMission(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        var n = name.Replace('_', '-').Replace(' ', '-');
        if (n.Contains("sentinel-1", StringComparison.OrdinalIgnoreCase) || n.StartsWith("s1", StringComparison.OrdinalIgnoreCase))
        {
            return SentinelMission.S1;
        }

        if (n.Contains("sentinel-2", StringComparison.OrdinalIgnoreCase) || n.StartsWith("s2", StringComparison.OrdinalIgnoreCase))
        {
            return SentinelMission.S2;
        }

        return null;
    }

    private static Dictionary<string, SentinelMission> Known(params (string Id, SentinelMission Mission)[] collections) =>
        collections.ToDictionary(c => c.Id, c => c.Mission, StringComparer.OrdinalIgnoreCase);
}
