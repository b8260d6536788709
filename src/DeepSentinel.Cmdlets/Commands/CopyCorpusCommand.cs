using System.Management.Automation;
using System.Security;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Services;
using DeepSentinel.Core.Storage;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Copies a patch corpus between local disk, Azure Blob Storage and Google Cloud Storage.</para>
/// <para type="description">Resumable: objects already at the destination are not sent again, so rerunning an interrupted copy finishes it. Writes one CorpusCopyResult.</para>
/// </summary>
[Cmdlet(VerbsCommon.Copy, "Corpus", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(CorpusCopyResult))]
public sealed class CopyCorpusCommand : StorageCmdlet
{
    /// <summary>Where the corpus is.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, HelpMessage = "The corpus to copy: a local folder, az://<account>/<container>/<prefix>, https://<account>.blob.core.windows.net/<container>/<prefix> or gs://<bucket>/<prefix>.")]
    [ValidateNotNullOrEmpty]
    [Alias("Corpus", "Path")]
    public string Source { get; set; } = string.Empty;

    /// <summary>Where to copy it.</summary>
    [Parameter(Mandatory = true, Position = 1, HelpMessage = "Where to copy the corpus: a local folder, az://, https://<account>.blob.core.windows.net/ or gs:// location.")]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = string.Empty;

    /// <summary>Only part of the corpus.</summary>
    [Parameter(HelpMessage = "Copy only objects whose key starts with this prefix (relative to the corpus root), e.g. 'samples/'.")]
    public string Prefix { get; set; } = string.Empty;

    /// <summary>Concurrent transfers.</summary>
    [Parameter(HelpMessage = "How many objects are transferred at once (1-64, default 8); 1 copies sequentially.")]
    [ValidateRange(1, 64)]
    public int ThrottleLimit { get; set; } = 8;

    /// <summary>Replace differing objects.</summary>
    [Parameter(HelpMessage = "Replace destination objects whose size or MD5 differs from the source. Without it they are left alone and reported as errors.")]
    public SwitchParameter Force { get; set; }

    private StoreLocation? _source;
    private StoreLocation? _destination;
    private StorageOptions? _options;

    /// <inheritdoc />
    protected override void ResolveInput()
    {
        var here = SessionState.Path.CurrentFileSystemLocation.ProviderPath;
        _source = StoreLocation.Parse(Source, here);
        _destination = StoreLocation.Parse(Destination, here);
        _options = ResolveStorageOptions();
    }

    /// <inheritdoc />
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var reporter = Reporter;
        var source = ObjectStores.Open(_source!, _options, CoreServices.Default, reporter);
        var destination = ObjectStores.Open(_destination!, _options, CoreServices.Default, reporter);
        var result = await new CorpusCopier().CopyAsync(
            new CorpusCopyRequest
            {
                Source = source,
                Destination = destination,
                Prefix = Prefix,
                Parallelism = ThrottleLimit,
                Overwrite = Force.IsPresent,
                Confirm = item => ShouldProcessAsync($"{item.Key} ({item.Length:N0} bytes) to {destination.DisplayName}", "Copy"),
            },
            reporter,
            cancellationToken).ConfigureAwait(false);
        Emit(result);
    }
}
