using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Torch;

namespace DeepSentinel.Core.Training;

/// <summary>
/// A reusable batch buffer: patches are copied in, the arrays are pinned only for the length of
/// one native call, and the buffer is filled again for the next step (no per-step allocation).
/// </summary>
internal sealed class PatchBatch
{
    private readonly float[] _s2;
    private readonly float[] _s1;
    private readonly byte[] _s2Present;
    private readonly byte[] _s1Present;
    private readonly string[] _ids;
    private readonly PatchGeoreference?[] _georeferences;

    public PatchBatch(int capacity, int s2Channels, int s1Channels, int height, int width)
    {
        Capacity = capacity;
        S2Channels = s2Channels;
        S1Channels = s1Channels;
        Height = height;
        Width = width;
        _s2 = new float[(long)capacity * s2Channels * height * width];
        _s1 = new float[(long)capacity * s1Channels * height * width];
        _s2Present = new byte[capacity];
        _s1Present = new byte[capacity];
        _ids = new string[capacity];
        _georeferences = new PatchGeoreference?[capacity];
    }

    public int Capacity { get; }

    public int S2Channels { get; }

    public int S1Channels { get; }

    public int Height { get; }

    public int Width { get; }

    public int Count { get; private set; }

    public bool IsFull => Count == Capacity;

    /// <summary>Where sample <paramref name="index"/> lies, when it came from a corpus.</summary>
    public PatchGeoreference? GeoreferenceAt(int index) => _georeferences[index];

    /// <summary>The sample ids in batch order.</summary>
    public ReadOnlySpan<string> Ids => _ids.AsSpan(0, Count);

    /// <summary>The modalities present for sample <paramref name="index"/>.</summary>
    public string ModalitiesAt(int index) => (_s2Present[index], _s1Present[index]) switch
    {
        (1, 1) => "S2+S1",
        (1, 0) => "S2",
        _ => "S1",
    };

    /// <summary>True when the patch has data for at least one sensor this batch takes.</summary>
    public bool CanUse(TrainingPatch patch) => (S2Channels > 0 && patch.S2 is not null) || (S1Channels > 0 && patch.S1 is not null);

    public bool Fits(TrainingPatch patch) => patch.Height == Height && patch.Width == Width;

    public void Clear() => Count = 0;

    /// <summary>Copies a patch in; a modality the model does not take is ignored.</summary>
    public void Add(TrainingPatch patch)
    {
        if (IsFull)
        {
            throw new InvalidOperationException("The batch is full.");
        }

        if (!Fits(patch))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.TrainingInputInvalid,
                $"Patch '{patch.SampleId}' is {patch.Height} x {patch.Width} px; this batch takes {Height} x {Width} px patches.", patch.SampleId);
        }

        if (patch.Height % 32 != 0 || patch.Width % 32 != 0)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.TrainingInputInvalid,
                $"Patch '{patch.SampleId}' is {patch.Height} x {patch.Width} px; the encoders take patches whose sides are a multiple of 32.", patch.SampleId);
        }

        if (!CanUse(patch))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.TrainingInputInvalid,
                $"Patch '{patch.SampleId}' has {patch.Modalities} data only; the model takes {Describe(S2Channels, S1Channels)}.", patch.SampleId);
        }

        Copy(patch.S2, patch.S2Channels, S2Channels, _s2, _s2Present, "Sentinel-2", patch);
        Copy(patch.S1, patch.S1Channels, S1Channels, _s1, _s1Present, "Sentinel-1", patch);
        _ids[Count] = patch.SampleId;
        _georeferences[Count] = patch.Georeference;
        Count++;
    }

    /// <summary>Runs <paramref name="call"/> with the buffers pinned and described as a dst_batch.</summary>
    public unsafe T WithNative<T>(Func<NativeBatch, T> call)
    {
        var plane = (long)Height * Width;
        var anyS2 = S2Channels > 0 && _s2Present.AsSpan(0, Count).Contains((byte)1);
        var anyS1 = S1Channels > 0 && _s1Present.AsSpan(0, Count).Contains((byte)1);
        fixed (float* s2 = _s2)
        fixed (float* s1 = _s1)
        fixed (byte* s2Present = _s2Present)
        fixed (byte* s1Present = _s1Present)
        {
            var native = new NativeBatch
            {
                StructSize = sizeof(NativeBatch),
                Batch = Count,
                Height = Height,
                Width = Width,
                S2Channels = S2Channels,
                S1Channels = S1Channels,
                S2 = anyS2 ? s2 : null,
                S2Length = anyS2 ? Count * S2Channels * plane : 0,
                S1 = anyS1 ? s1 : null,
                S1Length = anyS1 ? Count * S1Channels * plane : 0,
                S2Present = s2Present,
                S1Present = s1Present,
            };
            return call(native);
        }
    }

    private void Copy(float[]? source, int sourceChannels, int channels, float[] target, byte[] present, string sensor, TrainingPatch patch)
    {
        if (channels == 0)
        {
            return;
        }

        if (source is null)
        {
            present[Count] = 0;
            return;
        }

        if (sourceChannels != channels)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.TrainingInputInvalid,
                $"Patch '{patch.SampleId}' has {sourceChannels} {sensor} bands; the model takes {channels}.", patch.SampleId);
        }

        source.AsSpan().CopyTo(target.AsSpan(Count * source.Length, source.Length));
        present[Count] = 1;
    }

    private static string Describe(int s2, int s1) => (s2, s1) switch
    {
        ( > 0, > 0) => "Sentinel-2 and Sentinel-1",
        ( > 0, _) => "Sentinel-2",
        _ => "Sentinel-1",
    };
}
