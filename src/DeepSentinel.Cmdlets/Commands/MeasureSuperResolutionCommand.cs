using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.SuperResolution;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Measures a super-resolution model at reduced scale against bilinear and bicubic upsampling.</para>
/// <para type="description">Wald's protocol: the window is degraded by the model's factor, its 20 m (2x) or 60 m (6x) bands are recovered by the model, by bilinear and by bicubic interpolation, and each is compared with the window's own bands: RMSE, SRE and SAM per band and over all bands, one row per method and band. Optionally writes the four rasters and a quicklook PNG (bilinear | model | truth).</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "SuperResolution", DefaultParameterSetName = SceneSet)]
[OutputType(typeof(SuperResolutionMetric))]
public sealed class MeasureSuperResolutionCommand : AsyncPSCmdlet
{
    /// <summary>Scenes.</summary>
    public const string SceneSet = "Scene";

    /// <summary>Samples.</summary>
    public const string SampleSet = "Sample";

    /// <summary>Scene.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = SceneSet, HelpMessage = "A Sentinel-2 L2A scene (Get-SentinelScene).")]
    public SentinelScene Scene { get; set; } = null!;

    /// <summary>Sample.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = SampleSet, HelpMessage = "A corpus sample (Get-PatchSample): its window in its source scene.")]
    public PatchSample InputObject { get; set; } = null!;

    /// <summary>Model.</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "The super-resolution model (Start-SuperResolutionTraining's output, or its folder).")]
    [SuperResolutionModelTransformation]
    public SuperResolutionModel Model { get; set; } = null!;

    /// <summary>Window.</summary>
    [Parameter(ParameterSetName = SceneSet, HelpMessage = "The window: west, south, east, north in degrees (WGS 84); the whole scene when absent.")]
    [ValidateCount(4, 4)]
    public double[]? BoundingBox { get; set; }

    /// <summary>Output folder.</summary>
    [Parameter(HelpMessage = "A folder for the reduced-scale rasters truth.tif, model.tif, bicubic.tif and bilinear.tif (Float32 COGs, NaN nodata), e.g. to check the figures with another reader. {id} is replaced by the scene or sample id.")]
    public string? OutputFolder { get; set; }

    /// <summary>Quicklook.</summary>
    [Parameter(HelpMessage = "A PNG of bilinear, model and truth side by side (2x: B12, B8A, B05 as RGB; 6x: B09, B01, B01). {id} is replaced by the scene or sample id.")]
    public string? QuicklookPath { get; set; }

    /// <summary>Tile size.</summary>
    [Parameter(HelpMessage = "Side of a tile's core in inference (default 384).")]
    [ValidateRange(6, 8192)]
    public int TileSize { get; set; } = 384;

    /// <summary>Threads.</summary>
    [Parameter(HelpMessage = "Threads libtorch uses inside each operation (default: the number of cores).")]
    [ValidateRange(1, 4096)]
    public int? IntraOpThreads { get; set; }

    /// <inheritdoc />
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var source = ParameterSetName == SampleSet
            ? SuperResolutionSource.FromSample(InputObject, SuperResolutionBands.Inputs(Model.Factor))
            : SuperResolutionSource.FromScene(Scene);
        var box = BoundingBox is null ? (Core.Geometry.BoundingBox?)null : Core.Geometry.BoundingBox.From(BoundingBox);
        box?.Validate();
        string? Resolve(string? path) => path is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(path.Replace("{id}", source.Name, StringComparison.Ordinal));
        var options = new SuperResolutionEvaluationOptions
        {
            BoundingBox = box,
            OutputFolder = Resolve(OutputFolder),
            QuicklookPath = Resolve(QuicklookPath),
            TileSize = TileSize,
            Threads = IntraOpThreads,
        };
        var evaluation = await new SuperResolutionService().EvaluateAsync(Model, source, options, Reporter, cancellationToken).ConfigureAwait(false);
        foreach (var row in evaluation.Metrics)
        {
            Emit(row);
        }

        if (evaluation.QuicklookPath is { } png)
        {
            Reporter.Verbose($"Quicklook (bilinear | model | truth): {png}");
        }
    }
}
