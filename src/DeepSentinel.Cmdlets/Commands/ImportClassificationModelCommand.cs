using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.FineTuning;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Loads a classifier folder written by Start-FineTuning as a ClassificationModel.</para>
/// <para type="description">Reads classifier-card.json and checks that both checkpoints are there; the weights are loaded when Invoke-ClassPrediction runs.</para>
/// </summary>
[Cmdlet(VerbsData.Import, "ClassificationModel")]
[OutputType(typeof(ClassificationModel))]
public sealed class ImportClassificationModelCommand : AsyncPSCmdlet
{
    /// <summary>Classifier folders.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, HelpMessage = "Classifier folders written by Start-FineTuning (they hold classifier-card.json and checkpoints/).")]
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
                Emit(ClassificationModel.Import(path));
            }
            catch (DeepSentinelException ex)
            {
                EmitError(ex);
            }
        }

        return Task.CompletedTask;
    }
}
