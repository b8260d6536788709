using System.Text.Json;
using System.Text.Json.Serialization;

namespace DeepSentinel.Core.Training;

/// <summary>One input band of a model and its normalisation.</summary>
/// <param name="Name">B01 ... B12, VV, VH.</param>
/// <param name="Sensor">S2 or S1.</param>
/// <param name="Mean">Subtracted before training and embedding.</param>
/// <param name="Std">Divided by after subtracting the mean.</param>
public sealed record BandCard(string Name, string Sensor, double Mean, double Std);

/// <summary>What the model was trained on.</summary>
/// <param name="Description">The corpus (a path, or "pipeline input").</param>
/// <param name="Patches">Patches per epoch, once known.</param>
public sealed record CorpusCard(string Description, long? Patches);

/// <summary>Figures of the last logged step.</summary>
/// <param name="Loss">Training loss.</param>
/// <param name="ImagesPerSecond">Patches per second over the run.</param>
/// <param name="LearningRate">The learning rate.</param>
public sealed record MetricsCard(double Loss, double ImagesPerSecond, double LearningRate);

/// <summary>
/// model-card.json: how a model folder's model was made and how to feed it. Written at the start
/// of a run and after each checkpoint, so an interrupted run still has a true card.
/// </summary>
public sealed record ModelCard
{
    /// <summary>The file name inside a model folder.</summary>
    public const string FileName = "model-card.json";

    /// <summary>The format tag.</summary>
    public const string FormatTag = "deepsentinel-model";

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Always "deepsentinel-model".</summary>
    public string Format { get; init; } = FormatTag;

    /// <summary>Card format version.</summary>
    public int FormatVersion { get; init; } = 1;

    /// <summary>The objective.</summary>
    public PretrainingMethod Method { get; init; }

    /// <summary>The architecture.</summary>
    public EncoderKind Encoder { get; init; }

    /// <summary>Which sensors the encoder takes.</summary>
    public SensorInput Sensors { get; init; }

    /// <summary>Embedding length (UNet: per-pixel depth).</summary>
    public int EmbeddingDimension { get; init; }

    /// <summary>Input bands in channel order, with their normalisation.</summary>
    public IReadOnlyList<BandCard> Bands { get; init; } = [];

    /// <summary>Patch height and width trained on.</summary>
    public int PatchSize { get; init; }

    /// <summary>The corpus.</summary>
    public CorpusCard? Corpus { get; init; }

    /// <summary>Optimisation steps taken (all runs).</summary>
    public long Steps { get; init; }

    /// <summary>Completed epochs (all runs).</summary>
    public int Epochs { get; init; }

    /// <summary>The options of the last run.</summary>
    public PretrainingOptions? Options { get; init; }

    /// <summary>The last logged metrics.</summary>
    public MetricsCard? FinalMetrics { get; init; }

    /// <summary>The latest checkpoint, relative to the folder.</summary>
    public string? Checkpoint { get; init; }

    /// <summary>Native engine and libtorch versions.</summary>
    public string? Engine { get; init; }

    /// <summary>When the model was first created.</summary>
    public DateTimeOffset CreatedUtc { get; init; }

    /// <summary>When the card was last written.</summary>
    public DateTimeOffset UpdatedUtc { get; init; }

    /// <summary>The band normalisation as the engine takes it.</summary>
    public BandNormalization ToNormalization() => new(Bands.Select(b => b.Name).ToList(), Bands.Select(b => b.Mean).ToList(), Bands.Select(b => b.Std).ToList());
}
