using System.Runtime.InteropServices;

namespace DeepSentinel.Core.Interop.Torch;

/// <summary>dst_segmenter_config (deepsentinel_torch.h); the native side checks StructSize.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeSegmenterConfig
{
    public int StructSize;
    public int Classes;
    public int FreezeEncoder;
    public int Reserved;
    public long Seed;
    public double HeadLearningRate;
    public double EncoderLearningRate;
    public double WeightDecay;

    /// <summary>A config with the size field set.</summary>
    public static NativeSegmenterConfig Create() => new() { StructSize = Marshal.SizeOf<NativeSegmenterConfig>() };
}

/// <summary>The segmentation calls of the C ABI that only segmenters have (create, train step); the rest are <see cref="SegmenterHead"/>.</summary>
internal static unsafe partial class TorchNative
{
    private static readonly Lazy<SegmenterApi> SegmenterFunctions = new(() => new SegmenterApi(TorchLibrary.Handle, F), LazyThreadSafetyMode.ExecutionAndPublication);

    private static SegmenterApi S => SegmenterFunctions.Value;

    public static long SegmenterCreate(long model, in NativeSegmenterConfig config)
    {
        fixed (NativeSegmenterConfig* c = &config)
        {
            var handle = S.Create(model, c);
            if (handle == 0)
            {
                throw LastError(F.LastStatus(), model);
            }

            return handle;
        }
    }

    public static float SegmenterTrainStep(long segmenter, in NativeBatch batch, ReadOnlySpan<int> targets)
    {
        float loss;
        fixed (NativeBatch* b = &batch)
        fixed (int* t = targets)
        {
            Check(S.TrainStep(segmenter, b, t, targets.Length, &loss), segmenter);
        }

        return loss;
    }

    private sealed class SegmenterApi
    {
        public readonly delegate* unmanaged<long, NativeSegmenterConfig*, long> Create;
        public readonly delegate* unmanaged<long, NativeBatch*, int*, long, float*, int> TrainStep;

        // Takes the core Api so that its ABI version check has run first.
        public SegmenterApi(nint library, Api checkedCore)
        {
            ArgumentNullException.ThrowIfNull(checkedCore);
            Create = (delegate* unmanaged<long, NativeSegmenterConfig*, long>)TorchLibrary.Export(library, "dst_segmenter_create");
            TrainStep = (delegate* unmanaged<long, NativeBatch*, int*, long, float*, int>)TorchLibrary.Export(library, "dst_segmenter_train_step");
        }
    }
}
