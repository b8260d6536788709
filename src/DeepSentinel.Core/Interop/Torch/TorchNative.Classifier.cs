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

/// <summary>The fine-tuning calls of the C ABI that only classifiers have (create, train step); the rest are <see cref="ClassifierHead"/>.</summary>
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

    /// <summary>The classifier's step count (a bad handle is ModelHandleInvalid).</summary>
    public static long ClassifierStep(long classifier) => ClassifierHead.Step(classifier);

    private sealed class ClassifierApi
    {
        public readonly delegate* unmanaged<long, NativeClassifierConfig*, long> Create;
        public readonly delegate* unmanaged<long, NativeBatch*, float*, long, float*, int> TrainStep;

        // Takes the core Api so that its ABI version check has run first.
        public ClassifierApi(nint library, Api checkedCore)
        {
            ArgumentNullException.ThrowIfNull(checkedCore);
            Create = (delegate* unmanaged<long, NativeClassifierConfig*, long>)TorchLibrary.Export(library, "dst_classifier_create");
            TrainStep = (delegate* unmanaged<long, NativeBatch*, float*, long, float*, int>)TorchLibrary.Export(library, "dst_classifier_train_step");
        }
    }
}
