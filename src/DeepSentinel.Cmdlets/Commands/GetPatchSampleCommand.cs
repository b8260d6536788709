using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Corpus;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Reads a patch corpus back as PatchSample objects, streaming its index.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "PatchSample")]
[OutputType(typeof(PatchSample))]
public sealed class GetPatchSampleCommand : StorageCmdlet
{
    private string _corpus = string.Empty;
    private Core.Storage.StorageOptions? _storage;

    /// <summary>The corpus.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, HelpMessage = "The corpus written by New-PatchSample: a folder, az://..., https://account.blob.core.windows.net/... or gs://... .")]
    [Alias("Path", "PSPath")]
    [ValidateNotNullOrEmpty]
    public string Corpus { get; set; } = string.Empty;

    /// <summary>Sample ids.</summary>
    [Parameter(HelpMessage = "Only these sample ids; an id the corpus lacks is reported as an error.")]
    [ValidateNotNullOrEmpty]
    public string[]? Id { get; set; }

    /// <summary>Limit.</summary>
    [Parameter(HelpMessage = "Stop after this many samples; the rest of the index is not read.")]
    [ValidateRange(1, int.MaxValue)]
    public int? First { get; set; }

    /// <inheritdoc />
    protected override void ResolveInput()
    {
        _corpus = ResolveLocation(Corpus);
        _storage = ResolveStorageOptions();
    }

    /// <inheritdoc />
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        await foreach (var sample in new PatchSampleReader().ReadAsync(_corpus, Id, First, Reporter, cancellationToken, _storage).ConfigureAwait(false))
        {
            Emit(sample);
        }
    }
}
