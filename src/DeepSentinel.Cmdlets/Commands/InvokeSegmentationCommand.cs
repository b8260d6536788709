using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.FineTuning;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Segments patches with a segmentation model: a label COG per patch on its grid (class codes, nodata 0) and a quicklook in the legend colours.</para>
/// <para type="description">Writes one SegmentationPrediction per patch: the predicted class of every pixel as a UInt16 COG on the patch's grid (-Path/&lt;sample id&gt;/segmentation.tif; CLC codes at the model's level, or 1 + the index of an OSM class) and segmentation.png in the CLC legend colours, with the pixels per class. Without -Path nothing is written. Labelled patches (corpus samples with the model's label file) also carry the confusion counts against their labels, so the output pipes into Measure-Segmentation.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "Segmentation", SupportsShouldProcess = true)]
[OutputType(typeof(SegmentationPrediction))]
public sealed class InvokeSegmentationCommand : AsyncPSCmdlet
{
    /// <summary>Patches.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, HelpMessage = "Patches to segment: PatchSample objects (Get-PatchSample) or other training patches with a grid.")]
    public ITrainingPatchProvider[] InputObject { get; set; } = [];

    /// <summary>The model.</summary>
    [Parameter(Mandatory = true, HelpMessage = "The segmentation model, from Start-SegmentationTraining or Import-SegmentationModel.")]
    public SegmentationModel? Model { get; set; }

    /// <summary>Output folder.</summary>
    [Parameter(Position = 0, HelpMessage = "The folder to write the label COGs into, one sub-folder per sample id (created if missing; earlier files of the same samples are replaced). Without it the predictions are only returned.")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Batch size.</summary>
    [Parameter(HelpMessage = "Patches per call into the engine (default 4).")]
    [ValidateRange(1, 4096)]
    public int BatchSize { get; set; } = 4;

    /// <summary>libtorch's intra-op threads.</summary>
    [Parameter(HelpMessage = "Threads libtorch uses inside each operation (default: the number of cores).")]
    [ValidateRange(1, 4096)]
    public int? IntraOpThreads { get; set; }

    /// <summary>Device.</summary>
    [Parameter(HelpMessage = "Cpu (default) or Cuda.")]
    public TrainingDevice Device { get; set; } = TrainingDevice.Cpu;

    private SegmentationPredictor? _predictor;
    private string? _folder;

    /// <inheritdoc />
    protected override void ResolveInput() => _folder = Path is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);

    /// <inheritdoc />
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (var input in InputObject)
        {
            if (_folder is not null && !await ShouldProcessAsync(System.IO.Path.Combine(_folder, input.SampleId), "Write the segmentation label COG and quicklook").ConfigureAwait(false))
            {
                continue;
            }

            try
            {
                _predictor ??= SegmentationPredictor.Open(Model!, Device, _folder, BatchSize, IntraOpThreads ?? Environment.ProcessorCount);
                var patch = await input.LoadTrainingPatchAsync(cancellationToken).ConfigureAwait(false);
                var labels = await PixelLabelReader.LoadAsync(input, Model!.Labels, Model.Card.ClcLevel, cancellationToken).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var prediction in _predictor.Add(patch, labels))
                {
                    Emit(prediction);
                }
            }
            catch (DeepSentinelException ex) when (ex.Kind is not ErrorKind.PermissionDenied && ex.ErrorId is ErrorIds.TrainingInputInvalid or ErrorIds.RasterUnreadable or ErrorIds.StorageObjectNotFound)
            {
                // One unusable patch is that patch's error; the rest are segmented.
                EmitError(ex);
            }
        }
    }

    /// <inheritdoc />
    protected override Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        if (_predictor is not null)
        {
            foreach (var prediction in _predictor.Complete())
            {
                Emit(prediction);
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _predictor?.Dispose();
        }

        base.Dispose(disposing);
    }
}
