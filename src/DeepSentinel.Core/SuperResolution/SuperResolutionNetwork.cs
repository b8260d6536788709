using System.Runtime.InteropServices;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Torch;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.SuperResolution;

/// <summary>Owns one native super-resolution handle; frees it exactly once.</summary>
internal sealed class SuperResolutionHandle : SafeHandle
{
    public SuperResolutionHandle(long id)
        : base(IntPtr.Zero, ownsHandle: true) => SetHandle((IntPtr)id);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        try
        {
            SuperResolutionNative.Free((long)handle);
            return true;
        }
        catch (DeepSentinelException)
        {
            return false;
        }
    }
}

/// <summary>
/// A DSen2 network in the native engine: training steps (L1 loss, Adam), prediction and
/// checkpoints. Planes are DN (the network divides by its input scale itself). Use from one
/// thread at a time.
/// </summary>
internal sealed unsafe class SuperResolutionNetwork : IDisposable
{
    private readonly SuperResolutionHandle _handle;

    private SuperResolutionNetwork(long id)
    {
        _handle = new SuperResolutionHandle(id);
        Config = SuperResolutionNative.GetConfig(id);
    }

    public NativeSrConfig Config { get; }

    public SuperResolutionFactor Factor => (SuperResolutionFactor)Config.Factor;

    public int OutputChannels => Factor == SuperResolutionFactor.X2 ? Config.MidChannels : Config.CoarseChannels;

    public long Step => SuperResolutionNative.Step(Id);

    public long ParameterCount => SuperResolutionNative.ParameterCount(Id);

    private long Id => _handle.IsClosed ? throw new DeepSentinelException(ErrorIds.ModelHandleInvalid, ErrorKind.InvalidArgument, "The super-resolution model was disposed.") : (long)_handle.DangerousGetHandle();

    public static SuperResolutionNetwork Create(SuperResolutionFactor factor, int blocks, int features, long seed, double learningRate, double inputScale, TrainingDevice device)
    {
        var config = NativeSrConfig.Create();
        config.Factor = (int)factor;
        config.Blocks = blocks;
        config.Features = features;
        config.FineChannels = SuperResolutionBands.Fine.Length;
        config.MidChannels = SuperResolutionBands.Mid.Length;
        config.CoarseChannels = factor == SuperResolutionFactor.X6 ? SuperResolutionBands.Coarse.Length : 0;
        config.Device = (int)device;
        config.Seed = seed;
        config.LearningRate = learningRate;
        config.InputScale = inputScale;
        return new SuperResolutionNetwork(SuperResolutionNative.Create(config));
    }

    public static SuperResolutionNetwork Load(string checkpoint, string? optimizer, TrainingDevice device) =>
        new(SuperResolutionNative.Load(checkpoint, optimizer, (int)device));

    public void SetLearningRate(double rate) => SuperResolutionNative.SetLearningRate(Id, rate);

    /// <summary>One step on a batch of <paramref name="count"/> samples of <paramref name="height"/> x <paramref name="width"/> at the fine resolution.</summary>
    public float TrainStep(int count, int height, int width, float[] fine, float[] mid, float[]? coarse, float[] target)
    {
        fixed (float* f = fine)
        fixed (float* m = mid)
        fixed (float* c = coarse)
        fixed (float* t = target)
        {
            var batch = Batch(count, height, width, f, fine.Length, m, mid.Length, c, coarse?.Length ?? 0);
            batch.Target = t;
            batch.TargetLength = target.Length;
            return SuperResolutionNative.TrainStep(Id, batch);
        }
    }

    /// <summary>The recovered bands, [count, outputs, height, width], in DN.</summary>
    public void Predict(int count, int height, int width, float[] fine, float[] mid, float[]? coarse, float[] output)
    {
        fixed (float* f = fine)
        fixed (float* m = mid)
        fixed (float* c = coarse)
        {
            var batch = Batch(count, height, width, f, fine.Length, m, mid.Length, c, coarse?.Length ?? 0);
            SuperResolutionNative.Predict(Id, batch, output);
        }
    }

    public void Save(string checkpoint, string optimizer) => SuperResolutionNative.Save(Id, checkpoint, optimizer);

    public void Dispose() => _handle.Dispose();

    private static NativeSrBatch Batch(int count, int height, int width, float* fine, long fineLength, float* mid, long midLength, float* coarse, long coarseLength) => new()
    {
        StructSize = sizeof(NativeSrBatch),
        Batch = count,
        Height = height,
        Width = width,
        Fine = fine,
        FineLength = fineLength,
        Mid = mid,
        MidLength = midLength,
        Coarse = coarse,
        CoarseLength = coarseLength,
    };
}
