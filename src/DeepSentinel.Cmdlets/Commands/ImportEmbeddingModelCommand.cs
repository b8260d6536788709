using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Loads a model folder written by Start-Pretraining as an EmbeddingModel.</para>
/// <para type="description">Reads the model card and the latest checkpoint record; the weights are loaded when Get-Embedding runs.</para>
/// </summary>
[Cmdlet(VerbsData.Import, "EmbeddingModel")]
[OutputType(typeof(EmbeddingModel))]
public sealed class ImportEmbeddingModelCommand : AsyncPSCmdlet
{
    /// <summary>Model folders.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, HelpMessage = "Model folders written by Start-Pretraining (they hold model-card.json and checkpoints/).")]
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
                Emit(EmbeddingModel.Import(path));
            }
            catch (DeepSentinelException ex)
            {
                EmitError(ex);
            }
        }

        return Task.CompletedTask;
    }
}
