using DeepSentinel.Core.Interop.Torch;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Tests.FineTuning;

/// <summary>
/// The resume check both heads (classifier, segmenter) pass: a head that trained 3 steps, was saved
/// (weights and AdamW state) and restored takes the same next 3 steps (losses to 1e-4) as one that
/// never stopped; the control with fresh optimizer moments takes other steps, so the check sees the
/// optimizer state.
/// </summary>
internal static class HeadResume
{
    /// <summary>The saved files, for further checks.</summary>
    /// <param name="Encoder">The encoder checkpoint.</param>
    /// <param name="Head">The head checkpoint.</param>
    /// <param name="Optimizer">The AdamW state.</param>
    public sealed record Saved(string Encoder, string Head, string Optimizer);

    /// <param name="folder">Where the checkpoints go.</param>
    /// <param name="newModel">A fresh encoder model, the same each call.</param>
    /// <param name="newHead">The head on a model, the same config each call.</param>
    /// <param name="train">Trains steps (count) from step first, giving the losses.</param>
    public static Saved AssertResumedStepsMatch(string folder, Func<TorchModel> newModel, Func<TorchModel, TorchHead> newHead, Func<TorchHead, int, int, List<float>> train)
    {
        TorchNative.EnsureLoaded();
        List<float> continuous;
        using (var model = newModel())
        using (var head = newHead(model))
        {
            continuous = train(head, 6, 0);
        }

        var saved = new Saved(Path.Combine(folder, "e.pt"), Path.Combine(folder, "h.pt"), Path.Combine(folder, "o.optim"));
        using (var model = newModel())
        using (var head = newHead(model))
        {
            var first = train(head, 3, 0);
            for (var i = 0; i < 3; i++)
            {
                Assert.True(Math.Abs(continuous[i] - first[i]) < 1e-4, $"step {i + 1}: {continuous[i]} against {first[i]}: the runs are not reproducible");
            }

            head.Save(saved.Encoder, saved.Head);
            head.SaveOptimizer(saved.Optimizer);
        }

        Assert.Empty(Directory.GetFiles(folder, "*.partial"));
        List<float> Resumed(bool withOptimizer)
        {
            using var model = TorchModel.Load(saved.Encoder, null, TrainingDevice.Cpu);
            using var head = newHead(model);
            head.LoadHead(saved.Head);
            Assert.Equal(3, head.Step);
            if (withOptimizer)
            {
                head.LoadOptimizer(saved.Optimizer);
            }

            return train(head, 3, 3);
        }

        var resumed = Resumed(withOptimizer: true);
        for (var i = 0; i < 3; i++)
        {
            Assert.True(Math.Abs(continuous[3 + i] - resumed[i]) < 1e-4, $"step {4 + i}: uninterrupted {continuous[3 + i]}, resumed {resumed[i]}");
        }

        var fresh = Resumed(withOptimizer: false);
        Assert.True(Enumerable.Range(0, 3).Any(i => Math.Abs(continuous[3 + i] - fresh[i]) > 1e-4), "fresh optimizer moments gave the same losses");
        return saved;
    }
}
