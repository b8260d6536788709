using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Tests.Training;

public sealed class StableSeedTests
{
    [Fact]
    public void Derived_seeds_are_fixed_values_not_per_process_hashes()
    {
        // Fixed expectations: a per-process randomised hash (HashCode.Combine) could not pass this
        // in a second process, and a seed that does not reproduce a run across processes is no seed.
        Assert.Equal(StableSeed.Mix(7, 3), StableSeed.Mix(7, 3));
        Assert.NotEqual(StableSeed.Mix(7, 3), StableSeed.Mix(7, 4));
        Assert.NotEqual(StableSeed.Mix(7, 3), StableSeed.Mix(8, 3));
        Assert.Equal(1964778764, StableSeed.Mix(7, 3));
        Assert.InRange(StableSeed.Mix(-1, long.MaxValue), 0, int.MaxValue);
    }

    [Fact]
    public void The_synthetic_corpus_is_the_same_for_a_seed()
    {
        var a = new SyntheticPatchSource(4, 32, seed: 9).Create(2);
        var b = new SyntheticPatchSource(4, 32, seed: 9).Create(2);

        Assert.Equal(a.S2, b.S2);
        Assert.Equal(a.S1, b.S1);
        // A fixed pixel value: the same in every process (System.Random with a seed is stable).
        Assert.Equal(387.092896f, a.S2![100], 3);
    }
}
