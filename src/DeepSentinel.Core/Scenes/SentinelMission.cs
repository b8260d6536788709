namespace DeepSentinel.Core.Scenes;

/// <summary>A Sentinel mission whose scenes DeepSentinel uses.</summary>
public enum SentinelMission
{
    /// <summary>Sentinel-1: C-band synthetic aperture radar.</summary>
    S1 = 1,
    /// <summary>Sentinel-2: multispectral optical imager.</summary>
    S2 = 2,
}

/// <summary>The direction of the satellite's pass.</summary>
public enum OrbitState
{
    /// <summary>South to north.</summary>
    Ascending = 1,
    /// <summary>North to south.</summary>
    Descending = 2,
}
