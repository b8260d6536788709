using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.FineTuning;
using DeepSentinel.Core.Tests.Training;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Tests.FineTuning;

/// <summary>Splits: deterministic by seed, spatially blocked, held-out classes, split files and their errors.</summary>
public sealed class SplitServiceTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ds-split-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // A 10 x 10 grid of patches 2560 m apart in one UTM zone; classes by row band.
    internal static List<PatchSample> Grid(int side = 10, Func<int, int, string>? clc = null)
    {
        var samples = new List<PatchSample>();
        for (var row = 0; row < side; row++)
        {
            for (var col = 0; col < side; col++)
            {
                var s = new PatchSample
                {
                    Id = $"s{row:D2}{col:D2}",
                    Index = (row * side) + col,
                    Epsg = 32631,
                    GeoTransform = [400_000 + (col * 2560.0), 10, 0, 5_400_000 - (row * 2560.0), 0, -10],
                    Width = 256,
                    Height = 256,
                    MgrsTile = col < side / 2 ? "31UDQ" : "31UEQ",
                };
                var code = clc?.Invoke(row, col) ?? (row < 3 ? "311" : row < 6 ? "211" : "112");
                if (code.Length > 0)
                {
                    s.ClcShares[code] = 0.8;
                    s.ClcShares["512"] = 0.2;
                }

                samples.Add(s);
            }
        }

        return samples;
    }

    [Fact]
    public void Default_split_is_near_70_30_and_no_grid_block_straddles_the_sides()
    {
        var samples = Grid();
        var split = SplitService.Split(samples, new CorpusSplitOptions { Seed = 3 }, new RecordingReporter());

        Assert.Equal(100, split.TrainCount + split.TestCount);
        Assert.InRange(split.ActualTrainFraction, 0.6, 0.8);
        Assert.Equal(split.TrainIds.Count, split.TrainIds.Distinct().Count());
        Assert.Empty(split.TrainIds.Intersect(split.TestIds));
        // 10 km blocks: patch centres 2560 m apart fall 3-4 to a block side.
        Assert.InRange(split.Blocks, 9, 25);
        static string Block(LabelledSample s) => $"{Math.Floor(s.X!.Value / 10_000)}/{Math.Floor(s.Y!.Value / 10_000)}";
        var trainBlocks = split.Train.Select(Block).ToHashSet();
        Assert.DoesNotContain(split.Test, s => trainBlocks.Contains(Block(s)));
    }

    [Fact]
    public void The_same_seed_gives_the_same_split_in_any_input_order_and_another_seed_another()
    {
        var samples = Grid();
        var a = SplitService.Split(samples, new CorpusSplitOptions { Seed = 7 }, new RecordingReporter());
        var shuffled = samples.OrderBy(s => s.Id.GetHashCode(StringComparison.Ordinal)).ToList();
        var b = SplitService.Split(shuffled, new CorpusSplitOptions { Seed = 7 }, new RecordingReporter());
        var c = SplitService.Split(samples, new CorpusSplitOptions { Seed = 8 }, new RecordingReporter());

        Assert.Equal(a.TrainIds.Order(), b.TrainIds.Order());
        Assert.NotEqual(a.TrainIds.Order(), c.TrainIds.Order());
        // Each side keeps the input order.
        Assert.Equal(b.TrainIds, shuffled.Select(s => s.Id).Where(b.TrainIds.Contains));
    }

    [Fact]
    public void Blocking_by_tile_keeps_whole_tiles_and_by_sample_splits_any_sample()
    {
        var samples = Grid();
        var tiles = SplitService.Split(samples, new CorpusSplitOptions { BlockBy = SplitBlocking.MgrsTile, Seed = 1 }, new RecordingReporter());
        Assert.Equal(2, tiles.Blocks);
        Assert.Equal(50, tiles.TrainCount);
        Assert.Single(tiles.Train.Select(s => s.Tile).Distinct());

        var random = SplitService.Split(samples, new CorpusSplitOptions { BlockBy = SplitBlocking.Sample, TrainFraction = 0.7 }, new RecordingReporter());
        Assert.Equal(100, random.Blocks);
        Assert.Equal(70, random.TrainCount);
    }

    [Fact]
    public void Held_out_classes_test_only_at_the_chosen_level()
    {
        var samples = Grid();
        var split = SplitService.Split(samples, new CorpusSplitOptions { HoldOutClasses = ["3"], ClcLevel = 1, Seed = 2 }, new RecordingReporter());

        Assert.DoesNotContain(split.Train, s => s.DominantClass == "3");
        Assert.Equal(30, split.Test.Count(s => s.DominantClass == "3"));
        var forest = Assert.Single(split.ClassCounts, c => c.Class == "3");
        Assert.True(forest.HeldOut);
        Assert.Equal("Forest and semi natural areas", forest.Name);
        Assert.Equal(0, forest.Train);
        // Shares are summed to the level: 311 (0.8) + 512 (0.2) is 3 (0.8) and 5 (0.2).
        Assert.Equal(0.8, split.Test.First(s => s.DominantClass == "3").ClassShares["3"], 9);
        Assert.InRange((double)split.TrainCount / (split.TrainCount + split.Test.Count(s => s.DominantClass != "3")), 0.55, 0.85);
    }

    [Fact]
    public void Unlabelled_samples_are_left_out_with_a_warning_and_an_unknown_held_out_class_is_warned()
    {
        var samples = Grid(clc: (row, col) => row == 0 ? string.Empty : "211");
        var reporter = new RecordingReporter();
        var split = SplitService.Split(samples, new CorpusSplitOptions { HoldOutClasses = ["999"], BlockBy = SplitBlocking.Sample }, reporter);

        Assert.Equal(10, split.Unlabelled.Count);
        Assert.Equal(90, split.TrainCount + split.TestCount);
        Assert.Contains(reporter.Warnings, w => w.Contains("10 of 100 sample(s) have no class label", StringComparison.Ordinal) && w.Contains("Add-CorineLabel", StringComparison.Ordinal));
        Assert.Contains(reporter.Warnings, w => w.Contains("'999'", StringComparison.Ordinal));
    }

    [Fact]
    public void No_label_at_all_is_CorpusEmpty_and_one_block_is_SplitEmpty()
    {
        var none = Assert.Throws<DeepSentinelException>(() => SplitService.Split(Grid(clc: (_, _) => string.Empty), new CorpusSplitOptions(), new RecordingReporter()));
        Assert.Equal(ErrorIds.CorpusEmpty, none.ErrorId);
        Assert.Contains("Add-CorineLabel", none.Message, StringComparison.Ordinal);

        var one = Assert.Throws<DeepSentinelException>(() => SplitService.Split(Grid(side: 2), new CorpusSplitOptions { BlockSize = 1e6 }, new RecordingReporter()));
        Assert.Equal(ErrorIds.SplitEmpty, one.ErrorId);
        Assert.Contains("-BlockSize", one.Message, StringComparison.Ordinal);

        var bad = Assert.Throws<DeepSentinelException>(() => SplitService.Split(Grid(), new CorpusSplitOptions { TrainFraction = 1 }, new RecordingReporter()));
        Assert.Equal(ErrorIds.InvalidParameterValue, bad.ErrorId);
    }

    [Fact]
    public void Split_files_are_read_with_comments_and_file_names_and_unknown_ids_are_named()
    {
        var samples = Grid(side: 3);
        var train = Path.Combine(_folder, "train.txt");
        var test = Path.Combine(_folder, "test.txt");
        File.WriteAllLines(train, ["# training", "s0000", "s0001.tif", "folder/s0002.jpg", string.Empty, "s0100"]);
        File.WriteAllLines(test, ["s0200", "s0201"]);
        var reporter = new RecordingReporter();

        var split = SplitService.FromFiles(samples, train, test, 3, reporter);
        Assert.Equal(["s0000", "s0001", "s0002", "s0100"], split.TrainIds);
        Assert.Equal(["s0200", "s0201"], split.TestIds);
        Assert.Contains(reporter.Warnings, w => w.StartsWith("3 labelled input sample(s) are in neither", StringComparison.Ordinal));

        File.WriteAllLines(test, ["s0200", "nope_1", "nope_2"]);
        var unknown = Assert.Throws<DeepSentinelException>(() => SplitService.FromFiles(samples, train, test, 3, new RecordingReporter()));
        Assert.Equal(ErrorIds.SplitIdUnknown, unknown.ErrorId);
        Assert.Contains("2 sample id(s)", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("nope_1, nope_2", unknown.Message, StringComparison.Ordinal);

        File.WriteAllLines(test, ["s0000"]);
        Assert.Equal(ErrorIds.SplitFileInvalid, Assert.Throws<DeepSentinelException>(() => SplitService.FromFiles(samples, train, test, 3, new RecordingReporter())).ErrorId);
        var missing = Assert.Throws<DeepSentinelException>(() => SplitService.FromFiles(samples, train, Path.Combine(_folder, "none.txt"), 3, new RecordingReporter()));
        Assert.Equal(ErrorKind.ObjectNotFound, missing.Kind);
    }

    [Fact]
    public void Dataset_classes_of_labelled_patches_split_like_clc_classes()
    {
        var patches = Enumerable.Range(0, 20).Select(i => (ITrainingPatchProvider)new NamedClassPatch($"p{i}", i % 2 == 0 ? "Forest" : "River")).ToList();
        var split = SplitService.Split(patches, new CorpusSplitOptions { BlockBy = SplitBlocking.Grid, HoldOutClasses = ["River"] }, new RecordingReporter());

        // No location: every patch is its own block.
        Assert.Equal(10, split.Blocks);
        Assert.Equal(7, split.TrainCount);
        Assert.All(split.Train, s => Assert.Equal("Forest", s.DominantClass));
        Assert.Equal(13, split.TestCount);
    }

    private sealed class NamedClassPatch(string id, string name) : IClassLabelledPatch
    {
        public string SampleId => id;

        public IReadOnlyDictionary<string, double> ClassShares { get; } = new Dictionary<string, double> { [name] = 1 };

        public ValueTask<TrainingPatch> LoadTrainingPatchAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
