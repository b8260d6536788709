// Pretraining and embedding throughput of the module's Core services (what the cmdlets run),
// for bench/run.sh to compare with bench/python_baseline.py. Prints one JSON object.
//   DeepSentinel.Bench <threads> <train-steps> <embed-batches> <work-folder> [Auto|Contiguous|ChannelsLast]
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Embeddings;
using DeepSentinel.Core.Training;

const int Batch = 32, Size = 128, Warmup = 3;
var threads = int.Parse(args[0], CultureInfo.InvariantCulture);
var steps = int.Parse(args[1], CultureInfo.InvariantCulture);
var embedBatches = int.Parse(args[2], CultureInfo.InvariantCulture);
var work = Path.GetFullPath(args[3]);
var format = args.Length > 4 ? Enum.Parse<TensorMemoryFormat>(args[4], ignoreCase: true) : TensorMemoryFormat.Auto;
if (Directory.Exists(work))
{
    Directory.Delete(work, recursive: true);
}

// Like the Python baseline, the patches are made once and replayed, so both sides measure the
// step, not the synthetic generator.
var generator = new SyntheticPatchSource(2 * Batch, Size, seed: 1);
var patches = Enumerable.Range(0, 2 * Batch).Select(generator.Create).ToArray();
var source = new ReplaySource(patches);

var memory = new MemoryProbe();
var options = new PretrainingOptions
{
    OutputFolder = Path.Combine(work, "model"),
    Method = PretrainingMethod.SimClr,
    Encoder = EncoderKind.ResNet18,
    EmbeddingDimension = 128,
    ProjectionDimension = 64,
    BatchSize = Batch,
    Epochs = 1_000_000,
    MaxSteps = Warmup + steps,
    Threads = threads,
    CheckpointInterval = 1_000_000,
    Seed = 1,
    MemoryFormat = format,
};
var model = await new PretrainingService().RunAsync(source, options, memory, CancellationToken.None);
var rows = File.ReadAllLines(Path.Combine(options.OutputFolder, "metrics.csv")).Skip(1).Select(l => l.Split(',')).ToList();
var elapsed = rows.Select(r => double.Parse(r[5], CultureInfo.InvariantCulture)).ToList();
var trainRate = Batch * steps / (elapsed[^1] - elapsed[Warmup - 1]);
var trainCpuRate = Batch * steps / memory.CpuSecondsAfterWarmup;

using var session = EmbeddingSession.Open(model, new EmbeddingOptions { Threads = threads, BatchSize = Batch });
var clock = new Stopwatch();
var cpuAtStart = TimeSpan.Zero;
for (var b = 0; b < Warmup + embedBatches; b++)
{
    if (b == Warmup)
    {
        clock.Start();
        cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
    }

    foreach (var patch in patches.Take(Batch))
    {
        session.Add(patch);
    }
}

clock.Stop();
var embedRate = Batch * embedBatches / clock.Elapsed.TotalSeconds;
var embedCpuRate = Batch * embedBatches / (Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart).TotalSeconds;
Console.WriteLine(JsonSerializer.Serialize(new
{
    side = format == TensorMemoryFormat.Auto ? "module" : $"module {format}",
    threads,
    train_images_per_second = Math.Round(trainRate, 2),
    embed_images_per_second = Math.Round(embedRate, 2),
    train_images_per_cpu_second = Math.Round(trainCpuRate, 3),
    embed_images_per_cpu_second = Math.Round(embedCpuRate, 3),
    train_steps_measured = steps,
    working_set_mb_after_warmup = memory.AfterWarmupMb,
    working_set_mb_at_end = memory.LastMb,
    final_loss = double.Parse(rows[^1][2], CultureInfo.InvariantCulture),
}));

sealed class ReplaySource(TrainingPatch[] patches) : IPatchSource
{
    public string Description => "benchmark patches";

    public async IAsyncEnumerable<TrainingPatch> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var patch in patches)
        {
            yield return patch;
        }

        await Task.CompletedTask;
    }
}

// Records the process working set during training, to show memory stays flat, and the process
// CPU time after warm-up: on a shared machine, images per CPU-second is steadier than wall time.
sealed class MemoryProbe : IOperationReporter
{
    private int _updates;
    private TimeSpan _cpuAtWarmup;

    public double CpuSecondsAfterWarmup { get; private set; }

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

        var mb = Environment.WorkingSet / (1024 * 1024);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        if (++_updates == 3)
        {
            AfterWarmupMb = mb;
            _cpuAtWarmup = cpu;
        }

        LastMb = mb;
        CpuSecondsAfterWarmup = (cpu - _cpuAtWarmup).TotalSeconds;
    }

    public void Error(DeepSentinel.Core.Errors.DeepSentinelException error)
    {
    }
}
