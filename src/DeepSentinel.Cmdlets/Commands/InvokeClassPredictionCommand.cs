using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.FineTuning;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Classifies patches with a fine-tuned classifier: a class and its probability, and every class's probability, per patch.</para>
/// <para type="description">Writes one ClassPrediction per patch. Labelled patches (corpus samples with CLC labels) also carry their true class, so the output pipes into Measure-Classification.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "ClassPrediction")]
[OutputType(typeof(ClassPrediction))]
public sealed class InvokeClassPredictionCommand : AsyncPSCmdlet
{
    /// <summary>Patches.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, HelpMessage = "Patches to classify: PatchSample objects (Get-PatchSample), EuroSAT-style samples or other training patches.")]
    public ITrainingPatchProvider[] InputObject { get; set; } = [];

    /// <summary>The classifier.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, HelpMessage = "The classifier, from Start-FineTuning or Import-ClassificationModel (it may come from the pipeline; then give the patches with -InputObject).")]
    public ClassificationModel? Model { get; set; }

    /// <summary>Batch size.</summary>
    [Parameter(HelpMessage = "Patches per call into the engine (default 16).")]
    [ValidateRange(1, 4096)]
    public int BatchSize { get; set; } = 16;

    /// <summary>libtorch's intra-op threads.</summary>
    [Parameter(HelpMessage = "Threads libtorch uses inside each operation (default: the number of cores).")]
    [ValidateRange(1, 4096)]
    public int? IntraOpThreads { get; set; }

    /// <summary>Device.</summary>
    [Parameter(HelpMessage = "Cpu (default) or Cuda.")]
    public TrainingDevice Device { get; set; } = TrainingDevice.Cpu;

    private ClassPredictor? _predictor;
    private ClassificationModel? _predictorModel;

    /// <inheritdoc />
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (!ReferenceEquals(_predictorModel, Model))
        {
            Flush();
            _predictor = ClassPredictor.Open(Model!, Device, BatchSize, IntraOpThreads ?? Environment.ProcessorCount);
            _predictorModel = Model;
        }

        foreach (var input in InputObject)
        {
            try
            {
                var patch = await input.LoadTrainingPatchAsync(cancellationToken).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var prediction in _predictor!.Add(patch, LabelledSample.Resolve(input, Model!.Card.ClcLevel)))
                {
                    Emit(prediction);
                }
            }
            catch (DeepSentinelException ex) when (ex.Kind is not ErrorKind.PermissionDenied && ex.ErrorId is ErrorIds.TrainingInputInvalid or ErrorIds.RasterUnreadable or ErrorIds.StorageObjectNotFound)
            {
                // One unusable patch is that patch's error; the rest are classified.
                EmitError(ex);
            }
        }
    }

    /// <inheritdoc />
    protected override Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        Flush();
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

    private void Flush()
    {
        if (_predictor is null)
        {
            return;
        }

        foreach (var prediction in _predictor.Complete())
        {
            Emit(prediction);
        }

        _predictor.Dispose();
        _predictor = null;
    }
}
