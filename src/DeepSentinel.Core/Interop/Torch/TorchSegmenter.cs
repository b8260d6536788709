using System.Runtime.InteropServices;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Interop.Torch;

/// <summary>Owns one native segmenter handle; frees it exactly once.</summary>
internal sealed class TorchSegmenterHandle : SafeHandle
{
    public TorchSegmenterHandle(long id)
        : base(IntPtr.Zero, ownsHandle: true) => SetHandle((IntPtr)id);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        try
        {
            TorchNative.SegmenterFree((long)handle);
            return true;
        }
        catch (DeepSentinelException)
        {
            return false;
        }
    }
}

/// <summary>
/// A per-pixel classification head on a UNet model (dst_segmenter_*): train steps with per-pixel
/// class targets (-1: no label), per-pixel probabilities, and checkpoints (the UNet as a model
/// checkpoint, the head beside it).
/// </summary>
internal sealed class TorchSegmenter : IDisposable
{
    private readonly TorchSegmenterHandle _handle;

    private TorchSegmenter(long id, int classes)
    {
        _handle = new TorchSegmenterHandle(id);
        Classes = classes;
    }

    public int Classes { get; }

    public long Step => Use(TorchNative.SegmenterStep);

    /// <summary>A head on <paramref name="model"/>'s UNet; the model may be disposed afterwards (the segmenter keeps it).</summary>
    public static TorchSegmenter Create(TorchModel model, in NativeSegmenterConfig config)
    {
        var id = TorchNative.SegmenterCreate(model.RawHandle, config);
        return new TorchSegmenter(id, config.Classes);
    }

    public void SetClassWeights(float[] weights) => Use(id =>
    {
        TorchNative.SegmenterSetClassWeights(id, weights);
        return 0;
    });

    // Target buffers may be longer than one batch needs (they are reused).
    public float TrainStep(PatchBatch batch, int[] targets) => Use(id => batch.WithNative(native =>
    {
        var needed = batch.Count * batch.Height * batch.Width;
        return TorchNative.SegmenterTrainStep(id, native, targets.Length > needed ? targets.AsSpan(0, needed) : targets);
    }));

    /// <summary>Per-pixel probabilities of the batch's samples, [count, classes, height, width].</summary>
    public void Predict(PatchBatch batch, float[] output) => Use(id => batch.WithNative(native =>
    {
        TorchNative.SegmenterPredict(id, native, output.AsSpan(0, batch.Count * Classes * batch.Height * batch.Width));
        return 0;
    }));

    public void Save(string encoder, string head) => Use(id =>
    {
        TorchNative.SegmenterSave(id, encoder, head);
        return 0;
    });

    public void LoadHead(string head) => Use(id =>
    {
        TorchNative.SegmenterLoadHead(id, head);
        return 0;
    });

    public void Dispose() => _handle.Dispose();

    private T Use<T>(Func<long, T> call)
    {
        var added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            throw new DeepSentinelException(ErrorIds.ModelHandleInvalid, ErrorKind.InvalidArgument, "The segmenter was disposed.");
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
