using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Evaluation;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Saves an evaluation from Measure-Segmentation into a folder: evaluation.json, evaluation-classes.csv, confusion-matrix.csv and confusion-matrix.png.</para>
/// <para type="description">Writes every figure as JSON, the per-class IoU, precision, recall and pixel counts and the confusion matrix as CSV, and the confusion matrix of pixel counts as a picture a person can read (true classes down the left, predicted along the top, each row shaded by its share). Files are written under temporary names and renamed.</para>
/// </summary>
[Cmdlet(VerbsData.Export, "SegmentationEvaluation", SupportsShouldProcess = true)]
[OutputType(typeof(SegmentationEvaluation))]
public sealed class ExportSegmentationEvaluationCommand : AsyncPSCmdlet
{
    /// <summary>The evaluation.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, HelpMessage = "The evaluation to save, from Measure-Segmentation.")]
    public SegmentationEvaluation? InputObject { get; set; }

    /// <summary>The folder.</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "The folder to write into (created if missing). Earlier evaluation files there are replaced.")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>Pass-through.</summary>
    [Parameter(HelpMessage = "Also write the evaluation to the pipeline, with its Path set to the folder.")]
    public SwitchParameter PassThru { get; set; }

    private string _folder = string.Empty;

    /// <inheritdoc />
    protected override void ResolveInput() => _folder = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);

    /// <inheritdoc />
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (!await ShouldProcessAsync(_folder, $"Write {SegmentationEvaluation.JsonFile}, {SegmentationEvaluation.ClassesCsvFile}, {SegmentationEvaluation.ConfusionCsvFile} and {SegmentationEvaluation.ConfusionPngFile}").ConfigureAwait(false))
        {
            return;
        }

        foreach (var file in InputObject!.Write(_folder))
        {
            EmitVerbose($"Wrote {file}.");
        }

        if (PassThru)
        {
            Emit(InputObject);
        }
    }
}
