namespace DeepSentinel.Core.Interop.Torch;

/// <summary>The fine-tuning robustness call of the C ABI (issue 14) only classifiers have: the augmentation switch (the optimizer state is <see cref="HeadApi"/>'s).</summary>
internal static unsafe partial class TorchNative
{
    private static readonly Lazy<RobustClassifierApi> RobustClassifierFunctions = new(() => new RobustClassifierApi(TorchLibrary.Handle, F), LazyThreadSafetyMode.ExecutionAndPublication);

    public static void ClassifierSetAugmentation(long classifier, bool flipsRotations) =>
        Check(RobustClassifierFunctions.Value.SetAugmentation(classifier, flipsRotations ? 1 : 0), classifier);

    private sealed class RobustClassifierApi
    {
        public readonly delegate* unmanaged<long, int, int> SetAugmentation;

        // Takes the core Api so that its ABI version check has run first.
        public RobustClassifierApi(nint library, Api checkedCore)
        {
            ArgumentNullException.ThrowIfNull(checkedCore);
            SetAugmentation = (delegate* unmanaged<long, int, int>)TorchLibrary.Export(library, "dst_classifier_set_augmentation");
        }
    }
}
