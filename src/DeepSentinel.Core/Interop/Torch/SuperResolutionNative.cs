using System.Runtime.InteropServices;
using DeepSentinel.Core.Errors;

namespace DeepSentinel.Core.Interop.Torch;

/// <summary>dst_sr_config (deepsentinel_torch.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeSrConfig
{
    public int StructSize;
    public int Factor;
    public int Blocks;
    public int Features;
    public int FineChannels;
    public int MidChannels;
    public int CoarseChannels;
    public int Device;
    public long Seed;
    public double LearningRate;
    public double InputScale;

    public static NativeSrConfig Create() => new() { StructSize = Marshal.SizeOf<NativeSrConfig>() };
}

/// <summary>dst_sr_batch (deepsentinel_torch.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeSrBatch
{
    public int StructSize;
    public int Batch;
    public int Height;
    public int Width;
    public float* Fine;
    public long FineLength;
    public float* Mid;
    public long MidLength;
    public float* Coarse;
    public long CoarseLength;
    public float* Target;
    public long TargetLength;
}

/// <summary>The super-resolution area of the C ABI (dst_sr_*), bound like <see cref="TorchNative"/>'s and checked by it.</summary>
internal static unsafe class SuperResolutionNative
{
    private static readonly Lazy<Api> Functions = new(() => new Api(TorchLibrary.Handle), LazyThreadSafetyMode.ExecutionAndPublication);

    private static Api F => Functions.Value;

    public static long Create(in NativeSrConfig config)
    {
        TorchNative.EnsureLoaded();
        fixed (NativeSrConfig* c = &config)
        {
            var handle = F.Create(c);
            return handle != 0 ? handle : throw TorchNative.LastError(TorchNative.LastStatus(), null);
        }
    }

    public static long Load(string checkpoint, string? optimizer, int device)
    {
        TorchNative.EnsureLoaded();
        fixed (byte* c = TorchNative.Utf8(checkpoint))
        fixed (byte* o = optimizer is null ? null : TorchNative.Utf8(optimizer))
        {
            var handle = F.Load(c, o, device);
            return handle != 0 ? handle : throw TorchNative.LastError(TorchNative.LastStatus(), checkpoint);
        }
    }

    public static void Free(long model) => TorchNative.Check(F.Free(model), model);

    public static NativeSrConfig GetConfig(long model)
    {
        var config = NativeSrConfig.Create();
        TorchNative.Check(F.GetConfig(model, &config), model);
        return config;
    }

    public static long Step(long model)
    {
        var step = F.Step(model);
        return step >= 0 ? step : throw TorchNative.LastError(TorchNative.LastStatus(), model);
    }

    public static long ParameterCount(long model)
    {
        long count;
        TorchNative.Check(F.ParameterCount(model, &count), model);
        return count;
    }

    public static void SetLearningRate(long model, double rate) => TorchNative.Check(F.SetLearningRate(model, rate), model);

    public static float TrainStep(long model, in NativeSrBatch batch)
    {
        float loss;
        fixed (NativeSrBatch* b = &batch)
        {
            TorchNative.Check(F.TrainStep(model, b, &loss), model);
        }

        return loss;
    }

    public static void Predict(long model, in NativeSrBatch batch, Span<float> output)
    {
        fixed (NativeSrBatch* b = &batch)
        fixed (float* o = output)
        {
            TorchNative.Check(F.Predict(model, b, o, output.Length), model);
        }
    }

    public static void Save(long model, string checkpoint, string? optimizer)
    {
        fixed (byte* c = TorchNative.Utf8(checkpoint))
        fixed (byte* o = optimizer is null ? null : TorchNative.Utf8(optimizer))
        {
            TorchNative.Check(F.Save(model, c, o), checkpoint);
        }
    }

    private sealed class Api
    {
        public readonly delegate* unmanaged<NativeSrConfig*, long> Create;
        public readonly delegate* unmanaged<byte*, byte*, int, long> Load;
        public readonly delegate* unmanaged<long, int> Free;
        public readonly delegate* unmanaged<long, NativeSrConfig*, int> GetConfig;
        public readonly delegate* unmanaged<long, long> Step;
        public readonly delegate* unmanaged<long, long*, int> ParameterCount;
        public readonly delegate* unmanaged<long, double, int> SetLearningRate;
        public readonly delegate* unmanaged<long, NativeSrBatch*, float*, int> TrainStep;
        public readonly delegate* unmanaged<long, NativeSrBatch*, float*, long, int> Predict;
        public readonly delegate* unmanaged<long, byte*, byte*, int> Save;

        public Api(nint library)
        {
            Create = (delegate* unmanaged<NativeSrConfig*, long>)TorchLibrary.Export(library, "dst_sr_create");
            Load = (delegate* unmanaged<byte*, byte*, int, long>)TorchLibrary.Export(library, "dst_sr_load");
            Free = (delegate* unmanaged<long, int>)TorchLibrary.Export(library, "dst_sr_free");
            GetConfig = (delegate* unmanaged<long, NativeSrConfig*, int>)TorchLibrary.Export(library, "dst_sr_get_config");
            Step = (delegate* unmanaged<long, long>)TorchLibrary.Export(library, "dst_sr_step");
            ParameterCount = (delegate* unmanaged<long, long*, int>)TorchLibrary.Export(library, "dst_sr_parameter_count");
            SetLearningRate = (delegate* unmanaged<long, double, int>)TorchLibrary.Export(library, "dst_sr_set_learning_rate");
            TrainStep = (delegate* unmanaged<long, NativeSrBatch*, float*, int>)TorchLibrary.Export(library, "dst_sr_train_step");
            Predict = (delegate* unmanaged<long, NativeSrBatch*, float*, long, int>)TorchLibrary.Export(library, "dst_sr_predict");
            Save = (delegate* unmanaged<long, byte*, byte*, int>)TorchLibrary.Export(library, "dst_sr_save");
        }
    }
}
