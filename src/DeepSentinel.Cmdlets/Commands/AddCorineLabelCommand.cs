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
public sealed class AddCorineLabelCommand : LabelCmdlet
{
    private string _source = string.Empty;

    /// <summary>CLC source.</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "The CLC 2018 source: the 100 m GeoTIFF in EPSG:3035 (codes or raster index) or the vector product (GeoPackage or Shapefile).")]
    [Alias("PSPath", "LiteralPath")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>Code attribute.</summary>
    [Parameter(HelpMessage = "The attribute of a vector source that holds the level-3 code (default CODE_18).")]
    [ValidateNotNullOrEmpty]
    public string Attribute { get; set; } = "CODE_18";

    /// <inheritdoc />
    protected override void ResolveSource() => _source = ResolveSourcePath(Path);

    /// <inheritdoc />
    protected override IAsyncEnumerable<PatchSample> LabelAsync(IAsyncEnumerable<PatchSample> samples, LabelRunOptions options, CancellationToken cancellationToken) =>
        new LabelService().AddCorineAsync(samples, new CorineLabelRequest { Source = _source, Attribute = Attribute }, options, Reporter, ShouldProcessAsync, cancellationToken);
}
