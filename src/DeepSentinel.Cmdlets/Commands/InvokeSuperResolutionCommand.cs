using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.SuperResolution;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Writes a 10 m COG of all 12 Sentinel-2 bands of a scene window, its coarse bands super-resolved.</para>
/// <para type="description">To a scene window (-Scene) or to corpus samples (-InputObject: each gets s2_sr.tif beside its s2.tif, and its STAC Item an s2_sr asset and a deepsentinel:super_resolution property naming the models). The 10 m bands are copied; the 20 m bands come from a 2x model and the 60 m bands from a 6x model (bilinear where no model is given, and the file's metadata says which). Inference runs in overlapping tiles whose context is the network's receptive field, so no seams show; nodata stays nodata. The file appears complete or not at all.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "SuperResolution", SupportsShouldProcess = true, DefaultParameterSetName = SceneSet)]
[OutputType(typeof(SuperResolvedImage))]
public sealed class InvokeSuperResolutionCommand : AsyncPSCmdlet
{
    /// <summary>A scene window.</summary>
    public const string SceneSet = "Scene";

    /// <summary>Corpus samples.</summary>
    public const string SampleSet = "Sample";

    /// <summary>Scene.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = SceneSet, HelpMessage = "The Sentinel-2 L2A scene (Get-SentinelScene).")]
    public SentinelScene Scene { get; set; } = null!;

    /// <summary>Samples.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = SampleSet, HelpMessage = "Samples of a local corpus (Get-PatchSample): each gets a super-resolved s2_sr.tif of its 256 x 256 px window, read from its source scene with context, and its STAC Item says so. A sample that fails is reported and the others go on.")]
    public PatchSample InputObject { get; set; } = null!;

    /// <summary>Models.</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "Super-resolution models (Start-SuperResolutionTraining's output, or model folders): at most one 2x and one 6x.")]
    [SuperResolutionModelTransformation]
    public SuperResolutionModel[] Model { get; set; } = [];

    /// <summary>Window.</summary>
    [Parameter(ParameterSetName = SceneSet, HelpMessage = "The window: west, south, east, north in degrees (WGS 84), widened to whole 60 m pixels; the whole scene when absent.")]
    [ValidateCount(4, 4)]
    public double[]? BoundingBox { get; set; }

    /// <summary>Output.</summary>
    [Parameter(Mandatory = true, ParameterSetName = SceneSet, HelpMessage = "The COG to write (12 UInt16 bands B01 ... B12 in corpus order, 10 m, nodata 0). With several scenes from the pipeline, {id} in the name is replaced by each scene's id.")]
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
    [Parameter(HelpMessage = "Replace -OutFile (or a sample's s2_sr.tif) when it exists.")]
    public SwitchParameter Force { get; set; }

    /// <inheritdoc />
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        SuperResolutionService.CheckModels(Model);
        if (ParameterSetName == SampleSet)
        {
            await ApplyToSampleAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        var outFile = SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutFile.Replace("{id}", Scene.Id, StringComparison.Ordinal));
        var box = BoundingBox is null ? (Core.Geometry.BoundingBox?)null : Core.Geometry.BoundingBox.From(BoundingBox);
        box?.Validate();
        if (!await ShouldProcessAsync(outFile, $"Write a super-resolved 10 m COG of scene {Scene.Id}").ConfigureAwait(false))
        {
            return;
        }

        var options = new SuperResolutionApplyOptions { OutFile = outFile, BoundingBox = box, TileSize = TileSize, Threads = IntraOpThreads, Force = Force.IsPresent };
        Emit(await new SuperResolutionService().ApplyAsync(Model, SuperResolutionSource.FromScene(Scene), options, Reporter, cancellationToken).ConfigureAwait(false));
    }

    private async Task ApplyToSampleAsync(CancellationToken cancellationToken)
    {
        try
        {
            var source = SuperResolutionSource.FromSample(InputObject, Core.Sampling.PatchExtractor.S2Bands);
            var outFile = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(source.ItemPath!)!, "s2_sr.tif");
            if (!await ShouldProcessAsync(outFile, $"Write a super-resolved s2 COG for sample {InputObject.Id} and record it in its STAC Item").ConfigureAwait(false))
            {
                return;
            }

            var options = new SuperResolutionApplyOptions { OutFile = outFile, TileSize = TileSize, Threads = IntraOpThreads, Force = Force.IsPresent };
            Emit(await new SuperResolutionService().ApplyAsync(Model, source, options, Reporter, cancellationToken).ConfigureAwait(false));
        }
        catch (DeepSentinelException ex) when (ex.ErrorId != ErrorIds.TrainingEngineUnavailable && ex.ErrorId != ErrorIds.SuperResolutionFactorMismatch)
        {
            // One sample's failure (no sources, a window off its scene, an unreadable band): the others go on.
            EmitError(ex);
        }
    }
}
