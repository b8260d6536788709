using System.Text.Json;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Evaluation;
using DeepSentinel.Core.Tests.Training;

namespace DeepSentinel.Core.Tests.Evaluation;

/// <summary>Every metric equals Debian's python3-sklearn on the same predictions.</summary>
public sealed class ClassificationEvaluationTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ds-eval-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private JsonElement Sklearn(object input)
    {
        var file = Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(file, JsonSerializer.Serialize(input));
        return DebianPython.RunFile(Path.Combine("Evaluation", "python", "sklearn_metrics.py"), file);
    }

    private static string[] Classes(int n) => Enumerable.Range(0, n).Select(i => $"c{i}").ToArray();

    public static TheoryData<int, int, int, bool> SingleLabelCases => new()
    {
        { 1, 200, 5, false },   // noisy predictions
        { 2, 50, 6, true },     // class 5 never true, class 4 never predicted
        { 3, 7, 3, false },     // tiny
        { 4, 500, 10, true },
    };

    [Theory]
    [MemberData(nameof(SingleLabelCases))]
    public void Single_label_metrics_equal_sklearn(int seed, int samples, int classes, bool gaps)
    {
        var random = new Random(seed);
        var actual = new int[samples];
        var predicted = new int[samples];
        for (var i = 0; i < samples; i++)
        {
            actual[i] = random.Next(gaps ? classes - 1 : classes);
            predicted[i] = random.NextDouble() < 0.6 ? actual[i] : random.Next(classes);
            if (gaps && predicted[i] == classes - 2)
            {
                predicted[i] = classes - 1;
            }
        }

        var names = Classes(classes);
        var e = ClassificationEvaluation.SingleLabel(names, names, actual, predicted);
        var sk = Sklearn(new { task = "single", classes = names, actual, predicted });

        Assert.Equal(sk.GetProperty("overall_accuracy").GetDouble(), e.OverallAccuracy, 12);
        Assert.Equal(sk.GetProperty("balanced_accuracy").GetDouble(), e.BalancedAccuracy, 12);
        Assert.Equal(sk.GetProperty("macro_f1").GetDouble(), e.MacroF1, 12);
        Assert.Equal(sk.GetProperty("micro_f1").GetDouble(), e.MicroF1, 12);
        for (var c = 0; c < classes; c++)
        {
            Assert.Equal(sk.GetProperty("precision")[c].GetDouble(), e.PerClass[c].Precision, 12);
            Assert.Equal(sk.GetProperty("recall")[c].GetDouble(), e.PerClass[c].Recall, 12);
            Assert.Equal(sk.GetProperty("f1")[c].GetDouble(), e.PerClass[c].F1, 12);
            Assert.Equal(sk.GetProperty("support")[c].GetInt32(), e.PerClass[c].Support);
            for (var j = 0; j < classes; j++)
            {
                Assert.Equal(sk.GetProperty("confusion")[c][j].GetInt32(), e.ConfusionMatrix[c, j]);
            }
        }

        Assert.Equal(e.ConfusionMatrix[1, 0], e.ConfusionRows()[1][0]);
    }

    [Theory]
    [InlineData(1, 100, 6, 0.5)]
    [InlineData(2, 40, 4, 0.3)]
    [InlineData(3, 300, 8, 0.5)]
    public void Multi_label_metrics_equal_sklearn_with_tied_scores_and_a_class_without_positives(int seed, int samples, int classes, double threshold)
    {
        var random = new Random(seed);
        var truth = new List<bool[]>();
        var scores = new List<float[]>();
        for (var i = 0; i < samples; i++)
        {
            var t = new bool[classes];
            var s = new float[classes];
            for (var c = 0; c < classes; c++)
            {
                // The last class is never present; scores are rounded to tenths so many tie.
                t[c] = c < classes - 1 && random.NextDouble() < 0.3;
                s[c] = MathF.Round((float)Math.Clamp((t[c] ? 0.65 : 0.3) + ((random.NextDouble() - 0.5) * 0.8), 0, 1), 1);
            }

            truth.Add(t);
            scores.Add(s);
        }

        var names = Classes(classes);
        var e = ClassificationEvaluation.MultiLabel(names, names, truth, scores, threshold);
        var sk = Sklearn(new { task = "multi", classes = names, truth = truth.Select(t => t.Select(b => b ? 1 : 0)), scores = scores.Select(s => s.Select(v => (double)v)), threshold });

        Assert.Equal(sk.GetProperty("subset_accuracy").GetDouble(), e.OverallAccuracy, 12);
        Assert.Equal(sk.GetProperty("micro_f1").GetDouble(), e.MicroF1, 12);
        Assert.Equal(sk.GetProperty("macro_f1").GetDouble(), e.MacroF1, 12);
        Assert.Equal(sk.GetProperty("map").GetDouble(), e.MeanAveragePrecision!.Value, 12);
        for (var c = 0; c < classes; c++)
        {
            Assert.Equal(sk.GetProperty("precision")[c].GetDouble(), e.PerClass[c].Precision, 12);
            Assert.Equal(sk.GetProperty("recall")[c].GetDouble(), e.PerClass[c].Recall, 12);
            Assert.Equal(sk.GetProperty("f1")[c].GetDouble(), e.PerClass[c].F1, 12);
            var ap = sk.GetProperty("ap")[c];
            if (ap.ValueKind == JsonValueKind.Null)
            {
                Assert.Null(e.PerClass[c].AveragePrecision);
            }
            else
            {
                Assert.Equal(ap.GetDouble(), e.PerClass[c].AveragePrecision!.Value, 12);
            }
        }
    }

    [Fact]
    public void Mismatched_input_is_EvaluationInputInvalid()
    {
        var names = Classes(3);
        Assert.Equal(ErrorIds.EvaluationInputInvalid, Assert.Throws<DeepSentinelException>(() => ClassificationEvaluation.SingleLabel(names, names, [0, 1], [0])).ErrorId);
        Assert.Equal(ErrorIds.EvaluationInputInvalid, Assert.Throws<DeepSentinelException>(() => ClassificationEvaluation.SingleLabel(names, names, [0, 3], [0, 1])).ErrorId);
        Assert.Equal(ErrorIds.EvaluationInputInvalid, Assert.Throws<DeepSentinelException>(() => ClassificationEvaluation.SingleLabel(["a"], ["a"], [0], [0])).ErrorId);
        Assert.Equal(ErrorIds.EvaluationInputInvalid, Assert.Throws<DeepSentinelException>(() => ClassificationEvaluation.MultiLabel(names, names, [new bool[3]], [new float[2]])).ErrorId);
    }

    [Fact]
    public void A_perfect_classifier_scores_one()
    {
        var names = Classes(4);
        var e = ClassificationEvaluation.SingleLabel(names, names, [0, 1, 2, 3, 3], [0, 1, 2, 3, 3]);
        Assert.Equal(1.0, e.OverallAccuracy);
        Assert.Equal(1.0, e.BalancedAccuracy);
        Assert.Equal(1.0, e.MacroF1);
        Assert.Equal(2, e.ConfusionMatrix[3, 3]);
    }
}
