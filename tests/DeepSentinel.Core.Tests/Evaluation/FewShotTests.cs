using System.Text.Json;
using DeepSentinel.Core.Embeddings;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Evaluation;
using DeepSentinel.Core.FineTuning;
using DeepSentinel.Core.Tests.FineTuning;
using DeepSentinel.Core.Tests.Training;

namespace DeepSentinel.Core.Tests.Evaluation;

/// <summary>
/// Few-shot evaluation on embeddings: the k-NN and nearest-centroid predictions and every figure
/// equal Debian's python3-sklearn fitted on the same support sets; separable classes are
/// classified well; the episodes depend on the seed only; bad input fails with stable ids.
/// </summary>
public sealed class FewShotTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ds-fewshot-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // Gaussian clusters around a random centre per class; spread sets how much they overlap.
    internal static List<LabelledEmbedding> Clusters(int seed, IReadOnlyList<string> classes, int perClass, int dimension, double spread)
    {
        var random = new Random(seed);
        double Gauss() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var centres = classes.Select(_ => Enumerable.Range(0, dimension).Select(_ => Gauss()).ToArray()).ToList();
        var samples = new List<LabelledEmbedding>();
        for (var c = 0; c < classes.Count; c++)
        {
            for (var i = 0; i < perClass; i++)
            {
                samples.Add(new LabelledEmbedding($"{classes[c]}_{i}", classes[c], centres[c].Select(v => (float)(v + (spread * Gauss()))).ToArray()));
            }
        }

        return samples;
    }

    private JsonElement Sklearn(IReadOnlyList<LabelledEmbedding> samples, FewShotEvaluation evaluation, int neighbours)
    {
        var byId = samples.ToDictionary(s => s.SampleId);
        var input = new
        {
            neighbours,
            classes = evaluation.Classes,
            episodes = evaluation.Episodes.Select(e => new
            {
                support = e.SupportIds.Select(id => byId[id].Vector.Select(v => (double)v)),
                support_classes = e.SupportClasses,
                queries = e.Predictions.Select(p => byId[p.SampleId].Vector.Select(v => (double)v)),
                query_classes = e.Predictions.Select(p => p.Actual),
            }),
        };
        var file = Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(file, JsonSerializer.Serialize(input));
        return DebianPython.RunFile(Path.Combine("Evaluation", "python", "sklearn_fewshot.py"), file);
    }

    private static void AssertFigures(JsonElement sk, ClassificationEvaluation e)
    {
        Assert.Equal(sk.GetProperty("overall_accuracy").GetDouble(), e.OverallAccuracy, 12);
        Assert.Equal(sk.GetProperty("balanced_accuracy").GetDouble(), e.BalancedAccuracy, 12);
        Assert.Equal(sk.GetProperty("macro_f1").GetDouble(), e.MacroF1, 12);
        var rows = e.ConfusionRows();
        for (var i = 0; i < rows.Length; i++)
        {
            Assert.Equal(sk.GetProperty("confusion")[i].EnumerateArray().Select(v => v.GetInt32()), rows[i]);
        }
    }

    public static TheoryData<int, int, int, int, double> SklearnCases => new()
    {
        // seed, classes, shots, k, spread: overlapping clusters, so there are errors to agree on
        { 1, 3, 1, 1, 1.2 },
        { 2, 4, 3, 4, 1.5 },   // k = 4 of 12 support samples: tied votes (checked below)
        { 3, 5, 5, 3, 1.0 },
        { 4, 2, 2, 2, 2.0 },   // k = 2 of two classes: a 1-1 vote goes to the class that sorts first
    };

    [Theory]
    [MemberData(nameof(SklearnCases))]
    public void Knn_and_nearest_centroid_equal_sklearn_on_the_same_support_sets(int seed, int classCount, int shots, int neighbours, double spread)
    {
        // Class keys whose ordinal order is not their order of appearance: ties follow the keys.
        var classes = new[] { "SeaLake", "211", "Forest", "River", "112" }.Take(classCount).ToList();
        var samples = Clusters(seed, classes, 12, 16, spread);
        var options = new FewShotOptions { Shots = shots, Episodes = 4, Seed = seed, Neighbours = neighbours, Methods = [FewShotMethod.Knn, FewShotMethod.NearestCentroid] };
        var results = FewShotService.Evaluate(samples, options, "test");
        var knn = results.Single(r => r.Method == FewShotMethod.Knn);
        var centroid = results.Single(r => r.Method == FewShotMethod.NearestCentroid);
        var sk = Sklearn(samples, knn, neighbours);

        Assert.Equal(classes.Order(StringComparer.Ordinal), knn.Classes);
        for (var e = 0; e < options.Episodes; e++)
        {
            var episode = sk.GetProperty("episodes")[e];
            Assert.Equal(shots * classCount, knn.Episodes[e].SupportIds.Count);
            Assert.Equal(knn.Episodes[e].SupportIds, centroid.Episodes[e].SupportIds);
            Assert.Equal(episode.GetProperty("knn").EnumerateArray().Select(v => v.GetString()), knn.Episodes[e].Predictions.Select(p => p.Predicted));
            Assert.Equal(episode.GetProperty("centroid").EnumerateArray().Select(v => v.GetString()), centroid.Episodes[e].Predictions.Select(p => p.Predicted));
            AssertFigures(episode.GetProperty("knn_figures"), knn.Episodes[e].Evaluation);
            AssertFigures(episode.GetProperty("centroid_figures"), centroid.Episodes[e].Evaluation);
        }

        foreach (var (name, evaluation) in new[] { ("knn", knn), ("centroid", centroid) })
        {
            AssertFigures(sk.GetProperty(name + "_pooled"), evaluation);
            Assert.Equal(sk.GetProperty($"{name}_mean_overall_accuracy").GetDouble(), evaluation.MeanOverallAccuracy, 12);
            Assert.Equal(sk.GetProperty($"{name}_sd_overall_accuracy").GetDouble(), evaluation.OverallAccuracySd!.Value, 12);
            Assert.Equal(sk.GetProperty($"{name}_mean_balanced_accuracy").GetDouble(), evaluation.MeanBalancedAccuracy, 12);
            Assert.Equal(sk.GetProperty($"{name}_sd_balanced_accuracy").GetDouble(), evaluation.BalancedAccuracySd!.Value, 12);
            Assert.Equal(sk.GetProperty($"{name}_mean_macro_f1").GetDouble(), evaluation.MeanMacroF1, 12);
            Assert.Equal(sk.GetProperty($"{name}_sd_macro_f1").GetDouble(), evaluation.MacroF1Sd!.Value, 12);
        }

        // The cases must exercise something: errors to agree on, and tied votes where k allows them.
        Assert.True(knn.OverallAccuracy < 1 || centroid.OverallAccuracy < 1, "the clusters overlap too little to test disagreement");
        if (neighbours > 1 && classCount >= 2)
        {
            Assert.True(sk.GetProperty("vote_ties").GetInt32() > 0, "no tied vote was tested");
        }
    }

    [Fact]
    public void Separable_classes_are_classified_well_from_few_shots()
    {
        var classes = new[] { "AnnualCrop", "Forest", "Highway", "River", "SeaLake" };
        var samples = Clusters(7, classes, 30, 32, 0.3);
        foreach (var result in FewShotService.Evaluate(samples, new FewShotOptions { Shots = 3, Episodes = 5, Seed = 1, Neighbours = 3, Methods = [FewShotMethod.Knn, FewShotMethod.NearestCentroid] }, "test"))
        {
            Assert.True(result.MeanOverallAccuracy >= 0.95, $"{result.Method}: OA {result.MeanOverallAccuracy}");
            Assert.True(result.MeanMacroF1 >= 0.95, $"{result.Method}: macro-F1 {result.MeanMacroF1}");
            Assert.Equal(5 * ((30 * 5) - (3 * 5)), result.Samples);
        }
    }

    [Fact]
    public void Episodes_depend_on_the_seed_and_the_samples_not_on_their_order()
    {
        var samples = Clusters(3, ["a", "b", "c"], 10, 8, 1.0);
        var options = new FewShotOptions { Shots = 2, Episodes = 3, Seed = 5 };
        var first = FewShotService.Evaluate(samples, options, "test").Single();
        var shuffled = samples.OrderBy(s => s.Vector[0]).ToList();
        var again = FewShotService.Evaluate(shuffled, options, "test").Single();
        var other = FewShotService.Evaluate(samples, options with { Seed = 6 }, "test").Single();

        for (var e = 0; e < 3; e++)
        {
            Assert.Equal(first.Episodes[e].SupportIds, again.Episodes[e].SupportIds);
            Assert.Equal(first.Episodes[e].Predictions, again.Episodes[e].Predictions);
            Assert.Equal(2 * 3, first.Episodes[e].SupportIds.Distinct().Count());
            Assert.Equal(30 - 6, first.Episodes[e].Predictions.Count);
            Assert.Empty(first.Episodes[e].SupportIds.Intersect(first.Episodes[e].Predictions.Select(p => p.SampleId)));
        }

        Assert.NotEqual(first.Episodes[0].SupportIds, first.Episodes[1].SupportIds);
        Assert.NotEqual(first.Episodes.SelectMany(e => e.SupportIds), other.Episodes.SelectMany(e => e.SupportIds));

        // A class's support set does not change when another class is left out.
        var two = FewShotService.Evaluate(samples, options with { Classes = ["a", "c"] }, "test").Single();
        Assert.Equal(first.Episodes[0].SupportIds.Where(id => id.StartsWith('a')), two.Episodes[0].SupportIds.Where(id => id.StartsWith('a')));
        Assert.Null(FewShotService.Evaluate(samples, options with { Episodes = 1 }, "test").Single().OverallAccuracySd);
    }

    [Fact]
    public void Bad_input_fails_with_stable_ids_and_clear_messages()
    {
        var samples = Clusters(1, ["Forest", "River"], 4, 8, 1.0);
        DeepSentinelException Fails(IReadOnlyList<LabelledEmbedding> s, FewShotOptions o) => Assert.Throws<DeepSentinelException>(() => FewShotService.Evaluate(s, o, "test"));

        var tooSmall = Fails(samples, new FewShotOptions { Shots = 4 });
        Assert.Equal(ErrorIds.FewShotClassTooSmall, tooSmall.ErrorId);
        Assert.Contains("Forest has 4 sample(s)", tooSmall.Message, StringComparison.Ordinal);
        Assert.Contains("-Shots 3 or less", tooSmall.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorIds.FewShotClassTooSmall, Fails(samples.Where(s => s.SampleId != "River_0").ToList(), new FewShotOptions { Shots = 3 }).ErrorId);

        var absent = Fails(samples, new FewShotOptions { Shots = 1, Classes = ["Forest", "Highway"] });
        Assert.Equal(ErrorIds.ClassNotInTraining, absent.ErrorId);
        Assert.Contains("Highway", absent.Message, StringComparison.Ordinal);
        Assert.Contains("Forest (4), River (4)", absent.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorIds.ClassNotInTraining, Fails(samples, new FewShotOptions { Shots = 1, Classes = ["Forest"] }).ErrorId);
        Assert.Equal(ErrorIds.ClassNotInTraining, Fails(samples.Where(s => s.Class == "River").ToList(), new FewShotOptions { Shots = 1 }).ErrorId);

        Assert.Equal(ErrorIds.EvaluationInputInvalid, Fails([], new FewShotOptions()).ErrorId);
        Assert.Equal(ErrorIds.EvaluationInputInvalid, Fails([.. samples, samples[0]], new FewShotOptions { Shots = 1 }).ErrorId);
        Assert.Equal(ErrorIds.EvaluationInputInvalid, Fails([.. samples.Skip(1), samples[0] with { Vector = [1, 2] }], new FewShotOptions { Shots = 1 }).ErrorId);
        Assert.Equal(ErrorIds.EvaluationInputInvalid, Fails([.. samples.Skip(1), samples[0] with { Vector = [.. samples[0].Vector[..^1], float.NaN] }], new FewShotOptions { Shots = 1 }).ErrorId);
        var k = Fails(samples, new FewShotOptions { Shots = 2, Neighbours = 5 });
        Assert.Equal(ErrorIds.InvalidParameterValue, k.ErrorId);
        Assert.Contains("4 support samples", k.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorIds.InvalidParameterValue, Fails(samples, new FewShotOptions { Shots = 0 }).ErrorId);
        Assert.Equal(ErrorIds.InvalidParameterValue, Fails(samples, new FewShotOptions { Shots = 1, Methods = [] }).ErrorId);
    }

    [Fact]
    public void Samples_without_a_label_are_left_out_with_a_warning()
    {
        var reporter = new RecordingReporter();
        var labelled = FewShotService.Label([.. FineTuningTests.Generated(2, 2), new Core.Training.TrainingPatch("unlabelled-1", 32, 32, new float[12 * 32 * 32], null)], 3, reporter);

        Assert.Equal(4, labelled.Count);
        Assert.Contains(reporter.Warnings, w => w.Contains("1 sample(s) have no label", StringComparison.Ordinal) && w.Contains("unlabelled-1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Precomputed_embeddings_are_matched_by_sample_id()
    {
        var patches = FineTuningTests.Generated(3, 2);
        var labelled = FewShotService.Label(patches, 3, new RecordingReporter());
        var embeddings = labelled.Select((s, i) => new PatchEmbedding(s.Id, "S2", [i, 1, 0], "m")).ToList();

        var matched = FewShotService.Match(labelled, embeddings.Append(new PatchEmbedding("elsewhere", "S2", [0, 0, 1], "m")));
        Assert.Equal(labelled.Select(s => (s.Id, s.DominantClass)), matched.Select(m => (m.SampleId, (string?)m.Class)));
        Assert.Equal(embeddings.Select(e => e.Vector), matched.Select(m => m.Vector));

        var missing = Assert.Throws<DeepSentinelException>(() => FewShotService.Match(labelled, embeddings.Skip(1)));
        Assert.Equal(ErrorIds.EvaluationInputInvalid, missing.ErrorId);
        Assert.Contains(labelled[0].Id, missing.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorIds.EvaluationInputInvalid, Assert.Throws<DeepSentinelException>(() => FewShotService.Match(labelled, [.. embeddings, embeddings[0]])).ErrorId);

        var neither = await Assert.ThrowsAsync<DeepSentinelException>(() => FewShotService.RunAsync(labelled, null, null, new FewShotOptions { Shots = 1 }, new RecordingReporter(), CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidParameterValue, neither.ErrorId);
    }

    [Fact]
    public void The_report_holds_the_episodes_and_every_support_and_query_sample()
    {
        var samples = Clusters(2, ["x", "y"], 6, 4, 1.0);
        var evaluation = FewShotService.Evaluate(samples, new FewShotOptions { Shots = 2, Episodes = 3, Seed = 1 }, "test").Single();
        var written = EvaluationReport.Write(evaluation, Path.Combine(_folder, "report"));

        Assert.Contains(written, f => f.EndsWith(EvaluationReport.FewShotSamplesCsvFile, StringComparison.Ordinal));
        var rows = File.ReadAllLines(Path.Combine(_folder, "report", EvaluationReport.FewShotSamplesCsvFile));
        Assert.Equal("episode,sample_id,role,actual,predicted", rows[0]);
        Assert.Equal(3 * 12, rows.Length - 1);
        Assert.Equal(3 * 4, rows.Count(r => r.Contains(",support,", StringComparison.Ordinal)));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, "report", EvaluationReport.JsonFile)));
        var fewShot = json.RootElement.GetProperty("fewShot");
        Assert.Equal("Knn", fewShot.GetProperty("method").GetString());
        Assert.Equal(3, fewShot.GetProperty("perEpisode").GetArrayLength());
        Assert.Equal(evaluation.Episodes[1].SupportIds, fewShot.GetProperty("perEpisode")[1].GetProperty("support").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(evaluation.MeanOverallAccuracy, fewShot.GetProperty("meanOverallAccuracy").GetDouble(), 12);
        Assert.Equal(3 * 8, json.RootElement.GetProperty("samples").GetInt32());
        Assert.False(File.Exists(Path.Combine(_folder, "report", EvaluationReport.FewShotSamplesCsvFile + ".partial")));
    }
}
