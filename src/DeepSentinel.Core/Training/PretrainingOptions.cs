namespace DeepSentinel.Core.Training;

/// <summary>The encoder architecture.</summary>
public enum EncoderKind
{
    /// <summary>ResNet-18 (11 M parameters): one embedding per patch.</summary>
    ResNet18 = 0,
    /// <summary>ResNet-50 (24 M parameters): one embedding per patch.</summary>
    ResNet50 = 1,
    /// <summary>A four-level UNet: per-pixel embeddings, and their mean per patch.</summary>
    UNet = 2,
}

/// <summary>The self-supervised objective.</summary>
public enum PretrainingMethod
{
    /// <summary>Contrastive (NT-Xent): two augmented views of a place, including its S1-only and S2-only views, are positives.</summary>
    SimClr = 0,
    /// <summary>Triplet loss: a patch is closer to its spatial neighbour than to a distant patch.</summary>
    Tile2Vec = 1,
    /// <summary>Denoising autoencoder: reconstruct the patch from a masked, noisy, modality-dropped copy.</summary>
    Autoencoder = 2,
}

/// <summary>Which sensors the encoder takes.</summary>
public enum SensorInput
{
    /// <summary>Sentinel-2 (12 bands) and Sentinel-1 (2 polarisations): 14 channels.</summary>
    Fused,
    /// <summary>Sentinel-2 only: 12 channels.</summary>
    S2,
    /// <summary>Sentinel-1 only: 2 channels.</summary>
    S1,
}

/// <summary>Where training runs.</summary>
public enum TrainingDevice
{
    /// <summary>The CPU (all cores by default).</summary>
    Cpu = 0,
    /// <summary>The first CUDA GPU (needs a CUDA build of libtorch).</summary>
    Cuda = 1,
}

/// <summary>How activations and convolution weights are laid out in memory.</summary>
public enum TensorMemoryFormat
{
    /// <summary>The faster layout for the device, as measured by bench/training: NCHW on the CPU, NHWC on CUDA.</summary>
    Auto = 0,
    /// <summary>NCHW.</summary>
    Contiguous = 1,
    /// <summary>NHWC.</summary>
    ChannelsLast = 2,
}

/// <summary>Everything that defines a pretraining run.</summary>
public sealed record PretrainingOptions
{
    /// <summary>The model folder (created if missing).</summary>
    public required string OutputFolder { get; init; }

    /// <summary>The objective.</summary>
    public PretrainingMethod Method { get; init; } = PretrainingMethod.SimClr;

    /// <summary>The architecture.</summary>
    public EncoderKind Encoder { get; init; } = EncoderKind.ResNet18;

    /// <summary>Which sensors the encoder takes.</summary>
    public SensorInput Sensors { get; init; } = SensorInput.Fused;

    /// <summary>Length of a patch embedding (UNet: depth of the per-pixel embedding).</summary>
    public int EmbeddingDimension { get; init; } = 128;

    /// <summary>SimCLR projection head output size.</summary>
    public int ProjectionDimension { get; init; } = 64;

    /// <summary>UNet channels at full resolution.</summary>
    public int UNetWidth { get; init; } = 32;

    /// <summary>Patches per step (Tile2Vec: triplets per step).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Passes over the corpus, counted over all runs of this model folder.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Stop when the model has taken this many steps in total (all runs), if set.</summary>
    public long? MaxSteps { get; init; }

    /// <summary>AdamW learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>AdamW weight decay.</summary>
    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>NT-Xent temperature.</summary>
    public double Temperature { get; init; } = 0.2;

    /// <summary>Tile2Vec margin.</summary>
    public double TripletMargin { get; init; } = 1.0;

    /// <summary>Probability that a view loses one of its modalities (fused input only).</summary>
    public double ModalityDropout { get; init; } = 0.3;

    /// <summary>Standard deviation of band gain and additive noise, in normalised units.</summary>
    public double BandNoise { get; init; } = 0.05;

    /// <summary>Seed of initial weights and augmentations.</summary>
    public int Seed { get; init; }

    /// <summary>Where to train.</summary>
    public TrainingDevice Device { get; init; } = TrainingDevice.Cpu;

    /// <summary>Intra-op threads; all cores when null.</summary>
    public int? Threads { get; init; }

    /// <summary>Save a checkpoint every this many steps (and always at the end or on cancellation).</summary>
    public int CheckpointInterval { get; init; } = 200;

    /// <summary>How many checkpoints to keep.</summary>
    public int KeepCheckpoints { get; init; } = 3;

    /// <summary>Write TensorBoard and CSV metrics every this many steps.</summary>
    public int LogInterval { get; init; } = 1;

    /// <summary>Continue from the folder's last checkpoint.</summary>
    public bool Resume { get; init; }

    /// <summary>Patches read to compute the per-band normalisation statistics.</summary>
    public int NormalizationSamples { get; init; } = 512;

    /// <summary>
    /// The memory format. Auto is NCHW on the CPU: with Debian's libtorch 1.13 (oneDNN 2.6, AVX2)
    /// a ResNet-18 SimCLR step ran 1.3-1.5x faster in NCHW than in NHWC (bench/training), and NHWC
    /// on CUDA, where cuDNN prefers it.
    /// </summary>
    public TensorMemoryFormat MemoryFormat { get; init; } = TensorMemoryFormat.Auto;

    /// <summary>Whether <see cref="MemoryFormat"/> resolves to NHWC on <see cref="Device"/>.</summary>
    public bool UsesChannelsLast => MemoryFormat switch
    {
        TensorMemoryFormat.ChannelsLast => true,
        TensorMemoryFormat.Contiguous => false,
        _ => Device == TrainingDevice.Cuda,
    };

    /// <summary>Channels of each sensor for <paramref name="sensors"/>.</summary>
    public static (int S2, int S1) ChannelsOf(SensorInput sensors) => sensors switch
    {
        SensorInput.S2 => (TrainingPatch.S2BandNames.Count, 0),
        SensorInput.S1 => (0, TrainingPatch.S1BandNames.Count),
        _ => (TrainingPatch.S2BandNames.Count, TrainingPatch.S1BandNames.Count),
    };
}
