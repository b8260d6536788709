using System.Text.Json;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.FineTuning;
using DeepSentinel.Core.Interop.Torch;
using DeepSentinel.Core.Tests.Training;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Tests.FineTuning;

/// <summary>
/// Fine-tuning robustness (issue 14): a resumed classifier (weights, head and AdamW state) takes
/// exactly the steps an uninterrupted one takes; the augmentation is seeded and can be turned off;
/// a cancelled run leaves a resume checkpoint and no card, and -Resume finishes it with the same
/// epoch count; an unfinished folder is never taken for a finished one.
/// </summary>
// Runs with the other engine tests: model creation seeds libtorch's global generator.
[Collection(DeepSentinel.Core.Tests.Training.TorchCollection.Name)]
public sealed class FineTuningRobustTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ds-finetune-robust-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static NativeModelConfig EncoderConfig()
    {
        var config = NativeModelConfig.Create();
        config.Encoder = (int)EncoderKind.ResNet18;
        config.Method = (int)PretrainingMethod.SimClr;
        config.S2Channels = 12;
        config.EmbeddingDim = 8;
        config.ProjectionDim = 8;
        config.UNetWidth = 8;
        config.Seed = 3;
        config.LearningRate = 1e-3;
        config.Temperature = 0.2;
        return config;
    }

    private static NativeClassifierConfig HeadConfig()
    {
        var config = NativeClassifierConfig.Create();
        config.Classes = 3;
        config.Seed = 5;
        config.HeadLearningRate = 1e-2;
        config.EncoderLearningRate = 1e-3;
        config.WeightDecay = 1e-4;
        return config;
    }

    // Two fixed batches of 4 patches (32 x 32, not symmetric, so a flip or a turn changes them).
    private static (PatchBatch Batch, float[] Targets)[] Batches()
    {
        var result = new (PatchBatch, float[])[2];
        for (var b = 0; b < 2; b++)
        {
            var batch = new PatchBatch(4, 12, 0, 32, 32);
            for (var i = 0; i < 4; i++)
            {
                var random = new Random((b * 10) + i);
                var s2 = new float[12 * 32 * 32];
                for (var k = 0; k < s2.Length; k++)
                {
                    s2[k] = (random.NextSingle() * 2) - 1 + ((k % 32) * 0.05f);
                }

                batch.Add(new TrainingPatch($"p{b}{i}", 32, 32, s2, null));
            }

            result[b] = (batch, [0, 1, 2, (float)b]);
        }

        return result;
    }

    private static List<float> Train(TorchClassifier classifier, int steps, int first = 0)
    {
        var batches = Batches();
        return Enumerable.Range(first, steps).Select(s => classifier.TrainStep(batches[s % 2].Batch, batches[s % 2].Targets)).ToList();
    }

    [Fact]
    public void A_resumed_classifier_takes_the_same_steps_as_an_uninterrupted_one()
    {
        var saved = HeadResume.AssertResumedStepsMatch(_folder, () => TorchModel.Create(EncoderConfig()), model => TorchClassifier.Create(model, HeadConfig()),
            (head, steps, first) => Train((TorchClassifier)head, steps, first));
        var encoder = saved.Encoder;

        // A missing optimizer state is a clear error, not a silent fresh start.
        using var other = TorchModel.Load(encoder, null, TrainingDevice.Cpu);
        using var again = TorchClassifier.Create(other, HeadConfig());
        var e = Assert.Throws<DeepSentinelException>(() => again.LoadOptimizer(Path.Combine(_folder, "none.optim")));
        Assert.Contains("optimizer state", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void The_augmentation_is_seeded_changes_the_input_and_can_be_turned_off()
    {
        TorchNative.EnsureLoaded();
        List<float> Run(bool augment, long seed = 3)
        {
            using var model = TorchModel.Create(EncoderConfig() with { Seed = seed });
            using var classifier = TorchClassifier.Create(model, HeadConfig());
            classifier.SetAugmentation(augment);
            return Train(classifier, 4);
        }

        var plain = Run(false);
        Assert.Equal(plain, Run(false));
        var augmented = Run(true);
        Assert.Equal(augmented, Run(true));
        Assert.NotEqual(plain, augmented);
        // The first step's input differs from the plain one (flips or turns of asymmetric patches).
        Assert.NotEqual(plain[0], augmented[0]);
    }

    private static CorpusSplit Split() =>
        SplitService.Split(FineTuningTests.Generated(6, 2, 32), new CorpusSplitOptions { BlockBy = SplitBlocking.Sample, Seed = 1 }, new RecordingReporter());

    private FineTuningOptions Options(string name, int epochs, bool resume = false) => new()
    {
        OutputFolder = Path.Combine(_folder, name), Epochs = epochs, BatchSize = 4, EmbeddingDimension = 8, Threads = 2, Sensors = SensorInput.S2, Resume = resume,
    };

    [Fact]
    public async Task Cancelled_fine_tuning_leaves_a_checkpoint_and_no_card_and_resume_finishes_the_epochs()
    {
        var split = Split();
        var options = Options("stopped", epochs: 6);
        using var stop = new CancellationTokenSource();
        var reporter = new RecordingReporter
        {
            // Cancel inside the fourth epoch (two steps per epoch: 8 training samples, batch 4).
            OnProgress = p =>
            {
                if (p.Status.StartsWith("epoch 4/", StringComparison.Ordinal))
                {
                    stop.Cancel();
                }
            },
        };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new FineTuningService().RunAsync(split, null, options, reporter, stop.Token));
        var folder = options.OutputFolder;
        Assert.False(File.Exists(Path.Combine(folder, ClassifierCard.FileName)));
        Assert.Contains(reporter.Warnings, w => w.Contains("Continue with -Resume", StringComparison.Ordinal));
        var latest = JsonSerializer.Deserialize<FineTuningCheckpointInfo>(File.ReadAllText(Path.Combine(folder, "checkpoints", "latest.json")), ModelCard.Json)!;
        Assert.Equal(3, latest.Epoch);
        Assert.True(latest.Step > 6, $"step {latest.Step}: the partial fourth epoch's step is kept");
        Assert.True(File.Exists(Path.Combine(folder, latest.Encoder)) && File.Exists(Path.Combine(folder, latest.Head)) && File.Exists(Path.Combine(folder, latest.Optimizer)));
        Assert.Empty(Directory.GetFiles(Path.Combine(folder, "checkpoints"), "*.partial"));
        Assert.Single(Directory.GetFiles(Path.Combine(folder, "checkpoints"), "step-*.head.pt"));
        Assert.Throws<DeepSentinelException>(() => ClassificationModel.Import(folder));

        // Without -Resume the unfinished folder is refused; with other classes it is refused too.
        var refused = await Assert.ThrowsAsync<DeepSentinelException>(() => new FineTuningService().RunAsync(split, null, options, new RecordingReporter(), CancellationToken.None));
        Assert.Equal(ErrorIds.ModelFolderNotEmpty, refused.ErrorId);
        Assert.Contains("-Resume", refused.Message, StringComparison.Ordinal);
        var mixed = await Assert.ThrowsAsync<DeepSentinelException>(() => new FineTuningService().RunAsync(split, null, options with { Resume = true, Task = ClassificationTask.MultiLabel }, new RecordingReporter(), CancellationToken.None));
        Assert.Equal(ErrorIds.ModelInputMismatch, mixed.ErrorId);

        var resumedReporter = new RecordingReporter();
        var model = await new FineTuningService().RunAsync(split, null, options with { Resume = true }, resumedReporter, CancellationToken.None);
        Assert.Contains(resumedReporter.Verbose, v => v.Contains("Resuming", StringComparison.Ordinal) && v.Contains("after 3 of 6 epochs", StringComparison.Ordinal));
        Assert.Equal(6, model.Card.Epochs);
        Assert.Equal(latest.Step + (3 * 2), model.Card.Steps);
        var epochs = File.ReadAllLines(Path.Combine(folder, "fine-tuning.csv")).Skip(1).Select(l => int.Parse(l.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal([1, 2, 3, 4, 5, 6], epochs);
        Assert.NotNull(model.Evaluation);
        Assert.True(double.IsFinite(model.Card.FinalLoss));
        // Finished: the resume files are gone, the card is there, and the folder imports.
        Assert.False(File.Exists(Path.Combine(folder, "checkpoints", "latest.json")));
        Assert.Empty(Directory.GetFiles(Path.Combine(folder, "checkpoints"), "step-*"));
        Assert.Equal(6, ClassificationModel.Import(folder).Card.Epochs);
        // -Resume once finished (a rerun after a kill that came after the card) trains nothing and says so.
        var finishedReporter = new RecordingReporter();
        var again = await new FineTuningService().RunAsync(split, null, options with { Resume = true }, finishedReporter, CancellationToken.None);
        Assert.Equal(model.Card.Steps, again.Card.Steps);
        Assert.Contains(finishedReporter.Warnings, w => w.Contains("nothing was trained", StringComparison.Ordinal));
        var refusedAgain = await Assert.ThrowsAsync<DeepSentinelException>(() => new FineTuningService().RunAsync(split, null, options, new RecordingReporter(), CancellationToken.None));
        Assert.Equal(ErrorIds.ModelFolderNotEmpty, refusedAgain.ErrorId);
    }

    [Fact]
    public async Task Resume_without_a_checkpoint_starts_over_with_a_warning_and_no_augmentation_is_recorded()
    {
        var reporter = new RecordingReporter();
        var model = await new FineTuningService().RunAsync(Split(), null, Options("fresh", epochs: 1, resume: true) with { Augment = false }, reporter, CancellationToken.None);
        Assert.Contains(reporter.Warnings, w => w.Contains("no fine-tuning checkpoint", StringComparison.Ordinal));
        Assert.False(model.Card.Options!.Augment);
        Assert.Equal(1, model.Card.Epochs);
    }
}
