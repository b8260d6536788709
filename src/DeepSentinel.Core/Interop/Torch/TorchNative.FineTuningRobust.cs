namespace DeepSentinel.Core.Interop.Torch;

/// <summary>The fine-tuning robustness calls of the C ABI (issue 14): the augmentation switch and the optimizer state a resume needs.</summary>
internal static unsafe partial class TorchNative
{
    private static readonly Lazy<RobustClassifierApi> RobustClassifierFunctions = new(() => new RobustClassifierApi(TorchLibrary.Handle, F), LazyThreadSafetyMode.ExecutionAndPublication);

    public static void ClassifierSetAugmentation(long classifier, bool flipsRotations) =>
        Check(RobustClassifierFunctions.Value.SetAugmentation(classifier, flipsRotations ? 1 : 0), classifier);

    public static void ClassifierSaveOptimizer(long classifier, string path)
    {
        fixed (byte* p = Utf8(path))
        {
            Check(RobustClassifierFunctions.Value.SaveOptimizer(classifier, p), path);
        }
    }

    public static void ClassifierLoadOptimizer(long classifier, string path)
    {
        fixed (byte* p = Utf8(path))
        {
            Check(RobustClassifierFunctions.Value.LoadOptimizer(classifier, p), path);
        }
    }

    private sealed class RobustClassifierApi
    {
        public readonly delegate* unmanaged<long, int, int> SetAugmentation;
        public readonly delegate* unmanaged<long, byte*, int> SaveOptimizer;
        public readonly delegate* unmanaged<long, byte*, int> LoadOptimizer;

        // Takes the core Api so that its ABI version check has run first.
        public RobustClassifierApi(nint library, Api checkedCore)
        {
            ArgumentNullException.ThrowIfNull(checkedCore);
            SetAugmentation = (delegate* unmanaged<long, int, int>)TorchLibrary.Export(library, "dst_classifier_set_augmentation");
            SaveOptimizer = (delegate* unmanaged<long, byte*, int>)TorchLibrary.Export(library, "dst_classifier_save_optimizer");
            LoadOptimizer = (delegate* unmanaged<long, byte*, int>)TorchLibrary.Export(library, "dst_classifier_load_optimizer");
        }
    }
}
