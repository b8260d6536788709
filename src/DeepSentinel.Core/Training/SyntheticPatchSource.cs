using System.Runtime.CompilerServices;

namespace DeepSentinel.Core.Training;

/// <summary>
/// A deterministic synthetic corpus for tests, demos and benchmarks: patches on a grid whose
/// land-cover class changes in 3 x 3 blocks, so spatial neighbours look alike. S2 has a class
/// spectrum with class-specific texture, S1 a class backscatter with speckle; every
/// <see cref="S2MissingEvery"/>-th patch has no S2 (clouded), every <see cref="S1MissingEvery"/>-th no S1.
/// </summary>
public sealed class SyntheticPatchSource(int count, int size, int seed = 0) : IPatchSource
{
    private static readonly double[][] Spectra =
    [
        [300, 400, 700, 500, 1200, 2500, 3000, 3200, 3300, 3300, 1800, 900],   // vegetation
        [900, 1000, 1200, 1400, 1500, 1600, 1700, 1800, 1850, 1900, 2400, 2100], // built-up
        [400, 500, 450, 300, 250, 200, 180, 150, 140, 120, 60, 40],             // water
        [1400, 1600, 1900, 2300, 2500, 2600, 2700, 2800, 2850, 2900, 3400, 3000], // bare soil
    ];

    /// <summary>Every n-th patch lacks Sentinel-2 (0: never).</summary>
    public int S2MissingEvery { get; init; }

    /// <summary>Every n-th patch lacks Sentinel-1 (0: never).</summary>
    public int S1MissingEvery { get; init; }

    /// <summary>Sentinel-2 bands generated (12 normally; other counts test validation).</summary>
    public int S2Bands { get; init; } = 12;

    /// <inheritdoc />
    public string Description => $"synthetic: {count} patches of {size} x {size} px, seed {seed}";

    /// <summary>Patch <paramref name="index"/>, the same on every call.</summary>
    public TrainingPatch Create(int index)
    {
        var side = (int)Math.Ceiling(Math.Sqrt(count));
        int gx = index % side, gy = index / side;
        var cls = ((gx / 3) + (gy / 3)) % Spectra.Length;
        var random = new Random(StableSeed.Mix(seed, index));
        var plane = size * size;
        var frequency = 0.15 + (0.1 * cls);
        var phase = random.NextDouble() * Math.PI * 2;

        float[]? s2 = null;
        if (S2MissingEvery <= 0 || (index + 1) % S2MissingEvery != 0)
        {
            s2 = new float[S2Bands * plane];
            for (var b = 0; b < S2Bands; b++)
            {
                var level = Spectra[cls][b % 12];
                for (var y = 0; y < size; y++)
                {
                    for (var x = 0; x < size; x++)
                    {
                        var texture = Math.Sin((frequency * x) + phase) * Math.Cos(frequency * y * (1 + (0.3 * cls)));
                        s2[(b * plane) + (y * size) + x] = (float)(level * (1 + (0.25 * texture)) + (random.NextDouble() * 60));
                    }
                }
            }
        }

        float[]? s1 = null;
        if (S1MissingEvery <= 0 || (index + 1) % S1MissingEvery != 0)
        {
            s1 = new float[2 * plane];
            var vv = -7.0 - (3.5 * cls);
            for (var i = 0; i < plane; i++)
            {
                var speckle = 10 * Math.Log10(-Math.Log(1 - (random.NextDouble() * 0.999)) + 1e-3);
                s1[i] = (float)(vv + speckle);
                s1[plane + i] = (float)(vv - 6.5 + (0.8 * speckle));
            }
        }

        var location = new PatchLocation((gx * size * 10.0) + (size * 5.0), (gy * size * 10.0) + (size * 5.0), "EPSG:32631");
        return new TrainingPatch($"synthetic-{index:D5}", size, size, s2, s1, location);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<TrainingPatch> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return Create(i);
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }
}
