using System.Globalization;
using System.Text.Json;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.FineTuning;
using DeepSentinel.Core.Interop.Torch;
using DeepSentinel.Core.Training;
using RecordingReporter = DeepSentinel.Core.Tests.Training.RecordingReporter;

namespace DeepSentinel.Core.Tests.FineTuning;

/// <summary>
/// Segmentation robustness (issue 14), as <see cref="FineTuningRobustTests"/> is classification's:
/// a resumed segmenter (UNet, head and the AdamW state of both parameter groups) takes the steps an
/// uninterrupted one takes, and with fresh optimizer moments it does not; a cancelled training
/// leaves a resume checkpoint and no card, -Resume finishes it with each epoch logged once, and a
/// folder of another run, another kind or no -Resume is refused.
/// </summary>
// Runs with the other engine tests: model creation seeds libtorch's global generator.
[Collection(DeepSentinel.Core.Tests.Training.TorchCollection.Name)]
public sealed class SegmentationRobustTests : IDisposable
{
    private const int Size = 32;
    private readonly string _folder = Directory.CreateTempSubdirectory("ds-segment-robust-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static NativeModelConfig UNetConfig()
    {
        var config = NativeModelConfig.Create();
        config.Encoder = (int)EncoderKind.UNet;
        config.Method = (int)PretrainingMethod.SimClr;
        config.S2Channels = 12;
        config.S1Channels = 2;
        config.EmbeddingDim = 16;
        config.ProjectionDim = 16;
        config.UNetWidth = 8;
        config.Seed = 3;
        config.LearningRate = 1e-3;
        config.Temperature = 0.2;
        return config;
    }

    private static NativeSegmenterConfig HeadConfig(bool frozen)
    {
        var config = NativeSegmenterConfig.Create();
        config.Classes = 3;
        config.FreezeEncoder = frozen ? 1 : 0;
        config.Seed = 5;
        config.HeadLearningRate = 1e-2;
        config.EncoderLearningRate = 1e-3;
        config.WeightDecay = 1e-4;
        return config;
    }

    // Two fixed batches of 2 generated patches each, with their per-pixel targets (-1: the unlabelled top row).
    private static (PatchBatch Batch, int[] Targets)[] Batches()
    {
        var result = new (PatchBatch, int[])[2];
        for (var b = 0; b < 2; b++)
        {
            var batch = new PatchBatch(2, 12, 2, Size, Size);
            var targets = new int[2 * Size * Size];
            for (var i = 0; i < 2; i++)
            {
                var patch = new SegmentationTests.GeneratedPixels($"p{b}{i}", (b + i) % 3, (b + i + 1) % 3, (b * 10) + i);
                batch.Add(patch.LoadTrainingPatchAsync(CancellationToken.None).AsTask().Result);
                var labels = patch.LoadPixelLabelsAsync(SegmentationLabelSource.Clc, 1, CancellationToken.None).AsTask().Result!;
                labels.Index.CopyTo(targets.AsSpan(i * Size * Size));
            }

            result[b] = (batch, targets);
        }

        return result;
    }

    private static List<float> Train(TorchSegmenter segmenter, int steps, int first = 0)
    {
        var batches = Batches();
        return Enumerable.Range(first, steps).Select(s => segmenter.TrainStep(batches[s % 2].Batch, batches[s % 2].Targets)).ToList();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_resumed_segmenter_takes_the_same_steps_as_an_uninterrupted_one(bool frozen)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_folder, $"frozen-{frozen}")).FullName;
        TorchNative.EnsureLoaded();
        TorchNative.SetThreads(2);
        var saved = HeadResume.AssertResumedStepsMatch(folder, () => TorchModel.Create(UNetConfig()), model => TorchSegmenter.Create(model, HeadConfig(frozen)),
            (head, steps, first) => Train((TorchSegmenter)head, steps, first));
        var (encoder, optimizer) = (saved.Encoder, saved.Optimizer);

        // A missing optimizer state is a clear error; a frozen segmenter's state (one group) does not fit a trained one's (two).
        using var other = TorchModel.Load(encoder, null, TrainingDevice.Cpu);
        using var again = TorchSegmenter.Create(other, HeadConfig(!frozen));
        var missing = Assert.Throws<DeepSentinelException>(() => again.LoadOptimizer(Path.Combine(_folder, "none.optim")));
        Assert.Contains("optimizer state", missing.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Throws<DeepSentinelException>(() => again.LoadOptimizer(optimizer));
    }

    private static CorpusSplit Split() => SplitService.Split(
        Enumerable.Range(0, 12).Select(i => (ITrainingPatchProvider)new SegmentationTests.GeneratedPixels($"p{i:D3}", i % 3, (i + 1) % 3, 100 + i)).ToList(),
        new CorpusSplitOptions { BlockBy = SplitBlocking.Sample, Seed = 1 }, new RecordingReporter());

    private SegmentationOptions Options(string name, int epochs, bool resume = false) => new()
    {
        OutputFolder = Path.Combine(_folder, name), Epochs = epochs, BatchSize = 4, UNetWidth = 8, LearningRate = 1e-2, Threads = 2, Seed = 1, Resume = resume,
    };

    private static List<int> LoggedEpochs(string folder) => Logged(folder, 0).Select(v => (int)v).ToList();

    private static List<long> LoggedSteps(string folder) => Logged(folder, 1).Select(v => (long)v).ToList();

    private static List<double> LoggedLosses(string folder) => Logged(folder, 2);

    private static List<double> Logged(string folder, int column) =>
        File.ReadAllLines(Path.Combine(folder, "fine-tuning.csv")).Skip(1).Select(l => double.Parse(l.Split(',')[column], CultureInfo.InvariantCulture)).ToList();

    [Fact]
    public async Task Cancelled_segmentation_leaves_a_checkpoint_and_no_card_and_resume_finishes_the_epochs()
    {
        var split = Split();
        var options = Options("stopped", epochs: 5);
        using var stop = new CancellationTokenSource();
        var reporter = new RecordingReporter
        {
            // Cancel inside the third epoch (two full batches per epoch: 8 training patches, batch 4).
            OnProgress = p =>
            {
                if (p.Status.StartsWith("epoch 3/", StringComparison.Ordinal))
                {
                    stop.Cancel();
                }
            },
        };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new SegmentationService().RunAsync(split, null, options, reporter, stop.Token));
        var folder = options.OutputFolder;
        Assert.False(File.Exists(Path.Combine(folder, SegmenterCard.FileName)));
        Assert.Contains(reporter.Warnings, w => w.Contains("Segmentation training stopped at step", StringComparison.Ordinal) && w.Contains("Continue with -Resume", StringComparison.Ordinal));
        var latestPath = Path.Combine(folder, "checkpoints", "latest.json");
        var latest = JsonSerializer.Deserialize<SegmentationCheckpointInfo>(File.ReadAllText(latestPath), ModelCard.Json)!;
        Assert.Equal("segmenter", latest.Model);
        Assert.Equal(2, latest.Epoch);
        Assert.Equal([1, 2], LoggedEpochs(folder));
        var stepsPerEpoch = LoggedSteps(folder)[0];
        Assert.True(latest.Step > 2 * stepsPerEpoch, $"step {latest.Step}: the partial third epoch's step is kept");
        Assert.True(File.Exists(Path.Combine(folder, latest.Encoder)) && File.Exists(Path.Combine(folder, latest.Head)) && File.Exists(Path.Combine(folder, latest.Optimizer)));
        Assert.Empty(Directory.GetFiles(Path.Combine(folder, "checkpoints"), "*.partial"));
        Assert.Single(Directory.GetFiles(Path.Combine(folder, "checkpoints"), "step-*.head.pt"));
        Assert.Throws<DeepSentinelException>(() => SegmentationModel.Import(folder));

        // Without -Resume the unfinished folder is refused; with other classes, or another label level, it is refused too.
        var refused = await Assert.ThrowsAsync<DeepSentinelException>(() => new SegmentationService().RunAsync(split, null, options, new RecordingReporter(), CancellationToken.None));
        Assert.Equal(ErrorIds.ModelFolderNotEmpty, refused.ErrorId);
        Assert.Contains("-Resume", refused.Message, StringComparison.Ordinal);
        var reordered = await Assert.ThrowsAsync<DeepSentinelException>(() => new SegmentationService().RunAsync(split, null, options with { Resume = true, Classes = ["class2", "class1", "class0"] }, new RecordingReporter(), CancellationToken.None));
        Assert.Equal(ErrorIds.ModelInputMismatch, reordered.ErrorId);
        var level = await Assert.ThrowsAsync<DeepSentinelException>(() => new SegmentationService().RunAsync(split, null, options with { Resume = true, ClcLevel = 2 }, new RecordingReporter(), CancellationToken.None));
        Assert.Equal(ErrorIds.ModelInputMismatch, level.ErrorId);
        // Nor does a classifier's fine-tuning take it over.
        var classifier = await Assert.ThrowsAsync<DeepSentinelException>(() => new FineTuningService().RunAsync(split, null,
            new FineTuningOptions { OutputFolder = folder, Epochs = 1, BatchSize = 4, EmbeddingDimension = 8, Threads = 2, Sensors = SensorInput.S2, Resume = true }, new RecordingReporter(), CancellationToken.None));
        Assert.Equal(ErrorIds.ModelInputMismatch, classifier.ErrorId);
        Assert.True(File.Exists(latestPath), "a refused run leaves the checkpoint as it was");

        var resumedReporter = new RecordingReporter();
        var model = await new SegmentationService().RunAsync(split, null, options with { Resume = true }, resumedReporter, CancellationToken.None);
        Assert.Contains(resumedReporter.Verbose, v => v.Contains("Resuming", StringComparison.Ordinal) && v.Contains("after 2 of 5 epochs", StringComparison.Ordinal));
        Assert.Equal(5, model.Card.Epochs);
        // The interrupted epoch is trained again from its beginning: 3 whole epochs after the checkpoint's steps.
        Assert.Equal(latest.Step + (3 * stepsPerEpoch), model.Card.Steps);
        Assert.Equal([1, 2, 3, 4, 5], LoggedEpochs(folder));
        Assert.NotNull(model.Evaluation);
        Assert.True(double.IsFinite(model.Card.FinalLoss));
        // Finished: the resume files are gone, the card is there, and the folder imports.
        Assert.False(File.Exists(latestPath));
        Assert.Empty(Directory.GetFiles(Path.Combine(folder, "checkpoints"), "step-*"));
        Assert.Equal(5, SegmentationModel.Import(folder).Card.Epochs);

        // -Resume once finished (a rerun after a kill that came after the card) trains nothing and says so.
        var finishedReporter = new RecordingReporter();
        var again = await new SegmentationService().RunAsync(split, null, options with { Resume = true }, finishedReporter, CancellationToken.None);
        Assert.Equal(model.Card.Steps, again.Card.Steps);
        Assert.Contains(finishedReporter.Warnings, w => w.Contains("nothing was trained", StringComparison.Ordinal));
        var refusedAgain = await Assert.ThrowsAsync<DeepSentinelException>(() => new SegmentationService().RunAsync(split, null, options, new RecordingReporter(), CancellationToken.None));
        Assert.Equal(ErrorIds.ModelFolderNotEmpty, refusedAgain.ErrorId);
    }

    [Fact]
    public async Task A_training_stopped_at_an_epoch_boundary_and_resumed_takes_the_same_steps_as_an_uninterrupted_one()
    {
        var split = Split();
        // One step per epoch (the whole training side in one batch): a stop asked for during epoch
        // 1's only step comes at the first sample of epoch 2, right after epoch 1's checkpoint.
        SegmentationOptions Whole(string name) => Options(name, epochs: 3) with { BatchSize = split.Train.Count };
        var whole = await new SegmentationService().RunAsync(split, null, Whole("whole"), new RecordingReporter(), CancellationToken.None);
        Assert.Equal(3, whole.Card.Steps);

        async Task<string> StoppedAfterEpoch1(string name)
        {
            var options = Whole(name);
            using var stop = new CancellationTokenSource();
            var reporter = new RecordingReporter
            {
                OnProgress = p =>
                {
                    if (p.Status.StartsWith("epoch 1/", StringComparison.Ordinal))
                    {
                        stop.Cancel();
                    }
                },
            };
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new SegmentationService().RunAsync(split, null, options, reporter, stop.Token));
            var latest = JsonSerializer.Deserialize<SegmentationCheckpointInfo>(File.ReadAllText(Path.Combine(options.OutputFolder, "checkpoints", "latest.json")), ModelCard.Json)!;
            Assert.Equal((1L, 1), (latest.Step, latest.Epoch));
            return options.OutputFolder;
        }

        var parts = await StoppedAfterEpoch1("parts");
        var resumed = await new SegmentationService().RunAsync(split, null, Whole("parts") with { Resume = true }, new RecordingReporter(), CancellationToken.None);
        Assert.Equal(3, resumed.Card.Steps);
        Assert.Equal([1, 2, 3], LoggedEpochs(parts));
        var expected = LoggedLosses(whole.Path);
        var actual = LoggedLosses(parts);
        for (var e = 0; e < 3; e++)
        {
            Assert.True(Math.Abs(expected[e] - actual[e]) < 1e-4, $"epoch {e + 1}: uninterrupted loss {expected[e]}, resumed {actual[e]}");
        }

        Assert.True(Math.Abs(whole.Card.FinalLoss - resumed.Card.FinalLoss) < 1e-4);
        Assert.Equal(whole.Evaluation!.PixelAccuracy, resumed.Evaluation!.PixelAccuracy, 4);

        // The control: the same resume without the optimizer state (fresh AdamW moments) warns and takes other steps.
        var control = await StoppedAfterEpoch1("control");
        foreach (var optim in Directory.GetFiles(Path.Combine(control, "checkpoints"), "*.optim"))
        {
            File.Delete(optim);
        }

        var controlReporter = new RecordingReporter();
        await new SegmentationService().RunAsync(split, null, Whole("control") with { Resume = true }, controlReporter, CancellationToken.None);
        Assert.Contains(controlReporter.Warnings, w => w.Contains("fresh optimizer moments", StringComparison.Ordinal));
        var fresh = LoggedLosses(control);
        Assert.True(Math.Abs(expected[0] - fresh[0]) < 1e-4, "epoch 1 is the checkpoint's, the same in both");
        Assert.True(Enumerable.Range(1, 2).Any(e => Math.Abs(expected[e] - fresh[e]) > 1e-4), "fresh optimizer moments gave the same losses");
    }

    [Fact]
    public async Task Resume_without_a_checkpoint_starts_over_with_a_warning()
    {
        var reporter = new RecordingReporter();
        var model = await new SegmentationService().RunAsync(Split(), null, Options("fresh", epochs: 1, resume: true), reporter, CancellationToken.None);
        Assert.Contains(reporter.Warnings, w => w.Contains("no segmentation checkpoint", StringComparison.Ordinal));
        Assert.Equal(1, model.Card.Epochs);
        Assert.True(model.Card.Options!.Resume);
    }
}
