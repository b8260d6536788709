using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.FineTuning;

/// <summary>Where the encoder of a fine-tuned classifier starts.</summary>
public enum FineTuningMode
{
    /// <summary>A pretrained encoder, frozen; only the classification head is trained (a linear probe).</summary>
    LinearProbe,

    /// <summary>A pretrained encoder, trained with the head at a lower learning rate (-EncoderLearningRate).</summary>
    FineTune,

    /// <summary>The same architecture with fresh weights, trained from scratch (the baseline).</summary>
    Scratch,
}

/// <summary>How the training split's class frequencies weight the log loss.</summary>
public enum ClassWeighting
{
    /// <summary>Every class weighs 1.</summary>
    None,

    /// <summary>n / (classes x count of the class), scikit-learn's "balanced": rare classes weigh more (default).</summary>
    Balanced,

    /// <summary>The square root of Balanced: a milder correction.</summary>
    SquareRoot,
}

/// <summary>Single-label (the dominant class) or multi-label (every class above a share).</summary>
public enum ClassificationTask
{
    /// <summary>One class per patch: the class that covers most of it.</summary>
    SingleLabel,

    /// <summary>Every class covering at least <see cref="FineTuningOptions.ShareThreshold"/> of the patch.</summary>
    MultiLabel,
}

/// <summary>What Start-FineTuning does.</summary>
public sealed record FineTuningOptions
{
    /// <summary>The classifier's folder.</summary>
    public required string OutputFolder { get; init; }

    /// <summary>Where the encoder starts; null: FineTune with a pretrained model, Scratch without.</summary>
    public FineTuningMode? Mode { get; init; }

    /// <summary>Single- or multi-label.</summary>
    public ClassificationTask Task { get; init; } = ClassificationTask.SingleLabel;

    /// <summary>Multi-label: the share of the patch a class must cover to count as present.</summary>
    public double ShareThreshold { get; init; } = 0.2;

    /// <summary>The sensors fed to the encoder (null: all the encoder takes). A fused encoder also takes S2 or S1 alone.</summary>
    public SensorInput? Sensors { get; init; }

    /// <summary>Scratch only: the architecture.</summary>
    public EncoderKind Encoder { get; init; } = EncoderKind.ResNet18;

    /// <summary>Scratch only: the embedding (feature) length before the head.</summary>
    public int EmbeddingDimension { get; init; } = 128;

    /// <summary>Passes over the training split.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Patches per step.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>AdamW learning rate of the head (and of the whole network from scratch).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>AdamW learning rate of a pretrained encoder being fine-tuned.</summary>
    public double EncoderLearningRate { get; init; } = 1e-4;

    /// <summary>AdamW weight decay.</summary>
    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>Class weights of the loss.</summary>
    public ClassWeighting Weighting { get; init; } = ClassWeighting.Balanced;

    /// <summary>The classes and their order (null: those of the training split, in code order).</summary>
    public IReadOnlyList<string>? Classes { get; init; }

    /// <summary>Seed of the head's weights, the scratch encoder and the batch order.</summary>
    public int Seed { get; init; }

    /// <summary>libtorch intra-op threads (null: the core count).</summary>
    public int? Threads { get; init; }

    /// <summary>CPU or CUDA.</summary>
    public TrainingDevice Device { get; init; } = TrainingDevice.Cpu;

    /// <summary>Random flips and quarter turns of each training patch, drawn from the seed (default on; false: the patches as they are).</summary>
    public bool Augment { get; init; } = true;

    /// <summary>Continue the unfinished fine-tuning saved in the folder (after Ctrl+C or a killed run); -Epochs counts all runs.</summary>
    public bool Resume { get; init; }
}
