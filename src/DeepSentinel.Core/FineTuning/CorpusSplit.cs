using System.Globalization;

namespace DeepSentinel.Core.FineTuning;

/// <summary>What a spatial block of a split is: neighbouring patches share content, so they go to the same side.</summary>
public enum SplitBlocking
{
    /// <summary>Square cells of <see cref="CorpusSplitOptions.BlockSize"/> metres in each patch's projected CRS (default).</summary>
    Grid,

    /// <summary>The Sentinel-2 MGRS tile (about 110 km): whole tiles train or test.</summary>
    MgrsTile,

    /// <summary>No blocking: every sample is its own block (a random split; it leaks between overlapping neighbours).</summary>
    Sample,
}

/// <summary>How to split a labelled corpus (Split-LabelledCorpus).</summary>
public sealed record CorpusSplitOptions
{
    /// <summary>Share of the (not held-out) samples that go to training; the rest is held out for testing.</summary>
    public double TrainFraction { get; init; } = 0.7;

    /// <summary>The seed of the block order: the same seed, samples and options give the same split.</summary>
    public int Seed { get; init; }

    /// <summary>What a block is.</summary>
    public SplitBlocking BlockBy { get; init; } = SplitBlocking.Grid;

    /// <summary>Side of a grid block, metres (<see cref="SplitBlocking.Grid"/>); default 10 km, about four patches.</summary>
    public double BlockSize { get; init; } = 10_000;

    /// <summary>The CLC level (1, 2, 3) classes are taken at, for held-out classes and the class counts.</summary>
    public int ClcLevel { get; init; } = 3;

    /// <summary>Classes (CLC codes at <see cref="ClcLevel"/>, or dataset class names) whose samples all go to the test side.</summary>
    public IReadOnlyList<string> HoldOutClasses { get; init; } = [];
}

/// <summary>Samples of one class on each side of a split.</summary>
/// <param name="Class">The class key (CLC code at the split's level, or a dataset class name).</param>
/// <param name="Name">Its name (the CLC legend's, or the key).</param>
/// <param name="Train">Training samples whose dominant class it is.</param>
/// <param name="Test">Test samples whose dominant class it is.</param>
/// <param name="HeldOut">True when the class was held out of training.</param>
public sealed record SplitClassCount(string Class, string Name, int Train, int Test, bool HeldOut);

/// <summary>
/// A train/test split of labelled samples: what Split-LabelledCorpus writes and the fine-tuning
/// and evaluation cmdlets take. The samples keep their input order on each side; the id lists
/// can be saved as split files (one id per line) and read back with -TrainIdFile/-TestIdFile.
/// </summary>
public sealed class CorpusSplit
{
    internal CorpusSplit(IReadOnlyList<LabelledSample> train, IReadOnlyList<LabelledSample> test, IReadOnlyList<string> unlabelled, int blocks, CorpusSplitOptions options, string source)
    {
        Train = train;
        Test = test;
        Unlabelled = unlabelled;
        Blocks = blocks;
        Options = options;
        Source = source;
        var held = options.HoldOutClasses.ToHashSet(StringComparer.Ordinal);
        ClassCounts = train.Concat(test).Select(s => s.DominantClass!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(c => new SplitClassCount(c, LabelledSample.ClassName(c), train.Count(s => s.DominantClass == c), test.Count(s => s.DominantClass == c), held.Contains(c)))
            .ToList();
    }

    /// <summary>Samples to fine-tune on.</summary>
    public IReadOnlyList<LabelledSample> Train { get; }

    /// <summary>Samples held out for evaluation (including every sample of a held-out class).</summary>
    public IReadOnlyList<LabelledSample> Test { get; }

    /// <summary>Ids of input samples left out because they have no label.</summary>
    public IReadOnlyList<string> Unlabelled { get; }

    /// <summary>Training sample ids, in order (a split file: <c>$split.TrainIds | Set-Content train.txt</c>).</summary>
    public IReadOnlyList<string> TrainIds => Train.Select(s => s.Id).ToList();

    /// <summary>Test sample ids, in order.</summary>
    public IReadOnlyList<string> TestIds => Test.Select(s => s.Id).ToList();

    /// <summary>Number of training samples.</summary>
    public int TrainCount => Train.Count;

    /// <summary>Number of test samples.</summary>
    public int TestCount => Test.Count;

    /// <summary>The training share actually reached (blocks are not divisible).</summary>
    public double ActualTrainFraction => Train.Count + Test.Count == 0 ? 0 : (double)Train.Count / (Train.Count + Test.Count);

    /// <summary>Spatial blocks the samples fell into (0 for a split read from files).</summary>
    public int Blocks { get; }

    /// <summary>Samples per class on each side.</summary>
    public IReadOnlyList<SplitClassCount> ClassCounts { get; }

    /// <summary>The options the split was made with.</summary>
    public CorpusSplitOptions Options { get; }

    /// <summary>"seed 1, grid 10000 m blocks" or "files train.txt, test.txt".</summary>
    public string Source { get; }

    /// <summary>The seed.</summary>
    public int Seed => Options.Seed;

    /// <summary>What a block is.</summary>
    public SplitBlocking BlockBy => Options.BlockBy;

    /// <summary>The CLC level of the class counts.</summary>
    public int ClcLevel => Options.ClcLevel;

    /// <summary>The held-out classes, comma-separated, as the default table shows them.</summary>
    public string DisplayHeldOut => string.Join(", ", Options.HoldOutClasses);

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{TrainCount} train / {TestCount} test ({Source})");
}
