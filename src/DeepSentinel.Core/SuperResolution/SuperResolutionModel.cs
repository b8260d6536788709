using System.Text.Json;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.SuperResolution;

/// <summary>
/// How a super-resolution model was made (superres-card.json in its folder): what it recovers
/// from which bands, the degradation it was trained on, and its training so far.
/// </summary>
public sealed record SuperResolutionCard
{
    /// <summary>The file name in the model folder.</summary>
    public const string FileName = "superres-card.json";

    /// <summary>The format tag.</summary>
    public const string FormatTag = "deepsentinel-superres-card";

    /// <summary>Always <see cref="FormatTag"/>.</summary>
    public string Format { get; init; } = FormatTag;

    /// <summary>2x (20 m bands) or 6x (60 m bands).</summary>
    public SuperResolutionFactor Factor { get; init; }

    /// <summary>DSen2 or VDSen2.</summary>
    public SuperResolutionArchitecture Architecture { get; init; }

    /// <summary>Residual blocks.</summary>
    public int Blocks { get; init; }

    /// <summary>Features per convolution.</summary>
    public int Features { get; init; }

    /// <summary>The fixed factor inputs are divided by (the paper's 2000).</summary>
    public double InputScale { get; init; }

    /// <summary>Bands the network reads, in order.</summary>
    public IReadOnlyList<string> InputBands { get; init; } = [];

    /// <summary>Bands it recovers at 10 m.</summary>
    public IReadOnlyList<string> OutputBands { get; init; } = [];

    /// <summary>The MTF at Nyquist that the Wald degradation's Gaussian was matched to.</summary>
    public double MtfAtNyquist { get; init; }

    /// <summary>Network input side in training (pixels of the degraded image).</summary>
    public int PatchSize { get; init; }

    /// <summary>Steps per batch: samples per step.</summary>
    public int BatchSize { get; init; }

    /// <summary>The seed of the weights and of the crops.</summary>
    public long Seed { get; init; }

    /// <summary>Adam's learning rate.</summary>
    public double LearningRate { get; init; }

    /// <summary>Trainable parameters.</summary>
    public long Parameters { get; init; }

    /// <summary>Steps taken (all runs of the folder).</summary>
    public long Steps { get; init; }

    /// <summary>The last step's L1 loss (scaled units).</summary>
    public double? Loss { get; init; }

    /// <summary>Seconds spent training (all runs).</summary>
    public double TrainingSeconds { get; init; }

    /// <summary>What it was trained on (scene ids or corpus).</summary>
    public IReadOnlyList<string> Sources { get; init; } = [];

    /// <summary>Engine and libtorch versions.</summary>
    public string Engine { get; init; } = string.Empty;

    /// <summary>The latest checkpoint, relative to the folder.</summary>
    public string? Checkpoint { get; init; }

    /// <summary>When the folder was created.</summary>
    public DateTimeOffset CreatedUtc { get; init; }

    /// <summary>When the card was last written.</summary>
    public DateTimeOffset UpdatedUtc { get; init; }
}

/// <summary>A trained super-resolution model folder, as Start-SuperResolutionTraining returns it and the other cmdlets take it.</summary>
public sealed class SuperResolutionModel
{
    private SuperResolutionModel(string path, SuperResolutionCard card)
    {
        Path = path;
        Card = card;
    }

    /// <summary>The folder name.</summary>
    public string Name => System.IO.Path.GetFileName(Path.TrimEnd('/'));

    /// <summary>The model folder.</summary>
    public string Path { get; }

    /// <summary>The card.</summary>
    public SuperResolutionCard Card { get; }

    /// <summary>2x or 6x.</summary>
    public SuperResolutionFactor Factor => Card.Factor;

    /// <summary>DSen2 or VDSen2.</summary>
    public SuperResolutionArchitecture Architecture => Card.Architecture;

    /// <summary>Bands it recovers.</summary>
    public string OutputBands => string.Join(",", Card.OutputBands);

    /// <summary>Steps taken.</summary>
    public long Steps => Card.Steps;

    /// <summary>The last L1 loss.</summary>
    public double? Loss => Card.Loss;

    /// <summary>Seconds of training.</summary>
    public double TrainingSeconds => Card.TrainingSeconds;

    /// <summary>The latest checkpoint file (Python: torch.load(f)["state_dict"]).</summary>
    public string CheckpointPath => System.IO.Path.Combine(Path, Card.Checkpoint ?? string.Empty);

    /// <summary>Opens a model folder.</summary>
    /// <exception cref="DeepSentinelException">ModelNotFound, ModelFileCorrupt.</exception>
    public static SuperResolutionModel Import(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        var file = System.IO.Path.Combine(full, SuperResolutionCard.FileName);
        if (!File.Exists(file))
        {
            var other = File.Exists(System.IO.Path.Combine(full, ModelCard.FileName)) ? " It holds an embedding model (Import-EmbeddingModel)." : string.Empty;
            throw new DeepSentinelException(ErrorIds.ModelNotFound, ErrorKind.ObjectNotFound, $"{full} has no {SuperResolutionCard.FileName}: it is not a super-resolution model folder.{other} Train one with Start-SuperResolutionTraining.", full);
        }

        SuperResolutionCard? card;
        try
        {
            card = JsonSerializer.Deserialize<SuperResolutionCard>(File.ReadAllText(file), ModelCard.Json);
        }
        catch (JsonException ex)
        {
            throw new DeepSentinelException(ErrorIds.ModelFileCorrupt, ErrorKind.InvalidData, $"{file} is damaged: {ex.Message}", file, ex);
        }

        if (card is null || card.Format != SuperResolutionCard.FormatTag || card.Checkpoint is null || !Enum.IsDefined(card.Factor))
        {
            throw new DeepSentinelException(ErrorIds.ModelFileCorrupt, ErrorKind.InvalidData, $"{file} is not a complete super-resolution model card (no checkpoint yet?).", file);
        }

        return new SuperResolutionModel(full, card);
    }

    internal SuperResolutionNetwork Open(TrainingDevice device = TrainingDevice.Cpu)
    {
        var checkpoint = CheckpointPath;
        if (!File.Exists(checkpoint))
        {
            throw new DeepSentinelException(ErrorIds.ModelNotFound, ErrorKind.ObjectNotFound, $"The checkpoint {checkpoint} of {Path} is missing.", checkpoint);
        }

        var network = SuperResolutionNetwork.Load(checkpoint, null, device);
        if (network.Factor != Factor)
        {
            network.Dispose();
            throw new DeepSentinelException(ErrorIds.ModelFileCorrupt, ErrorKind.InvalidData, $"The checkpoint {checkpoint} is a {(int)network.Factor}x model; its card says {(int)Factor}x.", checkpoint);
        }

        return network;
    }

    /// <inheritdoc />
    public override string ToString() => Path;
}
