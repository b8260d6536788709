using System.Diagnostics;
using System.Globalization;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Torch;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.SuperResolution;

/// <summary>What Start-SuperResolutionTraining does.</summary>
public sealed record SuperResolutionTrainingOptions
{
    /// <summary>The model folder.</summary>
    public required string OutputFolder { get; init; }

    /// <summary>2x (20 m bands) or 6x (60 m bands).</summary>
    public SuperResolutionFactor Factor { get; init; } = SuperResolutionFactor.X2;

    /// <summary>DSen2 (6 x 128) or VDSen2 (32 x 256).</summary>
    public SuperResolutionArchitecture Architecture { get; init; } = SuperResolutionArchitecture.DSen2;

    /// <summary>Residual blocks, overriding the architecture's (the architecture becomes Custom).</summary>
    public int? ResidualBlocks { get; init; }

    /// <summary>Features per convolution, overriding the architecture's (the architecture becomes Custom).</summary>
    public int? Features { get; init; }

    /// <summary>The architecture, blocks and features in use.</summary>
    public (SuperResolutionArchitecture Architecture, int Blocks, int Features) Network
    {
        get
        {
            var (blocks, features) = SuperResolutionBands.Shape(Architecture);
            return ResidualBlocks is null && Features is null
                ? (Architecture, blocks, features)
                : (SuperResolutionArchitecture.Custom, ResidualBlocks ?? blocks, Features ?? features);
        }
    }

    /// <summary>Total optimisation steps of the folder (a resumed run goes on to this many).</summary>
    public int Steps { get; init; } = 1000;

    /// <summary>Crops per step.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Network input side in training, pixels of the degraded image (a multiple of 6); null: 60 for 2x, 48 for 6x.</summary>
    public int? PatchSize { get; init; }

    /// <summary>Adam's learning rate (the paper's 1e-4).</summary>
    public double LearningRate { get; init; } = 1e-4;

    /// <summary>The fixed factor inputs are divided by (the paper's 2000).</summary>
    public double InputScale { get; init; } = 2000;

    /// <summary>The MTF at Nyquist the degradation's Gaussian matches.</summary>
    public double MtfAtNyquist { get; init; } = ImageResampling.DefaultMtfAtNyquist;

    /// <summary>The seed of the weights and of the crops.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Intra-op threads; all cores when null.</summary>
    public int? Threads { get; init; }

    /// <summary>CPU or CUDA.</summary>
    public TrainingDevice Device { get; init; } = TrainingDevice.Cpu;

    /// <summary>Steps between checkpoints.</summary>
    public int CheckpointInterval { get; init; } = 100;

    /// <summary>Checkpoints kept.</summary>
    public int KeepCheckpoints { get; init; } = 3;

    /// <summary>Steps between metrics rows and TensorBoard scalars.</summary>
    public int LogInterval { get; init; } = 10;

    /// <summary>Continue the folder's model.</summary>
    public bool Resume { get; init; }

    /// <summary>The patch size in use.</summary>
    public int EffectivePatchSize => PatchSize ?? (Factor == SuperResolutionFactor.X2 ? 60 : 48);
}

/// <summary>
/// Trains a DSen2 network without labels by Wald's protocol (Lanaras et al. 2018): random crops
/// of the sources are degraded by the model's factor (an MTF-matched Gaussian, then sampling at
/// the coarse pixel centres), and the network learns to recover the crop's own coarse bands from
/// the degraded ones. Steps run on one dedicated thread that also reads the crops (GDAL handles
/// stay on it). Cancellation saves a checkpoint and stops; Resume continues it, with the crops an
/// uninterrupted run would have drawn (each step's crops come from the seed and the step).
/// </summary>
public sealed class SuperResolutionTrainingService(TimeProvider? time = null)
{
    private const int ProgressActivity = 15;
    private const int CropAttempts = 50;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Trains and returns the model.</summary>
    public async Task<SuperResolutionModel> RunAsync(IReadOnlyList<SuperResolutionSource> sources, SuperResolutionTrainingOptions options, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(reporter);
        Validate(options);
        if (sources.Count == 0)
        {
            throw new DeepSentinelException(ErrorIds.NoScenesAvailable, ErrorKind.InvalidArgument, "No scenes or samples to train on: pipe Sentinel-2 scenes (Get-SentinelScene) or corpus samples (Get-PatchSample), or give -Corpus.");
        }

        return await Task.Factory.StartNew(() => Run(sources, options, reporter, cancellationToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
    }

    private static void Validate(SuperResolutionTrainingOptions o)
    {
        static void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, message);
            }
        }

        ArgumentException.ThrowIfNullOrEmpty(o.OutputFolder);
        Require(Enum.IsDefined(o.Factor), $"Factor must be 2 or 6, got {(int)o.Factor}.");
        Require(o.ResidualBlocks is null or (>= 1 and <= 128) && o.Features is null or (>= 4 and <= 1024), "ResidualBlocks must be 1-128 and Features 4-1024.");
        Require(o.Steps >= 1, $"Steps must be at least 1, got {o.Steps}.");
        Require(o.BatchSize is >= 1 and <= 1024, $"BatchSize must be 1-1024, got {o.BatchSize}.");
        Require(o.EffectivePatchSize is >= 12 and <= 1024 && o.EffectivePatchSize % 6 == 0, $"PatchSize must be a multiple of 6 from 12 to 1024, got {o.EffectivePatchSize}.");
        Require(o.LearningRate is > 0 and <= 1, $"LearningRate must be in (0, 1], got {o.LearningRate}.");
        Require(o.InputScale > 0, "InputScale must be positive.");
        Require(o.MtfAtNyquist is > 0.01 and < 0.99, $"MtfAtNyquist must be within 0.01-0.99, got {o.MtfAtNyquist}.");
        Require(o.Threads is null or >= 1, $"Threads must be at least 1, got {o.Threads}.");
        Require(o.CheckpointInterval >= 1 && o.KeepCheckpoints >= 1 && o.LogInterval >= 1, "CheckpointInterval, KeepCheckpoints and LogInterval must be at least 1.");
    }

    private SuperResolutionModel Run(IReadOnlyList<SuperResolutionSource> sources, SuperResolutionTrainingOptions options, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        var folder = new ModelFolder(options.OutputFolder);
        var cardPath = Path.Combine(folder.Path, SuperResolutionCard.FileName);
        var readers = new Dictionary<SuperResolutionSource, SceneBandReader>();
        var byScene = new Dictionary<string, SceneBandReader>(StringComparer.Ordinal);
        try
        {
            // Everything is checked before the folder is touched: bands, windows, sizes.
            var windows = new Dictionary<SuperResolutionSource, Raster.PatchGrid>();
            var crop = options.EffectivePatchSize * (int)options.Factor;
            foreach (var source in sources)
            {
                if (!byScene.TryGetValue(source.SceneId, out var reader))
                {
                    reader = source.OpenReader();
                    byScene[source.SceneId] = reader;
                }

                readers[source] = reader;
                reader.RequireBands(SuperResolutionBands.Inputs(options.Factor));
                var window = source.Window ?? reader.SceneGrid();
                if (window.Width < crop || window.Height < crop)
                {
                    throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue,
                        $"{source.Name} is {window.Width} x {window.Height} px at 10 m; a {(int)options.Factor}x training crop of -PatchSize {options.EffectivePatchSize} needs {crop} x {crop}. Use a smaller -PatchSize (at most {Math.Min(window.Width, window.Height) / (int)options.Factor / 6 * 6}).", source.Name);
                }

                windows[source] = window;
            }

            TorchNative.EnsureLoaded();
            TorchNative.SetThreads(options.Threads ?? Environment.ProcessorCount);
            reporter.Verbose($"Training engine: {TorchNative.Version}; {TorchNative.GetThreads()} threads.");
            var (network, card) = options.Resume ? Resume(folder, cardPath, options, reporter) : Start(folder, cardPath, sources, options);
            using (network)
            {
                if (network.Step >= options.Steps)
                {
                    reporter.Warning($"{folder.Path} has already taken {network.Step} steps (-Steps {options.Steps}): nothing was trained. Raise -Steps to train further.");
                    return SuperResolutionModel.Import(folder.Path);
                }

                Train(folder, cardPath, network, card, sources, windows, readers, options, reporter, cancellationToken);
            }

            return SuperResolutionModel.Import(folder.Path);
        }
        finally
        {
            foreach (var reader in byScene.Values)
            {
                reader.Dispose();
            }
        }
    }

    private (SuperResolutionNetwork, SuperResolutionCard) Start(ModelFolder folder, string cardPath, IReadOnlyList<SuperResolutionSource> sources, SuperResolutionTrainingOptions options)
    {
        if (folder.HasModel || File.Exists(cardPath))
        {
            throw new DeepSentinelException(ErrorIds.ModelFolderNotEmpty, ErrorKind.InvalidArgument,
                $"{folder.Path} already holds a model: add -Resume to continue training it, or choose another folder.", folder.Path);
        }

        var (architecture, blocks, features) = options.Network;
        var network = SuperResolutionNetwork.Create(options.Factor, blocks, features, options.Seed, options.LearningRate, options.InputScale, options.Device);
        var now = _time.GetUtcNow();
        var card = new SuperResolutionCard
        {
            Factor = options.Factor,
            Architecture = architecture,
            Blocks = blocks,
            Features = features,
            InputScale = options.InputScale,
            InputBands = SuperResolutionBands.Inputs(options.Factor),
            OutputBands = SuperResolutionBands.Outputs(options.Factor),
            MtfAtNyquist = options.MtfAtNyquist,
            PatchSize = options.EffectivePatchSize,
            BatchSize = options.BatchSize,
            Seed = options.Seed,
            LearningRate = options.LearningRate,
            Parameters = network.ParameterCount,
            Sources = sources.Select(s => s.Name).Distinct().Take(1000).ToList(),
            Engine = TorchNative.Version,
            CreatedUtc = now,
            UpdatedUtc = now,
        };
        folder.Create();
        return (network, card);
    }

    private static (SuperResolutionNetwork, SuperResolutionCard) Resume(ModelFolder folder, string cardPath, SuperResolutionTrainingOptions options, IOperationReporter reporter)
    {
        var model = SuperResolutionModel.Import(folder.Path);
        var latest = folder.ReadLatest();
        var optimizer = folder.Resolve(latest.Optimizer);
        if (!File.Exists(optimizer))
        {
            reporter.Warning($"The optimizer state {optimizer} is missing: resuming with fresh Adam moments.");
        }

        if (model.Factor != options.Factor || model.Architecture != options.Network.Architecture)
        {
            reporter.Warning($"{folder.Path} holds a {(int)model.Factor}x {model.Architecture} model; it is resumed as it is and -Factor/-Architecture are ignored.");
        }

        var network = SuperResolutionNetwork.Load(folder.Resolve(latest.Checkpoint), File.Exists(optimizer) ? optimizer : null, options.Device);
        network.SetLearningRate(options.LearningRate);
        reporter.Verbose($"Resuming {folder.Path} at step {network.Step}.");
        return (network, model.Card);
    }

    private void Train(ModelFolder folder, string cardPath, SuperResolutionNetwork network, SuperResolutionCard card, IReadOnlyList<SuperResolutionSource> sources,
        Dictionary<SuperResolutionSource, Raster.PatchGrid> windows, Dictionary<SuperResolutionSource, SceneBandReader> readers, SuperResolutionTrainingOptions options, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        var factor = (int)network.Factor;
        var p = card.PatchSize;
        var b = options.BatchSize;
        var fine = new float[b * SuperResolutionBands.Fine.Length * p * p];
        var mid = new float[b * SuperResolutionBands.Mid.Length * (p / 2) * (p / 2)];
        var coarse = factor == 6 ? new float[b * SuperResolutionBands.Coarse.Length * (p / 6) * (p / 6)] : null;
        var target = new float[b * network.OutputChannels * p * p];
        var startStep = network.Step;
        var run = Stopwatch.StartNew();
        var lastLoss = card.Loss;
        using var events = new TensorBoardEventWriter(folder.Path, _time);
        using var metrics = new MetricsCsvWriter(folder.MetricsPath);

        void Save()
        {
            var checkpoint = folder.SaveCheckpoint(network.Step, network.Save, 0, options.KeepCheckpoints);
            card = card with
            {
                Steps = checkpoint.Step,
                Loss = lastLoss,
                TrainingSeconds = card.TrainingSeconds + run.Elapsed.TotalSeconds,
                Checkpoint = checkpoint.Checkpoint,
                LearningRate = options.LearningRate,
                UpdatedUtc = _time.GetUtcNow(),
            };
            run.Restart();
            ModelFolder.WriteAtomically(cardPath, System.Text.Json.JsonSerializer.Serialize(card, ModelCard.Json));
        }

        try
        {
            while (network.Step < options.Steps)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var step = network.Step;
                var random = new Random(StableSeed.Mix(options.Seed, step));
                for (var i = 0; i < b; i++)
                {
                    FillCrop(i, random, sources, windows, readers, factor, p, options.MtfAtNyquist, fine, mid, coarse, target, cancellationToken);
                }

                var loss = network.TrainStep(b, p, p, fine, mid, coarse, target);
                lastLoss = loss;
                var done = network.Step;
                var rate = (done - startStep) * b / Math.Max(run.Elapsed.TotalSeconds + 1e-9, 1e-9);
                if (done % options.LogInterval == 0 || done == options.Steps)
                {
                    events.WriteScalars(done, [("loss", loss), ("learning_rate", (float)options.LearningRate), ("crops_per_second", (float)rate)]);
                    metrics.Write(done, 0, loss, options.LearningRate, rate, run.Elapsed.TotalSeconds, _time.GetUtcNow());
                }

                reporter.Progress(new ProgressUpdate(ProgressActivity, $"Training {(int)network.Factor}x {card.Architecture}",
                    string.Create(CultureInfo.InvariantCulture, $"step {done}/{options.Steps}, L1 loss {loss:0.00000}, {rate:0.0} crops/s"),
                    (int)Math.Clamp(100.0 * done / options.Steps, 0, 100)));
                if (done % options.CheckpointInterval == 0 && done < options.Steps)
                {
                    Save();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (network.Step > startStep)
            {
                Save();
            }

            reporter.Progress(new ProgressUpdate(ProgressActivity, "Training", "Stopped", Completed: true));
            reporter.Warning($"Super-resolution training stopped at step {network.Step}; the checkpoint is saved in {folder.Path}. Continue with -Resume.");
            throw;
        }
        catch (DeepSentinelException) when (network.Step > startStep)
        {
            // A source that fails mid-run (a scene gone, a read error): keep the steps done.
            Save();
            throw;
        }

        Save();
        reporter.Progress(new ProgressUpdate(ProgressActivity, "Training", "Done", Completed: true));
    }

    // One random crop whose every band has data, degraded by the factor into the network input
    // (slot i of the batch), its own coarse bands the target.
    private static void FillCrop(int i, Random random, IReadOnlyList<SuperResolutionSource> sources, Dictionary<SuperResolutionSource, Raster.PatchGrid> windows,
        Dictionary<SuperResolutionSource, SceneBandReader> readers, int factor, int p, double mtf, float[] fine, float[] mid, float[]? coarse, float[] target, CancellationToken cancellationToken)
    {
        var crop = p * factor;
        for (var attempt = 0; attempt < CropAttempts; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var source = sources[random.Next(sources.Count)];
            var window = windows[source];
            var x = 6 * random.Next(((window.Width - crop) / 6) + 1);
            var y = 6 * random.Next(((window.Height - crop) / 6) + 1);
            var grid = window with { OriginX = window.OriginX + (x * 10), OriginY = window.OriginY - (y * 10), Width = crop, Height = crop };
            var image = readers[source].Read(grid, withCoarse: factor == 6);
            if (image.HasNoData())
            {
                continue;
            }

            var low = image.Degrade(factor, mtf);
            Place(low.Fine, fine, i, p * p);
            Place(low.Mid, mid, i, (p / 2) * (p / 2));
            if (coarse is not null)
            {
                Place(low.Coarse!, coarse, i, (p / 6) * (p / 6));
            }

            Place(factor == 2 ? image.Mid : image.Coarse!, target, i, p * p);
            return;
        }

        throw new DeepSentinelException(ErrorIds.CorpusEmpty, ErrorKind.InvalidData,
            $"{CropAttempts} random {crop} x {crop} px crops of the sources ({string.Join(", ", sources.Take(3).Select(s => s.Name))}{(sources.Count > 3 ? ", ..." : string.Empty)}) all held nodata: give scenes or samples with more valid area, or a smaller -PatchSize.");
    }

    private static void Place(float[][] planes, float[] batch, int slot, int planeSize)
    {
        var offset = slot * planes.Length * planeSize;
        for (var c = 0; c < planes.Length; c++)
        {
            Array.Copy(planes[c], 0, batch, offset + (c * planeSize), planeSize);
        }
    }
}
