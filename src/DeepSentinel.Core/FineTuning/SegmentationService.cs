using System.Globalization;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Evaluation;
using DeepSentinel.Core.Interop.Torch;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.FineTuning;

/// <summary>
/// Fine-tunes a UNet for semantic segmentation on a split's training side and evaluates it on its
/// test side, in pixels: CLC classes per pixel at a level (clc.tif) or OSM classes (osm.tif);
/// per-pixel cross-entropy weighted by the training side's pixel frequencies; unlabelled pixels
/// are ignored (never a class). Starts from a pretrained UNet (LinearProbe: frozen encoder path,
/// trained decoder and head; FineTune: everything, the encoder at a lower learning rate) or from
/// scratch. Patches and labels are read batch by batch, so memory stays flat.
/// </summary>
public sealed class SegmentationService(TimeProvider? time = null)
{
    private const int ProgressActivity = 15;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Trains, saves, evaluates and returns the segmentation model.</summary>
    public async Task<SegmentationModel> RunAsync(CorpusSplit split, EmbeddingModel? pretrained, SegmentationOptions options, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(options);
        reporter ??= NullReporter.Instance;
        Validate(options);
        var mode = HeadTraining.ResolveMode(options.Mode, pretrained, "UNet", string.Empty);

        var encoder = pretrained?.Encoder ?? options.Encoder;
        if (encoder != EncoderKind.UNet)
        {
            var what = pretrained is not null ? $"{pretrained.Path} holds a {encoder} encoder" : $"-Encoder {encoder}";
            throw new DeepSentinelException(ErrorIds.ModelInputMismatch, ErrorKind.InvalidArgument,
                $"{what}: segmentation takes a UNet (a ResNet has no full-resolution decoder). Pretrain one with Start-Pretraining -Encoder UNet, or train from scratch with -Encoder UNet; use Start-FineTuning for patch classification with a ResNet.", pretrained?.Path ?? encoder.ToString());
        }

        var folder = Path.GetFullPath(options.OutputFolder);
        var finished = File.Exists(Path.Combine(folder, SegmenterCard.FileName));
        if (options.Resume && finished)
        {
            // As Start-FineTuning -Resume on a finished classifier: a warning, so that a rerun after
            // a kill that came once the card was written still succeeds.
            reporter.Warning($"{folder} already holds a finished segmentation model: nothing was trained. Choose another folder to train again.");
            FineTuningCheckpoint.Remove(folder);
            return SegmentationModel.Import(folder);
        }

        if (finished || File.Exists(Path.Combine(folder, ClassifierCard.FileName)))
        {
            throw new DeepSentinelException(ErrorIds.ModelFolderNotEmpty, ErrorKind.InvalidArgument, $"{folder} already holds a model: choose another folder, or remove it first.", folder);
        }

        var level = options.ClcLevel ?? split.ClcLevel;
        var sensors = HeadTraining.ResolveSensors(pretrained, options.Sensors);
        var (train, counts) = await ScanAsync(split.Train, options.Labels, level, reporter, cancellationToken).ConfigureAwait(false);
        if (train.Count == 0)
        {
            throw new DeepSentinelException(ErrorIds.CorpusEmpty, ErrorKind.InvalidData,
                $"No training sample has a {PixelLabelReader.AssetKey(options.Labels)}.tif label with labelled pixels: run {(options.Labels == SegmentationLabelSource.Osm ? "Add-OsmLabel" : "Add-CorineLabel")} on the corpus first.");
        }

        var classes = ResolveClasses(counts, options);
        var weights = ClassWeights(classes.Select(c => counts[c]).ToArray(), options.Weighting);
        var identity = new SegmentationCheckpointInfo(0, 0, string.Empty, string.Empty, string.Empty, mode, options.Labels, level, sensors, classes, null);
        var resume = ResumePoint(folder, identity, options, reporter);
        TorchNative.EnsureLoaded();
        TorchNative.SetThreads(options.Threads ?? Environment.ProcessorCount);

        var first = await train[0].Patch.LoadTrainingPatchAsync(cancellationToken).ConfigureAwait(false);
        var patchSize = first.Height;
        if (first.Width != patchSize || patchSize % 32 != 0 || patchSize < 32)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.TrainingInputInvalid, $"Segmentation takes square patches with sides a multiple of 32 px (the UNet pools three times); sample {first.SampleId} is {first.Height} x {first.Width} px.", first.SampleId);
        }

        using var unet = resume is not null
            ? TorchModel.Load(FineTuningCheckpoint.Resolve(folder, resume.Encoder), null, options.Device)
            : pretrained is not null
            ? pretrained.Open(options.Device)
            : await HeadTraining.CreateScratchAsync(train, sensors, new ScratchEncoder(EncoderKind.UNet, 16, options.UNetWidth, options.Device, options.Seed, options.LearningRate, options.WeightDecay),
                1, _ => $"A {sensors} segmentation model needs training patches with {sensors} data; none has it.", reporter, ProgressActivity, "Segmentation", cancellationToken).ConfigureAwait(false);
        var config = NativeSegmenterConfig.Create();
        config.Classes = classes.Count;
        config.FreezeEncoder = mode == FineTuningMode.LinearProbe ? 1 : 0;
        config.Seed = options.Seed;
        config.HeadLearningRate = options.LearningRate;
        config.EncoderLearningRate = mode == FineTuningMode.Scratch ? options.LearningRate : options.EncoderLearningRate;
        config.WeightDecay = options.WeightDecay;
        using var segmenter = TorchSegmenter.Create(unet, config);
        segmenter.SetClassWeights(weights.Select(w => (float)w).ToArray());
        if (resume is not null)
        {
            FineTuningCheckpoint.Restore(folder, segmenter, resume, reporter);
            identity = resume;
            reporter.Verbose(string.Create(CultureInfo.InvariantCulture, $"Resuming {folder} at step {segmenter.Step}, after {resume.Epoch} of {options.Epochs} epochs."));
        }

        var existed = Directory.Exists(folder);
        try
        {
            Directory.CreateDirectory(Path.Combine(folder, FineTuningCheckpoint.Folder));
            FineTuningCheckpoint.RemovePartial(folder);
            reporter.Verbose(string.Create(CultureInfo.InvariantCulture, $"{mode} UNet segmentation of {classes.Count} {options.Labels} classes on {train.Count} training patches ({sensors} input), in {folder}."));
            var (steps, finalLoss, used) = await Task.Factory.StartNew(
                () => Train(segmenter, mode == FineTuningMode.LinearProbe, train, classes, options, level, sensors, unet.Config.S2Channels, unet.Config.S1Channels, patchSize, folder, identity, reporter, cancellationToken),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);

            var values = SegmentationPredictor.ValuesOf(options.Labels, classes);
            var card = new SegmenterCard
            {
                Mode = mode,
                Labels = options.Labels,
                ClcLevel = level,
                Classes = classes.Select((c, i) => new SegmentationClassCard(c, SegmentationModel.ClassName(c), weights[i], counts[c], values[i])).ToList(),
                Sensors = sensors,
                Bands = HeadTraining.BandsOf(unet, pretrained),
                PatchSize = patchSize,
                SourceModel = pretrained?.Path,
                Split = string.Create(CultureInfo.InvariantCulture, $"{split.Source}: {split.TrainCount} train, {split.TestCount} test"),
                TrainSamples = used,
                Epochs = Math.Max(options.Epochs, resume?.Epoch ?? 0),
                Steps = steps,
                FinalLoss = finalLoss,
                Options = options,
                Engine = TorchNative.Version,
                CreatedUtc = _time.GetUtcNow(),
            };
            var model = SegmentationModel.Create(folder, card, null);
            segmenter.Save(model.EncoderCheckpointPath, model.HeadCheckpointPath);

            // The held-out side, through the same prediction path a user gets (no label COGs written).
            reporter.Progress(new ProgressUpdate(ProgressActivity, "Segmentation", "Evaluating on the test split"));
            var predictions = new List<SegmentationPrediction>();
            using (var predictor = SegmentationPredictor.Open(model, options.Device, null))
            {
                foreach (var sample in split.Test)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var labels = await PixelLabelReader.LoadAsync(sample.Patch, options.Labels, level, cancellationToken).ConfigureAwait(false);
                    if (labels is null)
                    {
                        continue;
                    }

                    var patch = await sample.Patch.LoadTrainingPatchAsync(cancellationToken).ConfigureAwait(false);
                    if (FineTuningService.SelectSensors(patch, sensors) is null)
                    {
                        continue;
                    }

                    predictions.AddRange(predictor.Add(patch, labels));
                }

                predictions.AddRange(predictor.Complete());
            }

            var evaluation = Evaluate(model, predictions);
            evaluation?.Write(folder);

            // The card last: a folder without it (a run stopped or killed before this line) is never
            // taken for a finished model, and -Resume redoes what is missing.
            HeadTraining.WriteCard(folder, SegmenterCard.FileName, card);
            FineTuningCheckpoint.Remove(folder);
            reporter.Progress(new ProgressUpdate(ProgressActivity, "Segmentation", "Done", Completed: true));
            return SegmentationModel.Create(folder, card, evaluation);
        }
        catch
        {
            // Nothing half-written: a folder this run created goes; one that existed loses what this
            // run wrote. Once a checkpoint is saved (Ctrl+C, or a failure after some epochs) the
            // folder is kept as it is, without a card, for -Resume.
            if (!File.Exists(FineTuningCheckpoint.LatestPath(folder)))
            {
                TryRemove(folder, existed);
            }

            throw;
        }
    }

    /// <summary>
    /// The evaluation of predictions against the labels they carry (null when none is labelled):
    /// the model's classes, then true classes it never learned (always wrong), in key order.
    /// </summary>
    public static SegmentationEvaluation? Evaluate(SegmentationModel? model, IReadOnlyList<SegmentationPrediction> predictions)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        var labelled = predictions.Where(p => p.Confusion is { Count: > 0 }).ToList();
        if (labelled.Count == 0)
        {
            return null;
        }

        var known = model?.Classes ?? [];
        var seen = labelled.SelectMany(p => p.Confusion!).SelectMany(c => new[] { c.Actual, c.Predicted }).Distinct(StringComparer.Ordinal).Where(c => !known.Contains(c)).Order(StringComparer.Ordinal);
        var classes = known.Concat(seen).ToList();
        var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
        var confusion = new long[classes.Count, classes.Count];
        foreach (var count in labelled.SelectMany(p => p.Confusion!))
        {
            confusion[index[count.Actual], index[count.Predicted]] += count.Pixels;
        }

        return SegmentationEvaluation.FromConfusion(classes, classes.Select(SegmentationModel.ClassName).ToList(), confusion, labelled.Count);
    }

    /// <summary>Loss weights from the training side's pixel counts (Balanced: n / (classes x count), as scikit-learn's).</summary>
    internal static double[] ClassWeights(long[] counts, ClassWeighting weighting) =>
        HeadTraining.Weights(counts.Select(n => (double)n).ToList(), counts.Sum(), weighting);

    /// <summary>The checkpoint a -Resume continues from (null: a fresh run), refusing a folder that holds another run.</summary>
    private static SegmentationCheckpointInfo? ResumePoint(string folder, SegmentationCheckpointInfo run, SegmentationOptions options, IOperationReporter reporter)
    {
        var latest = FineTuningCheckpoint.Read<SegmentationCheckpointInfo>(folder, FineTuningCheckpoint.SegmenterKind, options.Resume);
        if (latest is null)
        {
            if (options.Resume)
            {
                reporter.Warning($"{folder} holds no segmentation checkpoint to resume: training starts from the beginning.");
            }

            return null;
        }

        if (!options.Resume)
        {
            throw new DeepSentinelException(ErrorIds.ModelFolderNotEmpty, ErrorKind.InvalidArgument,
                string.Create(CultureInfo.InvariantCulture, $"{folder} holds an unfinished segmentation training (step {latest.Step}, {latest.Epoch} epochs done): add -Resume to continue it, or choose another folder."), folder);
        }

        // The level matters for CLC labels only.
        var sameLevel = run.Labels != SegmentationLabelSource.Clc || latest.ClcLevel == run.ClcLevel;
        if (latest.Mode != run.Mode || latest.Labels != run.Labels || !sameLevel || latest.Sensors != run.Sensors || !latest.Classes.SequenceEqual(run.Classes, StringComparer.Ordinal))
        {
            throw new DeepSentinelException(ErrorIds.ModelInputMismatch, ErrorKind.InvalidArgument,
                string.Create(CultureInfo.InvariantCulture, $"{folder} holds a {latest.Mode} segmentation of {latest.Labels} labels (level {latest.ClcLevel}) with {latest.Sensors} input for classes {string.Join(", ", latest.Classes)}; this run is {run.Mode} of {run.Labels} labels (level {run.ClcLevel}) with {run.Sensors} input for classes {string.Join(", ", run.Classes)}. Resume with the same split, -Model, -Mode, -Label, -ClcLevel, -Sensor and -Class, or choose another folder."), folder);
        }

        return latest;
    }

    // One pass over the training side's labels: who has them, and the labelled pixels of each class.
    private static async Task<(List<LabelledSample> Train, Dictionary<string, long> Counts)> ScanAsync(IReadOnlyList<LabelledSample> samples, SegmentationLabelSource source, int level, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        var usable = new List<LabelledSample>();
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var sample in samples)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var labels = await PixelLabelReader.LoadAsync(sample.Patch, source, level, cancellationToken).ConfigureAwait(false);
            var perKey = labels?.Counts();
            if (labels is null || perKey is null || perKey.Sum() == 0)
            {
                missing.Add(sample.Id);
                continue;
            }

            for (var k = 0; k < labels.Keys.Count; k++)
            {
                counts[labels.Keys[k]] = counts.GetValueOrDefault(labels.Keys[k]) + perKey[k];
            }

            usable.Add(sample);
        }

        if (missing.Count > 0)
        {
            reporter.Warning($"{missing.Count} training sample(s) have no {PixelLabelReader.AssetKey(source)}.tif label with labelled pixels and are not trained on: {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", ..." : string.Empty)}.");
        }

        return (usable, counts);
    }

    private static List<string> ResolveClasses(Dictionary<string, long> counts, SegmentationOptions options) => HeadTraining.ResolveClasses(
        counts.Where(kv => kv.Value > 0).Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal), options.Classes, "pixels", "Classes with training pixels",
        classes => $"The training side's labelled pixels hold {classes.Count} class(es) ({string.Join(", ", classes)}): segmentation needs at least 2. Use another split, a finer -ClcLevel, or more samples.");

    private (long Steps, double Loss, int Used) Train(TorchSegmenter segmenter, bool frozen, List<LabelledSample> train, IReadOnlyList<string> classes, SegmentationOptions options, int level, SensorInput sensors,
        int s2Channels, int s1Channels, int patchSize, string folder, SegmentationCheckpointInfo resume, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
        var plane = patchSize * patchSize;
        var batch = new PatchBatch(options.BatchSize, s2Channels, s1Channels, patchSize, patchSize);
        var targets = new int[options.BatchSize * plane];
        var skipped = new HashSet<string>(StringComparer.Ordinal);
        var loss = FineTuningCheckpoint.RunEpochs(folder, segmenter, resume, options.Epochs, "Segmentation training", reporter, epoch =>
        {
            var lossSum = 0.0;
            var lossSteps = 0;
            var patches = 0;
            var labelledInBatch = 0L;
            foreach (var sample in HeadTraining.EpochOrder(train, options.Seed, epoch))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var patch = FineTuningService.SelectSensors(sample.Patch.LoadTrainingPatchAsync(cancellationToken).AsTask().GetAwaiter().GetResult(), sensors);
                if (patch is null || !batch.CanUse(patch) || !batch.Fits(patch))
                {
                    if (skipped.Add(sample.Id))
                    {
                        reporter.Warning(patch is not null && !batch.Fits(patch)
                            ? $"Sample {sample.Id} is {patch.Height} x {patch.Width} px, not {patchSize} x {patchSize}: it is not trained on."
                            : $"Sample {sample.Id} has no {sensors} data: it is not trained on.");
                    }

                    continue;
                }

                var labels = PixelLabelReader.LoadAsync(sample.Patch, options.Labels, level, cancellationToken).AsTask().GetAwaiter().GetResult()!;
                var row = targets.AsSpan(batch.Count * plane, plane);
                var map = labels.Keys.Select(k => index.GetValueOrDefault(k, -1)).ToArray();
                for (var p = 0; p < plane; p++)
                {
                    var k = labels.Index[p];
                    row[p] = k < 0 ? -1 : map[k];
                    if (row[p] >= 0)
                    {
                        labelledInBatch++;
                    }
                }

                batch.Add(patch);
                patches++;
                if (batch.IsFull)
                {
                    Step(ref lossSum, ref lossSteps, ref labelledInBatch);
                    Report(reporter, epoch, options, segmenter, lossSum / lossSteps);
                }
            }

            // A last partial batch; training the encoder's batch normalisation needs two samples.
            if (batch.Count >= 2 || (batch.Count == 1 && frozen))
            {
                Step(ref lossSum, ref lossSteps, ref labelledInBatch);
            }

            batch.Clear();
            if (lossSteps == 0)
            {
                throw new DeepSentinelException(ErrorIds.CorpusEmpty, ErrorKind.InvalidData, $"The training split gave no batch to train on: it needs at least 2 labelled samples with {sensors} data.");
            }

            return (lossSum / lossSteps, patches);
        });

        return (segmenter.Step, loss, train.Count - skipped.Count);

        void Step(ref double sum, ref int steps, ref long labelled)
        {
            // Pixels of classes outside -Class may leave a batch without a label: nothing to learn from it.
            if (labelled > 0)
            {
                sum += segmenter.TrainStep(batch, targets);
                steps++;
            }

            batch.Clear();
            labelled = 0;
        }
    }

    private static void Report(IOperationReporter reporter, int epoch, SegmentationOptions options, TorchSegmenter segmenter, double loss) =>
        reporter.Progress(new ProgressUpdate(ProgressActivity, "Segmentation",
            string.Create(CultureInfo.InvariantCulture, $"epoch {epoch + 1}/{options.Epochs}, step {segmenter.Step}, loss {loss:0.0000}"),
            (int)Math.Clamp(100.0 * epoch / options.Epochs, 0, 100)));

    private static void TryRemove(string folder, bool existed)
    {
        try
        {
            if (!existed)
            {
                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }

                return;
            }

            foreach (var name in new[] { SegmenterCard.FileName, "fine-tuning.csv", SegmentationEvaluation.JsonFile, SegmentationEvaluation.ClassesCsvFile, SegmentationEvaluation.ConfusionCsvFile, SegmentationEvaluation.ConfusionPngFile, "checkpoints/encoder.pt", "checkpoints/head.pt" })
            {
                File.Delete(Path.Combine(folder, name));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the original error is what the caller needs.
        }
    }

    private static void Validate(SegmentationOptions o)
    {
        static void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, message);
            }
        }

        ArgumentException.ThrowIfNullOrEmpty(o.OutputFolder);
        Require(o.Epochs is >= 1 and <= 100_000, $"Epochs must be 1-100000, got {o.Epochs}.");
        Require(o.BatchSize is >= 1 and <= 4096, $"BatchSize must be 1-4096, got {o.BatchSize}.");
        Require(o.ClcLevel is null or (>= 1 and <= 3), $"ClcLevel must be 1, 2 or 3, got {o.ClcLevel}.");
        Require(o.UNetWidth is >= 4 and <= 512, $"UNetWidth must be 4-512, got {o.UNetWidth}.");
        Require(o.Threads is null or >= 1, $"Threads must be at least 1, got {o.Threads}.");
    }
}
