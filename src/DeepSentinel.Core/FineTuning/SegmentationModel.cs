using System.Globalization;
using DeepSentinel.Core.Evaluation;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.FineTuning;

/// <summary>One class of a segmentation model.</summary>
/// <param name="Class">The key (CLC code at the model's level, or an OSM class name).</param>
/// <param name="Name">Its name.</param>
/// <param name="Weight">Its weight in the per-pixel loss.</param>
/// <param name="TrainPixels">Training pixels of the class.</param>
/// <param name="Value">Its value in the label COGs the model writes (the CLC code; for OSM classes, 1 + the class's index).</param>
public sealed record SegmentationClassCard(string Class, string Name, double Weight, long TrainPixels, int Value);

/// <summary>segmenter-card.json: how a segmentation model was made and how to feed it.</summary>
public sealed record SegmenterCard
{
    /// <summary>The file name inside a segmentation model folder.</summary>
    public const string FileName = "segmenter-card.json";

    /// <summary>The format tag.</summary>
    public const string FormatTag = "deepsentinel-segmenter";

    /// <summary>Always "deepsentinel-segmenter".</summary>
    public string Format { get; init; } = FormatTag;

    /// <summary>Card format version.</summary>
    public int FormatVersion { get; init; } = 1;

    /// <summary>Where the UNet started.</summary>
    public FineTuningMode Mode { get; init; }

    /// <summary>The per-pixel labels learned.</summary>
    public SegmentationLabelSource Labels { get; init; }

    /// <summary>CLC labels: the level of the classes.</summary>
    public int ClcLevel { get; init; } = 3;

    /// <summary>The classes, in the order of the head's outputs.</summary>
    public IReadOnlyList<SegmentationClassCard> Classes { get; init; } = [];

    /// <summary>Always UNet.</summary>
    public EncoderKind Encoder { get; init; } = EncoderKind.UNet;

    /// <summary>The sensors the model is fed.</summary>
    public SensorInput Sensors { get; init; }

    /// <summary>The UNet's input bands and normalisation, in channel order.</summary>
    public IReadOnlyList<BandCard> Bands { get; init; } = [];

    /// <summary>Patch height and width trained on.</summary>
    public int PatchSize { get; init; }

    /// <summary>The pretrained model folder the UNet came from (null from scratch).</summary>
    public string? SourceModel { get; init; }

    /// <summary>Where the split came from and its sizes.</summary>
    public string? Split { get; init; }

    /// <summary>Training patches used.</summary>
    public int TrainSamples { get; init; }

    /// <summary>Epochs trained.</summary>
    public int Epochs { get; init; }

    /// <summary>Steps trained.</summary>
    public long Steps { get; init; }

    /// <summary>Mean training loss of the last epoch.</summary>
    public double FinalLoss { get; init; }

    /// <summary>The options of the run.</summary>
    public SegmentationOptions? Options { get; init; }

    /// <summary>The UNet checkpoint (a model checkpoint: torch.load(f)["state_dict"]), relative to the folder.</summary>
    public string EncoderCheckpoint { get; init; } = "checkpoints/encoder.pt";

    /// <summary>The head checkpoint (torch.load(f)["state_dict"]["weight"], ["bias"]: a 1x1 convolution over the decoder's features), relative to the folder.</summary>
    public string HeadCheckpoint { get; init; } = "checkpoints/head.pt";

    /// <summary>Native engine and libtorch versions.</summary>
    public string? Engine { get; init; }

    /// <summary>When the model was written.</summary>
    public DateTimeOffset CreatedUtc { get; init; }
}

/// <summary>
/// A segmentation model in its folder: what Start-SegmentationTraining writes and
/// Import-SegmentationModel reads; Invoke-Segmentation takes it. Holds no native resources.
/// <code>
/// segmenter-card.json        classes (keys, names, label values), bands, how it was trained
/// checkpoints/encoder.pt     the UNet (a DeepSentinel model checkpoint; torch.load reads it)
/// checkpoints/head.pt        the per-pixel head (torch.load reads it)
/// fine-tuning.csv            loss per epoch
/// evaluation.json, evaluation-classes.csv, confusion-matrix.csv, confusion-matrix.png (the test side, in pixels)
/// </code>
/// </summary>
public sealed class SegmentationModel
{
    private SegmentationModel(string path, SegmenterCard card, SegmentationEvaluation? evaluation)
    {
        Path = path;
        Card = card;
        Evaluation = evaluation;
    }

    /// <summary>The folder name.</summary>
    public string Name => System.IO.Path.GetFileName(Path.TrimEnd(System.IO.Path.DirectorySeparatorChar));

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>Where the UNet started.</summary>
    public FineTuningMode Mode => Card.Mode;

    /// <summary>The per-pixel labels learned.</summary>
    public SegmentationLabelSource Labels => Card.Labels;

    /// <summary>The sensors it is fed.</summary>
    public SensorInput Sensors => Card.Sensors;

    /// <summary>The class keys, in output order.</summary>
    public IReadOnlyList<string> Classes => Card.Classes.Select(c => c.Class).ToList();

    /// <summary>Steps trained.</summary>
    public long Steps => Card.Steps;

    /// <summary>Mean training loss of the last epoch.</summary>
    public double Loss => Card.FinalLoss;

    /// <summary>The test side's mean IoU, when evaluated.</summary>
    public double? MeanIoU => Evaluation?.MeanIoU;

    /// <summary>The evaluation on the test split (Start-SegmentationTraining; Import does not re-read it).</summary>
    public SegmentationEvaluation? Evaluation { get; }

    /// <summary>The whole card.</summary>
    public SegmenterCard Card { get; }

    /// <summary>The UNet checkpoint.</summary>
    public string EncoderCheckpointPath => Resolve(Path, Card.EncoderCheckpoint);

    /// <summary>The head checkpoint.</summary>
    public string HeadCheckpointPath => Resolve(Path, Card.HeadCheckpoint);

    internal static SegmentationModel Create(string path, SegmenterCard card, SegmentationEvaluation? evaluation) => new(path, card, evaluation);

    /// <summary>The name of a class key (the CLC legend's, or the OSM class itself).</summary>
    public static string ClassName(string key) => LabelledSample.ClassName(key);

    /// <summary>Reads a segmentation model folder; clear errors when it is missing or damaged.</summary>
    public static SegmentationModel Import(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        var card = HeadTraining.ReadCard<SegmenterCard>(full, SegmenterCard.FileName, exists => exists ? $"{full} has no {SegmenterCard.FileName}: it is not a segmentation model folder (Start-SegmentationTraining writes them)." : $"The segmentation model folder {full} does not exist.",
            c => c.Format == SegmenterCard.FormatTag && c.Classes.Count >= 2 && c.Bands.Count > 0 && c.PatchSize >= 32, "a DeepSentinel segmenter card",
            c => [Resolve(full, c.EncoderCheckpoint), Resolve(full, c.HeadCheckpoint)]);
        return new SegmentationModel(full, card, null);
    }

    private static string Resolve(string folder, string relative) => System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, relative));

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name} ({Labels} segmentation, {Mode} UNet, {Card.Classes.Count} classes)");
}

/// <summary>Pixels of one true class predicted as another (a cell of a confusion matrix).</summary>
/// <param name="Actual">The true class key.</param>
/// <param name="Predicted">The predicted class key.</param>
/// <param name="Pixels">How many pixels.</param>
public sealed record PixelCount(string Actual, string Predicted, long Pixels);

/// <summary>
/// A segmentation model's prediction for one patch (Invoke-Segmentation): the label COG and its
/// quicklook, the pixels per predicted class, and, when the patch is labelled, the confusion
/// counts against its labels, so predictions pipe into Measure-Segmentation.
/// </summary>
public sealed class SegmentationPrediction
{
    /// <summary>The patch's sample id.</summary>
    public required string SampleId { get; init; }

    /// <summary>The model's folder name.</summary>
    public required string Model { get; init; }

    /// <summary>The label COG (UInt16, the class values of the model card; 0 = nodata), on the patch's grid.</summary>
    public string? LabelPath { get; init; }

    /// <summary>The quicklook PNG (legend colours).</summary>
    public string? QuicklookPath { get; init; }

    /// <summary>The class covering most of the patch.</summary>
    public required string Dominant { get; init; }

    /// <summary>The dominant class's name.</summary>
    public string DominantName => LabelledSample.ClassName(Dominant);

    /// <summary>Pixels per predicted class.</summary>
    public required Dictionary<string, long> ClassPixels { get; init; }

    /// <summary>Confusion counts against the patch's own labels (null when it has none).</summary>
    public IReadOnlyList<PixelCount>? Confusion { get; init; }

    /// <summary>Share of the patch's labelled pixels predicted right (null when it has no labels).</summary>
    public double? PixelAccuracy { get; init; }

    /// <summary>What the model saw: "S2+S1", "S2" or "S1".</summary>
    public string Modalities { get; init; } = string.Empty;

    /// <inheritdoc />
    public override string ToString() => PixelAccuracy is { } a
        ? string.Create(CultureInfo.InvariantCulture, $"{SampleId}: {Dominant} (pixel accuracy {a:0.000})")
        : $"{SampleId}: {Dominant}";
}
