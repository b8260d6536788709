using System.Runtime.InteropServices;
using System.Text.Json;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.FineTuning;
using DeepSentinel.Core.Interop.Torch;
using DeepSentinel.Core.Tests.Training;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Tests.FineTuning;

/// <summary>
/// Fine-tuning on the native engine: separable generated classes are learned from scratch, by a
/// linear probe and by fine-tuning; the checkpoints load in python3-torch and give the same
/// probabilities; bad input fails with stable ids and writes nothing.
/// </summary>
// Runs with the other engine tests: model creation seeds libtorch's global generator.
[Collection(DeepSentinel.Core.Tests.Training.TorchCollection.Name)]
public sealed class FineTuningTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ds-finetune-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // Class k's patches are bright in band k (S2) and in VV for class 1: separable by a linear rule.
    internal sealed class GeneratedPatch(string id, string label, int klass, int size, int seed) : IClassLabelledPatch
    {
        public string SampleId => id;

        public IReadOnlyDictionary<string, double> ClassShares { get; } = new Dictionary<string, double> { [label] = 1 };

        public ValueTask<TrainingPatch> LoadTrainingPatchAsync(CancellationToken cancellationToken)
        {
            var random = new Random(seed);
            var plane = size * size;
            var s2 = new float[12 * plane];
            var s1 = new float[2 * plane];
            for (var i = 0; i < s2.Length; i++)
            {
                s2[i] = 800 + (random.NextSingle() * 400) + (i / plane == klass * 3 ? 2500 : 0);
            }

            for (var i = 0; i < s1.Length; i++)
            {
                s1[i] = (0.02f + (random.NextSingle() * 0.02f)) * (klass == 1 && i < plane ? 6 : 1);
            }

            return ValueTask.FromResult(new TrainingPatch(id, size, size, s2, s1));
        }
    }

    internal static List<ITrainingPatchProvider> Generated(int perClass, int classes = 3, int size = 32) =>
        Enumerable.Range(0, perClass * classes).Select(i => (ITrainingPatchProvider)new GeneratedPatch($"g{i:D3}", $"class{i % classes}", i % classes, size, 1000 + i)).ToList();

    private static CorpusSplit Split(int perClass = 12, int classes = 3) =>
        SplitService.Split(Generated(perClass, classes), new CorpusSplitOptions { BlockBy = SplitBlocking.Sample, Seed = 1 }, new RecordingReporter());

    [Fact]
    public async Task From_scratch_a_separable_set_is_learned_and_the_checkpoints_agree_with_python_torch()
    {
        var split = Split();
        var folder = Path.Combine(_folder, "scratch");
        var model = await new FineTuningService().RunAsync(split, null, new FineTuningOptions
        {
            OutputFolder = folder, Epochs = 16, BatchSize = 8, EmbeddingDimension = 16, LearningRate = 3e-3, Threads = 2, Sensors = SensorInput.S2,
        }, new RecordingReporter(), CancellationToken.None);

        Assert.Equal(FineTuningMode.Scratch, model.Mode);
        Assert.Equal(["class0", "class1", "class2"], model.Classes);
        Assert.NotNull(model.Evaluation);
        Assert.True(model.Evaluation!.OverallAccuracy >= 0.9, $"test accuracy {model.Evaluation.OverallAccuracy}; losses:\n{File.ReadAllText(Path.Combine(folder, "fine-tuning.csv"))}");
        foreach (var file in new[] { "classifier-card.json", "checkpoints/encoder.pt", "checkpoints/head.pt", "evaluation.json", "confusion-matrix.png", "test-predictions.csv", "fine-tuning.csv" })
        {
            Assert.True(File.Exists(Path.Combine(folder, file)), file);
        }

        // Python: the encoder checkpoint through an independent ResNet, then the head.
        var imported = ClassificationModel.Import(folder);
        var patches = new List<TrainingPatch>();
        foreach (var s in split.Test.Take(5))
        {
            patches.Add(await s.Patch.LoadTrainingPatchAsync(CancellationToken.None));
        }

        var raw = new float[patches.Count * 12 * 32 * 32];
        for (var i = 0; i < patches.Count; i++)
        {
            patches[i].S2!.CopyTo(raw, i * 12 * 32 * 32);
        }

        var input = Path.Combine(_folder, "input.f32");
        File.WriteAllBytes(input, MemoryMarshal.AsBytes(raw.AsSpan()).ToArray());
        var embeddings = DebianPython.RunScript("embed_checkpoint.py", imported.EncoderCheckpointPath, input, $"{patches.Count}", "32", "32");
        var embeddingsFile = Path.Combine(_folder, "embeddings.json");
        File.WriteAllText(embeddingsFile, embeddings.GetRawText());
        var python = DebianPython.RunFile(Path.Combine("Evaluation", "python", "apply_head.py"), imported.HeadCheckpointPath, embeddingsFile);
        Assert.Equal(3, python.GetProperty("classes").GetInt32());
        Assert.Equal(["bias", "weight"], python.GetProperty("keys").EnumerateArray().Select(k => k.GetString()!));

        using var predictor = ClassPredictor.Open(imported, TrainingDevice.Cpu);
        var predictions = patches.SelectMany(p => predictor.Add(p, null)).ToList();
        predictions.AddRange(predictor.Complete());
        Assert.Equal(patches.Count, predictions.Count);
        for (var i = 0; i < patches.Count; i++)
        {
            for (var c = 0; c < 3; c++)
            {
                var expected = python.GetProperty("probabilities")[i][c].GetDouble();
                Assert.True(Math.Abs(expected - predictions[i].Probability[$"class{c}"]) < 1e-4, $"sample {i} class {c}: module {predictions[i].Probability[$"class{c}"]}, python {expected}");
            }
        }
    }

    [Fact]
    public async Task A_linear_probe_trains_only_the_head_and_fine_tuning_moves_the_encoder()
    {
        var split = Split(perClass: 8, classes: 2);
        var pretrained = await PretrainedAsync();
        var encoderBefore = File.ReadAllBytes(pretrained.CheckpointPath);
        var probe = await new FineTuningService().RunAsync(split, pretrained, new FineTuningOptions
        {
            OutputFolder = Path.Combine(_folder, "probe"), Mode = FineTuningMode.LinearProbe, Epochs = 40, BatchSize = 8, LearningRate = 1e-2, Threads = 2,
        }, new RecordingReporter(), CancellationToken.None);
        var tuned = await new FineTuningService().RunAsync(split, pretrained, new FineTuningOptions
        {
            OutputFolder = Path.Combine(_folder, "tuned"), Mode = FineTuningMode.FineTune, Epochs = 2, BatchSize = 8, Threads = 2, Sensors = SensorInput.S1,
        }, new RecordingReporter(), CancellationToken.None);

        var python = (string file) => DebianPython.RunFile(Path.Combine("Evaluation", "python", "checkpoint_sum.py"), file);
        var original = python(pretrained.CheckpointPath);
        var frozen = python(probe.EncoderCheckpointPath);
        var moved = python(tuned.EncoderCheckpointPath);
        Assert.Equal(original.GetProperty("checksum").GetDouble(), frozen.GetProperty("checksum").GetDouble());
        Assert.NotEqual(original.GetProperty("checksum").GetDouble(), moved.GetProperty("checksum").GetDouble());
        Assert.Equal(encoderBefore, File.ReadAllBytes(pretrained.CheckpointPath));
        Assert.Equal(SensorInput.S1, tuned.Sensors);
        Assert.Equal(FineTuningMode.LinearProbe, probe.Card.Mode);
        Assert.Equal(pretrained.Path, probe.Card.SourceModel);
        Assert.True(probe.Evaluation!.OverallAccuracy >= 0.75, $"probe accuracy {probe.Evaluation.OverallAccuracy}; losses:\n{File.ReadAllText(Path.Combine(probe.Path, "fine-tuning.csv"))}");
    }

    [Fact]
    public async Task Class_weights_are_balanced_from_training_counts()
    {
        var patches = Generated(10, 2).Concat(Enumerable.Range(0, 20).Select(i => (ITrainingPatchProvider)new GeneratedPatch($"extra{i}", "class0", 0, 32, 5000 + i))).ToList();
        var split = SplitService.Split(patches, new CorpusSplitOptions { BlockBy = SplitBlocking.Sample }, new RecordingReporter());
        var options = new FineTuningOptions { OutputFolder = "x" };
        var classes = new[] { "class0", "class1" };
        var weights = FineTuningService.ClassWeights(split.Train, classes, options);
        var n0 = split.Train.Count(s => s.DominantClass == "class0");
        var n1 = split.Train.Count(s => s.DominantClass == "class1");
        Assert.Equal((n0 + n1) / (2.0 * n0), weights[0], 12);
        Assert.Equal((n0 + n1) / (2.0 * n1), weights[1], 12);
        Assert.True(weights[1] > weights[0]);
        Assert.Equal([1.0, 1.0], FineTuningService.ClassWeights(split.Train, classes, options with { Weighting = ClassWeighting.None }));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Bad_input_has_stable_ids_and_writes_nothing()
    {
        var split = Split(perClass: 4, classes: 2);
        async Task<DeepSentinelException> Fails(FineTuningOptions o, EmbeddingModel? m = null) =>
            await Assert.ThrowsAsync<DeepSentinelException>(() => new FineTuningService().RunAsync(split, m, o, new RecordingReporter(), CancellationToken.None));

        var folder = Path.Combine(_folder, "bad");
        Assert.Equal(ErrorIds.ClassNotInTraining, (await Fails(new FineTuningOptions { OutputFolder = folder, Classes = ["class0", "nope"] })).ErrorId);
        Assert.Equal(ErrorIds.InvalidParameterValue, (await Fails(new FineTuningOptions { OutputFolder = folder, Mode = FineTuningMode.LinearProbe })).ErrorId);
        Assert.False(Directory.Exists(folder));

        var one = SplitService.Split(Generated(6, 1), new CorpusSplitOptions { BlockBy = SplitBlocking.Sample }, new RecordingReporter());
        var single = await Assert.ThrowsAsync<DeepSentinelException>(() => new FineTuningService().RunAsync(one, null, new FineTuningOptions { OutputFolder = folder }, new RecordingReporter(), CancellationToken.None));
        Assert.Equal(ErrorIds.ClassNotInTraining, single.ErrorId);
        Assert.Contains("at least 2", single.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void Native_classifier_calls_validate_their_input()
    {
        TorchNative.EnsureLoaded();
        var config = NativeModelConfig.Create();
        config.Encoder = (int)EncoderKind.ResNet18;
        config.Method = (int)PretrainingMethod.SimClr;
        config.S2Channels = 12;
        config.EmbeddingDim = 8;
        config.ProjectionDim = 8;
        config.UNetWidth = 8;
        config.LearningRate = 1e-3;
        config.Temperature = 0.2;
        using var model = TorchModel.Create(config);
        var bad = NativeClassifierConfig.Create();
        bad.Classes = 1;
        bad.HeadLearningRate = 1e-3;
        bad.EncoderLearningRate = 1e-3;
        var e = Assert.Throws<DeepSentinelException>(() => TorchClassifier.Create(model, bad));
        Assert.Equal(ErrorIds.TrainingInputInvalid, e.ErrorId);
        Assert.Contains("2-1000 classes", e.Message, StringComparison.Ordinal);

        var good = bad with { Classes = 2 };
        using var classifier = TorchClassifier.Create(model, good);
        var batch = new PatchBatch(2, 12, 0, 32, 32);
        foreach (var p in Generated(1, 2).Select(p => p.LoadTrainingPatchAsync(CancellationToken.None).AsTask().Result))
        {
            batch.Add(new TrainingPatch(p.SampleId, 32, 32, p.S2, null));
        }

        Assert.Contains("class indices 0-1", Assert.Throws<DeepSentinelException>(() => classifier.TrainStep(batch, [0, 5])).Message, StringComparison.Ordinal);
        Assert.Contains("Targets hold 1 values, expected 2", Assert.Throws<DeepSentinelException>(() => classifier.TrainStep(batch, [0])).Message, StringComparison.Ordinal);
        Assert.Equal(ErrorIds.ModelHandleInvalid, Assert.Throws<DeepSentinelException>(() => TorchNative.ClassifierTrainStep(0, default, [0])).ErrorId);
        Assert.Throws<DeepSentinelException>(() => classifier.SetClassWeights([1, -1]));
        Assert.True(float.IsFinite(classifier.TrainStep(batch, [0, 1])));
        Assert.Equal(1, classifier.Step);
        Assert.Equal(ErrorIds.ModelHandleInvalid, Assert.Throws<DeepSentinelException>(() => TorchNative.ClassifierStep(model.RawHandle)).ErrorId);
    }

    private async Task<EmbeddingModel> PretrainedAsync()
    {
        var source = new PatchSpool("generated");
        foreach (var p in Generated(4, 2))
        {
            await source.AddAsync(await p.LoadTrainingPatchAsync(CancellationToken.None), CancellationToken.None);
        }

        return await new PretrainingService().RunAsync(source, new PretrainingOptions
        {
            OutputFolder = Path.Combine(_folder, "pretrained"), Epochs = 1, BatchSize = 4, EmbeddingDimension = 16, Threads = 2,
        }, new RecordingReporter(), CancellationToken.None);
    }
}
