namespace DeepSentinel.Core.Stac;

/// <summary>The STAC APIs DeepSentinel knows how to search.</summary>
public enum StacProvider
{
    /// <summary>Microsoft Planetary Computer: sentinel-2-l2a, sentinel-1-rtc, sentinel-1-grd; assets need SAS tokens.</summary>
    PlanetaryComputer,
    /// <summary>Element 84 Earth Search v1: sentinel-2-l2a, sentinel-2-c1-l2a, sentinel-1-grd.</summary>
    EarthSearch,
    /// <summary>The Copernicus Data Space Ecosystem STAC API.</summary>
    CopernicusDataSpace,
}
