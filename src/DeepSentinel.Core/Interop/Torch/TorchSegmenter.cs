using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Interop.Torch;

/// <summary>
/// A per-pixel classification head on a UNet model (dst_segmenter_*): train steps with per-pixel
/// class targets (-1: no label), per-pixel probabilities [count, classes, height, width], and
/// checkpoints (the UNet as a model checkpoint, the head beside it).
/// </summary>
internal sealed class TorchSegmenter : TorchHead
{
    private TorchSegmenter(long id, int classes)
        : base(id, classes, TorchNative.SegmenterHead, "segmenter")
    {
    }

    /// <summary>A head on <paramref name="model"/>'s UNet; the model may be disposed afterwards (the segmenter keeps it).</summary>
    public static TorchSegmenter Create(TorchModel model, in NativeSegmenterConfig config)
    {
        var id = TorchNative.SegmenterCreate(model.RawHandle, config);
        return new TorchSegmenter(id, config.Classes);
    }

    // Target buffers may be longer than one batch needs (they are reused).
    public float TrainStep(PatchBatch batch, int[] targets) => Use(id => batch.WithNative(native =>
    {
        var needed = batch.Count * batch.Height * batch.Width;
        return TorchNative.SegmenterTrainStep(id, native, targets.Length > needed ? targets.AsSpan(0, needed) : targets);
    }));

    private protected override int OutputsPerSample(PatchBatch batch) => Classes * batch.Height * batch.Width;
}
