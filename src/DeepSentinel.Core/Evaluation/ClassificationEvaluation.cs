using System.Globalization;
using DeepSentinel.Core.Errors;

namespace DeepSentinel.Core.Evaluation;

/// <summary>Precision, recall and F1 of one class (a class with no predictions, or no true samples, scores 0 where undefined).</summary>
/// <param name="Class">The class key (a CLC code at the task's level, or a dataset class name).</param>
/// <param name="Name">Its name.</param>
/// <param name="Precision">Correct predictions of the class / all predictions of it.</param>
/// <param name="Recall">Correct predictions of the class / its true samples.</param>
/// <param name="F1">Harmonic mean of precision and recall.</param>
/// <param name="Support">True samples of the class.</param>
/// <param name="Predicted">Samples predicted as the class.</param>
/// <param name="AveragePrecision">Multi-label: the area under the class's precision-recall curve (null for single-label, or with no positives).</param>
public sealed record ClassMetric(string Class, string Name, double Precision, double Recall, double F1, int Support, int Predicted, double? AveragePrecision = null);

/// <summary>
/// The evaluation of a classifier on labelled samples: what Measure-Classification writes and
/// Export-ClassificationEvaluation saves as JSON, CSV and a confusion-matrix picture. Definitions
/// follow scikit-learn's (and are tested equal to python3-sklearn on the same predictions):
/// overall accuracy; balanced accuracy, the mean recall over classes with true samples; macro-F1,
/// the mean F1 over classes that are true or predicted at least once; per-class precision, recall
/// and F1 with 0 where undefined; the confusion matrix with true classes as rows. Multi-label
/// evaluations add micro-F1 and mAP (mean average precision over classes with positives).
/// Not sealed only for <see cref="FewShotEvaluation"/> (its pooled figures are these, so it pipes
/// into Export-ClassificationEvaluation as any evaluation does); no other type derives from it.
/// </summary>
public class ClassificationEvaluation
{
    internal ClassificationEvaluation(string task, IReadOnlyList<string> classes, IReadOnlyList<string> names, int[,] confusion, IReadOnlyList<ClassMetric> perClass,
        double overall, double balanced, double macroF1, double microF1, double? meanAveragePrecision, int samples)
    {
        Task = task;
        Classes = classes;
        ClassNames = names;
        ConfusionMatrix = confusion;
        PerClass = perClass;
        OverallAccuracy = overall;
        BalancedAccuracy = balanced;
        MacroF1 = macroF1;
        MicroF1 = microF1;
        MeanAveragePrecision = meanAveragePrecision;
        Samples = samples;
    }

    /// <summary>A copy of <paramref name="other"/>'s figures, for a derived evaluation that adds its own.</summary>
    private protected ClassificationEvaluation(ClassificationEvaluation other)
        : this(other.Task, other.Classes, other.ClassNames, other.ConfusionMatrix, other.PerClass, other.OverallAccuracy, other.BalancedAccuracy, other.MacroF1, other.MicroF1, other.MeanAveragePrecision, other.Samples)
    {
    }

    /// <summary>"SingleLabel" or "MultiLabel".</summary>
    public string Task { get; }

    /// <summary>The classes, in the order of the confusion matrix's rows and columns.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The classes' names, in the same order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Samples (single-label: true class i predicted as j; multi-label: per-class 2 x 2 counts are in PerClass) .</summary>
    public int[,] ConfusionMatrix { get; }

    /// <summary>Precision, recall, F1 and support per class.</summary>
    public IReadOnlyList<ClassMetric> PerClass { get; }

    /// <summary>Share of samples predicted right (multi-label: share of samples whose whole label set is right).</summary>
    public double OverallAccuracy { get; }

    /// <summary>Mean recall over the classes that have true samples (single-label).</summary>
    public double BalancedAccuracy { get; }

    /// <summary>Mean F1 over the classes that are true or predicted at least once.</summary>
    public double MacroF1 { get; }

    /// <summary>F1 of all decisions pooled (single-label: equals the overall accuracy).</summary>
    public double MicroF1 { get; }

    /// <summary>Multi-label: mean of the per-class average precision over classes with positives; null for single-label.</summary>
    public double? MeanAveragePrecision { get; }

    /// <summary>Samples evaluated.</summary>
    public int Samples { get; }

    /// <summary>Where Export-ClassificationEvaluation wrote the files, once written.</summary>
    public string? Path { get; internal set; }

    /// <summary>The confusion matrix as rows of counts (JSON- and PowerShell-friendly).</summary>
    public int[][] ConfusionRows()
    {
        var n = Classes.Count;
        return Enumerable.Range(0, n).Select(i => Enumerable.Range(0, ConfusionMatrix.GetLength(1)).Select(j => ConfusionMatrix[i, j]).ToArray()).ToArray();
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Task}: OA {OverallAccuracy:0.0000}, balanced {BalancedAccuracy:0.0000}, macro-F1 {MacroF1:0.0000} on {Samples} samples");

    /// <summary>
    /// Single-label metrics from true and predicted class indices into <paramref name="classes"/>.
    /// </summary>
    public static ClassificationEvaluation SingleLabel(IReadOnlyList<string> classes, IReadOnlyList<string> names, IReadOnlyList<int> actual, IReadOnlyList<int> predicted)
    {
        Check(classes, names);
        if (actual.Count != predicted.Count || actual.Count == 0)
        {
            throw new DeepSentinelException(ErrorIds.EvaluationInputInvalid, ErrorKind.InvalidArgument,
                $"Evaluation needs one prediction per true class and at least one sample; got {actual.Count} true classes and {predicted.Count} predictions.");
        }

        var n = classes.Count;
        var confusion = new int[n, n];
        for (var i = 0; i < actual.Count; i++)
        {
            if ((uint)actual[i] >= (uint)n || (uint)predicted[i] >= (uint)n)
            {
                throw new DeepSentinelException(ErrorIds.EvaluationInputInvalid, ErrorKind.InvalidArgument, $"Sample {i} has a class index outside the {n} classes.");
            }

            confusion[actual[i], predicted[i]]++;
        }

        var perClass = new List<ClassMetric>(n);
        double recallSum = 0, f1Sum = 0;
        int recallClasses = 0, f1Classes = 0, correct = 0;
        for (var c = 0; c < n; c++)
        {
            var tp = confusion[c, c];
            correct += tp;
            var support = Enumerable.Range(0, n).Sum(j => confusion[c, j]);
            var predictedAs = Enumerable.Range(0, n).Sum(i => confusion[i, c]);
            var precision = predictedAs == 0 ? 0 : (double)tp / predictedAs;
            var recall = support == 0 ? 0 : (double)tp / support;
            var f1 = F1(tp, predictedAs - tp, support - tp);
            perClass.Add(new ClassMetric(classes[c], names[c], precision, recall, f1, support, predictedAs));
            if (support > 0)
            {
                recallSum += recall;
                recallClasses++;
            }

            if (support > 0 || predictedAs > 0)
            {
                f1Sum += f1;
                f1Classes++;
            }
        }

        var accuracy = (double)correct / actual.Count;
        return new ClassificationEvaluation("SingleLabel", classes, names, confusion, perClass, accuracy, recallSum / recallClasses, f1Sum / f1Classes, accuracy, null, actual.Count);
    }

    /// <summary>
    /// Multi-label metrics: <paramref name="truth"/>[sample][class] says whether the class is
    /// present, <paramref name="scores"/> the model's probability for it; a class is predicted
    /// when its score is at least <paramref name="threshold"/>.
    /// </summary>
    public static ClassificationEvaluation MultiLabel(IReadOnlyList<string> classes, IReadOnlyList<string> names, IReadOnlyList<bool[]> truth, IReadOnlyList<float[]> scores, double threshold = 0.5)
    {
        Check(classes, names);
        var n = classes.Count;
        if (truth.Count != scores.Count || truth.Count == 0 || truth.Any(t => t.Length != n) || scores.Any(s => s.Length != n))
        {
            throw new DeepSentinelException(ErrorIds.EvaluationInputInvalid, ErrorKind.InvalidArgument,
                $"Multi-label evaluation needs, for each of at least one sample, {n} true flags and {n} scores; got {truth.Count} and {scores.Count} samples.");
        }

        if (scores.Any(s => s.Any(float.IsNaN)))
        {
            throw new DeepSentinelException(ErrorIds.EvaluationInputInvalid, ErrorKind.InvalidArgument, "A score is NaN: the predictions are not usable.");
        }

        var perClass = new List<ClassMetric>(n);
        // Per class: [tn, fp; fn, tp] as rows of a 2n x 2 table would be unreadable; keep n x 2 x 2 in PerClass and a co-occurrence table here.
        var confusion = new int[n, 2 * 2];
        long tpAll = 0, fpAll = 0, fnAll = 0;
        double f1Sum = 0, apSum = 0;
        int f1Classes = 0, apClasses = 0;
        for (var c = 0; c < n; c++)
        {
            int tp = 0, fp = 0, fn = 0, tn = 0;
            for (var i = 0; i < truth.Count; i++)
            {
                var predicted = scores[i][c] >= threshold;
                var actual = truth[i][c];
                if (actual && predicted)
                {
                    tp++;
                }
                else if (predicted)
                {
                    fp++;
                }
                else if (actual)
                {
                    fn++;
                }
                else
                {
                    tn++;
                }
            }

            confusion[c, 0] = tn;
            confusion[c, 1] = fp;
            confusion[c, 2] = fn;
            confusion[c, 3] = tp;
            tpAll += tp;
            fpAll += fp;
            fnAll += fn;
            var support = tp + fn;
            var f1 = F1(tp, fp, fn);
            double? ap = support > 0 ? AveragePrecision(truth.Select(t => t[c]).ToArray(), scores.Select(s => s[c]).ToArray()) : null;
            perClass.Add(new ClassMetric(classes[c], names[c], tp + fp == 0 ? 0 : (double)tp / (tp + fp), support == 0 ? 0 : (double)tp / support, f1, support, tp + fp, ap));
            if (support > 0 || tp + fp > 0)
            {
                f1Sum += f1;
                f1Classes++;
            }

            if (ap is { } value)
            {
                apSum += value;
                apClasses++;
            }
        }

        var exact = Enumerable.Range(0, truth.Count).Count(i => Enumerable.Range(0, n).All(c => truth[i][c] == (scores[i][c] >= threshold)));
        var micro = 2.0 * tpAll + fpAll + fnAll == 0 ? 0 : 2.0 * tpAll / ((2.0 * tpAll) + fpAll + fnAll);
        var recallClasses = perClass.Where(p => p.Support > 0).ToList();
        return new ClassificationEvaluation("MultiLabel", classes, names, confusion, perClass, (double)exact / truth.Count,
            recallClasses.Count == 0 ? 0 : recallClasses.Average(p => p.Recall), f1Classes == 0 ? 0 : f1Sum / f1Classes, micro, apClasses == 0 ? null : apSum / apClasses, truth.Count);
    }

    // scikit-learn's average_precision_score: the precision at each distinct score threshold,
    // weighted by the recall gained there (no interpolation).
    internal static double AveragePrecision(bool[] truth, float[] scores)
    {
        var order = Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ToArray();
        var positives = truth.Count(t => t);
        double ap = 0, previousRecall = 0;
        int tp = 0, seen = 0;
        for (var k = 0; k < order.Length; k++)
        {
            seen++;
            if (truth[order[k]])
            {
                tp++;
            }

            // Tied scores form one threshold: decide once the last of them is counted.
            if (k + 1 < order.Length && scores[order[k + 1]] == scores[order[k]])
            {
                continue;
            }

            var recall = (double)tp / positives;
            ap += (recall - previousRecall) * ((double)tp / seen);
            previousRecall = recall;
        }

        return ap;
    }

    private static double F1(int tp, int fp, int fn) => tp == 0 ? 0 : 2.0 * tp / ((2.0 * tp) + fp + fn);

    private static void Check(IReadOnlyList<string> classes, IReadOnlyList<string> names)
    {
        if (classes.Count < 2 || names.Count != classes.Count || classes.Distinct(StringComparer.Ordinal).Count() != classes.Count)
        {
            throw new DeepSentinelException(ErrorIds.EvaluationInputInvalid, ErrorKind.InvalidArgument,
                $"Evaluation needs at least 2 distinct classes with one name each; got {classes.Count} classes and {names.Count} names.");
        }
    }
}
