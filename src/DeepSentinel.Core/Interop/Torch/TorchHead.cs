using System.Runtime.InteropServices;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Interop.Torch;

/// <summary>Owns one native head handle (a classifier or a segmenter); frees it exactly once.</summary>
internal sealed class TorchHeadHandle : SafeHandle
{
    private readonly TorchNative.HeadApi _api;

    public TorchHeadHandle(long id, TorchNative.HeadApi api)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        _api = api;
        SetHandle((IntPtr)id);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        try
        {
            _api.Free((long)handle);
            return true;
        }
        catch (DeepSentinelException)
        {
            return false;
        }
    }
}

/// <summary>
/// What a classifier and a segmenter handle share: class weights, probabilities, the step count,
/// checkpoints (the encoder as a model checkpoint, the head beside it) and the AdamW state a
/// resume restores. The kinds add their own train step.
/// </summary>
internal abstract class TorchHead : IDisposable
{
    private readonly TorchHeadHandle _handle;
    private readonly string _kind;

    private protected TorchHead(long id, int classes, TorchNative.HeadApi api, string kind)
    {
        Api = api;
        _kind = kind;
        _handle = new TorchHeadHandle(id, api);
        Classes = classes;
    }

    public int Classes { get; }

    public long Step => Use(Api.Step);

    private protected TorchNative.HeadApi Api { get; }

    public void SetClassWeights(float[] weights) => Use(id =>
    {
        Api.SetClassWeights(id, weights);
        return 0;
    });

    /// <summary>Probabilities of the batch's samples (<see cref="OutputsPerSample"/> floats each).</summary>
    public void Predict(PatchBatch batch, float[] output) => Use(id => batch.WithNative(native =>
    {
        Api.Predict(id, native, output.AsSpan(0, batch.Count * OutputsPerSample(batch)));
        return 0;
    }));

    public void Save(string encoder, string head) => Use(id =>
    {
        Api.Save(id, encoder, head);
        return 0;
    });

    public void LoadHead(string head) => Use(id =>
    {
        Api.LoadHead(id, head);
        return 0;
    });

    /// <summary>Saves the AdamW state (both parameter groups) for a resume.</summary>
    public void SaveOptimizer(string path) => Use(id =>
    {
        Api.SaveOptimizer(id, path);
        return 0;
    });

    /// <summary>Restores the AdamW state saved by <see cref="SaveOptimizer"/>, after <see cref="LoadHead"/>.</summary>
    public void LoadOptimizer(string path) => Use(id =>
    {
        Api.LoadOptimizer(id, path);
        return 0;
    });

    public void Dispose()
    {
        _handle.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Floats of probabilities per sample of the batch.</summary>
    private protected abstract int OutputsPerSample(PatchBatch batch);

    private protected T Use<T>(Func<long, T> call)
    {
        var added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            throw new DeepSentinelException(ErrorIds.ModelHandleInvalid, ErrorKind.InvalidArgument, $"The {_kind} was disposed.");
        }

        try
        {
            return call((long)_handle.DangerousGetHandle());
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }
    }
}
