using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Labels;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Adds CORINE Land Cover 2018 labels (level-3 code per pixel, class shares, quicklook) to patch samples.</para>
/// </summary>
[Cmdlet(VerbsCommon.Add, "CorineLabel", SupportsShouldProcess = true, DefaultParameterSetName = InputObjectSet)]
[OutputType(typeof(PatchSample))]
public sealed class AddCorineLabelCommand : StorageCmdlet
{
    /// <summary>Samples from the pipeline.</summary>
    public const string InputObjectSet = "InputObject";

    /// <summary>A whole corpus.</summary>
    public const string CorpusSet = "Corpus";

    private readonly List<PatchSample> _samples = [];
    private string _source = string.Empty;
    private string? _corpus;

    /// <summary>Samples.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet, HelpMessage = "Patch samples from New-PatchSample or Get-PatchSample to label.")]
    public PatchSample[] InputObject { get; set; } = [];

    /// <summary>Corpus.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CorpusSet, HelpMessage = "A corpus folder written by New-PatchSample: every sample in its index is labelled.")]
    [ValidateNotNullOrEmpty]
    public string Corpus { get; set; } = string.Empty;

    /// <summary>CLC source.</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "The CLC 2018 source: the 100 m GeoTIFF in EPSG:3035 (codes or raster index) or the vector product (GeoPackage or Shapefile).")]
    [Alias("PSPath", "LiteralPath")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>Code attribute.</summary>
    [Parameter(HelpMessage = "The attribute of a vector source that holds the level-3 code (default CODE_18).")]
    [ValidateNotNullOrEmpty]
    public string Attribute { get; set; } = "CODE_18";

    /// <summary>Relabel.</summary>
    [Parameter(HelpMessage = "Relabel samples that already carry a CLC label; without it they are passed on unchanged.")]
    public SwitchParameter Force { get; set; }

    /// <summary>Workers.</summary>
    [Parameter(HelpMessage = "Parallel workers, each with its own GDAL handles (default: the number of cores).")]
    [ValidateRange(1, 64)]
    public int ThrottleLimit { get; set; } = Environment.ProcessorCount;

    private Core.Storage.StorageOptions? _storage;

    /// <inheritdoc />
    protected override void ResolveInput()
    {
        _source = Path.StartsWith("/vsi", StringComparison.Ordinal) ? Path : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        _corpus = ParameterSetName == CorpusSet ? ResolveLocation(Corpus) : null;
        _storage = ResolveStorageOptions();
        _samples.AddRange(InputObject.Where(s => s is not null));
    }

    /// <inheritdoc />
    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        var samples = _corpus is not null ? LabelService.ReadCorpus(_corpus, Reporter, cancellationToken, _storage) : LabelService.FromList(_samples);
        var request = new CorineLabelRequest { Source = _source, Attribute = Attribute };
        var options = new LabelRunOptions { Force = Force.IsPresent, ThrottleLimit = ThrottleLimit, Storage = _storage };
        await foreach (var sample in new LabelService().AddCorineAsync(samples, request, options, Reporter, ShouldProcessAsync, cancellationToken).ConfigureAwait(false))
        {
            Emit(sample);
        }
    }
}
