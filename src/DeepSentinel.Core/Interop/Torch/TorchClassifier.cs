using System.Runtime.InteropServices;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Interop.Torch;

/// <summary>Owns one native classifier handle; frees it exactly once.</summary>
internal sealed class TorchClassifierHandle : SafeHandle
{
    public TorchClassifierHandle(long id)
        : base(IntPtr.Zero, ownsHandle: true) => SetHandle((IntPtr)id);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        try
        {
            TorchNative.ClassifierFree((long)handle);
            return true;
        }
        catch (DeepSentinelException)
        {
            return false;
        }
    }
}

/// <summary>
/// A classification head on a model's encoder (dst_classifier_*): train steps with class targets,
/// class probabilities, and checkpoints (the encoder as a model checkpoint, the head beside it).
/// </summary>
internal sealed class TorchClassifier : IDisposable
{
    private readonly TorchClassifierHandle _handle;

    private TorchClassifier(long id, int classes, bool multiLabel)
    {
        _handle = new TorchClassifierHandle(id);
        Classes = classes;
        MultiLabel = multiLabel;
    }

    public int Classes { get; }

    public bool MultiLabel { get; }

    public long Step => Use(TorchNative.ClassifierStep);

    /// <summary>A head on <paramref name="encoder"/>'s encoder; the model may be disposed afterwards (the classifier keeps the encoder).</summary>
    public static TorchClassifier Create(TorchModel encoder, in NativeClassifierConfig config)
    {
        var id = TorchNative.ClassifierCreate(encoder.RawHandle, config);
        return new TorchClassifier(id, config.Classes, config.MultiLabel == 1);
    }

    public void SetClassWeights(float[] weights) => Use(id =>
    {
        TorchNative.ClassifierSetClassWeights(id, weights);
        return 0;
    });

    // Target buffers may be longer than one batch needs (they are reused); shorter ones go to the engine to be refused.
    public float TrainStep(PatchBatch batch, float[] targets) => Use(id => batch.WithNative(native =>
    {
        var needed = MultiLabel ? batch.Count * Classes : batch.Count;
        return TorchNative.ClassifierTrainStep(id, native, targets.Length > needed ? targets.AsSpan(0, needed) : targets);
    }));

    /// <summary>Probabilities of the batch's samples, [count, classes].</summary>
    public void Predict(PatchBatch batch, float[] output) => Use(id => batch.WithNative(native =>
    {
        TorchNative.ClassifierPredict(id, native, output.AsSpan(0, batch.Count * Classes));
        return 0;
    }));

    public void Save(string encoder, string head) => Use(id =>
    {
        TorchNative.ClassifierSave(id, encoder, head);
        return 0;
    });

    public void LoadHead(string head) => Use(id =>
    {
        TorchNative.ClassifierLoadHead(id, head);
        return 0;
    });

    /// <summary>Random flips and quarter turns of each training sample (off by default).</summary>
    public void SetAugmentation(bool flipsRotations) => Use(id =>
    {
        TorchNative.ClassifierSetAugmentation(id, flipsRotations);
        return 0;
    });

    /// <summary>Saves the AdamW state (both parameter groups) for a resume.</summary>
    public void SaveOptimizer(string path) => Use(id =>
    {
        TorchNative.ClassifierSaveOptimizer(id, path);
        return 0;
    });

    /// <summary>Restores the AdamW state saved by <see cref="SaveOptimizer"/>, after <see cref="LoadHead"/>.</summary>
    public void LoadOptimizer(string path) => Use(id =>
    {
        TorchNative.ClassifierLoadOptimizer(id, path);
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
            throw new DeepSentinelException(ErrorIds.ModelHandleInvalid, ErrorKind.InvalidArgument, "The classifier was disposed.");
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
