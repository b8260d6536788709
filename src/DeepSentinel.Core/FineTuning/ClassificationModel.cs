using DeepSentinel.Core.Evaluation;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.FineTuning;

/// <summary>One class of a classifier.</summary>
/// <param name="Class">The key (CLC code at the classifier's level, or a dataset class name).</param>
/// <param name="Name">Its name.</param>
/// <param name="Weight">Its weight in the training loss.</param>
/// <param name="TrainSamples">Training samples of the class (multi-label: in which it is present).</param>
public sealed record ClassCard(string Class, string Name, double Weight, int TrainSamples);

/// <summary>classifier-card.json: how a classifier was made and how to feed it.</summary>
public sealed record ClassifierCard
{
    /// <summary>The file name inside a classifier folder.</summary>
    public const string FileName = "classifier-card.json";

    /// <summary>The format tag.</summary>
    public const string FormatTag = "deepsentinel-classifier";

    /// <summary>Always "deepsentinel-classifier".</summary>
    public string Format { get; init; } = FormatTag;

    /// <summary>Card format version.</summary>
    public int FormatVersion { get; init; } = 1;

    /// <summary>Single- or multi-label.</summary>
    public ClassificationTask Task { get; init; }

    /// <summary>Where the encoder started.</summary>
    public FineTuningMode Mode { get; init; }

    /// <summary>The classes, in the order of the head's outputs.</summary>
    public IReadOnlyList<ClassCard> Classes { get; init; } = [];

    /// <summary>The CLC level the classes are at (for corpus samples).</summary>
    public int ClcLevel { get; init; } = 3;

    /// <summary>Multi-label: the share a class must cover to be present.</summary>
    public double ShareThreshold { get; init; }

    /// <summary>The encoder's architecture.</summary>
    public EncoderKind Encoder { get; init; }

    /// <summary>The sensors the classifier is fed (the encoder may take more).</summary>
    public SensorInput Sensors { get; init; }

    /// <summary>The encoder's input bands and normalisation, in channel order.</summary>
    public IReadOnlyList<BandCard> Bands { get; init; } = [];

    /// <summary>Patch height and width trained on.</summary>
    public int PatchSize { get; init; }

    /// <summary>The pretrained model folder the encoder came from (null from scratch).</summary>
    public string? SourceModel { get; init; }

    /// <summary>Where the split came from (seed and blocking, or split files) and its sizes.</summary>
    public string? Split { get; init; }

    /// <summary>Training samples used.</summary>
    public int TrainSamples { get; init; }

    /// <summary>Epochs trained.</summary>
    public int Epochs { get; init; }

    /// <summary>Steps trained.</summary>
    public long Steps { get; init; }

    /// <summary>Mean training loss of the last epoch.</summary>
    public double FinalLoss { get; init; }

    /// <summary>The options of the run.</summary>
    public FineTuningOptions? Options { get; init; }

    /// <summary>The encoder checkpoint (a model checkpoint: torch.load(f)["state_dict"]), relative to the folder.</summary>
    public string EncoderCheckpoint { get; init; } = "checkpoints/encoder.pt";

    /// <summary>The head checkpoint (torch.load(f)["state_dict"]["weight"], ["bias"]), relative to the folder.</summary>
    public string HeadCheckpoint { get; init; } = "checkpoints/head.pt";

    /// <summary>Native engine and libtorch versions.</summary>
    public string? Engine { get; init; }

    /// <summary>When the classifier was written.</summary>
    public DateTimeOffset CreatedUtc { get; init; }

    /// <summary>
    /// The Sentinel-2 bands the classifier was trained on, measured rather than filled (the 12
    /// L2A bands for corpus samples; e.g. B02,B03,B04 for RGB images), in corpus order. Input with
    /// other bands is refused (ModelBandMismatch). Null on cards written before it was recorded,
    /// and for S1 classifiers.
    /// </summary>
    public IReadOnlyList<string>? InputBands { get; init; }

    /// <summary>The processing level of the values trained on: L2A (the corpus), L1C (EuroSAT MS) or RGB (8-bit display values).</summary>
    public string? InputLevel { get; init; }
}

/// <summary>
/// A fine-tuned classifier in its folder: what Start-FineTuning writes and Import-ClassificationModel
/// reads; Invoke-ClassPrediction takes it. Holds no native resources.
/// <code>
/// classifier-card.json       classes, bands, task, how it was trained
/// checkpoints/encoder.pt     the encoder (a DeepSentinel model checkpoint; torch.load reads it)
/// checkpoints/head.pt        the classification head (torch.load reads it)
/// fine-tuning.csv            loss per epoch
/// test-predictions.csv       the test split's predictions (sample, true class, predicted class, probability)
/// evaluation.json, evaluation-classes.csv, confusion-matrix.csv, confusion-matrix.png
/// </code>
/// </summary>
public sealed class ClassificationModel
{
    private ClassificationModel(string path, ClassifierCard card, ClassificationEvaluation? evaluation)
    {
        Path = path;
        Card = card;
        Evaluation = evaluation;
    }

    /// <summary>The folder name.</summary>
    public string Name => System.IO.Path.GetFileName(Path.TrimEnd(System.IO.Path.DirectorySeparatorChar));

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>Single- or multi-label.</summary>
    public ClassificationTask Task => Card.Task;

    /// <summary>Where the encoder started.</summary>
    public FineTuningMode Mode => Card.Mode;

    /// <summary>The architecture.</summary>
    public EncoderKind Encoder => Card.Encoder;

    /// <summary>The sensors it is fed.</summary>
    public SensorInput Sensors => Card.Sensors;

    /// <summary>The class keys, in output order.</summary>
    public IReadOnlyList<string> Classes => Card.Classes.Select(c => c.Class).ToList();

    /// <summary>Steps trained.</summary>
    public long Steps => Card.Steps;

    /// <summary>Mean training loss of the last epoch.</summary>
    public double Loss => Card.FinalLoss;

    /// <summary>The evaluation on the test split, when one was made (Start-FineTuning) or found (evaluation.json is not re-read).</summary>
    public ClassificationEvaluation? Evaluation { get; }

    /// <summary>The whole card.</summary>
    public ClassifierCard Card { get; }

    /// <summary>The encoder checkpoint.</summary>
    public string EncoderCheckpointPath => Resolve(Path, Card.EncoderCheckpoint);

    /// <summary>The head checkpoint.</summary>
    public string HeadCheckpointPath => Resolve(Path, Card.HeadCheckpoint);

    internal static ClassificationModel Create(string path, ClassifierCard card, ClassificationEvaluation? evaluation) => new(path, card, evaluation);

    /// <summary>Reads a classifier folder; clear errors when it is missing or damaged.</summary>
    public static ClassificationModel Import(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        var card = HeadTraining.ReadCard<ClassifierCard>(full, ClassifierCard.FileName, exists => exists ? $"{full} has no {ClassifierCard.FileName}: it is not a fine-tuned classifier folder (Start-FineTuning writes them)." : $"The classifier folder {full} does not exist.",
            c => c.Format == ClassifierCard.FormatTag && c.Classes.Count >= 2 && c.Bands.Count > 0, "a DeepSentinel classifier card",
            c => [Resolve(full, c.EncoderCheckpoint), Resolve(full, c.HeadCheckpoint)]);
        return new ClassificationModel(full, card, null);
    }

    private static string Resolve(string folder, string relative) => System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, relative));

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Task} {Mode} {Encoder}, {Card.Classes.Count} classes)";
}
