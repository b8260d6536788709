using System.Runtime.InteropServices;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Interop.Torch;

/// <summary>Owns one native model handle; frees it exactly once, even if Dispose is forgotten.</summary>
internal sealed class TorchModelHandle : SafeHandle
{
    public TorchModelHandle(long id)
        : base(IntPtr.Zero, ownsHandle: true) => SetHandle((IntPtr)id);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => FreeQuietly((long)handle);

    private static bool FreeQuietly(long id)
    {
        try
        {
            TorchNative.Free(id);
            return true;
        }
        catch (DeepSentinelException)
        {
            return false;
        }
    }
}

/// <summary>
/// A native model: train steps, embeddings, checkpoints. Calls on one instance are serialised
/// natively; the handle is kept alive for the length of each call, so Dispose during a call
/// cannot free the model under it.
/// </summary>
internal sealed class TorchModel : IDisposable
{
    private readonly TorchModelHandle _handle;

    private TorchModel(long id)
    {
        _handle = new TorchModelHandle(id);
        Config = TorchNative.GetConfig(id);
    }

    /// <summary>The model's configuration as the engine holds it.</summary>
    public NativeModelConfig Config { get; }

    /// <summary>Channels of the model input (S2 then S1).</summary>
    public int Channels => Config.S2Channels + Config.S1Channels;

    /// <summary>The raw handle, for tests of the native handle checks.</summary>
    internal long RawHandle => (long)_handle.DangerousGetHandle();

    /// <summary>Optimisation steps taken so far (continues across checkpoints).</summary>
    public long Step => Use(TorchNative.GetStep);

    /// <summary>Number of trainable parameters.</summary>
    public long ParameterCount => Use(TorchNative.ParameterCount);

    /// <summary>Creates a new model with fresh weights.</summary>
    public static TorchModel Create(NativeModelConfig config) => new(TorchNative.Create(config));

    /// <summary>Loads a checkpoint, with optimizer state when <paramref name="optimizer"/> is given.</summary>
    public static TorchModel Load(string checkpoint, string? optimizer, TrainingDevice device) =>
        new(TorchNative.Load(checkpoint, optimizer, (int)device));

    /// <summary>Sets the per-band statistics the model normalises its input with.</summary>
    public void SetNormalization(BandNormalization normalization)
    {
        var mean = normalization.Mean.Select(v => (float)v).ToArray();
        var std = normalization.Std.Select(v => (float)v).ToArray();
        Use(id => TorchNative.SetNormalization(id, mean, std));
    }

    /// <summary>The stored per-band statistics.</summary>
    public (float[] Mean, float[] Std) GetNormalization()
    {
        var mean = new float[Channels];
        var std = new float[Channels];
        Use(id => TorchNative.GetNormalization(id, mean, std));
        return (mean, std);
    }

    /// <summary>Changes the learning rate of the optimizer.</summary>
    public void SetLearningRate(double learningRate) => Use(id => TorchNative.SetLearningRate(id, learningRate));

    /// <summary>One optimisation step on <paramref name="batch"/>; returns the loss.</summary>
    public float TrainStep(PatchBatch batch) => Use(id => batch.WithNative(native => TorchNative.TrainStep(id, native)));

    /// <summary>Embeddings of the batch's samples, row-major [count, embedding dim].</summary>
    public void Embed(PatchBatch batch, float[] output) => Use(id => batch.WithNative(native =>
    {
        TorchNative.Embed(id, native, Slice(output, (long)batch.Count * Config.EmbeddingDim));
        return 0;
    }));

    /// <summary>Per-pixel embeddings (UNet), [count, embedding dim, height, width].</summary>
    public void EmbedPixels(PatchBatch batch, float[] output) => Use(id => batch.WithNative(native =>
    {
        TorchNative.EmbedPixels(id, native, Slice(output, (long)batch.Count * Config.EmbeddingDim * batch.Height * batch.Width));
        return 0;
    }));

    /// <summary>Writes a checkpoint (torch.load-readable) and, optionally, the optimizer state.</summary>
    public void Save(string checkpoint, string? optimizer) => Use(id => TorchNative.Save(id, checkpoint, optimizer));

    /// <inheritdoc />
    public void Dispose() => _handle.Dispose();

    // Output buffers may be larger than one batch needs (they are reused); never smaller.
    private static Span<float> Slice(float[] output, long needed) => output.Length >= needed
        ? output.AsSpan(0, (int)needed)
        : throw DeepSentinelException.InvalidArgument(ErrorIds.TrainingInputInvalid, $"The output buffer holds {output.Length} floats; {needed} are needed.");

    private void Use(Action<long> call) => Use(id =>
    {
        call(id);
        return 0;
    });

    private T Use<T>(Func<long, T> call)
    {
        var added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            throw new DeepSentinelException(ErrorIds.ModelHandleInvalid, ErrorKind.InvalidArgument, "The model was disposed: load it again (Import-EmbeddingModel).");
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
