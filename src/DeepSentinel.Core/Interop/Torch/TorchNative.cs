using System.Runtime.InteropServices;
using System.Text;
using DeepSentinel.Core.Errors;

namespace DeepSentinel.Core.Interop.Torch;

/// <summary>dst_model_config (deepsentinel_torch.h); the native side checks StructSize.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeModelConfig
{
    public int StructSize;
    public int Encoder;
    public int Method;
    public int S2Channels;
    public int S1Channels;
    public int EmbeddingDim;
    public int ProjectionDim;
    public int UNetWidth;
    public int Device;
    public int ChannelsLast;
    public long Seed;
    public double LearningRate;
    public double WeightDecay;
    public double Temperature;
    public double TripletMargin;
    public double ModalityDropout;
    public double BandNoise;

    /// <summary>A config with the size field set.</summary>
    public static NativeModelConfig Create() => new() { StructSize = Marshal.SizeOf<NativeModelConfig>() };
}

/// <summary>dst_batch (deepsentinel_torch.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeBatch
{
    public int StructSize;
    public int Batch;
    public int Height;
    public int Width;
    public int S2Channels;
    public int S1Channels;
    public float* S2;
    public long S2Length;
    public float* S1;
    public long S1Length;
    public byte* S2Present;
    public byte* S1Present;
}

/// <summary>dst_cache_stats (deepsentinel_torch.h): the native CPU block cache.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeCacheStats
{
    public int StructSize;
    public int Reserved;
    public long Hits;
    public long Misses;
    public long CachedBytes;
    public long LiveBytes;
    public long LimitBytes;
}

/// <summary>
/// The C ABI of libdeepsentinel_torch.so, bound through function pointers from the library that
/// <see cref="TorchLibrary"/> loaded. Function pointers rather than [LibraryImport] because an
/// assembly can have only one DllImport resolver, and Core's GDAL interop needs its own.
/// Every call is followed by <see cref="Check"/> on the same thread, which turns the native
/// status and the thread's last-error message into a <see cref="DeepSentinelException"/>.
/// </summary>
internal static unsafe partial class TorchNative
{
    /// <summary>DST_ABI_VERSION in deepsentinel_torch.h.</summary>
    private const int AbiVersion = 3;

    private const int Ok = 0;
    private const int InvalidArgument = 1;
    private const int InvalidHandle = 2;
    private const int IoError = 3;
    private const int CorruptFile = 4;
    private const int DeviceUnavailable = 5;

    private static readonly Lazy<Api> Functions = new(() => new Api(TorchLibrary.Handle), LazyThreadSafetyMode.ExecutionAndPublication);

    private static Api F => Functions.Value;

    /// <summary>Loads the library now (a clear error if it or libtorch is missing).</summary>
    public static void EnsureLoaded() => _ = F;

    /// <summary>Library, libtorch and CUDA versions.</summary>
    public static string Version => Marshal.PtrToStringUTF8(F.Version()) ?? string.Empty;

    public static int GetThreads() => F.GetNumThreads();

    public static void SetThreads(int threads) => Check(F.SetNumThreads(threads), threads);

    public static int CudaDeviceCount() => F.CudaDeviceCount();

    /// <summary>The calling thread's last native status (for calls that return a handle).</summary>
    internal static int LastStatus() => F.LastStatus();

    /// <summary>Bounds the native CPU block cache (0 turns it off and empties it).</summary>
    public static void SetCpuCacheLimit(long bytes) => Check(F.SetCpuCacheLimit(bytes), bytes);

    /// <summary>
    /// The fused augmentation against libtorch's op-by-op form (dst_self_test_augment): the largest
    /// difference of the geometric part, and the mean and std of the noise at std 0.1.
    /// </summary>
    public static (double MaxDifference, double NoiseMean, double NoiseStd) SelfTestAugment()
    {
        double difference, mean, std;
        Check(F.SelfTestAugment(&difference, &mean, &std), null);
        return (difference, mean, std);
    }

    /// <summary>
    /// The engine's fused AdamW step against libtorch's AdamW::step() (dst_self_test_adamw): the
    /// largest difference of the parameters and of the moments after the steps, and how many steps.
    /// </summary>
    public static (double MaxParameterDifference, double MaxMomentDifference, long Steps) SelfTestAdamW()
    {
        double parameters, moments;
        long steps;
        Check(F.SelfTestAdamW(&parameters, &moments, &steps), null);
        return (parameters, moments, steps);
    }

    /// <summary>Hits, misses and sizes of the native CPU block cache.</summary>
    public static NativeCacheStats CpuCacheStats()
    {
        var stats = new NativeCacheStats { StructSize = Marshal.SizeOf<NativeCacheStats>() };
        Check(F.CpuCacheStats(&stats), null);
        return stats;
    }

    public static long Create(in NativeModelConfig config)
    {
        fixed (NativeModelConfig* c = &config)
        {
            var handle = F.ModelCreate(c);
            if (handle == 0)
            {
                throw LastError(F.LastStatus(), null);
            }

            return handle;
        }
    }

    public static long Load(string checkpoint, string? optimizer, int device)
    {
        fixed (byte* c = Utf8(checkpoint))
        fixed (byte* o = optimizer is null ? null : Utf8(optimizer))
        {
            var handle = F.ModelLoad(c, o, device);
            if (handle == 0)
            {
                throw LastError(F.LastStatus(), checkpoint);
            }

            return handle;
        }
    }

    public static void Free(long model) => Check(F.ModelFree(model), model);

    public static NativeModelConfig GetConfig(long model)
    {
        var config = NativeModelConfig.Create();
        Check(F.ModelGetConfig(model, &config), model);
        return config;
    }

    public static void SetNormalization(long model, ReadOnlySpan<float> mean, ReadOnlySpan<float> std)
    {
        if (mean.Length != std.Length)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.TrainingInputInvalid, "Normalisation mean and std must have the same number of bands.");
        }

        fixed (float* m = mean)
        fixed (float* s = std)
        {
            Check(F.ModelSetNormalization(model, m, s, mean.Length), model);
        }
    }

    public static void GetNormalization(long model, Span<float> mean, Span<float> std)
    {
        fixed (float* m = mean)
        fixed (float* s = std)
        {
            Check(F.ModelGetNormalization(model, m, s, Math.Min(mean.Length, std.Length)), model);
        }
    }

    public static void SetLearningRate(long model, double learningRate) => Check(F.ModelSetLearningRate(model, learningRate), model);

    public static long GetStep(long model)
    {
        var step = F.ModelStep(model);
        if (step < 0)
        {
            throw LastError(F.LastStatus(), model);
        }

        return step;
    }

    public static long ParameterCount(long model)
    {
        long count;
        Check(F.ModelParameterCount(model, &count), model);
        return count;
    }

    public static float TrainStep(long model, in NativeBatch batch)
    {
        float loss;
        fixed (NativeBatch* b = &batch)
        {
            Check(F.ModelTrainStep(model, b, &loss), model);
        }

        return loss;
    }

    public static void Embed(long model, in NativeBatch batch, Span<float> output)
    {
        fixed (NativeBatch* b = &batch)
        fixed (float* o = output)
        {
            Check(F.ModelEmbed(model, b, o, output.Length), model);
        }
    }

    public static void EmbedPixels(long model, in NativeBatch batch, Span<float> output)
    {
        fixed (NativeBatch* b = &batch)
        fixed (float* o = output)
        {
            Check(F.ModelEmbedPixels(model, b, o, output.Length), model);
        }
    }

    public static void Save(long model, string checkpoint, string? optimizer)
    {
        fixed (byte* c = Utf8(checkpoint))
        fixed (byte* o = optimizer is null ? null : Utf8(optimizer))
        {
            Check(F.ModelSave(model, c, o), checkpoint);
        }
    }

    internal static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text + "\0");

    internal static void Check(int status, object? target)
    {
        if (status != Ok)
        {
            throw LastError(status, target);
        }
    }

    // Must run on the thread that made the failing call: the native error slot is per thread.
    internal static DeepSentinelException LastError(int status, object? target)
    {
        var message = Marshal.PtrToStringUTF8(F.LastError()) ?? "the training engine failed without a message";
        var text = char.ToUpperInvariant(message[0]) + message[1..] + (message.EndsWith('.') ? string.Empty : ".");
        return status switch
        {
            InvalidArgument => new DeepSentinelException(ErrorIds.TrainingInputInvalid, ErrorKind.InvalidArgument, text, target),
            InvalidHandle => new DeepSentinelException(ErrorIds.ModelHandleInvalid, ErrorKind.InvalidArgument, text, target),
            IoError => new DeepSentinelException(ErrorIds.ModelNotFound, ErrorKind.ObjectNotFound, text, target),
            CorruptFile => new DeepSentinelException(ErrorIds.ModelFileCorrupt, ErrorKind.InvalidData, text, target),
            DeviceUnavailable => new DeepSentinelException(ErrorIds.TrainingDeviceUnavailable, ErrorKind.ResourceUnavailable, text, target),
            _ => new DeepSentinelException(ErrorIds.TrainingFailed, ErrorKind.InvalidResult, text, target),
        };
    }

    private sealed class Api
    {
        public readonly delegate* unmanaged<nint> Version;
        public readonly delegate* unmanaged<nint> LastError;
        public readonly delegate* unmanaged<int> LastStatus;
        public readonly delegate* unmanaged<int, int> SetNumThreads;
        public readonly delegate* unmanaged<int> GetNumThreads;
        public readonly delegate* unmanaged<int> CudaDeviceCount;
        public readonly delegate* unmanaged<long, int> SetCpuCacheLimit;
        public readonly delegate* unmanaged<NativeCacheStats*, int> CpuCacheStats;
        public readonly delegate* unmanaged<double*, double*, double*, int> SelfTestAugment;
        public readonly delegate* unmanaged<double*, double*, long*, int> SelfTestAdamW;
        public readonly delegate* unmanaged<NativeModelConfig*, long> ModelCreate;
        public readonly delegate* unmanaged<byte*, byte*, int, long> ModelLoad;
        public readonly delegate* unmanaged<long, int> ModelFree;
        public readonly delegate* unmanaged<long, NativeModelConfig*, int> ModelGetConfig;
        public readonly delegate* unmanaged<long, float*, float*, int, int> ModelSetNormalization;
        public readonly delegate* unmanaged<long, float*, float*, int, int> ModelGetNormalization;
        public readonly delegate* unmanaged<long, double, int> ModelSetLearningRate;
        public readonly delegate* unmanaged<long, long> ModelStep;
        public readonly delegate* unmanaged<long, long*, int> ModelParameterCount;
        public readonly delegate* unmanaged<long, NativeBatch*, float*, int> ModelTrainStep;
        public readonly delegate* unmanaged<long, NativeBatch*, float*, long, int> ModelEmbed;
        public readonly delegate* unmanaged<long, NativeBatch*, float*, long, int> ModelEmbedPixels;
        public readonly delegate* unmanaged<long, byte*, byte*, int> ModelSave;

        public Api(nint library)
        {
            var abi = (delegate* unmanaged<int>)TorchLibrary.Export(library, "dst_abi_version");
            if (abi() != AbiVersion)
            {
                throw new DeepSentinelException(ErrorIds.TrainingEngineUnavailable, ErrorKind.ResourceUnavailable,
                    $"{TorchLibrary.FileName} has ABI version {abi()}, this module needs {AbiVersion}: rebuild it with ./build.sh.", TorchLibrary.FileName);
            }

            Version = (delegate* unmanaged<nint>)TorchLibrary.Export(library, "dst_version");
            LastError = (delegate* unmanaged<nint>)TorchLibrary.Export(library, "dst_last_error");
            LastStatus = (delegate* unmanaged<int>)TorchLibrary.Export(library, "dst_last_status");
            SetNumThreads = (delegate* unmanaged<int, int>)TorchLibrary.Export(library, "dst_set_num_threads");
            GetNumThreads = (delegate* unmanaged<int>)TorchLibrary.Export(library, "dst_get_num_threads");
            CudaDeviceCount = (delegate* unmanaged<int>)TorchLibrary.Export(library, "dst_cuda_device_count");
            SetCpuCacheLimit = (delegate* unmanaged<long, int>)TorchLibrary.Export(library, "dst_set_cpu_cache_limit");
            CpuCacheStats = (delegate* unmanaged<NativeCacheStats*, int>)TorchLibrary.Export(library, "dst_cpu_cache_stats");
            SelfTestAugment = (delegate* unmanaged<double*, double*, double*, int>)TorchLibrary.Export(library, "dst_self_test_augment");
            SelfTestAdamW = (delegate* unmanaged<double*, double*, long*, int>)TorchLibrary.Export(library, "dst_self_test_adamw");
            ModelCreate = (delegate* unmanaged<NativeModelConfig*, long>)TorchLibrary.Export(library, "dst_model_create");
            ModelLoad = (delegate* unmanaged<byte*, byte*, int, long>)TorchLibrary.Export(library, "dst_model_load");
            ModelFree = (delegate* unmanaged<long, int>)TorchLibrary.Export(library, "dst_model_free");
            ModelGetConfig = (delegate* unmanaged<long, NativeModelConfig*, int>)TorchLibrary.Export(library, "dst_model_get_config");
            ModelSetNormalization = (delegate* unmanaged<long, float*, float*, int, int>)TorchLibrary.Export(library, "dst_model_set_normalization");
            ModelGetNormalization = (delegate* unmanaged<long, float*, float*, int, int>)TorchLibrary.Export(library, "dst_model_get_normalization");
            ModelSetLearningRate = (delegate* unmanaged<long, double, int>)TorchLibrary.Export(library, "dst_model_set_learning_rate");
            ModelStep = (delegate* unmanaged<long, long>)TorchLibrary.Export(library, "dst_model_step");
            ModelParameterCount = (delegate* unmanaged<long, long*, int>)TorchLibrary.Export(library, "dst_model_parameter_count");
            ModelTrainStep = (delegate* unmanaged<long, NativeBatch*, float*, int>)TorchLibrary.Export(library, "dst_model_train_step");
            ModelEmbed = (delegate* unmanaged<long, NativeBatch*, float*, long, int>)TorchLibrary.Export(library, "dst_model_embed");
            ModelEmbedPixels = (delegate* unmanaged<long, NativeBatch*, float*, long, int>)TorchLibrary.Export(library, "dst_model_embed_pixels");
            ModelSave = (delegate* unmanaged<long, byte*, byte*, int>)TorchLibrary.Export(library, "dst_model_save");
        }
    }
}
