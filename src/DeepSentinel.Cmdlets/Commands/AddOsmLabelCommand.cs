using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Labels;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Adds OpenStreetMap class masks (buildings, roads, railways, water, land cover) to patch samples.</para>
/// </summary>
[Cmdlet(VerbsCommon.Add, "OsmLabel", SupportsShouldProcess = true, DefaultParameterSetName = InputObjectSet)]
[OutputType(typeof(PatchSample))]
public sealed class AddOsmLabelCommand : StorageCmdlet
{
    /// <summary>Samples from the pipeline.</summary>
    public const string InputObjectSet = "InputObject";

    /// <summary>A whole corpus.</summary>
    public const string CorpusSet = "Corpus";

    private readonly List<PatchSample> _samples = [];
    private string _source = string.Empty;
    private string? _corpus;
    private string? _classMap;

    /// <summary>Samples.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet, HelpMessage = "Patch samples from New-PatchSample or Get-PatchSample to label.")]
    public PatchSample[] InputObject { get; set; } = [];

    /// <summary>Corpus.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CorpusSet, HelpMessage = "A corpus folder written by New-PatchSample: every sample in its index is labelled.")]
    [ValidateNotNullOrEmpty]
    public string Corpus { get; set; } = string.Empty;

    /// <summary>OSM source.</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "OSM features: an .osm.pbf or .osm extract (clip it to your area first) or a GeoJSON file with tag properties.")]
    [Alias("PSPath", "LiteralPath")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>Mapping.</summary>
    [Parameter(HelpMessage = "A JSON file of tag rules (class, key, values, geometry Line or Area, width in metres) that replaces the default mapping.")]
    [ValidateNotNullOrEmpty]
    public string? ClassMap { get; set; }

    /// <summary>Relabel.</summary>
    [Parameter(HelpMessage = "Relabel samples that already carry an OSM label; without it they are passed on unchanged.")]
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
        _classMap = ClassMap is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(ClassMap);
        _samples.AddRange(InputObject.Where(s => s is not null));
    }

    /// <inheritdoc />
    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        var samples = _corpus is not null ? LabelService.ReadCorpus(_corpus, Reporter, cancellationToken, _storage) : LabelService.FromList(_samples);
        var request = new OsmLabelRequest { Source = _source, ClassMap = _classMap is null ? OsmClassMap.Default : OsmClassMap.Load(_classMap) };
        var options = new LabelRunOptions { Force = Force.IsPresent, ThrottleLimit = ThrottleLimit, Storage = _storage };
        await foreach (var sample in new LabelService().AddOsmAsync(samples, request, options, Reporter, ShouldProcessAsync, cancellationToken).ConfigureAwait(false))
        {
            Emit(sample);
        }
    }
}
