using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Evaluation;
using DeepSentinel.Core.FineTuning;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Measures a segmentation model in pixels: mean IoU and per-class IoU, pixel accuracy, per-class precision and recall, and the confusion matrix.</para>
/// <para type="description">Takes the SegmentationPrediction objects of Invoke-Segmentation on labelled patches and sums their confusion counts (unlabelled pixels are not counted). Mean IoU is over the classes that are true or predicted at least once, as scikit-learn's jaccard_score(average="macro"). Writes one SegmentationEvaluation; Export-SegmentationEvaluation saves it as JSON, CSV and a confusion-matrix picture.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "Segmentation")]
[OutputType(typeof(SegmentationEvaluation))]
public sealed class MeasureSegmentationCommand : AsyncPSCmdlet
{
    /// <summary>Predictions.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, HelpMessage = "Predictions of labelled patches, from Invoke-Segmentation. Predictions without labels are left out with a warning.")]
    public SegmentationPrediction[] InputObject { get; set; } = [];

    /// <summary>The model (class order).</summary>
    [Parameter(HelpMessage = "The segmentation model: its classes come first in the confusion matrix, in its order (default: every class seen, sorted).")]
    public SegmentationModel? Model { get; set; }

    private readonly List<SegmentationPrediction> _predictions = [];
    private int _unlabelled;

    /// <inheritdoc />
    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (var p in InputObject)
        {
            if (p.Confusion is { Count: > 0 })
            {
                _predictions.Add(p);
            }
            else
            {
                _unlabelled++;
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected override Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        if (_unlabelled > 0)
        {
            EmitWarning($"{_unlabelled} prediction(s) carry no labels (their patches have no label file of the model's kind): they are left out.");
        }

        Emit(SegmentationService.Evaluate(Model, _predictions)
            ?? throw new DeepSentinelException(ErrorIds.EvaluationInputInvalid, ErrorKind.InvalidArgument, "No prediction of a labelled patch came in: nothing to measure. Segment corpus samples labelled by Add-CorineLabel (or Add-OsmLabel for an OSM model)."));
        return Task.CompletedTask;
    }
}
