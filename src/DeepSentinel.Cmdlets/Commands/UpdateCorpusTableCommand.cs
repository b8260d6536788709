using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Corpus;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Rewrites a corpus's STAC-GeoParquet table (items.parquet) from its index and its samples' STAC Items.</para>
/// <para type="description">New-PatchSample writes the table with the index; labels are recorded in each sample's Item, so run this after Add-CorineLabel or Add-OsmLabel to bring the table's labels columns up to date. Corpora arriving from the pipeline (e.g. samples' Corpus property) are each written once, at the end. Writes one CorpusTableResult per corpus.</para>
/// </summary>
[Cmdlet(VerbsData.Update, "CorpusTable", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(CorpusTableResult))]
public sealed class UpdateCorpusTableCommand : StorageCmdlet
{
    private readonly List<string> _corpora = [];
    private Core.Storage.StorageOptions? _storage;

    /// <summary>The corpus.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, HelpMessage = "The corpus written by New-PatchSample: a folder, az://..., https://account.blob.core.windows.net/... or gs://... . Samples from the pipeline bind by their Corpus property.")]
    [Alias("Path", "PSPath")]
    [ValidateNotNullOrEmpty]
    public string Corpus { get; set; } = string.Empty;

    /// <inheritdoc />
    protected override void ResolveInput()
    {
        if (string.IsNullOrEmpty(Corpus))
        {
            // Empty pipeline input: nothing to update.
            return;
        }

        var corpus = ResolveLocation(Corpus);
        if (!_corpora.Contains(corpus, StringComparer.Ordinal))
        {
            _corpora.Add(corpus);
        }

        _storage ??= ResolveStorageOptions();
    }

    /// <inheritdoc />
    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        foreach (var location in _corpora)
        {
            if (!await ShouldProcessAsync(location, "Rewrite the corpus table " + CorpusTable.Key).ConfigureAwait(false))
            {
                continue;
            }

            try
            {
                var corpus = PatchCorpus.Open(location, _storage, reporter: Reporter);
                Emit(await CorpusTable.WriteAsync(corpus, Reporter, cancellationToken).ConfigureAwait(false));
            }
            catch (Core.Errors.DeepSentinelException ex) when (_corpora.Count > 1)
            {
                // One corpus of several failing is that corpus's error; the others go on.
                EmitError(ex);
            }
        }
    }
}
