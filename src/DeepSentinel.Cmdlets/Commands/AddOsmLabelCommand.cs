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
public sealed class AddOsmLabelCommand : LabelCmdlet
{
    private string _source = string.Empty;
    private string? _classMap;

    /// <summary>OSM source.</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "OSM features: an .osm.pbf or .osm extract (clip it to your area first) or a GeoJSON file with tag properties.")]
    [Alias("PSPath", "LiteralPath")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>Mapping.</summary>
    [Parameter(HelpMessage = "A JSON file of tag rules (class, key, values, geometry Line or Area, width in metres) that replaces the default mapping.")]
    [ValidateNotNullOrEmpty]
    public string? ClassMap { get; set; }

    /// <inheritdoc />
    protected override void ResolveSource()
    {
        _source = ResolveSourcePath(Path);
        _classMap = ClassMap is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(ClassMap);
    }

    /// <inheritdoc />
    protected override IAsyncEnumerable<PatchSample> LabelAsync(IAsyncEnumerable<PatchSample> samples, LabelRunOptions options, CancellationToken cancellationToken) =>
        new LabelService().AddOsmAsync(samples, new OsmLabelRequest { Source = _source, ClassMap = _classMap is null ? OsmClassMap.Default : OsmClassMap.Load(_classMap) }, options, Reporter, ShouldProcessAsync, cancellationToken);
}
