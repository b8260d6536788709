using System.Globalization;
using System.Text;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Evaluation;
using DeepSentinel.Core.Interop.Torch;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.FineTuning;

/// <summary>
/// Fine-tunes a patch classifier on a split's training side and evaluates it on its test side:
/// a linear probe or a full fine-tune of a pretrained encoder, or the same architecture from
/// scratch; S2, S1 or both; the log loss weighted by the training split's class frequencies. The
/// steps run on one dedicated thread; the patches are read batch by batch, so memory stays flat.
/// </summary>
public sealed class FineTuningService(TimeProvider? time = null)
{
    private const int ProgressActivity = 14;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Trains, saves, evaluates and returns the classifier.</summary>
    public async Task<ClassificationModel> RunAsync(CorpusSplit split, EmbeddingModel? pretrained, FineTuningOptions options, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(options);
        reporter ??= NullReporter.Instance;
        Validate(options);
        var mode = HeadTraining.ResolveMode(options.Mode, pretrained, "encoder", " (the architecture is -Encoder)");

        if (pretrained is { Encoder: EncoderKind.UNet })
        {
            throw new DeepSentinelException(ErrorIds.ModelInputMismatch, ErrorKind.InvalidArgument,
                $"{pretrained.Path} holds a UNet encoder, whose embeddings are per pixel: patch classification takes a ResNet18 or ResNet50 encoder. Pretrain one with Start-Pretraining -Encoder ResNet18.", pretrained.Path);
        }

        var folder = Path.GetFullPath(options.OutputFolder);
        if (options.Resume && File.Exists(Path.Combine(folder, ClassifierCard.FileName)))
        {
            // As Start-Pretraining -Resume on a model with its epochs done: said as a warning, so a
            // rerun after a kill that came once the card was written still succeeds.
            reporter.Warning($"{folder} already holds a finished classifier: nothing was trained. Choose another folder to fine-tune again.");
            FineTuningCheckpoint.Remove(folder);
            return ClassificationModel.Import(folder);
        }

        if (File.Exists(Path.Combine(folder, ClassifierCard.FileName)))
        {
            throw new DeepSentinelException(ErrorIds.ModelFolderNotEmpty, ErrorKind.InvalidArgument, $"{folder} already holds a classifier: choose another folder, or remove it first.", folder);
        }

        var sensors = HeadTraining.ResolveSensors(pretrained, options.Sensors);
        var classes = ResolveClasses(split, options);
        var (inputBands, inputLevel) = ModelBands.ResolveForTraining(split, sensors, pretrained);
        var weights = ClassWeights(split.Train, classes, options);
        var resume = ResumePoint(folder, mode, sensors, classes, options, reporter);
        TorchNative.EnsureLoaded();
        TorchNative.SetThreads(options.Threads ?? Environment.ProcessorCount);

        using var encoder = resume is not null
            ? TorchModel.Load(FineTuningCheckpoint.Resolve(folder, resume.Encoder), null, options.Device)
            : pretrained is not null
            ? pretrained.Open(options.Device)
            : await HeadTraining.CreateScratchAsync(split.Train, sensors, new ScratchEncoder(options.Encoder, options.EmbeddingDimension, 32, options.Device, options.Seed, options.LearningRate, options.WeightDecay),
                2, usable => $"A {sensors} classifier needs at least 2 training patches with {sensors} data; {usable} have it.", reporter, ProgressActivity, "Fine-tuning", cancellationToken).ConfigureAwait(false);
        var config = NativeClassifierConfig.Create();
        config.Classes = classes.Count;
        config.MultiLabel = options.Task == ClassificationTask.MultiLabel ? 1 : 0;
        config.FreezeEncoder = mode == FineTuningMode.LinearProbe ? 1 : 0;
        config.Seed = options.Seed;
        config.HeadLearningRate = options.LearningRate;
        config.EncoderLearningRate = mode == FineTuningMode.Scratch ? options.LearningRate : options.EncoderLearningRate;
        config.WeightDecay = options.WeightDecay;
        using var classifier = TorchClassifier.Create(encoder, config);
        classifier.SetClassWeights(weights.Select(w => (float)w).ToArray());
        classifier.SetAugmentation(options.Augment);
        var identity = new FineTuningCheckpointInfo(0, 0, string.Empty, string.Empty, string.Empty, mode, options.Task, sensors, classes, null);
        if (resume is not null)
        {
            FineTuningCheckpoint.Restore(folder, classifier, resume, reporter);
            identity = resume;
            reporter.Verbose(string.Create(CultureInfo.InvariantCulture, $"Resuming {folder} at step {classifier.Step}, after {resume.Epoch} of {options.Epochs} epochs."));
        }
        var (s2Channels, s1Channels) = (encoder.Config.S2Channels, encoder.Config.S1Channels);
        var first = await split.Train[0].Patch.LoadTrainingPatchAsync(cancellationToken).ConfigureAwait(false);
        var patchSize = first.Height;

        Directory.CreateDirectory(Path.Combine(folder, "checkpoints"));
        FineTuningCheckpoint.RemovePartial(folder);
        reporter.Verbose(string.Create(CultureInfo.InvariantCulture, $"{mode} {options.Task} classifier of {classes.Count} classes on {split.TrainCount} training samples ({sensors} input), in {folder}."));
        var (steps, finalLoss, used) = await Task.Factory.StartNew(
            () => Train(classifier, mode == FineTuningMode.LinearProbe, split, classes, options, sensors, s2Channels, s1Channels, patchSize, folder, identity, reporter, cancellationToken),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);

        var card = new ClassifierCard
        {
            Task = options.Task,
            Mode = mode,
            Classes = classes.Select((c, i) => new ClassCard(c, LabelledSample.ClassName(c), weights[i], CountTraining(split.Train, c, options))).ToList(),
            ClcLevel = split.ClcLevel,
            ShareThreshold = options.ShareThreshold,
            Encoder = pretrained?.Encoder ?? options.Encoder,
            Sensors = sensors,
            Bands = HeadTraining.BandsOf(encoder, pretrained),
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
            InputBands = inputBands,
            InputLevel = inputLevel,
        };
        var model = ClassificationModel.Create(folder, card, null);
        classifier.Save(model.EncoderCheckpointPath, model.HeadCheckpointPath);

        // The held-out side, through the same prediction path a user gets.
        reporter.Progress(new ProgressUpdate(ProgressActivity, "Fine-tuning", "Evaluating on the test split"));
        var predictions = new List<ClassPrediction>();
        using (var predictor = ClassPredictor.Open(model, options.Device))
        {
            foreach (var sample in split.Test)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var patch = await sample.Patch.LoadTrainingPatchAsync(cancellationToken).ConfigureAwait(false);
                predictions.AddRange(predictor.Add(patch, sample));
            }

            predictions.AddRange(predictor.Complete());
        }

        var evaluation = Evaluate(model, predictions);
        WritePredictions(folder, predictions);
        if (evaluation is not null)
        {
            EvaluationReport.Write(evaluation, folder);
        }

        // The card last: a folder without it (a run killed before this line) is never taken for a
        // finished classifier, and -Resume redoes what is missing.
        HeadTraining.WriteCard(folder, ClassifierCard.FileName, card);
        FineTuningCheckpoint.Remove(folder);

        reporter.Progress(new ProgressUpdate(ProgressActivity, "Fine-tuning", "Done", Completed: true));
        return ClassificationModel.Create(folder, card, evaluation);
    }

    /// <summary>The evaluation of predictions against the labels they carry (null when none is labelled).</summary>
    public static ClassificationEvaluation? Evaluate(ClassificationModel model, IReadOnlyList<ClassPrediction> predictions)
    {
        if (model.Task == ClassificationTask.SingleLabel)
        {
            var labelled = predictions.Where(p => p.Actual is not null).ToList();
            if (labelled.Count == 0)
            {
                return null;
            }

            // Classes the head never learned (held out) still get rows: they are always wrong.
            var classes = model.Classes.Concat(labelled.Select(p => p.Actual!).Where(a => !model.Classes.Contains(a)).Distinct().Order(StringComparer.Ordinal)).ToList();
            var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
            return ClassificationEvaluation.SingleLabel(classes, classes.Select(LabelledSample.ClassName).ToList(),
                labelled.Select(p => index[p.Actual!]).ToList(), labelled.Select(p => index[p.Predicted!]).ToList());
        }

        var multi = predictions.Where(p => p.ActualLabel is not null).ToList();
        if (multi.Count == 0)
        {
            return null;
        }

        var keys = model.Classes;
        return ClassificationEvaluation.MultiLabel(keys, keys.Select(LabelledSample.ClassName).ToList(),
            multi.Select(p => keys.Select(k => p.ActualLabel!.Contains(k)).ToArray()).ToList(),
            multi.Select(p => keys.Select(k => (float)p.Probability[k]).ToArray()).ToList(), 0.5);
    }

    private (long Steps, double Loss, int Used) Train(TorchClassifier classifier, bool frozen, CorpusSplit split, IReadOnlyList<string> classes, FineTuningOptions options, SensorInput sensors,
        int s2Channels, int s1Channels, int patchSize, string folder, FineTuningCheckpointInfo resume, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
        var multi = options.Task == ClassificationTask.MultiLabel;
        // Single-label samples of a class the head does not have (e.g. -Class left it out) are not trained on.
        var train = split.Train.Where(s => multi || index.ContainsKey(s.DominantClass!)).ToList();
        if (train.Count < split.Train.Count)
        {
            reporter.Warning($"{split.Train.Count - train.Count} training sample(s) have a dominant class outside -Class and are not trained on.");
        }

        var batch = new PatchBatch(options.BatchSize, s2Channels, s1Channels, patchSize, patchSize);
        var targets = new float[options.BatchSize * (multi ? classes.Count : 1)];
        var skipped = new HashSet<string>(StringComparer.Ordinal);
        var loss = FineTuningCheckpoint.RunEpochs(folder, classifier, resume, options.Epochs, "Fine-tuning", reporter, epoch =>
        {
            var lossSum = 0.0;
            var lossSteps = 0;
            var patches = 0;
            foreach (var sample in HeadTraining.EpochOrder(train, options.Seed, epoch))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var patch = SelectSensors(sample.Patch.LoadTrainingPatchAsync(cancellationToken).AsTask().GetAwaiter().GetResult(), sensors);
                if (patch is null || !batch.CanUse(patch))
                {
                    if (skipped.Add(sample.Id))
                    {
                        reporter.Warning($"Sample {sample.Id} has no {sensors} data: it is not trained on.");
                    }

                    continue;
                }

                FillTargets(targets, batch.Count, sample, classes, index, options);
                batch.Add(patch);
                patches++;
                if (batch.IsFull)
                {
                    lossSum += classifier.TrainStep(batch, targets);
                    lossSteps++;
                    batch.Clear();
                    Report(reporter, epoch, options, classifier, lossSum / lossSteps);
                }
            }

            // A last partial batch; fine-tuning's batch normalisation needs two samples.
            if (batch.Count >= 2 || (batch.Count == 1 && frozen))
            {
                lossSum += classifier.TrainStep(batch, targets);
                lossSteps++;
            }

            batch.Clear();
            if (lossSteps == 0)
            {
                throw new DeepSentinelException(ErrorIds.CorpusEmpty, ErrorKind.InvalidData, $"The training split gave no batch to train on: it needs at least 2 samples with {sensors} data.");
            }

            return (lossSum / lossSteps, patches);
        });

        return (classifier.Step, loss, train.Count - skipped.Count);
    }

    /// <summary>The checkpoint a -Resume continues from (null: a fresh run), refusing a folder that holds another run.</summary>
    private static FineTuningCheckpointInfo? ResumePoint(string folder, FineTuningMode mode, SensorInput sensors, IReadOnlyList<string> classes, FineTuningOptions options, IOperationReporter reporter)
    {
        var latest = FineTuningCheckpoint.Read<FineTuningCheckpointInfo>(folder, FineTuningCheckpoint.ClassifierKind, options.Resume);
        if (latest is null)
        {
            if (options.Resume)
            {
                reporter.Warning($"{folder} holds no fine-tuning checkpoint to resume: fine-tuning starts from the beginning.");
            }

            return null;
        }

        if (!options.Resume)
        {
            throw new DeepSentinelException(ErrorIds.ModelFolderNotEmpty, ErrorKind.InvalidArgument,
                string.Create(CultureInfo.InvariantCulture, $"{folder} holds an unfinished fine-tuning (step {latest.Step}, {latest.Epoch} epochs done): add -Resume to continue it, or choose another folder."), folder);
        }

        if (latest.Mode != mode || latest.Task != options.Task || latest.Sensors != sensors || !latest.Classes.SequenceEqual(classes, StringComparer.Ordinal))
        {
            throw new DeepSentinelException(ErrorIds.ModelInputMismatch, ErrorKind.InvalidArgument,
                $"{folder} holds a {latest.Mode} {latest.Task} fine-tuning of {latest.Sensors} input for classes {string.Join(", ", latest.Classes)}; this run is {mode} {options.Task} of {sensors} input for classes {string.Join(", ", classes)}. Resume with the same split, -Model, -Mode, -Sensor and -Class, or choose another folder.", folder);
        }

        return latest;
    }

    private static void Report(IOperationReporter reporter, int epoch, FineTuningOptions options, TorchClassifier classifier, double loss) =>
        reporter.Progress(new ProgressUpdate(ProgressActivity, "Fine-tuning",
            string.Create(CultureInfo.InvariantCulture, $"epoch {epoch + 1}/{options.Epochs}, step {classifier.Step}, loss {loss:0.0000}"),
            (int)Math.Clamp(100.0 * epoch / options.Epochs, 0, 100)));

    private static void FillTargets(float[] targets, int row, LabelledSample sample, IReadOnlyList<string> classes, Dictionary<string, int> index, FineTuningOptions options)
    {
        if (options.Task == ClassificationTask.SingleLabel)
        {
            targets[row] = index[sample.DominantClass!];
            return;
        }

        for (var c = 0; c < classes.Count; c++)
        {
            targets[(row * classes.Count) + c] = sample.ClassShares.GetValueOrDefault(classes[c]) >= options.ShareThreshold ? 1 : 0;
        }
    }

    /// <summary>The patch with only the sensors the classifier is fed (null when it has none of them).</summary>
    internal static TrainingPatch? SelectSensors(TrainingPatch patch, SensorInput sensors)
    {
        var s2 = sensors == SensorInput.S1 ? null : patch.S2;
        var s1 = sensors == SensorInput.S2 ? null : patch.S1;
        if (s2 is null && s1 is null)
        {
            return null;
        }

        return ReferenceEquals(s2, patch.S2) && ReferenceEquals(s1, patch.S1)
            ? patch
            : new TrainingPatch(patch.SampleId, patch.Height, patch.Width, s2, s1, patch.Location) { Georeference = patch.Georeference, InputBands = patch.InputBands };
    }

    private static List<string> ResolveClasses(CorpusSplit split, FineTuningOptions options) => HeadTraining.ResolveClasses(
        options.Task == ClassificationTask.SingleLabel
            ? split.Train.Select(s => s.DominantClass!).ToHashSet(StringComparer.Ordinal)
            : split.Train.SelectMany(s => s.ClassShares.Where(kv => kv.Value >= options.ShareThreshold).Select(kv => kv.Key)).ToHashSet(StringComparer.Ordinal),
        options.Classes, "samples", "Classes in training",
        classes => $"The training split has {classes.Count} class(es) ({string.Join(", ", classes)}): a classifier needs at least 2. Use another split (a different -Seed or -BlockSize), a coarser -ClcLevel, or more samples.");

    private static int CountTraining(IReadOnlyList<LabelledSample> train, string c, FineTuningOptions options) => options.Task == ClassificationTask.SingleLabel
        ? train.Count(s => s.DominantClass == c)
        : train.Count(s => s.ClassShares.GetValueOrDefault(c) >= options.ShareThreshold);

    /// <summary>Loss weights from the training split's class counts.</summary>
    internal static double[] ClassWeights(IReadOnlyList<LabelledSample> train, IReadOnlyList<string> classes, FineTuningOptions options)
    {
        var counts = classes.Select(c => (double)CountTraining(train, c, options)).ToArray();
        return HeadTraining.Weights(counts, options.Task == ClassificationTask.SingleLabel ? counts.Sum() : train.Count, options.Weighting);
    }

    private static void WritePredictions(string folder, IReadOnlyList<ClassPrediction> predictions)
    {
        var text = new StringBuilder("sample_id,actual,predicted,confidence\n");
        foreach (var p in predictions)
        {
            text.Append(CultureInfo.InvariantCulture, $"{p.SampleId},{p.Actual ?? string.Join(' ', p.ActualLabel ?? [])},{p.Predicted ?? string.Join(' ', p.PredictedLabel ?? [])},{p.Confidence:R}\n");
        }

        File.WriteAllText(Path.Combine(folder, "test-predictions.csv"), text.ToString(), new UTF8Encoding(false));
    }

    private static void Validate(FineTuningOptions o)
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
        Require(o.ShareThreshold is > 0 and <= 1, $"ShareThreshold must be in (0, 1], got {o.ShareThreshold}.");
        Require(o.Threads is null or >= 1, $"Threads must be at least 1, got {o.Threads}.");
    }
}
