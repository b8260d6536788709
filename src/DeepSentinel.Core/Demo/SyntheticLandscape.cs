namespace DeepSentinel.Core.Demo;

/// <summary>Land cover classes of the synthetic landscape.</summary>
public enum DemoCover : byte
{
    /// <summary>Open water.</summary>
    Water,
    /// <summary>Cropland in parcels.</summary>
    Crop,
    /// <summary>Forest.</summary>
    Forest,
    /// <summary>Built-up land.</summary>
    Urban,
    /// <summary>Bare soil and rock.</summary>
    Bare,
}

/// <summary>
/// A deterministic synthetic landscape defined in projected metres: land cover from layered
/// value noise, agricultural parcels, and per-class Sentinel-2 reflectance and Sentinel-1
/// backscatter. Both sensors sample the same function, so a patch's S1 and S2 views show the
/// same ground, as they would for real.
/// </summary>
public sealed class SyntheticLandscape
{
    /// <summary>Sentinel-2 L2A bands in corpus order.</summary>
    public static readonly string[] S2Bands = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12"];

    /// <summary>Native resolution of each band in <see cref="S2Bands"/>, in metres.</summary>
    public static readonly int[] S2Resolutions = [60, 10, 10, 10, 20, 20, 20, 10, 20, 60, 20, 20];

    // Surface reflectance x 10000 per class and band (typical spectra).
    private static readonly float[][] Spectra =
    [
        [600, 500, 450, 300, 250, 200, 180, 150, 140, 100, 80, 60],
        [400, 450, 800, 500, 1200, 2800, 3300, 3600, 3700, 3500, 2200, 1200],
        [300, 300, 550, 300, 800, 2200, 2700, 2900, 3000, 2800, 1500, 700],
        [1200, 1300, 1400, 1500, 1600, 1700, 1800, 1900, 1950, 1800, 2300, 2100],
        [1100, 1300, 1700, 2200, 2500, 2700, 2800, 2900, 3000, 2900, 3600, 3000],
    ];

    // Backscatter in dB (VV, VH) per class.
    private static readonly (float Vv, float Vh)[] Backscatter = [(-22f, -29f), (-11f, -17f), (-7.5f, -12.5f), (-1f, -8f), (-13f, -21f)];

    private readonly uint _seed;

    /// <summary>Creates the landscape for a seed.</summary>
    public SyntheticLandscape(int seed) => _seed = (uint)seed * 0x9E3779B1u;

    /// <summary>The land cover and a 0-1 variation (parcel vigour, roughness) at (x, y) metres.</summary>
    public (DemoCover Cover, float Variation) At(double x, double y)
    {
        var elevation = Fractal(x / 9000, y / 9000, 4, 11);
        var moisture = Fractal(x / 5000, y / 5000, 3, 23);
        var parcelX = Math.Floor(x / 420);
        var parcelY = Math.Floor(y / 310);
        var parcel = Hash01((int)parcelX, (int)parcelY, 37);
        DemoCover cover;
        if (elevation < 0.30)
        {
            cover = DemoCover.Water;
        }
        else if (elevation > 0.80)
        {
            cover = DemoCover.Bare;
        }
        else if (moisture > 0.70 && elevation > 0.45)
        {
            cover = DemoCover.Urban;
        }
        else if (moisture < 0.42)
        {
            cover = DemoCover.Forest;
        }
        else
        {
            cover = parcel < 0.12 ? DemoCover.Bare : DemoCover.Crop;
        }

        return (cover, (float)parcel);
    }

    /// <summary>Reflectance x 10000 of band <paramref name="bandIndex"/> (index into <see cref="S2Bands"/>).</summary>
    public static float Reflectance(DemoCover cover, float variation, int bandIndex)
    {
        var value = Spectra[(int)cover][bandIndex];
        if (cover is DemoCover.Crop or DemoCover.Forest)
        {
            // Vigour varies by parcel: more NIR, less red.
            var vigour = 0.75f + (0.5f * variation);
            value = bandIndex >= 5 && bandIndex <= 9 ? value * vigour : value / vigour;
        }

        return value;
    }

    /// <summary>Linear backscatter (VV, VH) with speckle drawn from two uniform values.</summary>
    public static (float Vv, float Vh) Sigma0(DemoCover cover, float variation, double u1, double u2)
    {
        var (vv, vh) = Backscatter[(int)cover];
        var shift = (variation - 0.5f) * 3f;
        // Multiplicative speckle: a gamma variate of 4 looks (sum of exponentials) / 4.
        var speckleVv = Speckle(u1);
        var speckleVh = Speckle(u2);
        return ((float)(Math.Pow(10, (vv + shift) / 10) * speckleVv), (float)(Math.Pow(10, (vh + shift) / 10) * speckleVh));
    }

    /// <summary>Cloud opacity 0-1 for a scene at (x, y) metres; <paramref name="cover"/> sets how much of the sky is cloudy.</summary>
    public float Cloud(double x, double y, int sceneSeed, double cover)
    {
        if (cover <= 0)
        {
            return 0;
        }

        var n = Fractal(x / 3500, y / 3500, 4, 101 + sceneSeed);
        var threshold = 1 - cover;
        return (float)Math.Clamp((n - threshold) / 0.08, 0, 1);
    }

    /// <summary>A uniform 0-1 value for integer coordinates and a salt (deterministic).</summary>
    public double Hash01(int x, int y, int salt)
    {
        unchecked
        {
            var h = _seed ^ (uint)salt * 0x85EBCA6Bu;
            h ^= (uint)x * 0xC2B2AE35u;
            h = (h << 13) | (h >> 19);
            h ^= (uint)y * 0x27D4EB2Fu;
            h ^= h >> 16;
            h *= 0x7FEB352Du;
            h ^= h >> 15;
            h *= 0x846CA68Bu;
            h ^= h >> 16;
            return h / 4294967296.0;
        }
    }

    private static double Speckle(double u)
    {
        // Inverse-CDF approximation of a unit-mean gamma(4) variate: good enough for texture.
        var z = Math.Sqrt(-2 * Math.Log(Math.Max(u, 1e-12))) * Math.Cos(2 * Math.PI * ((u * 7919) % 1));
        return Math.Max(0.05, 1 + (0.5 * z));
    }

    private double Fractal(double x, double y, int octaves, int salt)
    {
        double sum = 0, amplitude = 0.5, total = 0;
        for (var o = 0; o < octaves; o++)
        {
            sum += amplitude * ValueNoise(x, y, salt + o);
            total += amplitude;
            x *= 2.03;
            y *= 2.03;
            amplitude *= 0.5;
        }

        return sum / total;
    }

    private double ValueNoise(double x, double y, int salt)
    {
        var x0 = (int)Math.Floor(x);
        var y0 = (int)Math.Floor(y);
        var fx = x - x0;
        var fy = y - y0;
        var sx = fx * fx * (3 - (2 * fx));
        var sy = fy * fy * (3 - (2 * fy));
        var a = Hash01(x0, y0, salt);
        var b = Hash01(x0 + 1, y0, salt);
        var c = Hash01(x0, y0 + 1, salt);
        var d = Hash01(x0 + 1, y0 + 1, salt);
        return a + ((b - a) * sx) + ((c - a) * sy) + ((a - b - c + d) * sx * sy);
    }
}
