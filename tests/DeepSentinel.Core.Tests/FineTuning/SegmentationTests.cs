using System.Runtime.InteropServices;
using System.Text.Json;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Evaluation;
using DeepSentinel.Core.FineTuning;
using DeepSentinel.Core.Interop.Torch;
using DeepSentinel.Core.Tests.TestServers;
using DeepSentinel.Core.Tests.Training;
using DeepSentinel.Core.Training;
using RecordingReporter = DeepSentinel.Core.Tests.Training.RecordingReporter;

namespace DeepSentinel.Core.Tests.FineTuning;

/// <summary>
/// Segmentation on the native engine: separable generated pixel classes are learned to a high
/// mean IoU; the checkpoints load in python3-torch and give the same probabilities; the metrics
/// equal python3-sklearn's; label COGs read back with gdalinfo and rasterio; bad input fails with
/// stable ids and writes nothing.
/// </summary>
// Runs with the other engine tests: model creation seeds libtorch's global generator.
[Collection(DeepSentinel.Core.Tests.Training.TorchCollection.Name)]
public sealed class SegmentationTests : IDisposable
{
    private const int Size = 32;
    private readonly string _folder = Directory.CreateTempSubdirectory("ds-segment-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // Each patch: a vertical boundary at a seed-dependent column; class a left, class b right, and
    // the top row unlabelled (ignored). Class k is bright in S2 band 3k and, for class 1, in VV.
    internal sealed class GeneratedPixels(string id, int a, int b, int seed, bool labelled = true) : IClassLabelledPatch, IPixelLabelledPatch
    {
        public string SampleId => id;

        public int Boundary { get; } = 8 + (seed % 17);

        public IReadOnlyDictionary<string, double> ClassShares => new Dictionary<string, double> { [$"class{a}"] = 0.5, [$"class{b}"] = 0.5 };

        public int ClassAt(int x) => x < Boundary ? a : b;

        public ValueTask<TrainingPatch> LoadTrainingPatchAsync(CancellationToken cancellationToken)
        {
            var random = new Random(seed);
            var plane = Size * Size;
            var s2 = new float[12 * plane];
            var s1 = new float[2 * plane];
            for (var i = 0; i < s2.Length; i++)
            {
                var k = ClassAt(i % Size);
                s2[i] = 800 + (random.NextSingle() * 400) + (i / plane == k * 3 ? 2500 : 0);
            }

            for (var i = 0; i < s1.Length; i++)
            {
                s1[i] = (0.02f + (random.NextSingle() * 0.02f)) * (ClassAt(i % Size) == 1 && i < plane ? 6 : 1);
            }

            return ValueTask.FromResult(new TrainingPatch(id, Size, Size, s2, s1)
            {
                Georeference = new PatchGeoreference(32631, [448_000 + (seed * 320), 10, 0, 5_411_000, 0, -10]),
            });
        }

        public ValueTask<PixelLabelMap?> LoadPixelLabelsAsync(SegmentationLabelSource source, int clcLevel, CancellationToken cancellationToken)
        {
            if (!labelled)
            {
                return ValueTask.FromResult<PixelLabelMap?>(null);
            }

            var keys = new[] { "class0", "class1", "class2" };
            var index = new int[Size * Size];
            for (var i = 0; i < index.Length; i++)
            {
                index[i] = i < Size ? -1 : ClassAt(i % Size);
            }

            return ValueTask.FromResult<PixelLabelMap?>(new PixelLabelMap(Size, Size, keys, index));
        }
    }

    private static List<ITrainingPatchProvider> Generated(int count, int classes = 3, int unlabelledEvery = 0) =>
        Enumerable.Range(0, count).Select(i => (ITrainingPatchProvider)new GeneratedPixels($"p{i:D3}", i % classes, (i + 1) % classes, 100 + i, unlabelledEvery == 0 || i % unlabelledEvery != 1)).ToList();

    private static CorpusSplit Split(IReadOnlyList<ITrainingPatchProvider> patches) =>
        SplitService.Split(patches, new CorpusSplitOptions { BlockBy = SplitBlocking.Sample, Seed = 1 }, new RecordingReporter());

    private static SegmentationOptions Options(string folder) => new()
    {
        OutputFolder = folder, Epochs = 12, BatchSize = 4, UNetWidth = 8, LearningRate = 1e-2, Threads = 2, Seed = 1,
    };

    [Fact]
    public async Task From_scratch_separable_pixel_classes_reach_a_high_mean_iou_and_the_checkpoints_agree_with_python_torch()
    {
        var split = Split(Generated(24));
        var folder = Path.Combine(_folder, "scratch");
        var model = await new SegmentationService().RunAsync(split, null, Options(folder), new RecordingReporter(), CancellationToken.None);

        Assert.Equal(FineTuningMode.Scratch, model.Mode);
        Assert.Equal(["class0", "class1", "class2"], model.Classes);
        Assert.NotNull(model.Evaluation);
        Assert.True(model.Evaluation!.MeanIoU >= 0.8, $"test mIoU {model.Evaluation.MeanIoU}; losses:\n{File.ReadAllText(Path.Combine(folder, "fine-tuning.csv"))}");
        // The unlabelled top rows are not counted.
        Assert.Equal(split.Test.Count * (Size - 1) * Size, model.Evaluation.Pixels);
        foreach (var file in new[] { "segmenter-card.json", "checkpoints/encoder.pt", "checkpoints/head.pt", "evaluation.json", "evaluation-classes.csv", "confusion-matrix.csv", "confusion-matrix.png", "fine-tuning.csv" })
        {
            Assert.True(File.Exists(Path.Combine(folder, file)), file);
        }

        // Balanced pixel weights: n / (classes x count), from the training side's labelled pixels.
        var card = model.Card.Classes;
        var total = card.Sum(c => c.TrainPixels);
        foreach (var c in card)
        {
            Assert.Equal(total / (3.0 * c.TrainPixels), c.Weight, 12);
        }

        // Python: the UNet rebuilt from encoder.pt, the head from head.pt, probabilities to 1e-4.
        var imported = SegmentationModel.Import(folder);
        var patches = new List<TrainingPatch>();
        foreach (var s in split.Test.Take(3))
        {
            patches.Add(await s.Patch.LoadTrainingPatchAsync(CancellationToken.None));
        }

        var plane = Size * Size;
        var raw = new float[patches.Count * 14 * plane];
        for (var i = 0; i < patches.Count; i++)
        {
            patches[i].S2!.CopyTo(raw, i * 14 * plane);
            patches[i].S1!.CopyTo(raw, (i * 14 * plane) + (12 * plane));
        }

        var input = Path.Combine(_folder, "input.f32");
        var output = Path.Combine(_folder, "output.f32");
        File.WriteAllBytes(input, MemoryMarshal.AsBytes(raw.AsSpan()).ToArray());
        var python = DebianPython.RunFile(Path.Combine("Evaluation", "python", "apply_segmenter.py"), imported.EncoderCheckpointPath, imported.HeadCheckpointPath, input, $"{patches.Count}", $"{Size}", $"{Size}", output);
        Assert.Equal(3, python.GetProperty("classes").GetInt32());
        Assert.Equal([3, 8, 1, 1], python.GetProperty("weight_shape").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(["bias", "weight"], python.GetProperty("keys").EnumerateArray().Select(k => k.GetString()!));
        var expected = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(output)).ToArray();

        using var unet = TorchModel.Load(imported.EncoderCheckpointPath, null, TrainingDevice.Cpu);
        var config = NativeSegmenterConfig.Create();
        config.Classes = 3;
        config.FreezeEncoder = 1;
        config.HeadLearningRate = 1e-3;
        config.EncoderLearningRate = 1e-3;
        using var segmenter = TorchSegmenter.Create(unet, config);
        segmenter.LoadHead(imported.HeadCheckpointPath);
        var batch = new PatchBatch(patches.Count, 12, 2, Size, Size);
        patches.ForEach(batch.Add);
        var actual = new float[patches.Count * 3 * plane];
        segmenter.Predict(batch, actual);
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst < 1e-4, $"largest difference between module and python probabilities: {worst}");
    }

    [Fact]
    public async Task Label_cogs_lie_on_the_patch_grid_and_the_evaluation_equals_sklearn_on_them()
    {
        var split = Split(Generated(12));
        var model = await new SegmentationService().RunAsync(split, null, Options(Path.Combine(_folder, "m")) with { Epochs = 2 }, new RecordingReporter(), CancellationToken.None);
        var outputs = Path.Combine(_folder, "labels");
        var predictions = new List<SegmentationPrediction>();
        var truths = new List<(GeneratedPixels Patch, PixelLabelMap Labels)>();
        using (var predictor = SegmentationPredictor.Open(model, TrainingDevice.Cpu, outputs, batchSize: 2, threads: 2))
        {
            foreach (var sample in split.Test)
            {
                var labels = (await PixelLabelReader.LoadAsync(sample.Patch, SegmentationLabelSource.Clc, 3, CancellationToken.None))!;
                truths.Add(((GeneratedPixels)sample.Patch, labels));
                predictions.AddRange(predictor.Add(await sample.Patch.LoadTrainingPatchAsync(CancellationToken.None), labels));
            }

            predictions.AddRange(predictor.Complete());
        }

        Assert.Equal(split.Test.Count, predictions.Count);
        var first = predictions[0];
        var info = Independent.GdalInfo(first.LabelPath!);
        Assert.Equal("GTiff", info["driverShortName"]!.GetValue<string>());
        Assert.Equal(Size, info["size"]![0]!.GetValue<int>());
        Assert.Equal("UInt16", info["bands"]![0]!["type"]!.GetValue<string>());
        Assert.Equal(0, info["bands"]![0]!["noDataValue"]!.GetValue<double>());
        Assert.Equal("COG", info["metadata"]!["IMAGE_STRUCTURE"]!["LAYOUT"]!.GetValue<string>());
        var geo = (await truths[0].Patch.LoadTrainingPatchAsync(CancellationToken.None)).Georeference!;
        Assert.Equal(geo.GeoTransform, info["geoTransform"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Contains("32631", info["coordinateSystem"]!["wkt"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(File.Exists(first.QuicklookPath));
        Assert.Empty(Directory.EnumerateFiles(outputs, "*.partial*", SearchOption.AllDirectories));

        // rasterio reads every label COG; sklearn computes the metrics from those pixels and the truth.
        var actualFile = Path.Combine(_folder, "actual.i32");
        var predictedFile = Path.Combine(_folder, "predicted.i32");
        var values = model.Card.Classes.Select(c => c.Value).ToList();
        var read = Independent.Python("""
            import sys, json, numpy, rasterio
            out = []
            for path in sys.argv[1:]:
                with rasterio.open(path) as d:
                    out.extend(d.read(1).ravel().tolist())
            print(json.dumps(out))
            """, predictions.Select(p => p.LabelPath!).ToArray());
        var pixels = JsonSerializer.Deserialize<int[]>(read)!;
        var predicted = pixels.Select(v => values.IndexOf(v)).ToArray();
        var actual = truths.SelectMany(t => t.Labels.Index).ToArray();
        File.WriteAllBytes(actualFile, MemoryMarshal.AsBytes(actual.AsSpan()).ToArray());
        File.WriteAllBytes(predictedFile, MemoryMarshal.AsBytes(predicted.AsSpan()).ToArray());
        var evaluation = SegmentationService.Evaluate(model, predictions)!;
        var sklearn = Sklearn(new { classes = model.Classes, actual_file = actualFile, predicted_file = predictedFile });
        AssertEqual(sklearn, evaluation);
    }

    public static TheoryData<int, int, int> MetricCases => new()
    {
        { 1, 5000, 4 },   // noisy predictions
        { 2, 300, 6 },    // classes 4 and 5 never true; class 5 never predicted either
        { 3, 20, 3 },     // tiny
    };

    [Theory]
    [MemberData(nameof(MetricCases))]
    public void Every_metric_equals_sklearn_on_the_same_pixels(int seed, int n, int classes)
    {
        var random = new Random(seed);
        var actual = new int[n];
        var predicted = new int[n];
        for (var i = 0; i < n; i++)
        {
            // -1: unlabelled; seed 2 keeps the last two classes out of the truth and the last out of the predictions.
            actual[i] = random.Next(10) == 0 ? -1 : random.Next(seed == 2 ? classes - 2 : classes);
            predicted[i] = random.Next(3) == 0 ? Math.Max(actual[i], 0) : random.Next(seed == 2 ? classes - 1 : classes);
        }

        var keys = Enumerable.Range(0, classes).Select(c => $"c{c}").ToList();
        var evaluation = SegmentationEvaluation.FromPixels(keys, keys, actual, predicted);
        AssertEqual(Sklearn(new { classes = keys, actual, predicted }), evaluation);
        if (seed == 2)
        {
            Assert.Equal(0, evaluation.PerClass[5].IoU);
            Assert.Equal(0, evaluation.PerClass[5].Support);
        }
    }

    [Fact]
    public async Task Bad_input_has_stable_ids_and_writes_nothing()
    {
        var split = Split(Generated(8));
        var folder = Path.Combine(_folder, "bad");
        async Task<DeepSentinelException> Fails(SegmentationOptions o, CorpusSplit? s = null, EmbeddingModel? m = null) =>
            await Assert.ThrowsAsync<DeepSentinelException>(() => new SegmentationService().RunAsync(s ?? split, m, o, new RecordingReporter(), CancellationToken.None));

        // Encoder/task mismatch: a ResNet has no full-resolution decoder.
        var mismatch = await Fails(Options(folder) with { Encoder = EncoderKind.ResNet18 });
        Assert.Equal(ErrorIds.ModelInputMismatch, mismatch.ErrorId);
        Assert.Contains("UNet", mismatch.Message, StringComparison.Ordinal);
        // A class with no training pixels.
        var missing = await Fails(Options(folder) with { Classes = ["class0", "nope"] });
        Assert.Equal(ErrorIds.ClassNotInTraining, missing.ErrorId);
        Assert.Contains("nope", missing.Message, StringComparison.Ordinal);
        // No sample labelled at all.
        var none = Split(Enumerable.Range(0, 6).Select(i => (ITrainingPatchProvider)new GeneratedPixels($"u{i}", 0, 1, i, labelled: false)).ToList());
        Assert.Equal(ErrorIds.CorpusEmpty, (await Fails(Options(folder), none)).ErrorId);
        Assert.False(Directory.Exists(folder));

        // Labels missing on some samples: skipped with a warning, the rest trains.
        var reporter = new RecordingReporter();
        var partly = Split(Generated(12, unlabelledEvery: 4));
        var model = await new SegmentationService().RunAsync(partly, null, Options(folder) with { Epochs = 1 }, reporter, CancellationToken.None);
        Assert.Contains(reporter.Warnings, w => w.Contains("not trained on", StringComparison.Ordinal));
        Assert.Equal(partly.Train.Count(s => ((GeneratedPixels)s.Patch).SampleId is var id && int.Parse(id[1..], System.Globalization.CultureInfo.InvariantCulture) % 4 != 1), model.Card.TrainSamples);
        // A second run into the same folder is refused before anything is touched.
        var before = File.ReadAllBytes(model.HeadCheckpointPath);
        Assert.Equal(ErrorIds.ModelFolderNotEmpty, (await Fails(Options(folder))).ErrorId);
        Assert.Equal(before, File.ReadAllBytes(model.HeadCheckpointPath));
    }

    [Fact]
    public async Task Native_segmenter_calls_validate_their_input()
    {
        TorchNative.EnsureLoaded();
        using var resnet = TorchModel.Create(NativeConfigs.Small(EncoderKind.ResNet18));
        var config = NativeSegmenterConfig.Create();
        config.Classes = 2;
        config.HeadLearningRate = 1e-3;
        config.EncoderLearningRate = 1e-3;
        var e = Assert.Throws<DeepSentinelException>(() => TorchSegmenter.Create(resnet, config));
        Assert.Contains("UNet", e.Message, StringComparison.Ordinal);

        using var unet = TorchModel.Create(NativeConfigs.Small(EncoderKind.UNet));
        var bad = Assert.Throws<DeepSentinelException>(() => TorchSegmenter.Create(unet, config with { Classes = 1 }));
        Assert.Equal(ErrorIds.TrainingInputInvalid, bad.ErrorId);
        using var segmenter = TorchSegmenter.Create(unet, config);
        var batch = new PatchBatch(2, 12, 2, Size, Size);
        foreach (var p in Generated(2))
        {
            batch.Add(await p.LoadTrainingPatchAsync(CancellationToken.None));
        }

        var targets = new int[2 * Size * Size];
        Array.Fill(targets, -1);
        Assert.Contains("no labelled pixel", Assert.Throws<DeepSentinelException>(() => segmenter.TrainStep(batch, targets)).Message, StringComparison.Ordinal);
        targets[5] = 2;
        Assert.Contains("class indices", Assert.Throws<DeepSentinelException>(() => segmenter.TrainStep(batch, targets)).Message, StringComparison.Ordinal);
        targets[5] = 1;
        Assert.True(float.IsFinite(segmenter.TrainStep(batch, targets)));
        Assert.Equal(1, segmenter.Step);
    }

    private JsonElement Sklearn(object input)
    {
        var file = Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(file, JsonSerializer.Serialize(input));
        return DebianPython.RunFile(Path.Combine("Evaluation", "python", "segmentation_metrics.py"), file);
    }

    private static void AssertEqual(JsonElement sklearn, SegmentationEvaluation e)
    {
        Assert.Equal(sklearn.GetProperty("pixels").GetInt64(), e.Pixels);
        Assert.Equal(sklearn.GetProperty("mean_iou").GetDouble(), e.MeanIoU, 12);
        Assert.Equal(sklearn.GetProperty("pixel_accuracy").GetDouble(), e.PixelAccuracy, 12);
        var iou = sklearn.GetProperty("iou").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        for (var c = 0; c < e.Classes.Count; c++)
        {
            Assert.Equal(iou[c], e.PerClass[c].IoU, 12);
        }

        var confusion = sklearn.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToArray();
        Assert.Equal(confusion, e.ConfusionRows());
    }
}
