using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Embeddings;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Computes embeddings of patches with a pretrained model.</para>
/// <para type="description">Writes one PatchEmbedding per patch (sample id and vector); -OutFile also writes all embeddings to a NumPy .npy file. Deterministic for a model and input. S1-only and S2-only patches work with a fused model.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "Embedding")]
[OutputType(typeof(PatchEmbedding))]
public sealed class GetEmbeddingCommand : AsyncPSCmdlet
{
    /// <summary>Patches.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, HelpMessage = "Patches to embed: PatchSample objects (Get-PatchSample) or other training patches.")]
    public ITrainingPatchProvider[] InputObject { get; set; } = [];

    /// <summary>The model.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, HelpMessage = "The model, from Start-Pretraining or Import-EmbeddingModel (it may come from the pipeline; then give the patches with -InputObject).")]
    public EmbeddingModel? Model { get; set; }

    /// <summary>NPY output.</summary>
    [Parameter(HelpMessage = "Also write all embeddings to this NumPy .npy file ([N, D] float32); sample ids go to the same name plus .ids.txt.")]
    [ValidateNotNullOrEmpty]
    public string? OutFile { get; set; }

    /// <summary>Per-pixel output.</summary>
    [Parameter(HelpMessage = "With a UNet model: write each patch's per-pixel embeddings as a Float32 GeoTIFF (one band per dimension) on the patch grid, as <folder>/<sample id>.tif. Needs PatchSample input.")]
    [ValidateNotNullOrEmpty]
    public string? GeoTiffFolder { get; set; }

    /// <summary>Per-pixel .npy.</summary>
    [Parameter(HelpMessage = "With a UNet model and -OutFile: write per-pixel embeddings ([N, D, H, W]) to the .npy file.")]
    public SwitchParameter PerPixel { get; set; }

    /// <summary>Batch size.</summary>
    [Parameter(HelpMessage = "Patches per call into the engine (default 32).")]
    [ValidateRange(1, 4096)]
    public int BatchSize { get; set; } = 32;

    /// <summary>Threads.</summary>
    [Parameter(HelpMessage = "Intra-op threads for libtorch (default: all cores).")]
    [ValidateRange(1, 4096)]
    public int? ThrottleLimit { get; set; }

    /// <summary>Device.</summary>
    [Parameter(HelpMessage = "Cpu (default) or Cuda (needs the engine built against a CUDA libtorch).")]
    public TrainingDevice Device { get; set; } = TrainingDevice.Cpu;

    private EmbeddingSession? _session;
    private EmbeddingModel? _sessionModel;
    private EmbeddingOptions? _options;

    /// <inheritdoc />
    protected override void ResolveInput() => _options ??= new EmbeddingOptions
    {
        BatchSize = BatchSize,
        Threads = ThrottleLimit,
        Device = Device,
        OutFile = OutFile is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutFile),
        PerPixel = PerPixel.IsPresent,
        GeoTiffFolder = GeoTiffFolder is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(GeoTiffFolder),
    };

    /// <inheritdoc />
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (!ReferenceEquals(_sessionModel, Model))
        {
            // A new model from the pipeline: finish the previous one's batch and files.
            EmitAll(CloseSession());
            _session = EmbeddingSession.Open(Model!, _options!);
            _sessionModel = Model;
        }

        foreach (var input in InputObject)
        {
            try
            {
                EmitAll(_session!.Add(await input.LoadTrainingPatchAsync(cancellationToken).ConfigureAwait(false)));
            }
            catch (DeepSentinelException ex) when (ex.ErrorId == ErrorIds.TrainingInputInvalid)
            {
                EmitError(ex);
            }
        }
    }

    /// <inheritdoc />
    protected override Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        EmitAll(CloseSession());
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _session?.Dispose();
        }

        base.Dispose(disposing);
    }

    private IReadOnlyList<PatchEmbedding> CloseSession()
    {
        if (_session is null)
        {
            return [];
        }

        try
        {
            return _session.Flush();
        }
        finally
        {
            _session.Dispose();
            _session = null;
        }
    }

    private void EmitAll(IReadOnlyList<PatchEmbedding> embeddings)
    {
        foreach (var embedding in embeddings)
        {
            Emit(embedding);
        }
    }
}
