using System.Globalization;
using System.Text;
using System.Text.Json;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Raster;

namespace DeepSentinel.Core.Evaluation;

/// <summary>Intersection over union and pixel counts of one class.</summary>
/// <param name="Class">The class key (a CLC code at the model's level, or an OSM class name).</param>
/// <param name="Name">Its name.</param>
/// <param name="IoU">True positives / (true positives + false positives + false negatives); 0 when the class is neither true nor predicted anywhere.</param>
/// <param name="Precision">Correct pixels of the class / pixels predicted as it (0 where undefined).</param>
/// <param name="Recall">Correct pixels of the class / its true pixels (0 where undefined).</param>
/// <param name="Support">True pixels of the class.</param>
/// <param name="Predicted">Pixels predicted as the class.</param>
public sealed record ClassIoU(string Class, string Name, [property: System.Text.Json.Serialization.JsonPropertyName("iou")] double IoU, double Precision, double Recall, long Support, long Predicted);

/// <summary>
/// The evaluation of a segmentation model on labelled pixels: what Measure-Segmentation returns
/// and writes as JSON, CSV and a confusion-matrix picture. Definitions follow scikit-learn's
/// (tested equal to python3-sklearn's jaccard_score and confusion_matrix on the same pixels):
/// per-class IoU (jaccard_score, average=None); mean IoU over the classes that are true or
/// predicted at least once (jaccard_score, average="macro" with the labels present); pixel
/// accuracy (accuracy_score); the confusion matrix with true classes as rows. Unlabelled pixels
/// (nodata, CLC no-data codes, pixels without an OSM class) are not counted.
/// </summary>
public sealed class SegmentationEvaluation
{
    /// <summary>evaluation.json of a segmentation model.</summary>
    public const string JsonFile = "evaluation.json";

    /// <summary>Per-class figures.</summary>
    public const string ClassesCsvFile = "evaluation-classes.csv";

    /// <summary>The confusion matrix as CSV (true classes as rows).</summary>
    public const string ConfusionCsvFile = "confusion-matrix.csv";

    /// <summary>The confusion matrix as a picture.</summary>
    public const string ConfusionPngFile = "confusion-matrix.png";

    private SegmentationEvaluation(IReadOnlyList<string> classes, IReadOnlyList<string> names, long[,] confusion, IReadOnlyList<ClassIoU> perClass, double meanIoU, double pixelAccuracy, long pixels, int patches)
    {
        Classes = classes;
        ClassNames = names;
        ConfusionMatrix = confusion;
        PerClass = perClass;
        MeanIoU = meanIoU;
        PixelAccuracy = pixelAccuracy;
        Pixels = pixels;
        Patches = patches;
    }

    /// <summary>The classes, in the order of the confusion matrix's rows and columns.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The classes' names, in the same order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Pixels of true class i predicted as class j.</summary>
    public long[,] ConfusionMatrix { get; }

    /// <summary>IoU, precision, recall and pixel counts per class.</summary>
    public IReadOnlyList<ClassIoU> PerClass { get; }

    /// <summary>Mean IoU over the classes that are true or predicted at least once.</summary>
    public double MeanIoU { get; }

    /// <summary>Share of labelled pixels predicted right.</summary>
    public double PixelAccuracy { get; }

    /// <summary>Labelled pixels evaluated.</summary>
    public long Pixels { get; }

    /// <summary>Patches the pixels came from.</summary>
    public int Patches { get; }

    /// <summary>Where the files were written, once written.</summary>
    public string? Path { get; internal set; }

    /// <summary>The confusion matrix as rows of counts (JSON- and PowerShell-friendly).</summary>
    public long[][] ConfusionRows()
    {
        var n = Classes.Count;
        return Enumerable.Range(0, n).Select(i => Enumerable.Range(0, n).Select(j => ConfusionMatrix[i, j]).ToArray()).ToArray();
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"mIoU {MeanIoU:0.0000}, pixel accuracy {PixelAccuracy:0.0000} on {Pixels} pixels of {Patches} patches");

    /// <summary>Metrics from per-pixel true and predicted class indices into <paramref name="classes"/> (-1: unlabelled, skipped).</summary>
    public static SegmentationEvaluation FromPixels(IReadOnlyList<string> classes, IReadOnlyList<string> names, ReadOnlySpan<int> actual, ReadOnlySpan<int> predicted, int patches = 1)
    {
        if (actual.Length != predicted.Length)
        {
            throw new DeepSentinelException(ErrorIds.EvaluationInputInvalid, ErrorKind.InvalidArgument, $"Evaluation needs one predicted class per true pixel; got {actual.Length} true and {predicted.Length} predicted pixels.");
        }

        var n = classes.Count;
        var confusion = new long[n, n];
        for (var i = 0; i < actual.Length; i++)
        {
            if (actual[i] < 0)
            {
                continue;
            }

            if (actual[i] >= n || (uint)predicted[i] >= (uint)n)
            {
                throw new DeepSentinelException(ErrorIds.EvaluationInputInvalid, ErrorKind.InvalidArgument, $"Pixel {i} has a class index outside the {n} classes.");
            }

            confusion[actual[i], predicted[i]]++;
        }

        return FromConfusion(classes, names, confusion, patches);
    }

    /// <summary>Metrics from a confusion matrix of pixel counts (true classes as rows).</summary>
    public static SegmentationEvaluation FromConfusion(IReadOnlyList<string> classes, IReadOnlyList<string> names, long[,] confusion, int patches)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(confusion);
        var n = classes.Count;
        if (n == 0 || names.Count != n || confusion.GetLength(0) != n || confusion.GetLength(1) != n)
        {
            throw new DeepSentinelException(ErrorIds.EvaluationInputInvalid, ErrorKind.InvalidArgument, $"Evaluation needs at least one class, one name per class and an n x n confusion matrix; got {n} classes, {names.Count} names and {confusion.GetLength(0)} x {confusion.GetLength(1)} counts.");
        }

        long total = 0, correct = 0;
        var perClass = new List<ClassIoU>(n);
        double iouSum = 0;
        var iouClasses = 0;
        for (var c = 0; c < n; c++)
        {
            long support = 0, predictedAs = 0;
            for (var j = 0; j < n; j++)
            {
                support += confusion[c, j];
                predictedAs += confusion[j, c];
            }

            var tp = confusion[c, c];
            total += support;
            correct += tp;
            var union = support + predictedAs - tp;
            var iou = union == 0 ? 0 : (double)tp / union;
            if (union > 0)
            {
                iouSum += iou;
                iouClasses++;
            }

            perClass.Add(new ClassIoU(classes[c], names[c], iou, predictedAs == 0 ? 0 : (double)tp / predictedAs, support == 0 ? 0 : (double)tp / support, support, predictedAs));
        }

        if (total == 0)
        {
            throw new DeepSentinelException(ErrorIds.EvaluationInputInvalid, ErrorKind.InvalidArgument, "Evaluation needs at least one labelled pixel; every pixel was unlabelled.");
        }

        return new SegmentationEvaluation(classes, names, confusion, perClass, iouClasses == 0 ? 0 : iouSum / iouClasses, (double)correct / total, total, patches);
    }

    /// <summary>Writes evaluation.json, evaluation-classes.csv, confusion-matrix.csv and confusion-matrix.png into <paramref name="folder"/>; returns their paths.</summary>
    public IReadOnlyList<string> Write(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var full = System.IO.Path.GetFullPath(folder);
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DeepSentinelException(ErrorIds.ModelWriteFailed, ErrorKind.WriteError, $"Cannot create the folder {full} for the evaluation: {ex.Message}", full, ex);
        }

        var written = new List<string>
        {
            EvaluationReport.WriteText(System.IO.Path.Combine(full, JsonFile), ToJson()),
            EvaluationReport.WriteText(System.IO.Path.Combine(full, ClassesCsvFile), ClassesCsv()),
            EvaluationReport.WriteText(System.IO.Path.Combine(full, ConfusionCsvFile), ConfusionCsv()),
        };
        var png = System.IO.Path.Combine(full, ConfusionPngFile);
        EvaluationReport.Atomically(png, temp =>
        {
            var title = string.Create(CultureInfo.InvariantCulture, $"MIOU {MeanIoU:0.000}  PIXEL ACCURACY {100 * PixelAccuracy:0.0}%  PIXELS {Pixels}");
            var picture = EvaluationReport.ConfusionPicture(Classes, ClassNames, ConfusionRows(), title);
            RasterWriter.WritePng(temp, picture.Width, picture.Height, picture.Red, picture.Green, picture.Blue);
            File.Delete(temp + ".aux.xml");
        });
        written.Add(png);
        Path = full;
        return written;
    }

    /// <summary>evaluation.json's text.</summary>
    public string ToJson() => JsonSerializer.Serialize(new
    {
        format = "deepsentinel-evaluation",
        task = "Segmentation",
        patches = Patches,
        pixels = Pixels,
        meanIoU = MeanIoU,
        pixelAccuracy = PixelAccuracy,
        classes = PerClass,
        confusionMatrix = ConfusionRows(),
    }, EvaluationReport.Json);

    private string ClassesCsv()
    {
        var text = new StringBuilder("class,name,iou,precision,recall,support,predicted\n");
        foreach (var c in PerClass)
        {
            text.Append(CultureInfo.InvariantCulture, $"{EvaluationReport.Csv(c.Class)},{EvaluationReport.Csv(c.Name)},{c.IoU:R},{c.Precision:R},{c.Recall:R},{c.Support},{c.Predicted}\n");
        }

        return text.ToString();
    }

    private string ConfusionCsv()
    {
        var text = new StringBuilder("true\\predicted");
        foreach (var c in Classes)
        {
            text.Append(',').Append(EvaluationReport.Csv(c));
        }

        text.Append('\n');
        var rows = ConfusionRows();
        for (var i = 0; i < rows.Length; i++)
        {
            text.Append(EvaluationReport.Csv(Classes[i]));
            foreach (var v in rows[i])
            {
                text.Append(CultureInfo.InvariantCulture, $",{v}");
            }

            text.Append('\n');
        }

        return text.ToString();
    }
}
