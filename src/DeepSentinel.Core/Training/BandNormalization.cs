using DeepSentinel.Core.Errors;

namespace DeepSentinel.Core.Training;

/// <summary>Per-band mean and standard deviation, in the model's input order (S2 bands, then S1).</summary>
/// <param name="Bands">Band names, e.g. B01 ... B12, VV, VH.</param>
/// <param name="Mean">Mean of each band.</param>
/// <param name="Std">Standard deviation of each band (1 where a band had no data or no spread).</param>
public sealed record BandNormalization(IReadOnlyList<string> Bands, IReadOnlyList<double> Mean, IReadOnlyList<double> Std)
{
    /// <summary>
    /// Streams up to <paramref name="maxPatches"/> patches of <paramref name="source"/> and computes
    /// the statistics of every valid (non-NaN) pixel; sums are in double, which is exact enough
    /// for reflectances and backscatter over millions of pixels.
    /// </summary>
    /// <returns>The statistics, the patches read, and how many of them hold a sensor the model takes.</returns>
    public static async Task<(BandNormalization Stats, int Patches, int Usable)> ComputeAsync(IPatchSource source, SensorInput sensors, int maxPatches, CancellationToken cancellationToken)
    {
        var (s2, s1) = PretrainingOptions.ChannelsOf(sensors);
        var bands = TrainingPatch.S2BandNames.Take(s2).Concat(TrainingPatch.S1BandNames.Take(s1)).ToArray();
        var sum = new double[bands.Length];
        var squares = new double[bands.Length];
        var counts = new long[bands.Length];
        var patches = 0;
        var usable = 0;
        await foreach (var patch in source.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (patches >= maxPatches)
            {
                break;
            }

            Accumulate(patch, patch.S2, patch.S2Channels, s2, 0, sum, squares, counts, "Sentinel-2");
            Accumulate(patch, patch.S1, patch.S1Channels, s1, s2, sum, squares, counts, "Sentinel-1");
            patches++;
            if ((s2 > 0 && patch.S2 is not null) || (s1 > 0 && patch.S1 is not null))
            {
                usable++;
            }
        }

        var mean = new double[bands.Length];
        var std = new double[bands.Length];
        for (var b = 0; b < bands.Length; b++)
        {
            mean[b] = counts[b] > 0 ? sum[b] / counts[b] : 0;
            var variance = counts[b] > 1 ? (squares[b] / counts[b]) - (mean[b] * mean[b]) : 1;
            std[b] = variance > 1e-12 ? Math.Sqrt(variance) : 1;
        }

        return (new BandNormalization(bands, mean, std), patches, usable);
    }

    private static void Accumulate(TrainingPatch patch, float[]? data, int channels, int expected, int offset, double[] sum, double[] squares, long[] counts, string sensor)
    {
        if (data is null || expected == 0)
        {
            return;
        }

        if (channels != expected)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.TrainingInputInvalid,
                $"Patch '{patch.SampleId}' has {channels} {sensor} bands; the model takes {expected}.", patch.SampleId);
        }

        var plane = patch.Height * patch.Width;
        for (var b = 0; b < channels; b++)
        {
            double s = 0, q = 0;
            long n = 0;
            foreach (var v in data.AsSpan(b * plane, plane))
            {
                if (!float.IsNaN(v))
                {
                    s += v;
                    q += (double)v * v;
                    n++;
                }
            }

            sum[offset + b] += s;
            squares[offset + b] += q;
            counts[offset + b] += n;
        }
    }
}
