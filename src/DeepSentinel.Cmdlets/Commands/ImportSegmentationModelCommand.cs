using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.FineTuning;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Loads a segmentation model folder written by Start-SegmentationTraining as a SegmentationModel.</para>
/// <para type="description">Reads segmenter-card.json and checks that both checkpoints are there; the weights are loaded when Invoke-Segmentation runs.</para>
/// </summary>
[Cmdlet(VerbsData.Import, "SegmentationModel")]
[OutputType(typeof(SegmentationModel))]
public sealed class ImportSegmentationModelCommand : AsyncPSCmdlet
{
    /// <summary>Model folders.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, HelpMessage = "Segmentation model folders written by Start-SegmentationTraining (they hold segmenter-card.json and checkpoints/).")]
    [Alias("PSPath", "FullName")]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    private List<string> _paths = [];

    /// <inheritdoc />
    protected override void ResolveInput() => _paths = Path.Select(SessionState.Path.GetUnresolvedProviderPathFromPSPath).ToList();

    /// <inheritdoc />
    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (var path in _paths)
        {
            try
            {
                Emit(SegmentationModel.Import(path));
            }
            catch (DeepSentinelException ex)
            {
                EmitError(ex);
            }
        }

        return Task.CompletedTask;
    }
}
