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

/// <summary>The segmentation calls of the C ABI (dst_segmenter_*), bound like the rest of <see cref="TorchNative"/>.</summary>
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

    public static void SegmenterFree(long segmenter) => Check(S.Free(segmenter), segmenter);

    public static void SegmenterSetClassWeights(long segmenter, ReadOnlySpan<float> weights)
    {
        fixed (float* w = weights)
        {
            Check(S.SetClassWeights(segmenter, w, weights.Length), segmenter);
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

    public static void SegmenterPredict(long segmenter, in NativeBatch batch, Span<float> probabilities)
    {
        fixed (NativeBatch* b = &batch)
        fixed (float* p = probabilities)
        {
            Check(S.Predict(segmenter, b, p, probabilities.Length), segmenter);
        }
    }

    public static long SegmenterStep(long segmenter)
    {
        var step = S.Step(segmenter);
        if (step < 0)
        {
            throw LastError(F.LastStatus(), segmenter);
        }

        return step;
    }

    public static void SegmenterSave(long segmenter, string encoder, string head)
    {
        fixed (byte* e = Utf8(encoder))
        fixed (byte* h = Utf8(head))
        {
            Check(S.Save(segmenter, e, h), head);
        }
    }

    public static void SegmenterLoadHead(long segmenter, string head)
    {
        fixed (byte* h = Utf8(head))
        {
            Check(S.LoadHead(segmenter, h), head);
        }
    }

    private sealed class SegmenterApi
    {
        public readonly delegate* unmanaged<long, NativeSegmenterConfig*, long> Create;
        public readonly delegate* unmanaged<long, int> Free;
        public readonly delegate* unmanaged<long, float*, int, int> SetClassWeights;
        public readonly delegate* unmanaged<long, NativeBatch*, int*, long, float*, int> TrainStep;
        public readonly delegate* unmanaged<long, NativeBatch*, float*, long, int> Predict;
        public readonly delegate* unmanaged<long, long> Step;
        public readonly delegate* unmanaged<long, byte*, byte*, int> Save;
        public readonly delegate* unmanaged<long, byte*, int> LoadHead;

        // Takes the core Api so that its ABI version check has run first.
        public SegmenterApi(nint library, Api checkedCore)
        {
            ArgumentNullException.ThrowIfNull(checkedCore);
            Create = (delegate* unmanaged<long, NativeSegmenterConfig*, long>)TorchLibrary.Export(library, "dst_segmenter_create");
            Free = (delegate* unmanaged<long, int>)TorchLibrary.Export(library, "dst_segmenter_free");
            SetClassWeights = (delegate* unmanaged<long, float*, int, int>)TorchLibrary.Export(library, "dst_segmenter_set_class_weights");
            TrainStep = (delegate* unmanaged<long, NativeBatch*, int*, long, float*, int>)TorchLibrary.Export(library, "dst_segmenter_train_step");
            Predict = (delegate* unmanaged<long, NativeBatch*, float*, long, int>)TorchLibrary.Export(library, "dst_segmenter_predict");
            Step = (delegate* unmanaged<long, long>)TorchLibrary.Export(library, "dst_segmenter_step");
            Save = (delegate* unmanaged<long, byte*, byte*, int>)TorchLibrary.Export(library, "dst_segmenter_save");
            LoadHead = (delegate* unmanaged<long, byte*, int>)TorchLibrary.Export(library, "dst_segmenter_load_head");
        }
    }
}
