using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Interop.Torch;

/// <summary>
/// A classification head on a model's encoder (dst_classifier_*): train steps with class targets,
/// class probabilities, and checkpoints (the encoder as a model checkpoint, the head beside it).
/// </summary>
internal sealed class TorchClassifier : TorchHead
{
    private TorchClassifier(long id, int classes, bool multiLabel)
        : base(id, classes, TorchNative.ClassifierHead, "classifier") => MultiLabel = multiLabel;

    public bool MultiLabel { get; }

    /// <summary>A head on <paramref name="encoder"/>'s encoder; the model may be disposed afterwards (the classifier keeps the encoder).</summary>
    public static TorchClassifier Create(TorchModel encoder, in NativeClassifierConfig config)
    {
        var id = TorchNative.ClassifierCreate(encoder.RawHandle, config);
        return new TorchClassifier(id, config.Classes, config.MultiLabel == 1);
    }

    // Target buffers may be longer than one batch needs (they are reused); shorter ones go to the engine to be refused.
    public float TrainStep(PatchBatch batch, float[] targets) => Use(id => batch.WithNative(native =>
    {
        var needed = MultiLabel ? batch.Count * Classes : batch.Count;
        return TorchNative.ClassifierTrainStep(id, native, targets.Length > needed ? targets.AsSpan(0, needed) : targets);
    }));

    /// <summary>Random flips and quarter turns of each training sample (off by default).</summary>
    public void SetAugmentation(bool flipsRotations) => Use(id =>
    {
        TorchNative.ClassifierSetAugmentation(id, flipsRotations);
        return 0;
    });

    private protected override int OutputsPerSample(PatchBatch batch) => Classes;
}
