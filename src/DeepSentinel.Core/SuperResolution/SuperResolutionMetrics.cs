namespace DeepSentinel.Core.SuperResolution;

/// <summary>How a band was brought to the finer resolution.</summary>
public enum UpsamplingMethod
{
    /// <summary>Bilinear interpolation (the corpus's own resampling of the coarse bands).</summary>
    Bilinear,

    /// <summary>Bicubic interpolation (Keys, a = -0.5).</summary>
    Bicubic,

    /// <summary>The super-resolution network.</summary>
    Model,
}

/// <summary>
/// One row of an evaluation: how close one method came to the truth for one band, or over all
/// bands (<see cref="Band"/> "all"). Values are in the corpus's DN (reflectance x 10000), as the
/// paper reports them.
/// </summary>
/// <param name="Method">The upsampling method.</param>
/// <param name="Band">The band, or "all".</param>
/// <param name="Rmse">Root mean squared error (DN); over all bands, the root of the pooled mean.</param>
/// <param name="Sre">Signal-to-reconstruction error in dB, 10 log10(mean(truth)^2 / MSE); higher is better; over all bands, the mean of the bands'.</param>
/// <param name="Sam">Spectral angle in degrees between the estimated and true spectra of the recovered bands, averaged over pixels; the same for every row of a method.</param>
/// <param name="Pixels">Pixels compared (nodata in the truth is left out).</param>
public sealed record SuperResolutionMetric(UpsamplingMethod Method, string Band, double Rmse, double Sre, double Sam, long Pixels)
{
    /// <summary>The scene or sample evaluated.</summary>
    public string Source { get; init; } = string.Empty;

    /// <summary>The factor evaluated (2: 20 m bands from 40 m; 6: 60 m bands from 360 m).</summary>
    public int Factor { get; init; }

    /// <summary>RMSE relative to bicubic's for the same band (below 1: better than bicubic); null for bicubic itself until set.</summary>
    public double? RmseVsBicubic { get; init; }
}

/// <summary>RMSE, SRE and SAM as Lanaras et al. (2018) define them.</summary>
public static class SuperResolutionMetrics
{
    /// <summary>
    /// The per-band rows and the overall row for one method. <paramref name="estimate"/> and
    /// <paramref name="truth"/> hold one plane per band of the same size; pixels where any true
    /// band is 0 (nodata) are left out.
    /// </summary>
    public static IReadOnlyList<SuperResolutionMetric> Compute(UpsamplingMethod method, IReadOnlyList<string> bands, IReadOnlyList<float[]> estimate, IReadOnlyList<float[]> truth)
    {
        ArgumentNullException.ThrowIfNull(bands);
        ArgumentNullException.ThrowIfNull(estimate);
        ArgumentNullException.ThrowIfNull(truth);
        if (estimate.Count != bands.Count || truth.Count != bands.Count || bands.Count == 0)
        {
            throw new ArgumentException("One estimate and one truth plane per band are needed.", nameof(estimate));
        }

        var n = truth[0].Length;
        var valid = new bool[n];
        long pixels = 0;
        for (var i = 0; i < n; i++)
        {
            var ok = true;
            for (var b = 0; b < bands.Count && ok; b++)
            {
                ok = truth[b][i] != 0 && float.IsFinite(estimate[b][i]);
            }

            valid[i] = ok;
            pixels += ok ? 1 : 0;
        }

        var squared = new double[bands.Count];
        var sums = new double[bands.Count];
        for (var b = 0; b < bands.Count; b++)
        {
            double se = 0, s = 0;
            for (var i = 0; i < n; i++)
            {
                if (valid[i])
                {
                    var d = (double)estimate[b][i] - truth[b][i];
                    se += d * d;
                    s += truth[b][i];
                }
            }

            squared[b] = se;
            sums[b] = s;
        }

        double angle = 0;
        for (var i = 0; i < n; i++)
        {
            if (!valid[i])
            {
                continue;
            }

            double dot = 0, ee = 0, tt = 0;
            for (var b = 0; b < bands.Count; b++)
            {
                double e = estimate[b][i], t = truth[b][i];
                dot += e * t;
                ee += e * e;
                tt += t * t;
            }

            angle += ee > 0 && tt > 0 ? Math.Acos(Math.Clamp(dot / Math.Sqrt(ee * tt), -1, 1)) : 0;
        }

        var sam = pixels > 0 ? angle / pixels * 180 / Math.PI : double.NaN;
        var rows = new List<SuperResolutionMetric>(bands.Count + 1);
        double sreTotal = 0;
        for (var b = 0; b < bands.Count; b++)
        {
            var mse = squared[b] / Math.Max(pixels, 1);
            var mean = sums[b] / Math.Max(pixels, 1);
            var sre = 10 * Math.Log10(mean * mean / Math.Max(mse, 1e-12));
            sreTotal += sre;
            rows.Add(new SuperResolutionMetric(method, bands[b], Math.Sqrt(mse), sre, sam, pixels));
        }

        rows.Add(new SuperResolutionMetric(method, "all", Math.Sqrt(squared.Sum() / Math.Max(pixels * bands.Count, 1)), sreTotal / bands.Count, sam, pixels));
        return rows;
    }
}
