using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.SuperResolution;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Trains a Sentinel-2 super-resolution network (DSen2) on your own scenes, without labels.</para>
/// <para type="description">Wald's protocol (Lanaras et al. 2018): random crops of the scenes are degraded by the model's factor with a Gaussian matched to the sensor's MTF, and the network learns to recover the crops' own 20 m (2x) or 60 m (6x) bands. Writes a model folder (checkpoints, superres-card.json, metrics.csv, TensorBoard events). Ctrl+C saves a checkpoint; -Resume continues.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "SuperResolutionTraining", SupportsShouldProcess = true, DefaultParameterSetName = SceneSet)]
[OutputType(typeof(SuperResolutionModel))]
public sealed class StartSuperResolutionTrainingCommand : AsyncPSCmdlet
{
    /// <summary>Scenes from the pipeline.</summary>
    public const string SceneSet = "Scene";

    /// <summary>Corpus samples from the pipeline.</summary>
    public const string SampleSet = "Sample";

    /// <summary>A whole corpus.</summary>
    public const string CorpusSet = "Corpus";

    /// <summary>Scenes.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = SceneSet, HelpMessage = "Sentinel-2 L2A scenes to train on (Get-SentinelScene): random crops are read from their COGs through GDAL, local or remote.")]
    public SentinelScene[] Scene { get; set; } = [];

    /// <summary>Samples.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = SampleSet, HelpMessage = "Corpus samples (Get-PatchSample): each sample's window is read from its source scene's native-resolution bands (deepsentinel:source_assets in its STAC Item).")]
    public PatchSample[] InputObject { get; set; } = [];

    /// <summary>Corpus.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CorpusSet, HelpMessage = "A local corpus written by New-PatchSample: every sample's window in its source scene.")]
    [ValidateNotNullOrEmpty]
    public string Corpus { get; set; } = string.Empty;

    /// <summary>The model folder.</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "The model folder to write (created if missing).")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>Factor.</summary>
    [Parameter(HelpMessage = "2 (default): recover the 20 m bands (B05, B06, B07, B8A, B11, B12) at 10 m; 6: the 60 m bands (B01, B09).")]
    [ValidateSet("2", "6")]
    public int Factor { get; set; } = 2;

    /// <summary>Architecture.</summary>
    [Parameter(HelpMessage = "DSen2 (default: 6 residual blocks of 128 features) or VDSen2 (32 of 256).")]
    public SuperResolutionArchitecture Architecture { get; set; } = SuperResolutionArchitecture.DSen2;

    /// <summary>Blocks.</summary>
    [Parameter(HelpMessage = "Residual blocks, instead of the architecture's (the model is then Custom): e.g. a small network for a quick trial.")]
    [ValidateRange(1, 128)]
    public int? ResidualBlocks { get; set; }

    /// <summary>Features.</summary>
    [Parameter(HelpMessage = "Features per convolution, instead of the architecture's (the model is then Custom).")]
    [ValidateRange(4, 1024)]
    public int? Features { get; set; }

    /// <summary>Steps.</summary>
    [Parameter(HelpMessage = "Total optimisation steps of the model folder (a resumed run trains up to this many); default 1000.")]
    [ValidateRange(1, int.MaxValue)]
    public int Steps { get; set; } = 1000;

    /// <summary>Batch size.</summary>
    [Parameter(HelpMessage = "Crops per step; default 8.")]
    [ValidateRange(1, 1024)]
    public int BatchSize { get; set; } = 8;

    /// <summary>Patch size.</summary>
    [Parameter(HelpMessage = "Side of a training crop as the network sees it, in pixels of the degraded image, a multiple of 6 (default 60 for 2x, 48 for 6x; the crop read is this times the factor).")]
    [ValidateRange(12, 1024)]
    public int? PatchSize { get; set; }

    /// <summary>Learning rate.</summary>
    [Parameter(HelpMessage = "Adam learning rate (default 0.0001, as the paper).")]
    [ValidateRange(1e-9, 1.0)]
    public double LearningRate { get; set; } = 1e-4;

    /// <summary>MTF.</summary>
    [Parameter(HelpMessage = "The sensor's MTF at the Nyquist frequency that the degradation's Gaussian is matched to (default 0.3).")]
    [ValidateRange(0.02, 0.98)]
    public double MtfAtNyquist { get; set; } = ImageResampling.DefaultMtfAtNyquist;

    /// <summary>Seed.</summary>
    [Parameter(HelpMessage = "Seed of the initial weights and of the crops (default 1): the same seed, input and thread count train the same model.")]
    public long Seed { get; set; } = 1;

    /// <summary>Device.</summary>
    [Parameter(HelpMessage = "Cpu (default) or Cuda (needs the engine built against a CUDA libtorch).")]
    public TrainingDevice Device { get; set; } = TrainingDevice.Cpu;

    /// <summary>Threads.</summary>
    [Parameter(HelpMessage = "Threads libtorch uses inside each operation (default: the number of cores).")]
    [ValidateRange(1, 4096)]
    public int? IntraOpThreads { get; set; }

    /// <summary>Checkpoint interval.</summary>
    [Parameter(HelpMessage = "Save a checkpoint every this many steps (default 100), and always at the end or on Ctrl+C.")]
    [ValidateRange(1, int.MaxValue)]
    public int CheckpointInterval { get; set; } = 100;

    /// <summary>Resume.</summary>
    [Parameter(HelpMessage = "Continue training the model in -Path from its last checkpoint (steps and Adam state are kept).")]
    public SwitchParameter Resume { get; set; }

    private readonly List<SuperResolutionSource> _sources = [];

    /// <inheritdoc />
    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (var scene in Scene)
        {
            _sources.Add(SuperResolutionSource.FromScene(scene));
        }

        foreach (var sample in InputObject)
        {
            _sources.Add(SuperResolutionSource.FromSample(sample, SuperResolutionBands.Inputs((SuperResolutionFactor)Factor)));
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        if (ParameterSetName == CorpusSet)
        {
            var location = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Corpus);
            await foreach (var sample in Core.Labels.LabelService.ReadCorpus(location, Reporter, cancellationToken).ConfigureAwait(false))
            {
                _sources.Add(SuperResolutionSource.FromSample(sample, SuperResolutionBands.Inputs((SuperResolutionFactor)Factor)));
            }
        }

        var options = new SuperResolutionTrainingOptions
        {
            OutputFolder = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path),
            Factor = (SuperResolutionFactor)Factor,
            Architecture = Architecture,
            ResidualBlocks = ResidualBlocks,
            Features = Features,
            Steps = Steps,
            BatchSize = BatchSize,
            PatchSize = PatchSize,
            LearningRate = LearningRate,
            MtfAtNyquist = MtfAtNyquist,
            Seed = Seed,
            Device = Device,
            Threads = IntraOpThreads,
            CheckpointInterval = CheckpointInterval,
            Resume = Resume.IsPresent,
        };
        if (!await ShouldProcessAsync(options.OutputFolder, $"{(options.Resume ? "Resume" : "Start")} {Factor}x {options.Network.Architecture} super-resolution training on {_sources.Count} scene(s) or sample(s)").ConfigureAwait(false))
        {
            return;
        }

        Emit(await new SuperResolutionTrainingService().RunAsync(_sources, options, Reporter, cancellationToken).ConfigureAwait(false));
    }
}
