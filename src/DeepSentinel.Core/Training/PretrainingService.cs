using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Torch;

namespace DeepSentinel.Core.Training;

/// <summary>
/// Runs self-supervised pretraining into a model folder. A loader task streams patches from the
/// source into a small ring of reusable batch buffers while a dedicated thread runs the native
/// steps, so reading the next batch overlaps the current step and native state never hops
/// threads. Cancellation saves a checkpoint and stops; <see cref="PretrainingOptions.Resume"/>
/// continues from it.
/// </summary>
public sealed class PretrainingService(TimeProvider? time = null)
{
    private const int ProgressActivity = 6;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Trains and returns the model; see the class remarks.</summary>
    public async Task<EmbeddingModel> RunAsync(IPatchSource source, PretrainingOptions options, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(reporter);
        Validate(options);
        var folder = new ModelFolder(options.OutputFolder);
        TorchNative.EnsureLoaded();
        TorchNative.SetThreads(options.Threads ?? Environment.ProcessorCount);
        reporter.Verbose($"Training engine: {TorchNative.Version}; {TorchNative.GetThreads()} threads.");

        var (model, card, epoch) = options.Resume
            ? Resume(folder, options, reporter)
            : await StartAsync(folder, source, options, reporter, cancellationToken).ConfigureAwait(false);
        using (model)
        {
            if (epoch >= options.Epochs || (options.MaxSteps is { } max && model.Step >= max))
            {
                // Said as a warning: a user who asked for more training must learn that none happened.
                reporter.Warning(options.MaxSteps is { } limit && model.Step >= limit
                    ? $"{folder.Path} has already taken {model.Step} steps (-MaxSteps {limit}): nothing was trained. Raise -MaxSteps to train further."
                    : $"{folder.Path} has already trained {epoch} epochs (-Epochs counts all runs of the folder): nothing was trained. Raise -Epochs to train further.");
                return EmbeddingModel.Import(folder.Path);
            }

            folder.WriteCard(card with { Options = options, UpdatedUtc = _time.GetUtcNow() });
            await TrainAsync(folder, model, card, epoch, source, options, reporter, cancellationToken).ConfigureAwait(false);
        }

        return EmbeddingModel.Import(folder.Path);
    }

    private static void Validate(PretrainingOptions o)
    {
        static void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, message);
            }
        }

        ArgumentException.ThrowIfNullOrEmpty(o.OutputFolder);
        Require(o.BatchSize is >= 2 and <= 4096, $"BatchSize must be 2-4096 (SimCLR and batch normalisation need at least 2), got {o.BatchSize}.");
        Require(o.Epochs >= 1, $"Epochs must be at least 1, got {o.Epochs}.");
        Require(o.MaxSteps is null or >= 1, $"MaxSteps must be at least 1, got {o.MaxSteps}.");
        Require(o.CheckpointInterval >= 1 && o.KeepCheckpoints >= 1 && o.LogInterval >= 1, "CheckpointInterval, KeepCheckpoints and LogInterval must be at least 1.");
        Require(o.NormalizationSamples >= 1, $"NormalizationSamples must be at least 1, got {o.NormalizationSamples}.");
        Require(o.Threads is null or >= 1, $"Threads must be at least 1, got {o.Threads}.");
    }

    private async Task<(TorchModel, ModelCard, int)> StartAsync(ModelFolder folder, IPatchSource source, PretrainingOptions options, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        if (folder.HasModel)
        {
            throw new DeepSentinelException(ErrorIds.ModelFolderNotEmpty, ErrorKind.InvalidArgument,
                $"{folder.Path} already holds a model: add -Resume to continue training it, or choose another folder.", folder.Path);
        }

        reporter.Progress(new ProgressUpdate(ProgressActivity, "Pretraining", "Computing per-band normalisation statistics"));
        var (stats, patches, usable) = await BandNormalization.ComputeAsync(source, options.Sensors, options.NormalizationSamples, cancellationToken).ConfigureAwait(false);
        if (patches == 0)
        {
            throw new DeepSentinelException(ErrorIds.CorpusEmpty, ErrorKind.InvalidData, $"The corpus ({source.Description}) holds no patches: nothing to train on.", source.Description);
        }

        if (usable < 2)
        {
            // Checked before the folder is created: a model card with the statistics of absent
            // bands (mean 0, std 1) must never be written.
            var wanted = options.Sensors switch
            {
                SensorInput.S1 => "Sentinel-1 data (VV, VH)",
                SensorInput.S2 => "Sentinel-2 data (12 bands)",
                _ => "Sentinel-1 or Sentinel-2 data",
            };
            throw new DeepSentinelException(ErrorIds.SensorDataMissing, ErrorKind.InvalidData,
                $"A -Sensor {options.Sensors} model needs at least 2 patches with {wanted}; {usable} of the {patches} patches read from {source.Description} have it. Choose another -Sensor (e.g. Fused, which takes either) or a corpus with that sensor.",
                source.Description);
        }

        var first = await FirstPatchAsync(source, cancellationToken).ConfigureAwait(false);
        var (s2, s1) = PretrainingOptions.ChannelsOf(options.Sensors);
        var config = NativeModelConfig.Create();
        config.Encoder = (int)options.Encoder;
        config.Method = (int)options.Method;
        config.S2Channels = s2;
        config.S1Channels = s1;
        config.EmbeddingDim = options.EmbeddingDimension;
        config.ProjectionDim = options.ProjectionDimension;
        config.UNetWidth = options.UNetWidth;
        config.Device = (int)options.Device;
        config.ChannelsLast = options.UsesChannelsLast ? 1 : 0;
        config.Seed = options.Seed;
        config.LearningRate = options.LearningRate;
        config.WeightDecay = options.WeightDecay;
        config.Temperature = options.Temperature;
        config.TripletMargin = options.TripletMargin;
        // Dropping a modality only makes sense when there are two.
        config.ModalityDropout = s2 > 0 && s1 > 0 ? options.ModalityDropout : 0;
        config.BandNoise = options.BandNoise;

        var model = TorchModel.Create(config);
        try
        {
            model.SetNormalization(stats);
            folder.Create();
            var now = _time.GetUtcNow();
            var card = new ModelCard
            {
                Method = options.Method,
                Encoder = options.Encoder,
                Sensors = options.Sensors,
                EmbeddingDimension = options.EmbeddingDimension,
                Bands = stats.Bands.Select((b, i) => new BandCard(b, i < s2 ? "S2" : "S1", stats.Mean[i], stats.Std[i])).ToList(),
                PatchSize = first.Height,
                // The statistics pass read the whole corpus when it stopped short of its limit.
                Corpus = new CorpusCard(source.Description, patches < options.NormalizationSamples ? patches : null),
                Engine = TorchNative.Version,
                CreatedUtc = now,
                UpdatedUtc = now,
            };
            reporter.Verbose($"New {options.Method} {options.Encoder} model ({model.ParameterCount:N0} parameters) in {folder.Path}.");
            return (model, card, 0);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static async Task<TrainingPatch> FirstPatchAsync(IPatchSource source, CancellationToken cancellationToken)
    {
        await foreach (var patch in source.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return patch;
        }

        throw new DeepSentinelException(ErrorIds.CorpusEmpty, ErrorKind.InvalidData, $"The corpus ({source.Description}) holds no patches.", source.Description);
    }

    private static (TorchModel, ModelCard, int) Resume(ModelFolder folder, PretrainingOptions options, IOperationReporter reporter)
    {
        var card = folder.ReadCard();
        var latest = folder.ReadLatest();
        string? optimizer = folder.Resolve(latest.Optimizer);
        if (!File.Exists(optimizer))
        {
            reporter.Warning($"The optimizer state {optimizer} is missing: resuming with fresh optimizer moments.");
            optimizer = null;
        }

        if (card.Method != options.Method || card.Encoder != options.Encoder || card.Sensors != options.Sensors)
        {
            reporter.Warning($"{folder.Path} holds a {card.Method} {card.Encoder} ({card.Sensors}, {card.EmbeddingDimension}-d) model; it is resumed as it is and the method, encoder and sensor options are ignored.");
        }

        var model = TorchModel.Load(folder.Resolve(latest.Checkpoint), optimizer, options.Device);
        try
        {
            model.SetLearningRate(options.LearningRate);
        }
        catch
        {
            model.Dispose();
            throw;
        }

        reporter.Verbose($"Resuming {folder.Path} at step {model.Step}, epoch {latest.Epoch}.");
        return (model, card, latest.Epoch);
    }

    private readonly record struct LoaderItem(PatchBatch? Batch, int EndOfEpoch, long PatchesInEpoch);

    private async Task TrainAsync(ModelFolder folder, TorchModel model, ModelCard card, int startEpoch, IPatchSource source, PretrainingOptions options, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        var triplets = card.Method == PretrainingMethod.Tile2Vec;
        var capacity = triplets ? 3 * options.BatchSize : options.BatchSize;
        var config = model.Config;
        using var free = new BlockingCollection<PatchBatch>();
        for (var i = 0; i < 3; i++)
        {
            free.Add(new PatchBatch(capacity, config.S2Channels, config.S1Channels, card.PatchSize, card.PatchSize));
        }

        using var filled = new BlockingCollection<LoaderItem>(boundedCapacity: 2);
        using var stopLoader = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var loader = Task.Run(() => LoadAsync(source, options, startEpoch, triplets, free, filled, stopLoader.Token), CancellationToken.None);

        using var events = new TensorBoardEventWriter(folder.Path, _time);
        using var metrics = new MetricsCsvWriter(folder.MetricsPath);
        var state = new RunState(card, startEpoch, model.Step);
        Exception? failure = null;
        try
        {
            await Task.Factory.StartNew(
                () => TrainLoop(folder, model, state, options, reporter, free, filled, events, metrics, cancellationToken),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        finally
        {
            stopLoader.Cancel();
            // Unblock a loader waiting for a free buffer or a slot.
            free.CompleteAdding();
            while (filled.TryTake(out _))
            {
            }
        }

        try
        {
            await loader.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException || (ex is InvalidOperationException && free.IsAddingCompleted))
        {
            // Stopped by us (its token cancelled, its buffer ring closed) or by the caller.
        }
        catch (Exception ex) when (failure is null)
        {
            failure = ex;
        }

        var cancelled = failure is OperationCanceledException || cancellationToken.IsCancellationRequested;
        var loaderFailed = failure is DeepSentinelException { ErrorId: ErrorIds.TrainingInputInvalid or ErrorIds.CorpusEmpty };
        if (model.Step > state.StartStep && (failure is null || cancelled || loaderFailed))
        {
            // Keep the work done so far: after Ctrl+C or a bad patch the run can be resumed.
            var checkpoint = folder.SaveCheckpoint(model, state.Epoch, options.KeepCheckpoints);
            folder.WriteCard(state.Card(options, checkpoint, _time.GetUtcNow()));
            reporter.Verbose($"Checkpoint {checkpoint.Checkpoint} at step {checkpoint.Step}.");
        }

        reporter.Progress(new ProgressUpdate(ProgressActivity, "Pretraining", "Done", Completed: true));
        if (cancelled)
        {
            reporter.Warning($"Pretraining stopped at step {model.Step}; the checkpoint is saved in {folder.Path}. Continue with -Resume.");
            throw new OperationCanceledException("Pretraining was cancelled.", failure, cancellationToken);
        }

        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }

        if (model.Step == state.StartStep)
        {
            throw new DeepSentinelException(ErrorIds.CorpusEmpty, ErrorKind.InvalidData,
                $"The corpus ({source.Description}) gave no batch to train on: it needs at least 2 patches{(triplets ? " (Tile2Vec: 3, with locations)" : string.Empty)}.", source.Description);
        }
    }

    private void TrainLoop(ModelFolder folder, TorchModel model, RunState state, PretrainingOptions options, IOperationReporter reporter,
        BlockingCollection<PatchBatch> free, BlockingCollection<LoaderItem> filled, TensorBoardEventWriter events, MetricsCsvWriter metrics, CancellationToken cancellationToken)
    {
        var run = Stopwatch.StartNew();
        var window = Stopwatch.StartNew();
        long imagesInWindow = 0, imagesInRun = 0, stepsInEpoch = 0;
        foreach (var item in filled.GetConsumingEnumerable(cancellationToken))
        {
            if (item.Batch is null)
            {
                state.Epoch = item.EndOfEpoch;
                state.PatchesPerEpoch ??= item.PatchesInEpoch;
                state.StepsPerEpoch ??= stepsInEpoch;
                stepsInEpoch = 0;
                continue;
            }

            var images = state.Card0.Method == PretrainingMethod.Tile2Vec ? item.Batch.Count / 3 : item.Batch.Count;
            var loss = model.TrainStep(item.Batch);
            item.Batch.Clear();
            free.Add(item.Batch, CancellationToken.None);
            var step = model.Step;
            stepsInEpoch++;
            imagesInWindow += images;
            imagesInRun += images;
            state.LastLoss = loss;
            if (step % options.LogInterval == 0)
            {
                var rate = imagesInWindow / Math.Max(window.Elapsed.TotalSeconds, 1e-9);
                state.ImagesPerSecond = imagesInRun / Math.Max(run.Elapsed.TotalSeconds, 1e-9);
                events.WriteScalars(step, [("loss", loss), ("learning_rate", (float)options.LearningRate), ("images_per_second", (float)rate)]);
                metrics.Write(step, state.Epoch, loss, options.LearningRate, rate, run.Elapsed.TotalSeconds, _time.GetUtcNow());
                window.Restart();
                imagesInWindow = 0;
            }

            reporter.Progress(new ProgressUpdate(ProgressActivity, $"Pretraining {state.Card0.Method} {state.Card0.Encoder}",
                string.Create(CultureInfo.InvariantCulture, $"epoch {state.Epoch + 1}/{options.Epochs}, step {step}, loss {loss:0.0000}, {state.ImagesPerSecond:0.0} images/s"),
                Percent(state, options, step, stepsInEpoch)));

            if (step % options.CheckpointInterval == 0)
            {
                var checkpoint = folder.SaveCheckpoint(model, state.Epoch, options.KeepCheckpoints);
                folder.WriteCard(state.Card(options, checkpoint, _time.GetUtcNow()));
            }

            if (options.MaxSteps is { } max && step >= max)
            {
                // A step limit that falls on the last batch of a pass completes that pass: take
                // the loader's end-of-pass marker if it is next, so the epoch count (and a later
                // -Resume -Epochs) sees the finished pass.
                if (filled.TryTake(out var next, Timeout.Infinite, cancellationToken) && next.Batch is null)
                {
                    state.Epoch = next.EndOfEpoch;
                    state.PatchesPerEpoch ??= next.PatchesInEpoch;
                }

                break;
            }
        }
    }

    private static int Percent(RunState state, PretrainingOptions options, long step, long stepsInEpoch)
    {
        if (options.MaxSteps is { } max)
        {
            return (int)Math.Clamp(100.0 * step / max, 0, 100);
        }

        if (state.StepsPerEpoch is { } perEpoch && perEpoch > 0)
        {
            return (int)Math.Clamp(100.0 * (state.Epoch + ((double)stepsInEpoch / perEpoch)) / options.Epochs, 0, 100);
        }

        return -1;
    }

    private static async Task LoadAsync(IPatchSource source, PretrainingOptions options, int startEpoch, bool triplets,
        BlockingCollection<PatchBatch> free, BlockingCollection<LoaderItem> filled, CancellationToken cancellationToken)
    {
        try
        {
            for (var epoch = startEpoch; epoch < options.Epochs; epoch++)
            {
                long patches = 0;
                var batch = free.Take(cancellationToken);
                var windowed = new List<TrainingPatch>();
                var random = new Random(StableSeed.Mix(options.Seed, epoch));
                await foreach (var patch in source.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    patches++;
                    if (!batch.CanUse(patch))
                    {
                        // e.g. a clouded patch (no S2) for an S2-only model: nothing to learn from.
                        continue;
                    }

                    if (triplets)
                    {
                        windowed.Add(patch);
                        if (windowed.Count < 2 * options.BatchSize)
                        {
                            continue;
                        }

                        FillTriplets(batch, windowed, options.BatchSize, random);
                        windowed.RemoveRange(0, options.BatchSize);
                    }
                    else
                    {
                        batch.Add(patch);
                        if (!batch.IsFull)
                        {
                            continue;
                        }
                    }

                    filled.Add(new LoaderItem(batch, 0, 0), cancellationToken);
                    batch = free.Take(cancellationToken);
                }

                if (triplets && windowed.Count >= 3)
                {
                    FillTriplets(batch, windowed, Math.Min(options.BatchSize, windowed.Count), random);
                }

                if (batch.Count >= (triplets ? 6 : 2))
                {
                    filled.Add(new LoaderItem(batch, 0, 0), cancellationToken);
                }
                else
                {
                    batch.Clear();
                    free.Add(batch, cancellationToken);
                }

                filled.Add(new LoaderItem(null, epoch + 1, patches), cancellationToken);
            }
        }
        finally
        {
            filled.CompleteAdding();
        }
    }

    // Tile2Vec triplets from a window of patches: each anchor's neighbour is its nearest patch in
    // the window (same CRS), its distant patch a random one from the farther half.
    private static void FillTriplets(PatchBatch batch, List<TrainingPatch> window, int anchors, Random random)
    {
        batch.Clear();
        var neighbours = new TrainingPatch[anchors];
        var distant = new TrainingPatch[anchors];
        for (var a = 0; a < anchors; a++)
        {
            var anchor = window[a];
            var location = anchor.Location ?? throw DeepSentinelException.InvalidArgument(ErrorIds.TrainingInputInvalid,
                $"Patch '{anchor.SampleId}' has no location: Tile2Vec picks spatial neighbours and needs each patch's location.", anchor.SampleId);
            var others = window.Where(p => !ReferenceEquals(p, anchor) && p.Location is { } l && l.Crs == location.Crs)
                .OrderBy(p => Distance(location, p.Location!))
                .ToList();
            if (others.Count < 2)
            {
                others = window.Where(p => !ReferenceEquals(p, anchor)).ToList();
            }

            neighbours[a] = others[0];
            distant[a] = others[(others.Count / 2) + random.Next((others.Count + 1) / 2)];
            batch.Add(anchor);
        }

        foreach (var p in neighbours)
        {
            batch.Add(p);
        }

        foreach (var p in distant)
        {
            batch.Add(p);
        }
    }

    private static double Distance(PatchLocation a, PatchLocation b) => Math.Sqrt(((a.X - b.X) * (a.X - b.X)) + ((a.Y - b.Y) * (a.Y - b.Y)));

    private sealed class RunState(ModelCard card, int epoch, long startStep)
    {
        public ModelCard Card0 { get; } = card;

        public int Epoch { get; set; } = epoch;

        public long StartStep { get; } = startStep;

        public long? PatchesPerEpoch { get; set; } = card.Corpus?.Patches;

        public long? StepsPerEpoch { get; set; }

        public double LastLoss { get; set; } = double.NaN;

        public double ImagesPerSecond { get; set; }

        public ModelCard Card(PretrainingOptions options, CheckpointInfo checkpoint, DateTimeOffset now) => Card0 with
        {
            Steps = checkpoint.Step,
            Epochs = checkpoint.Epoch,
            Options = options,
            Corpus = Card0.Corpus is { } corpus ? corpus with { Patches = PatchesPerEpoch } : null,
            FinalMetrics = double.IsNaN(LastLoss) ? Card0.FinalMetrics : new MetricsCard(LastLoss, ImagesPerSecond, options.LearningRate),
            Checkpoint = checkpoint.Checkpoint,
            UpdatedUtc = now,
        };
    }
}
