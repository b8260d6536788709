using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.SuperResolution;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Writes a 10 m COG of all 12 Sentinel-2 bands of a scene window, its coarse bands super-resolved.</para>
/// <para type="description">The 10 m bands are copied; the 20 m bands come from a 2x model and the 60 m bands from a 6x model (bilinear where no model is given, and the file's metadata says which). Inference runs in overlapping tiles whose context is the network's receptive field, so no seams show; nodata stays nodata. The file appears complete or not at all.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "SuperResolution", SupportsShouldProcess = true)]
[OutputType(typeof(SuperResolvedImage))]
public sealed class InvokeSuperResolutionCommand : AsyncPSCmdlet
{
    /// <summary>Scene.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, HelpMessage = "The Sentinel-2 L2A scene (Get-SentinelScene).")]
    public SentinelScene Scene { get; set; } = null!;

    /// <summary>Models.</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "Super-resolution models (Start-SuperResolutionTraining's output, or model folders): at most one 2x and one 6x.")]
    [SuperResolutionModelTransformation]
    public SuperResolutionModel[] Model { get; set; } = [];

    /// <summary>Window.</summary>
    [Parameter(HelpMessage = "The window: west, south, east, north in degrees (WGS 84), widened to whole 60 m pixels; the whole scene when absent.")]
    [ValidateCount(4, 4)]
    public double[]? BoundingBox { get; set; }

    /// <summary>Output.</summary>
    [Parameter(Mandatory = true, HelpMessage = "The COG to write (12 UInt16 bands B01 ... B12 in corpus order, 10 m, nodata 0). With several scenes from the pipeline, {id} in the name is replaced by each scene's id.")]
    [ValidateNotNullOrEmpty]
    public string OutFile { get; set; } = string.Empty;

    /// <summary>Tile size.</summary>
    [Parameter(HelpMessage = "Side of a tile's core at 10 m (default 384); memory is bounded by it, the result does not depend on it.")]
    [ValidateRange(6, 8192)]
    public int TileSize { get; set; } = 384;

    /// <summary>Threads.</summary>
    [Parameter(HelpMessage = "Threads libtorch uses inside each operation (default: the number of cores).")]
    [ValidateRange(1, 4096)]
    public int? IntraOpThreads { get; set; }

    /// <summary>Force.</summary>
    [Parameter(HelpMessage = "Replace -OutFile when it exists.")]
    public SwitchParameter Force { get; set; }

    /// <inheritdoc />
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var outFile = SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutFile.Replace("{id}", Scene.Id, StringComparison.Ordinal));
        SuperResolutionService.CheckModels(Model);
        var box = BoundingBox is null ? (BoundingBox?)null : Core.Geometry.BoundingBox.From(BoundingBox);
        box?.Validate();
        if (!await ShouldProcessAsync(outFile, $"Write a super-resolved 10 m COG of scene {Scene.Id}").ConfigureAwait(false))
        {
            return;
        }

        var options = new SuperResolutionApplyOptions { OutFile = outFile, BoundingBox = box, TileSize = TileSize, Threads = IntraOpThreads, Force = Force.IsPresent };
        Emit(await new SuperResolutionService().ApplyAsync(Model, SuperResolutionSource.FromScene(Scene), options, Reporter, cancellationToken).ConfigureAwait(false));
    }
}
