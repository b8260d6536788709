using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.FineTuning;

/// <summary>Which per-pixel label a segmentation model learns.</summary>
public enum SegmentationLabelSource
{
    /// <summary>clc.tif (Add-CorineLabel): the CLC class of each pixel at the chosen level (1, 2 or 3).</summary>
    Clc,

    /// <summary>osm.tif (Add-OsmLabel): the first OSM class (in the mask's band order) present at each pixel; pixels without one are unlabelled.</summary>
    Osm,
}

/// <summary>What Start-SegmentationTraining does.</summary>
public sealed record SegmentationOptions
{
    /// <summary>The segmentation model's folder.</summary>
    public required string OutputFolder { get; init; }

    /// <summary>Where the UNet starts; null: FineTune with a pretrained model, Scratch without. LinearProbe freezes the encoder path and trains the decoder and head.</summary>
    public FineTuningMode? Mode { get; init; }

    /// <summary>The per-pixel labels.</summary>
    public SegmentationLabelSource Labels { get; init; } = SegmentationLabelSource.Clc;

    /// <summary>CLC labels: the level (1, 2 or 3) classes are taken at (null: the split's level).</summary>
    public int? ClcLevel { get; init; }

    /// <summary>The sensors fed to the UNet (null: all the pretrained model takes, or Fused from scratch).</summary>
    public SensorInput? Sensors { get; init; }

    /// <summary>Scratch only: the architecture (UNet; a ResNet has no full-resolution decoder and is refused).</summary>
    public EncoderKind Encoder { get; init; } = EncoderKind.UNet;

    /// <summary>Scratch only: UNet channels at full resolution.</summary>
    public int UNetWidth { get; init; } = 32;

    /// <summary>Passes over the training split.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Patches per step.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>AdamW learning rate of the decoder and head (and of the whole network from scratch).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>AdamW learning rate of a pretrained encoder path being fine-tuned.</summary>
    public double EncoderLearningRate { get; init; } = 1e-4;

    /// <summary>AdamW weight decay.</summary>
    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>Class weights of the per-pixel loss from the training split's pixel frequencies.</summary>
    public ClassWeighting Weighting { get; init; } = ClassWeighting.Balanced;

    /// <summary>The classes and their order (null: those with training pixels, in code order). Pixels of other classes are not trained on.</summary>
    public IReadOnlyList<string>? Classes { get; init; }

    /// <summary>Seed of the head's weights, the scratch UNet and the batch order.</summary>
    public int Seed { get; init; }

    /// <summary>libtorch intra-op threads (null: the core count).</summary>
    public int? Threads { get; init; }

    /// <summary>CPU or CUDA.</summary>
    public TrainingDevice Device { get; init; } = TrainingDevice.Cpu;

    /// <summary>Continue the unfinished training saved in the folder (after Ctrl+C or a killed run); -Epochs counts all runs.</summary>
    public bool Resume { get; init; }
}
