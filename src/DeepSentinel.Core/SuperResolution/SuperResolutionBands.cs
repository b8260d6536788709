namespace DeepSentinel.Core.SuperResolution;

/// <summary>Which coarse bands a super-resolution model recovers, and from what.</summary>
public enum SuperResolutionFactor
{
    /// <summary>The 20 m bands (B05, B06, B07, B8A, B11, B12) at 10 m, from the 10 m and 20 m bands.</summary>
    X2 = 2,

    /// <summary>The 60 m bands (B01, B09) at 10 m, from the 10 m, 20 m and 60 m bands.</summary>
    X6 = 6,
}

/// <summary>The network sizes of Lanaras et al. (2018).</summary>
public enum SuperResolutionArchitecture
{
    /// <summary>6 residual blocks of 128 features (about 1.8 M parameters): DSen2.</summary>
    DSen2 = 0,

    /// <summary>32 residual blocks of 256 features (about 37.8 M parameters): VDSen2, the deep variant.</summary>
    VDSen2 = 1,

    /// <summary>Blocks and features of your choice (e.g. a small network for quick experiments and tests).</summary>
    Custom = 2,
}

/// <summary>
/// The Sentinel-2 L2A bands by native resolution, and their places in the corpus's 12-band order
/// (<see cref="Sampling.PatchExtractor.S2Bands"/>). B10 (cirrus, 60 m) is not in L2A products.
/// </summary>
public static class SuperResolutionBands
{
    /// <summary>The 10 m bands.</summary>
    public static readonly string[] Fine = ["B02", "B03", "B04", "B08"];

    /// <summary>The 20 m bands.</summary>
    public static readonly string[] Mid = ["B05", "B06", "B07", "B8A", "B11", "B12"];

    /// <summary>The 60 m bands of L2A.</summary>
    public static readonly string[] Coarse = ["B01", "B09"];

    /// <summary>The bands a model of <paramref name="factor"/> recovers.</summary>
    public static string[] Outputs(SuperResolutionFactor factor) => factor == SuperResolutionFactor.X2 ? Mid : Coarse;

    /// <summary>Every band a model of <paramref name="factor"/> reads.</summary>
    public static string[] Inputs(SuperResolutionFactor factor) => factor == SuperResolutionFactor.X2 ? [.. Fine, .. Mid] : [.. Fine, .. Mid, .. Coarse];

    /// <summary>Native pixel size of a band in metres.</summary>
    public static int PixelSize(string band) => Array.IndexOf(Fine, band) >= 0 ? 10 : Array.IndexOf(Mid, band) >= 0 ? 20 : 60;

    /// <summary>The residual blocks and features of an architecture.</summary>
    public static (int Blocks, int Features) Shape(SuperResolutionArchitecture architecture) =>
        architecture == SuperResolutionArchitecture.VDSen2 ? (32, 256) : (6, 128);

    /// <summary>
    /// Pixels at 10 m on each side of a tile that a tile's output depends on: the receptive field
    /// of the network's 3 x 3 convolutions (2 per block plus the first and the last), plus one
    /// coarse pixel for the bilinear upsampling, rounded up to the 60 m grid.
    /// </summary>
    public static int ContextPixels(int blocks, SuperResolutionFactor factor)
    {
        var radius = (2 * blocks) + 2 + (int)factor;
        return (radius + 5) / 6 * 6;
    }
}
