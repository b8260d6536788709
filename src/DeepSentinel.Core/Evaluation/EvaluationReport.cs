using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Raster;

namespace DeepSentinel.Core.Evaluation;

/// <summary>
/// Writes an evaluation into a (model) folder: evaluation.json (every figure), evaluation-classes.csv
/// (per-class precision, recall, F1, support), confusion-matrix.csv (true classes as rows) and
/// confusion-matrix.png (the matrix as a picture, each row shaded by its share of the true class).
/// Each file is written under a temporary name and renamed, so a failed write leaves no partial file.
/// </summary>
public static class EvaluationReport
{
    /// <summary>File names inside the folder.</summary>
    public const string JsonFile = "evaluation.json";

    /// <summary>Per-class CSV.</summary>
    public const string ClassesCsvFile = "evaluation-classes.csv";

    /// <summary>Confusion matrix CSV.</summary>
    public const string ConfusionCsvFile = "confusion-matrix.csv";

    /// <summary>Confusion matrix picture.</summary>
    public const string ConfusionPngFile = "confusion-matrix.png";

    /// <summary>A few-shot evaluation's support and query samples, episode by episode.</summary>
    public const string FewShotSamplesCsvFile = "few-shot-samples.csv";

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Writes the four files into <paramref name="folder"/> (created if missing) and returns their paths.</summary>
    public static IReadOnlyList<string> Write(ClassificationEvaluation evaluation, string folder)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var full = Path.GetFullPath(folder);
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
            WriteText(Path.Combine(full, JsonFile), ToJson(evaluation)),
            WriteText(Path.Combine(full, ClassesCsvFile), ClassesCsv(evaluation)),
        };
        if (evaluation.Task == "SingleLabel")
        {
            written.Add(WriteText(Path.Combine(full, ConfusionCsvFile), ConfusionCsv(evaluation)));
            var png = Path.Combine(full, ConfusionPngFile);
            Atomically(png, temp =>
            {
                var picture = ConfusionPicture(evaluation);
                RasterWriter.WritePng(temp, picture.Width, picture.Height, picture.Red, picture.Green, picture.Blue);
                File.Delete(temp + ".aux.xml");
            });
            written.Add(png);
        }

        if (evaluation is FewShotEvaluation fewShot)
        {
            written.Add(WriteText(Path.Combine(full, FewShotSamplesCsvFile), FewShotSamplesCsv(fewShot)));
        }

        evaluation.Path = full;
        return written;
    }

    /// <summary>evaluation.json's text.</summary>
    public static string ToJson(ClassificationEvaluation e) => JsonSerializer.Serialize(new
    {
        format = "deepsentinel-evaluation",
        task = e.Task,
        samples = e.Samples,
        overallAccuracy = e.OverallAccuracy,
        balancedAccuracy = e.BalancedAccuracy,
        macroF1 = e.MacroF1,
        microF1 = e.MicroF1,
        meanAveragePrecision = e.MeanAveragePrecision,
        classes = e.PerClass,
        confusionMatrix = e.Task == "SingleLabel" ? e.ConfusionRows() : null,
        fewShot = e is FewShotEvaluation f ? FewShotJson(f) : null,
    }, Json);

    // The few-shot part of evaluation.json: the protocol, and per episode its seed, support ids and figures.
    private static object FewShotJson(FewShotEvaluation f) => new
    {
        method = f.Method.ToString(),
        shots = f.Shots,
        neighbours = f.Neighbours,
        seed = f.Seed,
        embeddings = f.Embeddings,
        episodes = f.EpisodeCount,
        pooled = "overallAccuracy, balancedAccuracy, macroF1, classes and confusionMatrix above are of every episode's predictions pooled",
        meanOverallAccuracy = f.MeanOverallAccuracy,
        overallAccuracySd = f.OverallAccuracySd,
        meanBalancedAccuracy = f.MeanBalancedAccuracy,
        balancedAccuracySd = f.BalancedAccuracySd,
        meanMacroF1 = f.MeanMacroF1,
        macroF1Sd = f.MacroF1Sd,
        perEpisode = f.Episodes.Select(x => new
        {
            episode = x.Index,
            seed = x.Seed,
            queries = x.Predictions.Count,
            overallAccuracy = x.OverallAccuracy,
            balancedAccuracy = x.BalancedAccuracy,
            macroF1 = x.MacroF1,
            support = x.SupportIds,
        }),
    };

    // One row per sample and episode: support rows have no prediction.
    private static string FewShotSamplesCsv(FewShotEvaluation f)
    {
        var text = new StringBuilder("episode,sample_id,role,actual,predicted\n");
        foreach (var x in f.Episodes)
        {
            for (var i = 0; i < x.SupportIds.Count; i++)
            {
                text.Append(CultureInfo.InvariantCulture, $"{x.Index},{Csv(x.SupportIds[i])},support,{Csv(x.SupportClasses[i])},\n");
            }

            foreach (var p in x.Predictions)
            {
                text.Append(CultureInfo.InvariantCulture, $"{x.Index},{Csv(p.SampleId)},query,{Csv(p.Actual)},{Csv(p.Predicted)}\n");
            }
        }

        return text.ToString();
    }

    private static string ClassesCsv(ClassificationEvaluation e)
    {
        var text = new StringBuilder("class,name,precision,recall,f1,support,predicted,average_precision\n");
        foreach (var c in e.PerClass)
        {
            text.Append(CultureInfo.InvariantCulture, $"{Csv(c.Class)},{Csv(c.Name)},{c.Precision:R},{c.Recall:R},{c.F1:R},{c.Support},{c.Predicted},{(c.AveragePrecision is { } ap ? ap.ToString("R", CultureInfo.InvariantCulture) : string.Empty)}\n");
        }

        return text.ToString();
    }

    private static string ConfusionCsv(ClassificationEvaluation e)
    {
        var text = new StringBuilder("true\\predicted");
        foreach (var c in e.Classes)
        {
            text.Append(',').Append(Csv(c));
        }

        text.Append('\n');
        var rows = e.ConfusionRows();
        for (var i = 0; i < rows.Length; i++)
        {
            text.Append(Csv(e.Classes[i]));
            foreach (var v in rows[i])
            {
                text.Append(CultureInfo.InvariantCulture, $",{v}");
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    internal static string Csv(string value) => value.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

    // The matrix with the true class down the left (key and name) and the predicted class along
    // the top (key), counts in the cells, each row shaded by the share of its true samples.
    internal static Rgb ConfusionPicture(ClassificationEvaluation e) =>
        ConfusionPicture(e.Classes, e.ClassNames, e.ConfusionRows().Select(r => r.Select(v => (long)v).ToArray()).ToArray(),
            string.Create(CultureInfo.InvariantCulture, $"OA {100 * e.OverallAccuracy:0.0}%  BALANCED {100 * e.BalancedAccuracy:0.0}%  MACRO-F1 {e.MacroF1:0.000}  N {e.Samples}"));

    // The same picture for any square matrix of counts (segmentation's pixel counts too).
    internal static Rgb ConfusionPicture(IReadOnlyList<string> classes, IReadOnlyList<string> classNames, long[][] rows, string title)
    {
        const int scale = 2, pad = 12;
        var n = classes.Count;
        var keys = classes.Select(k => k.Length > 8 ? k[..8] : k).ToArray();
        var rowLabels = classes.Select((k, i) => Truncate(k == classNames[i] ? k : $"{k} {classNames[i]}", 26)).ToArray();
        var maxCount = rows.SelectMany(r => r).DefaultIfEmpty(0L).Max().ToString(CultureInfo.InvariantCulture);
        var cell = Math.Max(Math.Max(BitmapText.Measure(maxCount, scale), keys.Max(k => BitmapText.Measure(k, 1))) + 10, 40);
        var labelWidth = rowLabels.Max(l => BitmapText.Measure(l, scale)) + pad;
        var top = pad + (3 * 7 * scale) + pad;
        var left = pad + labelWidth;
        var width = Math.Max(left + (n * cell) + pad, BitmapText.Measure(title, scale) + (2 * pad));
        var height = top + (n * cell) + pad + (2 * 7 * scale);
        var image = new Rgb(width, height);
        var black = ((byte)0, (byte)0, (byte)0);
        BitmapText.Draw(image, title, pad, pad, scale, black);
        BitmapText.Draw(image, "PREDICTED", left, pad + (1 * 7 * scale) + 6, scale, ((byte)90, (byte)90, (byte)90));
        for (var j = 0; j < n; j++)
        {
            BitmapText.Draw(image, keys[j], left + (j * cell) + ((cell - BitmapText.Measure(keys[j], 1)) / 2), top - 7 - 4, 1, black);
        }

        for (var i = 0; i < n; i++)
        {
            var y = top + (i * cell);
            BitmapText.Draw(image, rowLabels[i], pad, y + ((cell - (7 * scale)) / 2), scale, black);
            var support = Math.Max(1L, rows[i].Sum());
            for (var j = 0; j < n; j++)
            {
                var share = (double)rows[i][j] / support;
                // White to a deep blue; the diagonal in green so right answers stand out.
                var (r, g, b) = i == j ? (0, 120, 50) : (20, 60, 160);
                var colour = ((byte)(255 - (share * (255 - r))), (byte)(255 - (share * (255 - g))), (byte)(255 - (share * (255 - b))));
                var x = left + (j * cell);
                image.Fill(x, y, cell - 1, cell - 1, colour);
                var count = rows[i][j].ToString(CultureInfo.InvariantCulture);
                var ink = share > 0.5 ? ((byte)255, (byte)255, (byte)255) : black;
                BitmapText.Draw(image, count, x + ((cell - BitmapText.Measure(count, scale)) / 2), y + ((cell - (7 * scale)) / 2), scale, ink);
            }
        }

        BitmapText.Draw(image, "ROWS: TRUE CLASS", pad, top + (n * cell) + pad, scale, ((byte)90, (byte)90, (byte)90));
        return image;
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + ".";

    internal static string WriteText(string path, string text)
    {
        Atomically(path, temp => File.WriteAllText(temp, text, new UTF8Encoding(false)));
        return path;
    }

    internal static void Atomically(string path, Action<string> write)
    {
        var temp = path + ".partial";
        try
        {
            write(temp);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            File.Delete(temp);
            throw new DeepSentinelException(ErrorIds.ModelWriteFailed, ErrorKind.WriteError, $"Cannot write {path}: {ex.Message}", path, ex);
        }
    }
}
