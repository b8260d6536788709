using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Pretrains a self-supervised Sentinel-1 + Sentinel-2 encoder on patches from the pipeline.</para>
/// <para type="description">Spools the piped patches to a temporary file, computes per-band normalisation, trains on libtorch and writes a model folder (checkpoints, model card, metrics.csv, TensorBoard events). Ctrl+C saves a checkpoint; -Resume continues from it.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "Pretraining", SupportsShouldProcess = true, DefaultParameterSetName = InputObjectSet)]
[OutputType(typeof(EmbeddingModel))]
public sealed class StartPretrainingCommand : StorageCmdlet
{
    /// <summary>Patches from the pipeline.</summary>
    public const string InputObjectSet = "InputObject";

    /// <summary>A whole corpus, streamed each epoch.</summary>
    public const string CorpusSet = "Corpus";

    /// <summary>Corpus.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CorpusSet, HelpMessage = "A corpus written by New-PatchSample (a folder, az://..., https://...blob... or gs://...): streamed from its store every epoch, never copied or held in memory.")]
    [ValidateNotNullOrEmpty]
    public string Corpus { get; set; } = string.Empty;

    /// <summary>Training patches.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet, HelpMessage = "Patches to train on: PatchSample objects (Get-PatchSample) or other training patches. They are spooled to a temporary file and read once per epoch.")]
    public ITrainingPatchProvider[] InputObject { get; set; } = [];

    /// <summary>The model folder.</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "The model folder to write (created if missing): checkpoints, model-card.json, metrics.csv and TensorBoard event files.")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>The objective.</summary>
    [Parameter(HelpMessage = "The self-supervised objective: SimClr (default; S1 and S2 views of a place are positives), Tile2Vec (spatial triplets) or Autoencoder.")]
    public PretrainingMethod Method { get; set; } = PretrainingMethod.SimClr;

    /// <summary>The architecture.</summary>
    [Parameter(HelpMessage = "The encoder: ResNet18 (default), ResNet50, or UNet for per-pixel embeddings.")]
    public EncoderKind Encoder { get; set; } = EncoderKind.ResNet18;

    /// <summary>Sensors.</summary>
    [Parameter(HelpMessage = "Which sensors the encoder takes: Fused (default, 12 S2 bands + VV, VH), S2 or S1.")]
    public SensorInput Sensor { get; set; } = SensorInput.Fused;

    /// <summary>Embedding length.</summary>
    [Parameter(HelpMessage = "Length of each embedding (for a UNet, depth of the per-pixel embedding); default 128.")]
    [ValidateRange(1, 8192)]
    public int EmbeddingDimension { get; set; } = 128;

    /// <summary>Batch size.</summary>
    [Parameter(HelpMessage = "Patches per training step (Tile2Vec: triplets per step); default 32.")]
    [ValidateRange(2, 4096)]
    public int BatchSize { get; set; } = 32;

    /// <summary>Epochs.</summary>
    [Parameter(HelpMessage = "Passes over the patches, counted over all runs of this model folder; default 1.")]
    [ValidateRange(1, 100000)]
    public int Epochs { get; set; } = 1;

    /// <summary>Step limit.</summary>
    [Parameter(HelpMessage = "Stop when the model has taken this many steps in total (all runs of the folder).")]
    [ValidateRange(1L, long.MaxValue)]
    public long? MaxSteps { get; set; }

    /// <summary>Learning rate.</summary>
    [Parameter(HelpMessage = "AdamW learning rate (default 0.001).")]
    [ValidateRange(1e-9, 10.0)]
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Modality dropout.</summary>
    [Parameter(HelpMessage = "Probability that a view loses its S1 or S2 half, so the encoder also embeds S1-only and S2-only input (default 0.3).")]
    [ValidateRange(0.0, 1.0)]
    public double ModalityDropout { get; set; } = 0.3;

    /// <summary>Seed.</summary>
    [Parameter(HelpMessage = "Seed of the initial weights and the augmentations (default 0).")]
    public int Seed { get; set; }

    /// <summary>Device.</summary>
    [Parameter(HelpMessage = "Cpu (default) or Cuda (needs the engine built against a CUDA libtorch).")]
    public TrainingDevice Device { get; set; } = TrainingDevice.Cpu;

    /// <summary>Memory format.</summary>
    [Parameter(HelpMessage = "Tensor memory format: Auto (default: NCHW on the CPU, NHWC on CUDA, the faster layout of each as measured), Contiguous (NCHW) or ChannelsLast (NHWC).")]
    public TensorMemoryFormat MemoryFormat { get; set; } = TensorMemoryFormat.Auto;

    /// <summary>libtorch's intra-op threads.</summary>
    [Parameter(HelpMessage = "Threads libtorch uses inside each operation (torch.set_num_threads; default: the number of cores). One training runs at a time; on a machine busy with other work, fewer threads than cores is faster.")]
    [ValidateRange(1, 4096)]
    public int? IntraOpThreads { get; set; }

    /// <summary>Checkpoint interval.</summary>
    [Parameter(HelpMessage = "Save a checkpoint every this many steps (default 200), and always at the end or on Ctrl+C.")]
    [ValidateRange(1, int.MaxValue)]
    public int CheckpointInterval { get; set; } = 200;

    /// <summary>Resume.</summary>
    [Parameter(HelpMessage = "Continue training the model in -Path from its last checkpoint (step count, optimizer state and normalisation are kept).")]
    public SwitchParameter Resume { get; set; }

    private PretrainingOptions? _options;
    private PatchSpool? _spool;
    private bool? _approved;
    private string? _corpus;
    private Core.Storage.StorageOptions? _storage;

    /// <inheritdoc />
    protected override void ResolveInput()
    {
        if (_options is not null)
        {
            return;
        }

        _corpus = ParameterSetName == CorpusSet ? ResolveLocation(Corpus) : null;
        _storage = ResolveStorageOptions();
        _options = new PretrainingOptions
        {
            OutputFolder = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path),
            Method = Method,
            Encoder = Encoder,
            Sensors = Sensor,
            EmbeddingDimension = EmbeddingDimension,
            BatchSize = BatchSize,
            Epochs = Epochs,
            MaxSteps = MaxSteps,
            LearningRate = LearningRate,
            ModalityDropout = ModalityDropout,
            Seed = Seed,
            Device = Device,
            MemoryFormat = MemoryFormat,
            Threads = IntraOpThreads,
            CheckpointInterval = CheckpointInterval,
            Resume = Resume.IsPresent,
        };
    }

    /// <inheritdoc />
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        _approved ??= await ShouldProcessAsync(_options!.OutputFolder, $"{(_options.Resume ? "Resume" : "Start")} {_options.Method} pretraining of a {_options.Encoder} encoder").ConfigureAwait(false);
        if (_approved != true)
        {
            return;
        }

        _spool ??= new PatchSpool("pipeline input");
        foreach (var input in InputObject)
        {
            await _spool.AddAsync(await input.LoadTrainingPatchAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        if (_approved == false)
        {
            return;
        }

        if (_corpus is not null)
        {
            var source = new Core.Corpus.CorpusPatchSource(_corpus, _storage, Reporter);
            Emit(await new PretrainingService().RunAsync(source, _options!, Reporter, cancellationToken).ConfigureAwait(false));
        }
        else if (_spool is not null)
        {
            Emit(await new PretrainingService().RunAsync(_spool, _options!, Reporter, cancellationToken).ConfigureAwait(false));
        }
        else
        {
            // Nothing came through the pipeline (an empty corpus, a filter that kept nothing):
            // say so rather than return nothing.
            throw new Core.Errors.DeepSentinelException(Core.Errors.ErrorIds.CorpusEmpty, Core.Errors.ErrorKind.InvalidData,
                "No patches came through the pipeline: nothing to train on. Check the command that feeds Start-Pretraining (e.g. Get-PatchSample on an empty or mistyped corpus).", null);
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _spool?.Dispose();
        }

        base.Dispose(disposing);
    }
}
