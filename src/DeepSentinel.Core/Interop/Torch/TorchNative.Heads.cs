namespace DeepSentinel.Core.Interop.Torch;

/// <summary>
/// The calls every fine-tuning head kind exports under its prefix (dst_classifier_*,
/// dst_segmenter_*: free, class weights, predict, step, save, load head, optimizer state), bound
/// once per kind; the kinds' own calls (create, train step) stay with them.
/// </summary>
internal static unsafe partial class TorchNative
{
    private static readonly Lazy<HeadApi> ClassifierHeadFunctions = new(() => BindHead("dst_classifier"), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<HeadApi> SegmenterHeadFunctions = new(() => BindHead("dst_segmenter"), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The shared calls of classifier handles.</summary>
    public static HeadApi ClassifierHead => ClassifierHeadFunctions.Value;

    /// <summary>The shared calls of segmenter handles.</summary>
    public static HeadApi SegmenterHead => SegmenterHeadFunctions.Value;

    // The core Api first, so that its ABI version check has run before any head call is bound.
    private static HeadApi BindHead(string prefix)
    {
        ArgumentNullException.ThrowIfNull(F);
        return new HeadApi(TorchLibrary.Handle, prefix);
    }

    /// <summary>One head kind's shared calls; each throws the engine's error as a DeepSentinelException.</summary>
    internal sealed class HeadApi
    {
        private readonly delegate* unmanaged<long, int> _free;
        private readonly delegate* unmanaged<long, float*, int, int> _setClassWeights;
        private readonly delegate* unmanaged<long, NativeBatch*, float*, long, int> _predict;
        private readonly delegate* unmanaged<long, long> _step;
        private readonly delegate* unmanaged<long, byte*, byte*, int> _save;
        private readonly delegate* unmanaged<long, byte*, int> _loadHead;
        private readonly delegate* unmanaged<long, byte*, int> _saveOptimizer;
        private readonly delegate* unmanaged<long, byte*, int> _loadOptimizer;

        public HeadApi(nint library, string prefix)
        {
            _free = (delegate* unmanaged<long, int>)TorchLibrary.Export(library, prefix + "_free");
            _setClassWeights = (delegate* unmanaged<long, float*, int, int>)TorchLibrary.Export(library, prefix + "_set_class_weights");
            _predict = (delegate* unmanaged<long, NativeBatch*, float*, long, int>)TorchLibrary.Export(library, prefix + "_predict");
            _step = (delegate* unmanaged<long, long>)TorchLibrary.Export(library, prefix + "_step");
            _save = (delegate* unmanaged<long, byte*, byte*, int>)TorchLibrary.Export(library, prefix + "_save");
            _loadHead = (delegate* unmanaged<long, byte*, int>)TorchLibrary.Export(library, prefix + "_load_head");
            _saveOptimizer = (delegate* unmanaged<long, byte*, int>)TorchLibrary.Export(library, prefix + "_save_optimizer");
            _loadOptimizer = (delegate* unmanaged<long, byte*, int>)TorchLibrary.Export(library, prefix + "_load_optimizer");
        }

        public void Free(long head) => Check(_free(head), head);

        public void SetClassWeights(long head, ReadOnlySpan<float> weights)
        {
            fixed (float* w = weights)
            {
                Check(_setClassWeights(head, w, weights.Length), head);
            }
        }

        public void Predict(long head, in NativeBatch batch, Span<float> probabilities)
        {
            fixed (NativeBatch* b = &batch)
            fixed (float* p = probabilities)
            {
                Check(_predict(head, b, p, probabilities.Length), head);
            }
        }

        public long Step(long head)
        {
            var step = _step(head);
            if (step < 0)
            {
                throw LastError(F.LastStatus(), head);
            }

            return step;
        }

        public void Save(long head, string encoderPath, string headPath)
        {
            fixed (byte* e = Utf8(encoderPath))
            fixed (byte* h = Utf8(headPath))
            {
                Check(_save(head, e, h), headPath);
            }
        }

        public void LoadHead(long head, string headPath)
        {
            fixed (byte* h = Utf8(headPath))
            {
                Check(_loadHead(head, h), headPath);
            }
        }

        public void SaveOptimizer(long head, string path)
        {
            fixed (byte* p = Utf8(path))
            {
                Check(_saveOptimizer(head, p), path);
            }
        }

        public void LoadOptimizer(long head, string path)
        {
            fixed (byte* p = Utf8(path))
            {
                Check(_loadOptimizer(head, p), path);
            }
        }
    }
}
