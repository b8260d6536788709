// A UNet segmentation fine-tuning step through Core's SegmentationService (what
// Start-SegmentationTraining runs), for bench/segmentation/run.sh to compare with
// python_baseline.py. Prints one JSON object.
//   DeepSentinel.SegmentationBench <threads> <steps> <batch> <size> <width> <work-folder>
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.FineTuning;
using DeepSentinel.Core.Training;

const int Warmup = 2;
var threads = int.Parse(args[0], CultureInfo.InvariantCulture);
var steps = int.Parse(args[1], CultureInfo.InvariantCulture);
var batch = int.Parse(args[2], CultureInfo.InvariantCulture);
var size = int.Parse(args[3], CultureInfo.InvariantCulture);
var width = int.Parse(args[4], CultureInfo.InvariantCulture);
var work = Path.GetFullPath(args[5]);
if (Directory.Exists(work))
{
    Directory.Delete(work, recursive: true);
}

// One epoch of Warmup + steps batches, so that the checkpoint saved after each epoch falls outside
// the timed steps (the Python side saves nothing). The samples share batch + 2 patches' pixels,
// made once, as the Python side replays its tensors; the test side is two patches so the closing
// evaluation is short.
var pixels = Enumerable.Range(0, batch + 2).Select(i => BenchPatch.Make($"b{i:D3}", size, i)).ToArray();
var trainCount = (Warmup + steps) * batch;
var patches = Enumerable.Range(0, trainCount + 2).Select(i => new BenchPatch($"s{i:D4}", size, i % pixels.Length, pixels[i % pixels.Length])).ToList();
var split = SplitService.Split(patches, new CorpusSplitOptions { BlockBy = SplitBlocking.Sample, TrainFraction = trainCount / (trainCount + 2.0), Seed = 1 }, new Probe(0));
var probe = new Probe(Warmup);
var clock = Stopwatch.StartNew();
await new SegmentationService().RunAsync(split, null, new SegmentationOptions
{
    OutputFolder = Path.Combine(work, "seg"),
    Epochs = 1,
    BatchSize = batch,
    UNetWidth = width,
    Threads = threads,
    Seed = 1,
}, probe, CancellationToken.None);
var times = probe.StepTimes;
var measured = times.Count - Warmup;
var seconds = times[^1] - times[Warmup - 1];
Console.WriteLine(JsonSerializer.Serialize(new
{
    side = "module",
    threads,
    batch,
    size,
    unet_width = width,
    train_batch = split.TrainCount,
    steps_measured = measured,
    seconds_per_step = Math.Round(seconds / measured, 4),
    patches_per_second = Math.Round(batch * measured / seconds, 3),
    peak_working_set_mb = Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024),
    working_set_mb_after_warmup = probe.AfterWarmupMb,
    working_set_mb_at_end = probe.LastMb,
    total_seconds = Math.Round(clock.Elapsed.TotalSeconds, 1),
}));

// Patch i: class k covers a vertical band of the patch and is bright in S2 band 3k; the top rows unlabelled.
sealed class BenchPatch(string id, int size, int seed, TrainingPatch pixels) : IClassLabelledPatch, IPixelLabelledPatch
{
    private readonly TrainingPatch _patch = pixels;

    public string SampleId => id;

    public IReadOnlyDictionary<string, double> ClassShares { get; } = new Dictionary<string, double> { ["c0"] = 1 };

    public ValueTask<TrainingPatch> LoadTrainingPatchAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_patch);

    public ValueTask<PixelLabelMap?> LoadPixelLabelsAsync(SegmentationLabelSource source, int clcLevel, CancellationToken cancellationToken)
    {
        var index = new int[size * size];
        for (var i = 0; i < index.Length; i++)
        {
            index[i] = i < 4 * size ? -1 : ClassAt(i % size, seed, size);
        }

        return ValueTask.FromResult<PixelLabelMap?>(new PixelLabelMap(size, size, ["c0", "c1", "c2", "c3"], index));
    }

    private static int ClassAt(int x, int seed, int size) => ((x * 4 / size) + seed) % 4;

    public static TrainingPatch Make(string id, int size, int seed)
    {
        var random = new Random(seed);
        var plane = size * size;
        var s2 = new float[12 * plane];
        var s1 = new float[2 * plane];
        for (var i = 0; i < s2.Length; i++)
        {
            s2[i] = 800 + (random.NextSingle() * 400) + (i / plane == ClassAt(i % size, seed, size) * 3 ? 2500 : 0);
        }

        for (var i = 0; i < s1.Length; i++)
        {
            s1[i] = 0.02f + (random.NextSingle() * 0.02f);
        }

        return new TrainingPatch(id, size, size, s2, s1);
    }
}

// Times every training step (one progress update each) and samples the working set.
sealed class Probe(int warmup) : IOperationReporter
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public List<double> StepTimes { get; } = [];

    public long AfterWarmupMb { get; private set; }

    public long LastMb { get; private set; }

    public void Verbose(string message)
    {
    }

    public void Warning(string message) => Console.Error.WriteLine(message);

    public void Progress(ProgressUpdate update)
    {
        if (!update.Status.StartsWith("epoch", StringComparison.Ordinal))
        {
            return;
        }

        StepTimes.Add(_clock.Elapsed.TotalSeconds);
        var mb = Environment.WorkingSet / (1024 * 1024);
        if (StepTimes.Count == warmup)
        {
            AfterWarmupMb = mb;
        }

        LastMb = mb;
    }

    public void Error(DeepSentinel.Core.Errors.DeepSentinelException error)
    {
    }
}
