using System.Globalization;
using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Diagnostics;
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

    /// <summary>libtorch's intra-op threads.</summary>
    [Parameter(HelpMessage = "Threads libtorch uses inside each operation (torch.set_num_threads; default: the number of cores). On a machine busy with other work, fewer threads than cores is faster.")]
    [ValidateRange(1, 4096)]
    public int? IntraOpThreads { get; set; }

    /// <summary>Device.</summary>
    [Parameter(HelpMessage = "Cpu (default) or Cuda (needs the engine built against a CUDA libtorch).")]
    public TrainingDevice Device { get; set; } = TrainingDevice.Cpu;

    private const int ProgressActivity = 7;
    private EmbeddingSession? _session;
    private long _embedded;
    private System.Diagnostics.Stopwatch? _rate;
    private EmbeddingModel? _sessionModel;
    private EmbeddingOptions? _options;

    /// <inheritdoc />
    protected override void ResolveInput() => _options ??= new EmbeddingOptions
    {
        BatchSize = BatchSize,
        Threads = IntraOpThreads,
        Device = Device,
        OutFile = OutFile is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutFile),
        PerPixel = PerPixel.IsPresent,
        GeoTiffFolder = GeoTiffFolder is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(GeoTiffFolder),
    };

    /// <inheritdoc />
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!ReferenceEquals(_sessionModel, Model))
            {
                // A new model from the pipeline: finish the previous one's batch and files.
                EmitAll(CompleteSession());
                _session = EmbeddingSession.Open(Model!, _options!);
                _sessionModel = Model;
                _rate ??= System.Diagnostics.Stopwatch.StartNew();
            }

            foreach (var input in InputObject)
            {
                TrainingPatch patch;
                try
                {
                    patch = await input.LoadTrainingPatchAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (DeepSentinelException ex) when (ex.Kind is not ErrorKind.PermissionDenied)
                {
                    // One unreadable patch (a truncated or missing raster) is that patch's error;
                    // the rest of the batch is embedded.
                    EmitError(ex);
                    continue;
                }

                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    EmitAll(_session!.Add(patch));
                }
                catch (DeepSentinelException ex) when (ex.ErrorId == ErrorIds.TrainingInputInvalid)
                {
                    EmitError(ex);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            WarnStopped();
            throw;
        }
    }

    /// <inheritdoc />
    protected override Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        EmitAll(CompleteSession());
        if (_options!.OutFile is { } file && _embedded == 0)
        {
            EmitWarning($"No patch was embedded: {file} was not written.");
        }

        EmitProgress(new ProgressUpdate(ProgressActivity, "Computing embeddings", "done", 100, 0, Completed: true));
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

    private IReadOnlyList<PatchEmbedding> CompleteSession()
    {
        if (_session is null)
        {
            return [];
        }

        try
        {
            return _session.Complete();
        }
        finally
        {
            _session.Dispose();
            _session = null;
        }
    }

    private void WarnStopped()
    {
        var unwritten = _options?.OutFile is { } file ? $"; {file} was not written (a stopped run leaves no partial file)" : string.Empty;
        EmitWarning(string.Create(CultureInfo.InvariantCulture, $"Get-Embedding was stopped after {_embedded} patches{unwritten}."));
    }

    private void EmitAll(IReadOnlyList<PatchEmbedding> embeddings)
    {
        if (embeddings.Count == 0)
        {
            return;
        }

        foreach (var embedding in embeddings)
        {
            Emit(embedding);
        }

        _embedded += embeddings.Count;
        var rate = _embedded / Math.Max(_rate?.Elapsed.TotalSeconds ?? 1, 1e-9);
        EmitProgress(new ProgressUpdate(ProgressActivity, "Computing embeddings", string.Create(CultureInfo.InvariantCulture, $"{_embedded} patches embedded, {rate:0.0} patches/s")));
    }
}
