using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.FineTuning;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Fine-tunes a UNet for semantic segmentation (CLC classes per pixel, or OSM class masks) on a split's training side and evaluates it on its test side in pixels.</para>
/// <para type="description">Starts from a pretrained UNet EmbeddingModel (-Mode LinearProbe: frozen encoder path, trained decoder and head; -Mode FineTune: everything, the encoder at a lower learning rate) or from scratch (-Mode Scratch); S2, S1 or both. The loss is per-pixel cross-entropy weighted by the training side's pixel frequencies; unlabelled pixels (nodata, CLC no-data codes such as 999, pixels without an OSM class) are ignored. Samples without the label file are skipped with a warning. A ResNet encoder is refused (ModelInputMismatch): it has no full-resolution decoder. Writes a segmentation model folder (checkpoints, card, loss per epoch, evaluation JSON/CSV/PNG) and a SegmentationModel. A checkpoint is saved after each epoch and on Ctrl+C; -Resume continues from it. The card is written last, so a run stopped or killed part-way never leaves a folder that passes for a finished model.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "SegmentationTraining", SupportsShouldProcess = true)]
[OutputType(typeof(SegmentationModel))]
public sealed class StartSegmentationTrainingCommand : AsyncPSCmdlet
{
    /// <summary>The split.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, HelpMessage = "The split from Split-LabelledCorpus: training side to fine-tune on, test side to evaluate on.")]
    public CorpusSplit? Split { get; set; }

    /// <summary>The model folder.</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "The segmentation model folder to write (created if missing; refused if it already holds a model, or an unfinished training without -Resume).")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>The pretrained UNet.</summary>
    [Parameter(HelpMessage = "The pretrained UNet (Start-Pretraining -Encoder UNet, Import-EmbeddingModel). Without it the UNet is trained from scratch. A ResNet model is a ModelInputMismatch error.")]
    public EmbeddingModel? Model { get; set; }

    /// <summary>Starting point.</summary>
    [Parameter(HelpMessage = "LinearProbe (frozen encoder path, trained decoder and head), FineTune (everything, the encoder at -EncoderLearningRate; the default with -Model) or Scratch (fresh weights; the default without -Model).")]
    public FineTuningMode? Mode { get; set; }

    /// <summary>Labels.</summary>
    [Parameter(HelpMessage = "The per-pixel labels: Clc (clc.tif from Add-CorineLabel, at -ClcLevel; the default) or Osm (osm.tif from Add-OsmLabel: the first class present in the mask's band order; pixels without a class are unlabelled).")]
    public SegmentationLabelSource Label { get; set; } = SegmentationLabelSource.Clc;

    /// <summary>CLC level.</summary>
    [Parameter(HelpMessage = "CLC labels: the level the pixel classes are taken at, 1, 2 or 3 (default: the split's -ClcLevel).")]
    [ValidateRange(1, 3)]
    public int? ClcLevel { get; set; }

    /// <summary>Sensors.</summary>
    [Parameter(HelpMessage = "The sensors fed to the UNet: S2, S1 or Fused (both). Default: what the pretrained model takes, or Fused from scratch.")]
    public SensorInput? Sensor { get; set; }

    /// <summary>Scratch architecture.</summary>
    [Parameter(HelpMessage = "From scratch: the architecture. Only UNet (the default) segments; ResNet18 and ResNet50 are refused with ModelInputMismatch (no full-resolution decoder).")]
    public EncoderKind Encoder { get; set; } = EncoderKind.UNet;

    /// <summary>Scratch width.</summary>
    [Parameter(HelpMessage = "From scratch: UNet channels at full resolution (default 32; 4-512).")]
    [ValidateRange(4, 512)]
    public int UNetWidth { get; set; } = 32;

    /// <summary>Epochs.</summary>
    [Parameter(HelpMessage = "Passes over the training side (default 10).")]
    [ValidateRange(1, 100000)]
    public int Epochs { get; set; } = 10;

    /// <summary>Batch size.</summary>
    [Parameter(HelpMessage = "Patches per step (default 8).")]
    [ValidateRange(1, 4096)]
    public int BatchSize { get; set; } = 8;

    /// <summary>Head learning rate.</summary>
    [Parameter(HelpMessage = "AdamW learning rate of the decoder and head, and of the whole network from scratch (default 0.001).")]
    [ValidateRange(1e-9, 10.0)]
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Encoder learning rate.</summary>
    [Parameter(HelpMessage = "-Mode FineTune: AdamW learning rate of the pretrained encoder path, usually lower than the head's (default 0.0001).")]
    [ValidateRange(1e-9, 10.0)]
    public double EncoderLearningRate { get; set; } = 1e-4;

    /// <summary>Class weighting.</summary>
    [Parameter(HelpMessage = "Class weights of the per-pixel loss from the training side's pixel frequencies: Balanced (default; n / (classes x count), as scikit-learn), SquareRoot (milder) or None.")]
    public ClassWeighting ClassWeighting { get; set; } = ClassWeighting.Balanced;

    /// <summary>Classes.</summary>
    [Parameter(HelpMessage = "The classes and their order (CLC codes at the level, or OSM class names). Default: every class with training pixels. A class without training pixels is a ClassNotInTraining error; pixels of unlisted classes are not trained on.")]
    [ValidateNotNullOrEmpty]
    public string[]? Class { get; set; }

    /// <summary>Seed.</summary>
    [Parameter(HelpMessage = "Seed of the head's initial weights, the scratch UNet and the batch order (default 0).")]
    public int Seed { get; set; }

    /// <summary>libtorch's intra-op threads.</summary>
    [Parameter(HelpMessage = "Threads libtorch uses inside each operation (default: the number of cores).")]
    [ValidateRange(1, 4096)]
    public int? IntraOpThreads { get; set; }

    /// <summary>Device.</summary>
    [Parameter(HelpMessage = "Cpu (default) or Cuda (needs the engine built against a CUDA libtorch).")]
    public TrainingDevice Device { get; set; } = TrainingDevice.Cpu;

    /// <summary>Resume.</summary>
    [Parameter(HelpMessage = "Continue the unfinished segmentation training in -Path (stopped with Ctrl+C or Stop-Job, or killed) from its last checkpoint: weights, optimizer state and the epochs done; -Epochs counts all runs. Give the same split and options. Without a checkpoint it starts from the beginning, with a warning.")]
    public SwitchParameter Resume { get; set; }

    private SegmentationOptions? _options;

    /// <inheritdoc />
    protected override void ResolveInput() => _options ??= new SegmentationOptions
    {
        OutputFolder = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path),
        Mode = Mode,
        Labels = Label,
        ClcLevel = ClcLevel,
        Sensors = Sensor,
        Encoder = Encoder,
        UNetWidth = UNetWidth,
        Epochs = Epochs,
        BatchSize = BatchSize,
        LearningRate = LearningRate,
        EncoderLearningRate = EncoderLearningRate,
        Weighting = ClassWeighting,
        Classes = Class,
        Seed = Seed,
        Threads = IntraOpThreads,
        Device = Device,
        Resume = Resume.IsPresent,
    };

    /// <inheritdoc />
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var what = Model is null ? "from scratch" : $"from {Model.Name} ({Mode ?? FineTuningMode.FineTune})";
        if (!await ShouldProcessAsync(_options!.OutputFolder, $"{(_options.Resume ? "Resume training" : "Train")} a {_options.Labels} segmentation UNet {what} on {Split!.TrainCount} samples").ConfigureAwait(false))
        {
            return;
        }

        Emit(await new SegmentationService().RunAsync(Split, Model, _options, Reporter, cancellationToken).ConfigureAwait(false));
    }
}
