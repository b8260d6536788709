using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.FineTuning;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Fine-tunes a patch classifier on a split's training side and evaluates it on its test side.</para>
/// <para type="description">Starts from a pretrained EmbeddingModel (-Mode LinearProbe: frozen encoder, trained head; -Mode FineTune: the whole network, the encoder at a lower learning rate) or from scratch (-Mode Scratch); single-label (dominant CLC class) or -MultiLabel (classes above -ShareThreshold); S2, S1 or both. Writes a classifier folder (checkpoints, card, loss per epoch, test predictions, evaluation JSON/CSV/PNG) and a ClassificationModel. Training patches are flipped and turned at random (-NoAugmentation: not). A checkpoint is saved after each epoch and on Ctrl+C; -Resume continues from it. The card is written last, so a run stopped or killed part-way never leaves a folder that passes for a finished classifier.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "FineTuning", SupportsShouldProcess = true)]
[OutputType(typeof(ClassificationModel))]
public sealed class StartFineTuningCommand : AsyncPSCmdlet
{
    /// <summary>The split.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, HelpMessage = "The split from Split-LabelledCorpus: training side to fine-tune on, test side to evaluate on.")]
    public CorpusSplit? Split { get; set; }

    /// <summary>The classifier folder.</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "The classifier folder to write (created if missing; refused if it already holds a classifier).")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>The pretrained encoder.</summary>
    [Parameter(HelpMessage = "The pretrained encoder (Start-Pretraining, Import-EmbeddingModel; ResNet18 or ResNet50). Without it the classifier is trained from scratch.")]
    public EmbeddingModel? Model { get; set; }

    /// <summary>Starting point.</summary>
    [Parameter(HelpMessage = "LinearProbe (frozen encoder, trained head), FineTune (everything, the encoder at -EncoderLearningRate; the default with -Model) or Scratch (fresh weights; the default without -Model).")]
    public FineTuningMode? Mode { get; set; }

    /// <summary>Multi-label.</summary>
    [Parameter(HelpMessage = "Multi-label classification: every class covering at least -ShareThreshold of the patch is a target (sigmoid outputs, weighted binary log loss). Default: single-label, the dominant class.")]
    public SwitchParameter MultiLabel { get; set; }

    /// <summary>Share threshold.</summary>
    [Parameter(HelpMessage = "With -MultiLabel: the share of the patch a class must cover to count as present (default 0.2).")]
    [ValidateRange(0.001, 1.0)]
    public double ShareThreshold { get; set; } = 0.2;

    /// <summary>Sensors.</summary>
    [Parameter(HelpMessage = "The sensors fed to the encoder: S2, S1 or Fused (both). Default: what the pretrained model takes, or Fused from scratch. A fused encoder also takes S1 or S2 alone (the cloud case: -Sensor S1).")]
    public SensorInput? Sensor { get; set; }

    /// <summary>Scratch architecture.</summary>
    [Parameter(HelpMessage = "From scratch: the encoder, ResNet18 (default) or ResNet50.")]
    [ValidateSet(nameof(EncoderKind.ResNet18), nameof(EncoderKind.ResNet50))]
    public EncoderKind Encoder { get; set; } = EncoderKind.ResNet18;

    /// <summary>Scratch embedding length.</summary>
    [Parameter(HelpMessage = "From scratch: the feature length before the head (default 128).")]
    [ValidateRange(1, 8192)]
    public int EmbeddingDimension { get; set; } = 128;

    /// <summary>Epochs.</summary>
    [Parameter(HelpMessage = "Passes over the training side (default 10).")]
    [ValidateRange(1, 100000)]
    public int Epochs { get; set; } = 10;

    /// <summary>Batch size.</summary>
    [Parameter(HelpMessage = "Patches per step (default 16).")]
    [ValidateRange(1, 4096)]
    public int BatchSize { get; set; } = 16;

    /// <summary>Head learning rate.</summary>
    [Parameter(HelpMessage = "AdamW learning rate of the head, and of the whole network from scratch (default 0.001).")]
    [ValidateRange(1e-9, 10.0)]
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Encoder learning rate.</summary>
    [Parameter(HelpMessage = "-Mode FineTune: AdamW learning rate of the pretrained encoder, usually lower than the head's (default 0.0001).")]
    [ValidateRange(1e-9, 10.0)]
    public double EncoderLearningRate { get; set; } = 1e-4;

    /// <summary>Class weighting.</summary>
    [Parameter(HelpMessage = "Class weights of the log loss from the training side's frequencies: Balanced (default; n / (classes x count), as scikit-learn), SquareRoot (milder) or None.")]
    public ClassWeighting ClassWeighting { get; set; } = ClassWeighting.Balanced;

    /// <summary>Classes.</summary>
    [Parameter(HelpMessage = "The classes and their order (CLC codes at the split's level, or dataset class names). Default: every class of the training side. A class without training samples is a ClassNotInTraining error.")]
    [ValidateNotNullOrEmpty]
    public string[]? Class { get; set; }

    /// <summary>Seed.</summary>
    [Parameter(HelpMessage = "Seed of the head's initial weights, the scratch encoder and the batch order (default 0).")]
    public int Seed { get; set; }

    /// <summary>libtorch's intra-op threads.</summary>
    [Parameter(HelpMessage = "Threads libtorch uses inside each operation (default: the number of cores).")]
    [ValidateRange(1, 4096)]
    public int? IntraOpThreads { get; set; }

    /// <summary>Device.</summary>
    [Parameter(HelpMessage = "Cpu (default) or Cuda (needs the engine built against a CUDA libtorch).")]
    public TrainingDevice Device { get; set; } = TrainingDevice.Cpu;

    /// <summary>No augmentation.</summary>
    [Parameter(HelpMessage = "Train on the patches as they are. Default: each training patch gets a random horizontal and vertical flip and a random quarter turn, drawn from -Seed (the test side is never augmented).")]
    public SwitchParameter NoAugmentation { get; set; }

    /// <summary>Resume.</summary>
    [Parameter(HelpMessage = "Continue the unfinished fine-tuning in -Path (stopped with Ctrl+C, or killed) from its last checkpoint: weights, optimizer state and the epochs done; -Epochs counts all runs. Give the same split and options. Without a checkpoint it starts from the beginning, with a warning.")]
    public SwitchParameter Resume { get; set; }

    private FineTuningOptions? _options;

    /// <inheritdoc />
    protected override void ResolveInput() => _options ??= new FineTuningOptions
    {
        OutputFolder = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path),
        Mode = Mode,
        Task = MultiLabel ? ClassificationTask.MultiLabel : ClassificationTask.SingleLabel,
        ShareThreshold = ShareThreshold,
        Sensors = Sensor,
        Encoder = Encoder,
        EmbeddingDimension = EmbeddingDimension,
        Epochs = Epochs,
        BatchSize = BatchSize,
        LearningRate = LearningRate,
        EncoderLearningRate = EncoderLearningRate,
        Weighting = ClassWeighting,
        Classes = Class,
        Seed = Seed,
        Threads = IntraOpThreads,
        Device = Device,
        Augment = !NoAugmentation.IsPresent,
        Resume = Resume.IsPresent,
    };

    /// <inheritdoc />
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var what = Model is null ? "from scratch" : $"from {Model.Name} ({Mode ?? FineTuningMode.FineTune})";
        if (!await ShouldProcessAsync(_options!.OutputFolder, $"{(_options.Resume ? "Resume fine-tuning" : "Fine-tune")} a {_options.Task} classifier {what} on {Split!.TrainCount} samples").ConfigureAwait(false))
        {
            return;
        }

        Emit(await new FineTuningService().RunAsync(Split, Model, _options, Reporter, cancellationToken).ConfigureAwait(false));
    }
}
