namespace DeepSentinel.Core.Training;

/// <summary>
/// Seeds derived from a user seed and an index that are the same in every process. (HashCode.Combine
/// is randomised per process, so a seed built with it would not reproduce a run.)
/// </summary>
internal static class StableSeed
{
    /// <summary>A SplitMix64 mix of <paramref name="seed"/> and <paramref name="index"/>, as a non-negative int.</summary>
    public static int Mix(long seed, long index)
    {
        var z = unchecked(((ulong)seed * 0x9E3779B97F4A7C15UL) ^ ((ulong)index + 0xBF58476D1CE4E5B9UL));
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }
}
