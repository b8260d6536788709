using System.Runtime.InteropServices;

namespace DeepSentinel.Core.Interop.Torch;

/// <summary>dst_classifier_config (deepsentinel_torch.h); the native side checks StructSize.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeClassifierConfig
{
    public int StructSize;
    public int Classes;
    public int MultiLabel;
    public int FreezeEncoder;
    public long Seed;
    public double HeadLearningRate;
    public double EncoderLearningRate;
    public double WeightDecay;

    /// <summary>A config with the size field set.</summary>
    public static NativeClassifierConfig Create() => new() { StructSize = Marshal.SizeOf<NativeClassifierConfig>() };
}

/// <summary>The fine-tuning calls of the C ABI (dst_classifier_*), bound like the rest of <see cref="TorchNative"/>.</summary>
internal static unsafe partial class TorchNative
{
    private static readonly Lazy<ClassifierApi> ClassifierFunctions = new(() => new ClassifierApi(TorchLibrary.Handle, F), LazyThreadSafetyMode.ExecutionAndPublication);

    private static ClassifierApi C => ClassifierFunctions.Value;

    public static long ClassifierCreate(long model, in NativeClassifierConfig config)
    {
        fixed (NativeClassifierConfig* c = &config)
        {
            var handle = C.Create(model, c);
            if (handle == 0)
            {
                throw LastError(F.LastStatus(), model);
            }

            return handle;
        }
    }

    public static void ClassifierFree(long classifier) => Check(C.Free(classifier), classifier);

    public static void ClassifierSetClassWeights(long classifier, ReadOnlySpan<float> weights)
    {
        fixed (float* w = weights)
        {
            Check(C.SetClassWeights(classifier, w, weights.Length), classifier);
        }
    }

    public static float ClassifierTrainStep(long classifier, in NativeBatch batch, ReadOnlySpan<float> targets)
    {
        float loss;
        fixed (NativeBatch* b = &batch)
        fixed (float* t = targets)
        {
            Check(C.TrainStep(classifier, b, t, targets.Length, &loss), classifier);
        }

        return loss;
    }

    public static void ClassifierPredict(long classifier, in NativeBatch batch, Span<float> probabilities)
    {
        fixed (NativeBatch* b = &batch)
        fixed (float* p = probabilities)
        {
            Check(C.Predict(classifier, b, p, probabilities.Length), classifier);
        }
    }

    public static long ClassifierStep(long classifier)
    {
        var step = C.Step(classifier);
        if (step < 0)
        {
            throw LastError(F.LastStatus(), classifier);
        }

        return step;
    }

    public static void ClassifierSave(long classifier, string encoder, string head)
    {
        fixed (byte* e = Utf8(encoder))
        fixed (byte* h = Utf8(head))
        {
            Check(C.Save(classifier, e, h), head);
        }
    }

    public static void ClassifierLoadHead(long classifier, string head)
    {
        fixed (byte* h = Utf8(head))
        {
            Check(C.LoadHead(classifier, h), head);
        }
    }

    private sealed class ClassifierApi
    {
        public readonly delegate* unmanaged<long, NativeClassifierConfig*, long> Create;
        public readonly delegate* unmanaged<long, int> Free;
        public readonly delegate* unmanaged<long, float*, int, int> SetClassWeights;
        public readonly delegate* unmanaged<long, NativeBatch*, float*, long, float*, int> TrainStep;
        public readonly delegate* unmanaged<long, NativeBatch*, float*, long, int> Predict;
        public readonly delegate* unmanaged<long, long> Step;
        public readonly delegate* unmanaged<long, byte*, byte*, int> Save;
        public readonly delegate* unmanaged<long, byte*, int> LoadHead;

        // Takes the core Api so that its ABI version check has run first.
        public ClassifierApi(nint library, Api checkedCore)
        {
            ArgumentNullException.ThrowIfNull(checkedCore);
            Create = (delegate* unmanaged<long, NativeClassifierConfig*, long>)TorchLibrary.Export(library, "dst_classifier_create");
            Free = (delegate* unmanaged<long, int>)TorchLibrary.Export(library, "dst_classifier_free");
            SetClassWeights = (delegate* unmanaged<long, float*, int, int>)TorchLibrary.Export(library, "dst_classifier_set_class_weights");
            TrainStep = (delegate* unmanaged<long, NativeBatch*, float*, long, float*, int>)TorchLibrary.Export(library, "dst_classifier_train_step");
            Predict = (delegate* unmanaged<long, NativeBatch*, float*, long, int>)TorchLibrary.Export(library, "dst_classifier_predict");
            Step = (delegate* unmanaged<long, long>)TorchLibrary.Export(library, "dst_classifier_step");
            Save = (delegate* unmanaged<long, byte*, byte*, int>)TorchLibrary.Export(library, "dst_classifier_save");
            LoadHead = (delegate* unmanaged<long, byte*, int>)TorchLibrary.Export(library, "dst_classifier_load_head");
        }
    }
}
