using System.Globalization;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.FineTuning;

/// <summary>
/// Splits labelled samples into training and test sets the way the DeepSentinel protocol asks:
/// deterministic by seed, spatially blocked (neighbouring patches overlap in content, so a random
/// split would leak), optionally holding whole classes out of training; or from split files of
/// sample ids (torchgeo's EuroSAT split files have this form).
/// </summary>
public static class SplitService
{
    /// <summary>Splits <paramref name="patches"/>; samples without a label are left out with a warning.</summary>
    public static CorpusSplit Split(IEnumerable<ITrainingPatchProvider> patches, CorpusSplitOptions options, IOperationReporter reporter)
    {
        ArgumentNullException.ThrowIfNull(patches);
        ArgumentNullException.ThrowIfNull(options);
        reporter ??= NullReporter.Instance;
        Validate(options);
        var (samples, unlabelled) = Label(patches, options.ClcLevel, reporter);
        var held = options.HoldOutClasses.ToHashSet(StringComparer.Ordinal);
        foreach (var c in held.Where(c => samples.All(s => s.DominantClass != c)).Order(StringComparer.Ordinal))
        {
            reporter.Warning($"No sample's dominant class at CLC level {options.ClcLevel} is '{c}' ({LabelledSample.ClassName(c)}): there is nothing to hold out for it. Classes present: {string.Join(", ", samples.Select(s => s.DominantClass).Distinct().Order(StringComparer.Ordinal))}.");
        }

        // Samples the blocking cannot place (images without georeferencing, for example) fall back
        // to blocks of their own, as -BlockBy Sample; the user is told, since neighbours may then leak.
        var unplaced = options.BlockBy switch
        {
            SplitBlocking.Grid => samples.Where(s => s.X is null || s.Y is null || s.Crs is null).ToList(),
            SplitBlocking.MgrsTile => samples.Where(s => s.Tile is not { Length: > 0 }).ToList(),
            _ => [],
        };
        if (unplaced.Count > 0)
        {
            reporter.Warning(string.Create(CultureInfo.InvariantCulture,
                $"{unplaced.Count} of {samples.Count} sample(s) have no {(options.BlockBy == SplitBlocking.Grid ? "location in a projected CRS in metres (JPEG/PNG images, GeoTIFFs without a geotransform or with a geographic CRS)" : "MGRS tile (dataset images)")} (first: {string.Join(", ", unplaced.Take(3).Select(s => s.Id))}): each is a block of its own, as with -BlockBy Sample, so overlapping neighbours among them may fall on both sides. Give georeferenced GeoTIFFs, or -BlockBy Sample to make the random split explicit."));
        }

        var heldOut = samples.Where(s => held.Contains(s.DominantClass!)).ToHashSet();
        var blocks = samples.Where(s => !heldOut.Contains(s))
            .GroupBy(s => BlockKey(s, options), StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.ToList())
            .ToList();

        // The block order depends only on the seed and the block keys, never on input order.
        var random = new Random(StableSeed.Mix(options.Seed, 0x5e11));
        for (var i = blocks.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (blocks[i], blocks[j]) = (blocks[j], blocks[i]);
        }

        var total = blocks.Sum(b => b.Count);
        var target = options.TrainFraction * total;
        var train = new HashSet<LabelledSample>();
        var trainBlocks = new List<List<LabelledSample>>();
        var inTrain = 0;
        foreach (var block in blocks)
        {
            // A block goes to training while that brings the training share closer to the target.
            if (Math.Abs(inTrain + block.Count - target) < Math.Abs(inTrain - target) || inTrain == 0)
            {
                trainBlocks.Add(block);
                inTrain += block.Count;
            }
        }

        if (inTrain == total && heldOut.Count == 0 && trainBlocks.Count > 1)
        {
            // Every block landed in training (few, uneven blocks): the last one tests.
            inTrain -= trainBlocks[^1].Count;
            trainBlocks.RemoveAt(trainBlocks.Count - 1);
        }

        foreach (var sample in trainBlocks.SelectMany(b => b))
        {
            train.Add(sample);
        }

        var trainList = samples.Where(train.Contains).ToList();
        var testList = samples.Where(s => !train.Contains(s)).ToList();
        if (trainList.Count == 0 || testList.Count == 0)
        {
            throw new DeepSentinelException(ErrorIds.SplitEmpty, ErrorKind.InvalidArgument,
                string.Create(CultureInfo.InvariantCulture, $"The {samples.Count} labelled samples fall into {blocks.Count} block(s) ({Describe(options)}){(heldOut.Count > 0 ? $" and {heldOut.Count} held-out sample(s)" : string.Empty)}, which leaves the {(trainList.Count == 0 ? "training" : "test")} side empty. Use a smaller -BlockSize, -BlockBy Sample, or more samples."));
        }

        reporter.Verbose(string.Create(CultureInfo.InvariantCulture, $"Split {samples.Count} samples in {blocks.Count} blocks ({Describe(options)}): {trainList.Count} train, {testList.Count} test ({heldOut.Count} of them held-out classes)."));
        return new CorpusSplit(trainList, testList, unlabelled, blocks.Count, options, string.Create(CultureInfo.InvariantCulture, $"seed {options.Seed}, {Describe(options)}"));
    }

    /// <summary>
    /// A split from two files of sample ids (one per line; blank lines and lines starting with #
    /// are ignored). An id that is not among <paramref name="patches"/> is a SplitIdUnknown error
    /// naming it; an id in both files, SplitFileInvalid. Input samples in neither file are left out.
    /// </summary>
    public static CorpusSplit FromFiles(IEnumerable<ITrainingPatchProvider> patches, string trainFile, string testFile, int clcLevel, IOperationReporter reporter)
    {
        ArgumentNullException.ThrowIfNull(patches);
        reporter ??= NullReporter.Instance;
        var options = new CorpusSplitOptions { ClcLevel = clcLevel, BlockBy = SplitBlocking.Sample };
        Validate(options);
        var trainIds = ReadIdFile(trainFile);
        var testIds = ReadIdFile(testFile);
        var both = trainIds.Intersect(testIds, StringComparer.Ordinal).ToList();
        if (both.Count > 0)
        {
            throw new DeepSentinelException(ErrorIds.SplitFileInvalid, ErrorKind.InvalidData,
                $"{both.Count} sample id(s) are in both {trainFile} and {testFile} (first: {string.Join(", ", both.Take(5))}): a sample cannot train and test.", trainFile);
        }

        var (samples, unlabelled) = Label(patches, clcLevel, reporter);
        var byId = samples.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var unlabelledSet = unlabelled.ToHashSet(StringComparer.Ordinal);
        foreach (var (file, ids) in new[] { (trainFile, trainIds), (testFile, testIds) })
        {
            var unknown = ids.Where(id => !byId.ContainsKey(id) && !unlabelledSet.Contains(id)).ToList();
            if (unknown.Count > 0)
            {
                throw new DeepSentinelException(ErrorIds.SplitIdUnknown, ErrorKind.ObjectNotFound,
                    $"{file} names {unknown.Count} sample id(s) that are not among the {byId.Count + unlabelledSet.Count} input samples (first: {string.Join(", ", unknown.Take(5))}). Check that the file belongs to this corpus or dataset.", unknown[0]);
            }
        }

        var inFiles = trainIds.Concat(testIds).ToHashSet(StringComparer.Ordinal);
        var outside = samples.Count(s => !inFiles.Contains(s.Id));
        if (outside > 0)
        {
            reporter.Warning($"{outside} labelled input sample(s) are in neither {Path.GetFileName(trainFile)} nor {Path.GetFileName(testFile)}: they are left out of the split.");
        }

        var trainSet = trainIds.ToHashSet(StringComparer.Ordinal);
        var testSet = testIds.ToHashSet(StringComparer.Ordinal);
        var train = samples.Where(s => trainSet.Contains(s.Id)).ToList();
        var test = samples.Where(s => testSet.Contains(s.Id)).ToList();
        if (train.Count == 0 || test.Count == 0)
        {
            throw new DeepSentinelException(ErrorIds.SplitEmpty, ErrorKind.InvalidArgument,
                $"The split files leave the {(train.Count == 0 ? "training" : "test")} side without a labelled sample ({trainFile}: {train.Count}, {testFile}: {test.Count}).", train.Count == 0 ? trainFile : testFile);
        }

        return new CorpusSplit(train, test, unlabelled, 0, options, $"files {Path.GetFileName(trainFile)}, {Path.GetFileName(testFile)}");
    }

    private static List<string> ReadIdFile(string file)
    {
        ArgumentException.ThrowIfNullOrEmpty(file);
        string[] lines;
        try
        {
            lines = File.ReadAllLines(file);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DeepSentinelException(ErrorIds.SplitFileInvalid, ErrorKind.ObjectNotFound, $"The split file {file} does not exist.", file, ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DeepSentinelException(ErrorIds.SplitFileInvalid, ErrorKind.InvalidData, $"The split file {file} cannot be read: {ex.Message}", file, ex);
        }

        var ids = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            // torchgeo's EuroSAT split files list file names (AnnualCrop_1.jpg); the id is the name without extension.
            var id = Path.GetFileNameWithoutExtension(line.Replace('\\', '/').Split('/')[^1]);
            if (seen.Add(id))
            {
                ids.Add(id);
            }
        }

        if (ids.Count == 0)
        {
            throw new DeepSentinelException(ErrorIds.SplitFileInvalid, ErrorKind.InvalidData, $"The split file {file} lists no sample ids (one id per line is expected).", file);
        }

        return ids;
    }

    private static (List<LabelledSample> Samples, List<string> Unlabelled) Label(IEnumerable<ITrainingPatchProvider> patches, int level, IOperationReporter reporter)
    {
        var samples = new List<LabelledSample>();
        var unlabelled = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var duplicates = 0;
        foreach (var patch in patches)
        {
            if (!seen.Add(patch.SampleId))
            {
                duplicates++;
                continue;
            }

            if (LabelledSample.Resolve(patch, level) is { } labelled)
            {
                samples.Add(labelled);
            }
            else
            {
                unlabelled.Add(patch.SampleId);
            }
        }

        if (duplicates > 0)
        {
            reporter.Warning($"{duplicates} sample(s) came more than once; each is used once.");
        }

        if (unlabelled.Count > 0)
        {
            reporter.Warning($"{unlabelled.Count} of {seen.Count} sample(s) have no class label and are left out (first: {string.Join(", ", unlabelled.Take(3))}). Label them with Add-CorineLabel.");
        }

        if (samples.Count == 0)
        {
            throw new DeepSentinelException(ErrorIds.CorpusEmpty, ErrorKind.InvalidData,
                seen.Count == 0 ? "No samples came in: nothing to split." : $"None of the {seen.Count} sample(s) has a class label: run Add-CorineLabel on the corpus first.");
        }

        return (samples, unlabelled);
    }

    private static string BlockKey(LabelledSample s, CorpusSplitOptions options) => options.BlockBy switch
    {
        SplitBlocking.Grid when s is { Crs: { } crs, X: { } x, Y: { } y } =>
            string.Create(CultureInfo.InvariantCulture, $"{crs}/{Math.Floor(x / options.BlockSize)}/{Math.Floor(y / options.BlockSize)}"),
        SplitBlocking.MgrsTile when s.Tile is { Length: > 0 } tile => "tile/" + tile,
        // Samples without a location or tile are blocks of their own.
        _ => "sample/" + s.Id,
    };

    private static string Describe(CorpusSplitOptions o) => o.BlockBy switch
    {
        SplitBlocking.Grid => string.Create(CultureInfo.InvariantCulture, $"grid blocks of {o.BlockSize:0.###} m"),
        SplitBlocking.MgrsTile => "MGRS tile blocks",
        _ => "no blocking",
    };

    private static void Validate(CorpusSplitOptions o)
    {
        if (o.TrainFraction is <= 0 or >= 1 || double.IsNaN(o.TrainFraction))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, string.Create(CultureInfo.InvariantCulture, $"TrainFraction must be between 0 and 1 (exclusive), got {o.TrainFraction}."));
        }

        if (!(o.BlockSize > 0) || double.IsInfinity(o.BlockSize))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, string.Create(CultureInfo.InvariantCulture, $"BlockSize must be a positive number of metres, got {o.BlockSize}."));
        }

        if (o.ClcLevel is < 1 or > 3)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, string.Create(CultureInfo.InvariantCulture, $"ClcLevel must be 1, 2 or 3, got {o.ClcLevel}."));
        }
    }
}
