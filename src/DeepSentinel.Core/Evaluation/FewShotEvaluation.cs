using System.Globalization;

namespace DeepSentinel.Core.Evaluation;

/// <summary>How the query samples of a few-shot episode are classified from the support set's embeddings.</summary>
public enum FewShotMethod
{
    /// <summary>k nearest neighbours by cosine distance among the support embeddings, one vote each (scikit-learn's KNeighborsClassifier(metric='cosine')).</summary>
    Knn,

    /// <summary>The class whose centroid (mean of its L2-normalised support embeddings) is nearest by cosine distance (scikit-learn's NearestCentroid(metric='cosine') on normalised embeddings).</summary>
    NearestCentroid,
}

/// <summary>One classified query sample of a few-shot episode; pipes into Measure-Classification (Actual, Predicted).</summary>
/// <param name="Episode">The episode (0-based).</param>
/// <param name="SampleId">The query sample's id.</param>
/// <param name="Actual">Its true class.</param>
/// <param name="Predicted">The class it was given.</param>
public sealed record FewShotPrediction(int Episode, string SampleId, string Actual, string Predicted);

/// <summary>
/// One few-shot episode: a support set of K labelled samples per class (drawn by the episode's
/// seed), every other sample of those classes classified from the support embeddings, and the
/// evaluation of those predictions.
/// </summary>
public sealed class FewShotEpisode
{
    internal FewShotEpisode(int index, int seed, IReadOnlyList<string> supportIds, IReadOnlyList<string> supportClasses, IReadOnlyList<FewShotPrediction> predictions, ClassificationEvaluation evaluation)
    {
        Index = index;
        Seed = seed;
        SupportIds = supportIds;
        SupportClasses = supportClasses;
        Predictions = predictions;
        Evaluation = evaluation;
    }

    /// <summary>The episode (0-based).</summary>
    public int Index { get; }

    /// <summary>The seed the support set was drawn with (derived from -Seed and the episode).</summary>
    public int Seed { get; }

    /// <summary>The support samples' ids: K per class, classes in order, each class's in the order drawn.</summary>
    public IReadOnlyList<string> SupportIds { get; }

    /// <summary>The support samples' classes, in the order of <see cref="SupportIds"/>.</summary>
    public IReadOnlyList<string> SupportClasses { get; }

    /// <summary>The query samples (all the others of the classes), in sample-id order, with their predicted class.</summary>
    public IReadOnlyList<FewShotPrediction> Predictions { get; }

    /// <summary>The evaluation of this episode's predictions.</summary>
    public ClassificationEvaluation Evaluation { get; }

    /// <summary>Overall accuracy of the episode.</summary>
    public double OverallAccuracy => Evaluation.OverallAccuracy;

    /// <summary>Balanced accuracy of the episode.</summary>
    public double BalancedAccuracy => Evaluation.BalancedAccuracy;

    /// <summary>Macro-F1 of the episode.</summary>
    public double MacroF1 => Evaluation.MacroF1;

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"episode {Index}: OA {OverallAccuracy:0.0000} on {Predictions.Count} queries");
}

/// <summary>
/// A few-shot evaluation of frozen embeddings (Measure-FewShotClassification): several episodes,
/// each with K labelled samples per class as its support set, classified by
/// <see cref="FewShotMethod"/>. The inherited figures (overall and balanced accuracy, macro-F1,
/// per class, the confusion matrix) are those of every episode's predictions pooled, so it pipes
/// into Export-ClassificationEvaluation; the mean and sample standard deviation over episodes of
/// the three headline figures are its own.
/// </summary>
public sealed class FewShotEvaluation : ClassificationEvaluation
{
    internal FewShotEvaluation(ClassificationEvaluation pooled, FewShotMethod method, int shots, int? neighbours, int seed, string embeddings, IReadOnlyList<FewShotEpisode> episodes)
        : base(pooled)
    {
        Method = method;
        Shots = shots;
        Neighbours = neighbours;
        Seed = seed;
        Embeddings = embeddings;
        Episodes = episodes;
        (MeanOverallAccuracy, OverallAccuracySd) = Spread(episodes.Select(e => e.OverallAccuracy));
        (MeanBalancedAccuracy, BalancedAccuracySd) = Spread(episodes.Select(e => e.BalancedAccuracy));
        (MeanMacroF1, MacroF1Sd) = Spread(episodes.Select(e => e.MacroF1));
    }

    /// <summary>How queries were classified.</summary>
    public FewShotMethod Method { get; }

    /// <summary>K: labelled support samples per class in each episode.</summary>
    public int Shots { get; }

    /// <summary>k of the k-NN vote (null for nearest centroid).</summary>
    public int? Neighbours { get; }

    /// <summary>The seed the episodes' support sets were drawn from.</summary>
    public int Seed { get; }

    /// <summary>Where the embeddings came from: the embedding model's name, or "precomputed".</summary>
    public string Embeddings { get; }

    /// <summary>The episodes, each with its support set, predictions and evaluation.</summary>
    public IReadOnlyList<FewShotEpisode> Episodes { get; }

    /// <summary>Number of episodes.</summary>
    public int EpisodeCount => Episodes.Count;

    /// <summary>Mean over episodes of the overall accuracy.</summary>
    public double MeanOverallAccuracy { get; }

    /// <summary>Sample standard deviation (n - 1) over episodes of the overall accuracy; null with one episode.</summary>
    public double? OverallAccuracySd { get; }

    /// <summary>Mean over episodes of the balanced accuracy.</summary>
    public double MeanBalancedAccuracy { get; }

    /// <summary>Sample standard deviation over episodes of the balanced accuracy; null with one episode.</summary>
    public double? BalancedAccuracySd { get; }

    /// <summary>Mean over episodes of the macro-F1.</summary>
    public double MeanMacroF1 { get; }

    /// <summary>Sample standard deviation over episodes of the macro-F1; null with one episode.</summary>
    public double? MacroF1Sd { get; }

    /// <summary>"0.9125 ± 0.0210" (mean ± sd of the overall accuracy), as the default table shows it.</summary>
    public string DisplayOverallAccuracy => Display(MeanOverallAccuracy, OverallAccuracySd);

    /// <summary>Mean ± sd of the balanced accuracy.</summary>
    public string DisplayBalancedAccuracy => Display(MeanBalancedAccuracy, BalancedAccuracySd);

    /// <summary>Mean ± sd of the macro-F1.</summary>
    public string DisplayMacroF1 => Display(MeanMacroF1, MacroF1Sd);

    /// <summary>Every episode's predictions, episode by episode.</summary>
    public IEnumerable<FewShotPrediction> Predictions() => Episodes.SelectMany(e => e.Predictions);

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Method} {Shots}-shot, {EpisodeCount} episodes: OA {DisplayOverallAccuracy}, balanced {DisplayBalancedAccuracy}, macro-F1 {DisplayMacroF1}");

    private static string Display(double mean, double? sd) => sd is { } s
        ? string.Create(CultureInfo.InvariantCulture, $"{mean:0.0000} ± {s:0.0000}")
        : mean.ToString("0.0000", CultureInfo.InvariantCulture);

    // Mean and the sample standard deviation (ddof 1, numpy.std(ddof=1)); no spread from one episode.
    internal static (double Mean, double? Sd) Spread(IEnumerable<double> values)
    {
        var list = values.ToList();
        var mean = list.Average();
        if (list.Count < 2)
        {
            return (mean, null);
        }

        var squares = list.Sum(v => (v - mean) * (v - mean));
        return (mean, Math.Sqrt(squares / (list.Count - 1)));
    }
}
