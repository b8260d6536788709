using System.Runtime.InteropServices;
using DeepSentinel.Core.Interop.Torch;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Tests.Training;

/// <summary>
/// The engine's fast paths give the same results as the plain forms they replace: the fused
/// augmentation against libtorch's op-by-op form, the fused AdamW step against libtorch's, the folded oneDNN inference plan against Python's
/// torch on the same checkpoint, and training is reproducible for a seed.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class EngineSpeedPathTests
{
    private static NativeModelConfig Config(EncoderKind encoder) => NativeConfigs.Small(encoder, embeddingDim: 16, seed: 5, learningRate: 1e-2);

    internal static (PatchBatch Batch, TrainingPatch[] Patches) Batch(int count, int size, int seed)
    {
        var source = new SyntheticPatchSource(count, size, seed);
        var patches = Enumerable.Range(0, count).Select(source.Create).ToArray();
        var batch = new PatchBatch(count, 12, 2, size, size);
        foreach (var patch in patches)
        {
            batch.Add(patch);
        }

        return (batch, patches);
    }

    private static BandNormalization Statistics(TrainingPatch[] patches)
    {
        var bands = TrainingPatch.S2BandNames.Concat(TrainingPatch.S1BandNames).ToArray();
        var mean = new double[bands.Length];
        var std = new double[bands.Length];
        for (var band = 0; band < bands.Length; band++)
        {
            var values = patches.SelectMany(p => band < 12
                ? p.S2!.Skip(band * p.Height * p.Width).Take(p.Height * p.Width)
                : p.S1!.Skip((band - 12) * p.Height * p.Width).Take(p.Height * p.Width)).Where(float.IsFinite).Select(v => (double)v).ToArray();
            mean[band] = values.Average();
            std[band] = Math.Sqrt(values.Average(v => (v - mean[band]) * (v - mean[band]))) + 1e-3;
        }

        return new BandNormalization(bands, mean, std);
    }

    [Fact]
    public void The_fused_augmentation_matches_libtorchs_op_by_op_form()
    {
        var (difference, noiseMean, noiseStd) = TorchNative.SelfTestAugment();

        Assert.InRange(difference, 0.0, 1e-4);
        Assert.InRange(noiseMean, -0.005, 0.005);
        Assert.InRange(noiseStd, 0.097, 0.103);
    }

    [Fact]
    public void The_fused_AdamW_step_matches_libtorchs_AdamW()
    {
        // Parameters start at unit scale and gradients grow to ~30, so the moments reach ~100:
        // the bounds are a few float rounding steps of those magnitudes, far below one step's update.
        var (parameters, moments, steps) = TorchNative.SelfTestAdamW();

        Assert.Equal(6, steps);
        Assert.InRange(parameters, 0.0, 2e-6);
        Assert.InRange(moments, 0.0, 1e-3);
    }

    [Theory]
    [InlineData(EncoderKind.ResNet18)]
    [InlineData(EncoderKind.ResNet50)]
    public void Embeddings_match_python_torch_on_the_saved_checkpoint(EncoderKind encoder)
    {
        using var temp = new TempFolder();
        TorchNative.SetThreads(2);
        const int count = 6, size = 64;
        var (batch, patches) = Batch(count, size, seed: 11);
        var embeddings = new float[count * 16];
        using (var model = TorchModel.Create(Config(encoder)))
        {
            model.SetNormalization(Statistics(patches));
            // Training moves the batch-norm statistics away from 0 and 1, so the folding matters.
            for (var step = 0; step < 3; step++)
            {
                model.TrainStep(batch);
            }

            model.Embed(batch, embeddings);
            var again = new float[embeddings.Length];
            model.Embed(batch, again);
            Assert.Equal(embeddings, again);
            model.Save(temp["m.pt"], null);
        }

        var raw = new float[count * 14 * size * size];
        for (var i = 0; i < count; i++)
        {
            patches[i].S2!.CopyTo(raw, i * 14 * size * size);
            patches[i].S1!.CopyTo(raw, (i * 14 + 12) * size * size);
        }

        File.WriteAllBytes(temp["input.f32"], MemoryMarshal.AsBytes(raw.AsSpan()).ToArray());
        var python = DebianPython.RunScript("embed_checkpoint.py", temp["m.pt"], temp["input.f32"], $"{count}", $"{size}", $"{size}");
        var expected = python.GetProperty("embeddings").EnumerateArray().SelectMany(row => row.EnumerateArray().Select(v => v.GetSingle())).ToArray();

        Assert.Equal(expected.Length, embeddings.Length);
        var scale = expected.Max(Math.Abs);
        Assert.True(scale > 0);
        for (var k = 0; k < expected.Length; k++)
        {
            Assert.True(Math.Abs(expected[k] - embeddings[k]) <= 1e-4 * scale + 1e-5, $"embedding value {k}: module {embeddings[k]}, python {expected[k]}");
        }
    }

    [Fact]
    public void Training_steps_are_reproducible_for_a_seed()
    {
        TorchNative.SetThreads(2);
        var (batch, _) = Batch(6, 64, seed: 4);
        float[] Run()
        {
            using var model = TorchModel.Create(Config(EncoderKind.ResNet18));
            return Enumerable.Range(0, 3).Select(_ => model.TrainStep(batch)).ToArray();
        }

        var first = Run();
        var second = Run();

        Assert.Equal(first, second);
    }
}

/// <summary>
/// The block cache's statistics are process-wide, so this test runs alone (after every parallel
/// collection), where no other test's model allocates at the same time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SoloTorchCollection
{
    public const string Name = "Torch, alone";
}

/// <summary>The engine's CPU block cache.</summary>
[Collection(SoloTorchCollection.Name)]
public sealed class BlockCacheTests
{
    [Fact]
    public void The_block_cache_serves_later_steps_and_empties_on_request()
    {
        TorchNative.SetThreads(2);
        var (batch, _) = EngineSpeedPathTests.Batch(4, 64, seed: 2);
        using var model = TorchModel.Create(NativeConfigs.Small(EncoderKind.ResNet18, embeddingDim: 16, seed: 5, learningRate: 1e-2));
        model.TrainStep(batch);
        var afterFirst = TorchNative.CpuCacheStats();
        model.TrainStep(batch);
        model.TrainStep(batch);
        var afterThird = TorchNative.CpuCacheStats();

        // Steady state: the later steps' large buffers come from the cache, not from new blocks.
        Assert.True(afterThird.Hits - afterFirst.Hits > 10, $"{afterThird.Hits - afterFirst.Hits} cache hits in two steps");
        Assert.True(afterThird.Misses - afterFirst.Misses <= (afterThird.Hits - afterFirst.Hits) / 10, $"{afterThird.Misses - afterFirst.Misses} misses");
        Assert.True(afterThird.CachedBytes > 0);
        try
        {
            TorchNative.SetCpuCacheLimit(0);
            Assert.Equal(0, TorchNative.CpuCacheStats().CachedBytes);
            var loss = model.TrainStep(batch);
            Assert.True(float.IsFinite(loss));
            Assert.Equal(0, TorchNative.CpuCacheStats().CachedBytes);
        }
        finally
        {
            TorchNative.SetCpuCacheLimit(4L << 30);
        }

        Assert.Throws<Errors.DeepSentinelException>(() => TorchNative.SetCpuCacheLimit(-1));
    }
}
