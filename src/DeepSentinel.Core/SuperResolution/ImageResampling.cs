namespace DeepSentinel.Core.SuperResolution;

/// <summary>
/// Up- and downsampling of single-band images (row-major float planes) for super-resolution:
/// Wald's degradation (an MTF-matched Gaussian blur sampled at the coarse pixel centres) and the
/// bilinear and bicubic upsampling baselines. Pixel centres follow the area convention (a coarse
/// pixel covers s x s fine pixels exactly, its centre at fine position s*i + (s-1)/2), the one
/// F.interpolate(align_corners=False) and GDAL use, so the bilinear baseline equals the network's
/// own upsampled input.
/// </summary>
public static class ImageResampling
{
    /// <summary>Sentinel-2 MSI's nominal modulation transfer function at Nyquist (about 0.3 for every band group in the MSI specification).</summary>
    public const double DefaultMtfAtNyquist = 0.3;

    /// <summary>
    /// The Gaussian standard deviation, in fine pixels, whose MTF at the coarse grid's Nyquist
    /// frequency (1 / (2 s) cycles per fine pixel) equals <paramref name="mtf"/>:
    /// exp(-2 pi^2 sigma^2 f^2) = mtf gives sigma = s * sqrt(-2 ln mtf) / pi.
    /// </summary>
    public static double GaussianSigma(int factor, double mtf = DefaultMtfAtNyquist)
    {
        if (factor < 1 || !(mtf > 0 && mtf < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(mtf), "factor must be at least 1 and mtf within (0, 1).");
        }

        return factor * Math.Sqrt(-2 * Math.Log(mtf)) / Math.PI;
    }

    /// <summary>
    /// Wald's degradation by <paramref name="factor"/>: the image blurred with the MTF-matched
    /// Gaussian and sampled at each coarse pixel's centre (one separable pass each way; near the
    /// edges the kernel is renormalised over the pixels that exist). Width and height must be
    /// multiples of the factor.
    /// </summary>
    public static float[] Degrade(ReadOnlySpan<float> image, int width, int height, int factor, double mtf = DefaultMtfAtNyquist)
    {
        if (width % factor != 0 || height % factor != 0 || image.Length != width * height)
        {
            throw new ArgumentException($"A {width} x {height} image cannot be degraded by {factor}: both sides must be multiples of it.", nameof(image));
        }

        var sigma = GaussianSigma(factor, mtf);
        var cw = width / factor;
        var ch = height / factor;
        var (rowTaps, rowWeights) = Taps(width, cw, factor, sigma);
        var (colTaps, colWeights) = Taps(height, ch, factor, sigma);
        var horizontal = new float[cw * height];
        for (var y = 0; y < height; y++)
        {
            var row = image.Slice(y * width, width);
            for (var i = 0; i < cw; i++)
            {
                double sum = 0;
                var (start, count) = rowTaps[i];
                for (var k = 0; k < count; k++)
                {
                    sum += rowWeights[i][k] * row[start + k];
                }

                horizontal[(y * cw) + i] = (float)sum;
            }
        }

        var result = new float[cw * ch];
        for (var j = 0; j < ch; j++)
        {
            var (start, count) = colTaps[j];
            for (var i = 0; i < cw; i++)
            {
                double sum = 0;
                for (var k = 0; k < count; k++)
                {
                    sum += colWeights[j][k] * horizontal[((start + k) * cw) + i];
                }

                result[(j * cw) + i] = (float)sum;
            }
        }

        return result;
    }

    private static ((int Start, int Count)[] Taps, double[][] Weights) Taps(int fine, int coarse, int factor, double sigma)
    {
        var radius = (int)Math.Ceiling(3 * sigma) + factor;
        var taps = new (int, int)[coarse];
        var weights = new double[coarse][];
        for (var i = 0; i < coarse; i++)
        {
            var centre = (factor * i) + ((factor - 1) / 2.0);
            var start = Math.Max(0, (int)Math.Floor(centre - radius));
            var end = Math.Min(fine - 1, (int)Math.Ceiling(centre + radius));
            var w = new double[end - start + 1];
            double total = 0;
            for (var k = start; k <= end; k++)
            {
                var d = (k - centre) / sigma;
                w[k - start] = Math.Exp(-0.5 * d * d);
                total += w[k - start];
            }

            for (var k = 0; k < w.Length; k++)
            {
                w[k] /= total;
            }

            taps[i] = (start, w.Length);
            weights[i] = w;
        }

        return (taps, weights);
    }

    /// <summary>Bilinear upsampling by <paramref name="factor"/> (area pixel centres, edges clamped): F.interpolate(mode="bilinear", align_corners=False).</summary>
    public static float[] UpsampleBilinear(ReadOnlySpan<float> image, int width, int height, int factor) =>
        Upsample(image, width, height, factor, Linear, 1);

    /// <summary>Bicubic upsampling by <paramref name="factor"/> (Keys' kernel with a = -0.5, as GDAL's and MATLAB's cubic; area pixel centres, edges clamped).</summary>
    public static float[] UpsampleBicubic(ReadOnlySpan<float> image, int width, int height, int factor) =>
        Upsample(image, width, height, factor, Cubic, 2);

    private static double Linear(double x)
    {
        x = Math.Abs(x);
        return x < 1 ? 1 - x : 0;
    }

    private static double Cubic(double x)
    {
        const double A = -0.5;
        x = Math.Abs(x);
        return x <= 1 ? ((A + 2) * x * x * x) - ((A + 3) * x * x) + 1
            : x < 2 ? (A * x * x * x) - (5 * A * x * x) + (8 * A * x) - (4 * A)
            : 0;
    }

    private static float[] Upsample(ReadOnlySpan<float> image, int width, int height, int factor, Func<double, double> kernel, int support)
    {
        if (image.Length != width * height || factor < 1)
        {
            throw new ArgumentException($"The image has {image.Length} values, not {width} x {height}.", nameof(image));
        }

        var fw = width * factor;
        var fh = height * factor;
        var (xi, xw) = UpTaps(width, fw, factor, kernel, support);
        var (yi, yw) = UpTaps(height, fh, factor, kernel, support);
        var taps = 2 * support;
        var horizontal = new float[fw * height];
        for (var y = 0; y < height; y++)
        {
            var row = image.Slice(y * width, width);
            for (var x = 0; x < fw; x++)
            {
                double sum = 0;
                for (var k = 0; k < taps; k++)
                {
                    sum += xw[(x * taps) + k] * row[xi[(x * taps) + k]];
                }

                horizontal[(y * fw) + x] = (float)sum;
            }
        }

        var result = new float[fw * fh];
        for (var y = 0; y < fh; y++)
        {
            for (var x = 0; x < fw; x++)
            {
                double sum = 0;
                for (var k = 0; k < taps; k++)
                {
                    sum += yw[(y * taps) + k] * horizontal[(yi[(y * taps) + k] * fw) + x];
                }

                result[(y * fw) + x] = (float)sum;
            }
        }

        return result;
    }

    private static (int[] Index, double[] Weight) UpTaps(int coarse, int fine, int factor, Func<double, double> kernel, int support)
    {
        var taps = 2 * support;
        var index = new int[fine * taps];
        var weight = new double[fine * taps];
        for (var x = 0; x < fine; x++)
        {
            // The fine pixel centre in coarse pixel coordinates (centres at integers).
            var source = ((x + 0.5) / factor) - 0.5;
            var left = (int)Math.Floor(source) - support + 1;
            double total = 0;
            for (var k = 0; k < taps; k++)
            {
                var w = kernel(source - (left + k));
                index[(x * taps) + k] = Math.Clamp(left + k, 0, coarse - 1);
                weight[(x * taps) + k] = w;
                total += w;
            }

            for (var k = 0; k < taps; k++)
            {
                weight[(x * taps) + k] /= total;
            }
        }

        return (index, weight);
    }
}
