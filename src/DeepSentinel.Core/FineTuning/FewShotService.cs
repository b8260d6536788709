using System.Diagnostics;
using System.Globalization;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Embeddings;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Evaluation;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.FineTuning;

/// <summary>How to run a few-shot evaluation (Measure-FewShotClassification).</summary>
public sealed record FewShotOptions
{
    /// <summary>K: labelled support samples per class in each episode.</summary>
    public int Shots { get; init; } = 5;

    /// <summary>Episodes, each with its own support set; their figures are averaged.</summary>
    public int Episodes { get; init; } = 5;

    /// <summary>The seed the episodes' support sets are drawn from.</summary>
    public int Seed { get; init; }

    /// <summary>k of the k-NN vote.</summary>
    public int Neighbours { get; init; } = 1;

    /// <summary>The classifiers to run; one evaluation each.</summary>
    public IReadOnlyList<FewShotMethod> Methods { get; init; } = [FewShotMethod.Knn];

    /// <summary>The classes to evaluate (default: every class of the samples).</summary>
    public IReadOnlyList<string>? Classes { get; init; }

    /// <summary>Patches per call into the engine during the embedding pass.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>libtorch's intra-op threads; all cores when null.</summary>
    public int? Threads { get; init; }

    /// <summary>Where the embedding pass runs.</summary>
    public TrainingDevice Device { get; init; } = TrainingDevice.Cpu;

    /// <summary>The sensors fed to the encoder (default: what the model takes).</summary>
    public SensorInput? Sensors { get; init; }
}

/// <summary>A labelled sample's embedding: what an episode's support and query sets hold.</summary>
/// <param name="SampleId">The sample id.</param>
/// <param name="Class">Its class (the dominant class of its label).</param>
/// <param name="Vector">Its embedding.</param>
public sealed record LabelledEmbedding(string SampleId, string Class, float[] Vector);

/// <summary>
/// Few-shot evaluation of frozen embeddings, the protocol's test of how well embeddings generalise
/// to classes fine-tuning never saw: in each episode K labelled samples per class (drawn by a seed
/// from the episode and the class, whatever the input order) form the support set, every other
/// sample of those classes is classified from the support embeddings by k-NN or nearest centroid
/// (<see cref="FewShotClassifier"/>), and the predictions are evaluated; the episodes' figures are
/// averaged with their spread. The embeddings come from an <see cref="EmbeddingModel"/> (one batched
/// pass with <see cref="EmbeddingSession"/>, eval mode) or are given (Get-Embedding's output).
/// </summary>
public static class FewShotService
{
    private const int ProgressActivity = 14;

    /// <summary>
    /// The samples a few-shot evaluation uses: the labelled ones of the chosen classes, in id order,
    /// checked before any embedding is computed. No labelled sample, or a duplicate id, is
    /// EvaluationInputInvalid; a class asked for without samples, or fewer than two classes,
    /// ClassNotInTraining; a class with no more than -Shots samples, FewShotClassTooSmall.
    /// </summary>
    public static IReadOnlyList<LabelledSample> Select(IReadOnlyList<LabelledSample> samples, FewShotOptions options)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        var classes = Check(samples.Select(s => (s.Id, s.DominantClass)).ToList(), options);
        var chosen = classes.ToHashSet(StringComparer.Ordinal);
        return samples.Where(s => chosen.Contains(s.DominantClass!)).OrderBy(s => s.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>Labels patches at <paramref name="clcLevel"/>; patches without a label are left out with one warning.</summary>
    public static IReadOnlyList<LabelledSample> Label(IEnumerable<ITrainingPatchProvider> patches, int clcLevel, IOperationReporter reporter)
    {
        ArgumentNullException.ThrowIfNull(patches);
        reporter ??= NullReporter.Instance;
        var labelled = new List<LabelledSample>();
        var unlabelled = new List<string>();
        foreach (var patch in patches)
        {
            if (LabelledSample.Resolve(patch, clcLevel) is { } sample)
            {
                labelled.Add(sample);
            }
            else
            {
                unlabelled.Add(patch.SampleId);
            }
        }

        if (unlabelled.Count > 0)
        {
            reporter.Warning(string.Create(CultureInfo.InvariantCulture,
                $"{unlabelled.Count} sample(s) have no label and are left out of the few-shot evaluation (first: {string.Join(", ", unlabelled.Take(5))}). Label corpus samples with Add-CorineLabel."));
        }

        return labelled;
    }

    /// <summary>
    /// Embeds the samples with <paramref name="model"/>, a batch at a time, reporting progress. A
    /// patch that cannot be read or embedded is reported as an error and left out; the rest go on.
    /// </summary>
    public static async Task<IReadOnlyList<LabelledEmbedding>> EmbedAsync(IReadOnlyList<LabelledSample> samples, EmbeddingModel model, FewShotOptions options, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        reporter ??= NullReporter.Instance;
        var sensors = options.Sensors ?? model.Sensors;
        if (model.Sensors != SensorInput.Fused && sensors != model.Sensors)
        {
            throw new DeepSentinelException(ErrorIds.ModelInputMismatch, ErrorKind.InvalidArgument,
                $"{model.Path} takes {model.Sensors} input only; -Sensor {sensors} does not match its model card. Use -Sensor {model.Sensors}, or a fused model.", model.Path);
        }

        var classOf = samples.ToDictionary(s => s.Id, s => s.DominantClass!, StringComparer.Ordinal);
        var results = new List<LabelledEmbedding>(samples.Count);
        var clock = Stopwatch.StartNew();
        void Take(IReadOnlyList<PatchEmbedding> embedded)
        {
            foreach (var e in embedded)
            {
                results.Add(new LabelledEmbedding(e.SampleId, classOf[e.SampleId], e.Vector));
            }

            if (embedded.Count > 0)
            {
                reporter.Progress(new ProgressUpdate(ProgressActivity, $"Embedding samples with {model.Name}",
                    string.Create(CultureInfo.InvariantCulture, $"{results.Count} of {samples.Count} samples, {results.Count / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):0.0} samples/s"),
                    (int)(100L * results.Count / samples.Count)));
            }
        }

        using (var session = EmbeddingSession.Open(model, new EmbeddingOptions { BatchSize = options.BatchSize, Threads = options.Threads, Device = options.Device }))
        {
            foreach (var sample in samples)
            {
                cancellationToken.ThrowIfCancellationRequested();
                TrainingPatch? patch;
                try
                {
                    patch = FineTuningService.SelectSensors(await sample.Patch.LoadTrainingPatchAsync(cancellationToken).ConfigureAwait(false), sensors);
                }
                catch (DeepSentinelException ex) when (ex.Kind is not ErrorKind.PermissionDenied)
                {
                    reporter.Error(ex);
                    continue;
                }

                if (patch is null)
                {
                    reporter.Error(new DeepSentinelException(ErrorIds.SensorDataMissing, ErrorKind.InvalidData,
                        $"Sample {sample.Id} has no {sensors} data: it is left out of the few-shot evaluation.", sample.Id));
                    continue;
                }

                try
                {
                    Take(session.Add(patch));
                }
                catch (DeepSentinelException ex) when (ex.ErrorId == ErrorIds.TrainingInputInvalid)
                {
                    reporter.Error(ex);
                }
            }

            Take(session.Complete());
        }

        reporter.Progress(new ProgressUpdate(ProgressActivity, $"Embedding samples with {model.Name}", "done", 100, 0, Completed: true));
        return results;
    }

    /// <summary>
    /// Pairs samples with precomputed embeddings by sample id. A sample without an embedding, two
    /// embeddings of one id, or vectors of different lengths are EvaluationInputInvalid; embeddings
    /// of other samples are ignored.
    /// </summary>
    public static IReadOnlyList<LabelledEmbedding> Match(IReadOnlyList<LabelledSample> samples, IEnumerable<PatchEmbedding> embeddings)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(embeddings);
        var byId = new Dictionary<string, PatchEmbedding>(StringComparer.Ordinal);
        foreach (var e in embeddings)
        {
            if (!byId.TryAdd(e.SampleId, e))
            {
                throw new DeepSentinelException(ErrorIds.EvaluationInputInvalid, ErrorKind.InvalidArgument,
                    $"Two embeddings have the sample id '{e.SampleId}': give each sample one embedding (one Get-Embedding run).", e.SampleId);
            }
        }

        var missing = samples.Where(s => !byId.ContainsKey(s.Id)).Select(s => s.Id).ToList();
        if (missing.Count > 0)
        {
            throw new DeepSentinelException(ErrorIds.EvaluationInputInvalid, ErrorKind.InvalidArgument,
                string.Create(CultureInfo.InvariantCulture, $"{missing.Count} of the {samples.Count} samples have no embedding in -Embedding (first: {string.Join(", ", missing.Take(5))}). Embed the same samples (Get-Embedding), or give -Model to embed them here."), missing[0]);
        }

        return samples.Select(s => new LabelledEmbedding(s.Id, s.DominantClass!, byId[s.Id].Vector)).ToList();
    }

    /// <summary>
    /// The few-shot evaluations (one per method) of labelled embeddings: checks the input as
    /// <see cref="Select"/> does, draws each episode's support set, classifies the rest.
    /// </summary>
    /// <param name="samples">Labelled embeddings of every sample to use.</param>
    /// <param name="options">Shots, episodes, seed, neighbours, methods and classes.</param>
    /// <param name="embeddingsName">Where the embeddings came from (a model's name, or "precomputed").</param>
    public static IReadOnlyList<FewShotEvaluation> Evaluate(IReadOnlyList<LabelledEmbedding> samples, FewShotOptions options, string embeddingsName)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        var classes = Check(samples.Select(s => (s.SampleId, (string?)s.Class)).ToList(), options);
        var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
        var used = samples.Where(s => index.ContainsKey(s.Class)).OrderBy(s => s.SampleId, StringComparer.Ordinal).ToList();
        var dimension = used[0].Vector.Length;
        foreach (var s in used)
        {
            if (s.Vector.Length != dimension || dimension == 0)
            {
                throw new DeepSentinelException(ErrorIds.EvaluationInputInvalid, ErrorKind.InvalidArgument,
                    string.Create(CultureInfo.InvariantCulture, $"Sample {s.SampleId}'s embedding has {s.Vector.Length} values; sample {used[0].SampleId}'s has {dimension}. Embeddings from one model have one length."), s.SampleId);
            }

            if (s.Vector.Any(v => !float.IsFinite(v)))
            {
                throw new DeepSentinelException(ErrorIds.EvaluationInputInvalid, ErrorKind.InvalidArgument,
                    $"Sample {s.SampleId}'s embedding holds a NaN or infinite value: it cannot be compared.", s.SampleId);
            }
        }

        var supportSize = options.Shots * classes.Count;
        var byClass = classes.Select(c => used.Where(s => s.Class == c).ToList()).ToList();
        var names = classes.Select(LabelledSample.ClassName).ToList();
        var methods = options.Methods.Distinct().ToList();
        var episodes = methods.ToDictionary(m => m, _ => new List<FewShotEpisode>());
        for (var e = 0; e < options.Episodes; e++)
        {
            var seed = StableSeed.Mix(options.Seed, e);
            var support = new List<LabelledEmbedding>(supportSize);
            var supportClass = new List<int>(supportSize);
            for (var c = 0; c < classes.Count; c++)
            {
                foreach (var s in Draw(byClass[c], options.Shots, StableSeed.Mix(seed, StableHash(classes[c]))))
                {
                    support.Add(s);
                    supportClass.Add(c);
                }
            }

            var inSupport = support.Select(s => s.SampleId).ToHashSet(StringComparer.Ordinal);
            var queries = used.Where(s => !inSupport.Contains(s.SampleId)).ToList();
            var actual = queries.Select(q => index[q.Class]).ToList();
            var vectors = support.Select(s => s.Vector).ToList();
            var queryVectors = queries.Select(q => q.Vector).ToList();
            foreach (var method in methods)
            {
                var predicted = method == FewShotMethod.Knn
                    ? FewShotClassifier.PredictKnn(vectors, supportClass, classes.Count, queryVectors, options.Neighbours)
                    : FewShotClassifier.PredictNearestCentroid(vectors, supportClass, classes.Count, queryVectors);
                var predictions = queries.Select((q, i) => new FewShotPrediction(e, q.SampleId, q.Class, classes[predicted[i]])).ToList();
                episodes[method].Add(new FewShotEpisode(e, seed, support.Select(s => s.SampleId).ToList(), support.Select(s => s.Class).ToList(), predictions,
                    ClassificationEvaluation.SingleLabel(classes, names, actual, predicted)));
            }
        }

        return methods.Select(method =>
        {
            var list = episodes[method];
            var all = list.SelectMany(x => x.Predictions).ToList();
            var pooled = ClassificationEvaluation.SingleLabel(classes, names, all.Select(p => index[p.Actual]).ToList(), all.Select(p => index[p.Predicted]).ToList());
            return new FewShotEvaluation(pooled, method, options.Shots, method == FewShotMethod.Knn ? options.Neighbours : null, options.Seed, embeddingsName, list);
        }).ToList();
    }

    /// <summary>
    /// The whole evaluation: checks the samples, embeds them with <paramref name="model"/> (or pairs
    /// them with <paramref name="embeddings"/>), and evaluates. Exactly one of the two is given.
    /// </summary>
    public static async Task<IReadOnlyList<FewShotEvaluation>> RunAsync(IReadOnlyList<LabelledSample> samples, EmbeddingModel? model, IEnumerable<PatchEmbedding>? embeddings,
        FewShotOptions options, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(options);
        reporter ??= NullReporter.Instance;
        if ((model is null) == (embeddings is null))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue,
                "Give the embeddings either as -Model (an EmbeddingModel: the samples are embedded here) or as -Embedding (Get-Embedding's output), not both and not neither.");
        }

        var chosen = Select(samples, options);
        reporter.Verbose(string.Create(CultureInfo.InvariantCulture,
            $"Few-shot evaluation of {chosen.Count} samples in {chosen.Select(s => s.DominantClass).Distinct().Count()} classes: {options.Shots} shot(s), {options.Episodes} episode(s), seed {options.Seed}."));
        var labelled = model is not null
            ? await EmbedAsync(chosen, model, options, reporter, cancellationToken).ConfigureAwait(false)
            : Match(chosen, embeddings!);
        return Evaluate(labelled, options, model?.Name ?? "precomputed");
    }

    // The classes to evaluate, in ordinal order, checked against the samples' labels.
    private static List<string> Check(IReadOnlyList<(string Id, string? Class)> samples, FewShotOptions options)
    {
        var labelled = samples.Where(s => s.Class is not null).ToList();
        if (labelled.Count == 0)
        {
            throw new DeepSentinelException(ErrorIds.EvaluationInputInvalid, ErrorKind.InvalidArgument,
                "No labelled sample came in: a few-shot evaluation needs samples with a class (corpus samples labelled with Add-CorineLabel, EuroSAT-style images from Get-LabelledImage, or a split).");
        }

        var duplicate = labelled.GroupBy(s => s.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new DeepSentinelException(ErrorIds.EvaluationInputInvalid, ErrorKind.InvalidArgument,
                $"The sample id '{duplicate.Key}' comes in more than once: each sample is a support or a query sample once.", duplicate.Key);
        }

        var counts = labelled.GroupBy(s => s.Class!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var present = string.Join(", ", counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} ({kv.Value})")));
        var classes = (options.Classes?.Select(c => c.Trim()) ?? counts.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var absent = classes.Where(c => !counts.ContainsKey(c)).ToList();
        if (absent.Count > 0)
        {
            throw new DeepSentinelException(ErrorIds.ClassNotInTraining, ErrorKind.InvalidArgument,
                $"No sample has the class {string.Join(", ", absent)}: it has no support set. Classes present (samples): {present}.", absent[0]);
        }

        if (classes.Count < 2)
        {
            throw new DeepSentinelException(ErrorIds.ClassNotInTraining, ErrorKind.InvalidData,
                $"A few-shot evaluation needs at least two classes; the samples{(options.Classes is null ? string.Empty : " of -Class")} have {classes.Count}. Classes present (samples): {present}.");
        }

        var small = classes.Where(c => counts[c] <= options.Shots).ToList();
        if (small.Count > 0)
        {
            throw new DeepSentinelException(ErrorIds.FewShotClassTooSmall, ErrorKind.InvalidArgument,
                string.Create(CultureInfo.InvariantCulture,
                    $"Class {string.Join(", ", small.Select(c => $"{c} has {counts[c]} sample(s)"))}: -Shots {options.Shots} needs {options.Shots} support samples per class and at least one more to classify. Use -Shots {Math.Max(1, small.Min(c => counts[c]) - 1)} or less, or leave the class out with -Class."), small[0]);
        }

        var supportSize = options.Shots * classes.Count;
        if (options.Methods.Contains(FewShotMethod.Knn) && options.Neighbours > supportSize)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue,
                string.Create(CultureInfo.InvariantCulture, $"-Neighbours {options.Neighbours} is more than the {supportSize} support samples of an episode ({classes.Count} classes x {options.Shots} shots): use at most {supportSize}."), options.Neighbours);
        }

        return classes;
    }

    private static void Validate(FewShotOptions options)
    {
        if (options.Shots < 1 || options.Episodes < 1 || options.Neighbours < 1 || options.Methods.Count == 0)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue,
                string.Create(CultureInfo.InvariantCulture, $"-Shots, -Episodes and -Neighbours must be at least 1 and -Method must name a method; got {options.Shots}, {options.Episodes}, {options.Neighbours} and {options.Methods.Count} method(s)."));
        }
    }

    // K samples of one class (given in id order): a seeded partial Fisher-Yates shuffle.
    private static IEnumerable<LabelledEmbedding> Draw(List<LabelledEmbedding> pool, int k, int seed)
    {
        var order = Enumerable.Range(0, pool.Count).ToArray();
        var random = new Random(seed);
        for (var i = 0; i < k; i++)
        {
            var j = i + random.Next(pool.Count - i);
            (order[i], order[j]) = (order[j], order[i]);
            yield return pool[order[i]];
        }
    }

    // FNV-1a over the UTF-16 code units: the same in every process (string.GetHashCode is not).
    private static long StableHash(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var ch in text)
        {
            hash = unchecked((hash ^ ch) * 1099511628211UL);
        }

        return unchecked((long)hash);
    }
}
