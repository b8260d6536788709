using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Embeddings;
using DeepSentinel.Core.Evaluation;
using DeepSentinel.Core.FineTuning;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Measures how well frozen embeddings classify with few labels: K labelled samples per class as the support set, the rest classified by k-NN (cosine) or nearest centroid, over several seeded episodes.</para>
/// <para type="description">Takes labelled samples (a split from Split-LabelledCorpus: its test side, by default only its held-out classes; or corpus samples from Get-PatchSample, or EuroSAT-style images from Get-LabelledImage) and their embeddings (-Model: an EmbeddingModel, the samples are embedded here in batches; or -Embedding: Get-Embedding's output). In each of -Episodes episodes, -Shots samples per class (drawn by -Seed, whatever the input order) form the support set and every other sample is classified from the support embeddings. Writes one FewShotEvaluation per -Method: the pooled overall and balanced accuracy, macro-F1, per-class figures and confusion matrix, each episode's support set, predictions and evaluation, and the mean and standard deviation over episodes. It pipes into Export-ClassificationEvaluation.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "FewShotClassification", DefaultParameterSetName = SamplesSet)]
[OutputType(typeof(FewShotEvaluation))]
public sealed class MeasureFewShotClassificationCommand : AsyncPSCmdlet
{
    /// <summary>Labelled samples.</summary>
    public const string SamplesSet = "Samples";

    /// <summary>A split's test side.</summary>
    public const string SplitSet = "Split";

    /// <summary>Samples.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = SamplesSet, HelpMessage = "Labelled samples: PatchSample objects (Get-PatchSample, after Add-CorineLabel) or EuroSAT-style images (Get-LabelledImage). Samples without a label are left out with a warning.")]
    public ITrainingPatchProvider[] InputObject { get; set; } = [];

    /// <summary>A split.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = SplitSet, HelpMessage = "A split from Split-LabelledCorpus: its test side is used, and when it holds classes out (-HoldOutClass) only those classes, unless -Class says otherwise.")]
    public CorpusSplit? Split { get; set; }

    /// <summary>The embedding model.</summary>
    [Parameter(HelpMessage = "The frozen encoder (Start-Pretraining, Import-EmbeddingModel) that embeds the samples here, in batches of -BatchSize. Give this or -Embedding.")]
    public EmbeddingModel? Model { get; set; }

    /// <summary>Precomputed embeddings.</summary>
    [Parameter(HelpMessage = "Embeddings already computed (Get-Embedding's output), matched to the samples by sample id; a sample without one is an EvaluationInputInvalid error. Give this or -Model.")]
    [ValidateNotNullOrEmpty]
    public PatchEmbedding[]? Embedding { get; set; }

    /// <summary>K.</summary>
    [Parameter(HelpMessage = "K: labelled support samples per class in each episode (default 5). Every class needs more samples than this (FewShotClassTooSmall otherwise).")]
    [ValidateRange(1, 100000)]
    public int Shots { get; set; } = 5;

    /// <summary>Episodes.</summary>
    [Parameter(HelpMessage = "Episodes, each with its own support set drawn from -Seed (default 5); their figures are averaged, with the standard deviation.")]
    [ValidateRange(1, 10000)]
    public int Episodes { get; set; } = 5;

    /// <summary>Seed.</summary>
    [Parameter(HelpMessage = "Seed of the support sets (default 0): the same seed and samples give the same episodes, in any input order.")]
    public int Seed { get; set; }

    /// <summary>Methods.</summary>
    [Parameter(HelpMessage = "How queries are classified: Knn (default; k nearest support samples by cosine distance, one vote each, ties to the class that sorts first) and/or NearestCentroid (the nearest class mean of the L2-normalised support embeddings). One evaluation per method.")]
    [ValidateNotNullOrEmpty]
    public FewShotMethod[] Method { get; set; } = [FewShotMethod.Knn];

    /// <summary>k.</summary>
    [Parameter(HelpMessage = "k of the k-NN vote (default 1); at most the support set's size (classes x -Shots).")]
    [ValidateRange(1, 100000)]
    public int Neighbours { get; set; } = 1;

    /// <summary>Classes.</summary>
    [Parameter(HelpMessage = "The classes to evaluate (CLC codes at -ClcLevel, or dataset class names; default: every class of the samples, or a split's held-out classes). A class no sample has is a ClassNotInTraining error.")]
    [ValidateNotNullOrEmpty]
    public string[]? Class { get; set; }

    /// <summary>CLC level.</summary>
    [Parameter(ParameterSetName = SamplesSet, HelpMessage = "For corpus samples: the CORINE level (1, 2 or 3; default 3) of their classes. A split keeps its own level.")]
    [ValidateRange(1, 3)]
    public int ClcLevel { get; set; } = 3;

    /// <summary>Sensors.</summary>
    [Parameter(HelpMessage = "With -Model: the sensors fed to the encoder, S2, S1 or Fused (default: what the model takes; a fused model also takes one alone).")]
    public SensorInput? Sensor { get; set; }

    /// <summary>Batch size.</summary>
    [Parameter(HelpMessage = "With -Model: patches per call into the engine (default 32).")]
    [ValidateRange(1, 4096)]
    public int BatchSize { get; set; } = 32;

    /// <summary>libtorch's intra-op threads.</summary>
    [Parameter(HelpMessage = "With -Model: threads libtorch uses inside each operation (default: the number of cores).")]
    [ValidateRange(1, 4096)]
    public int? IntraOpThreads { get; set; }

    /// <summary>Device.</summary>
    [Parameter(HelpMessage = "With -Model: Cpu (default) or Cuda (needs the engine built against a CUDA libtorch).")]
    public TrainingDevice Device { get; set; } = TrainingDevice.Cpu;

    private readonly List<ITrainingPatchProvider> _patches = [];
    private readonly List<LabelledSample> _splitSamples = [];
    private readonly HashSet<string> _heldOut = new(StringComparer.Ordinal);

    /// <inheritdoc />
    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (Split is not null)
        {
            _splitSamples.AddRange(Split.Test);
            _heldOut.UnionWith(Split.Options.HoldOutClasses);
        }
        else
        {
            _patches.AddRange(InputObject);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        var samples = ParameterSetName == SplitSet ? _splitSamples : FewShotService.Label(_patches, ClcLevel, Reporter);
        var options = new FewShotOptions
        {
            Shots = Shots,
            Episodes = Episodes,
            Seed = Seed,
            Neighbours = Neighbours,
            Methods = Method.Distinct().ToList(),
            Classes = (IReadOnlyList<string>?)Class ?? (_heldOut.Count > 0 ? _heldOut.Order(StringComparer.Ordinal).ToList() : null),
            BatchSize = BatchSize,
            Threads = IntraOpThreads,
            Device = Device,
            Sensors = Sensor,
        };
        foreach (var evaluation in await FewShotService.RunAsync(samples, Model, Embedding, options, Reporter, cancellationToken).ConfigureAwait(false))
        {
            Emit(evaluation);
        }
    }
}
