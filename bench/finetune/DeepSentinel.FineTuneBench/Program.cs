// One fine-tuning step of a ResNet-18 patch classifier (batch 32, 13 x 64 x 64, 10 classes, the
// whole network trained, weighted cross-entropy, AdamW with a head and an encoder group, random
// flips and quarter turns), on the engine path Start-FineTuning runs: a PatchBatch filled from
// TrainingPatch objects, handed to the classifier handle. For bench/finetune/run.sh to compare
// with python_baseline.py. Prints one JSON object.
//   DeepSentinel.FineTuneBench <threads> <steps> [--no-augment]
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DeepSentinel.Core.Interop.Torch;
using DeepSentinel.Core.Training;

const int Batch = 32, Size = 64, Bands = 13, Classes = 10, Warmup = 3;
var threads = int.Parse(args[0], CultureInfo.InvariantCulture);
var steps = int.Parse(args[1], CultureInfo.InvariantCulture);
var augment = !args.Contains("--no-augment");

TorchNative.EnsureLoaded();
TorchNative.SetThreads(threads);

// Like the Python baseline: 64 patches made once and replayed, two batches in turn.
var random = new Random(1);
var patches = Enumerable.Range(0, 2 * Batch).Select(i =>
{
    var s2 = new float[Bands * Size * Size];
    for (var k = 0; k < s2.Length; k++)
    {
        s2[k] = (float)((random.NextDouble() * 2) - 1);
    }

    return new TrainingPatch($"p{i}", Size, Size, s2, null);
}).ToArray();
var targets = Enumerable.Range(0, 2 * Batch).Select(i => (float)(i % Classes)).ToArray();

var config = NativeModelConfig.Create();
config.Encoder = (int)EncoderKind.ResNet18;
config.Method = (int)PretrainingMethod.SimClr;
config.S2Channels = Bands;
config.S1Channels = 0;
config.EmbeddingDim = 128;
config.ProjectionDim = 16;
config.UNetWidth = 32;
config.Seed = 1;
config.LearningRate = 1e-3;
config.WeightDecay = 1e-4;
config.Temperature = 0.2;
config.TripletMargin = 1;
using var encoder = TorchModel.Create(config);
var head = NativeClassifierConfig.Create();
head.Classes = Classes;
head.Seed = 1;
head.HeadLearningRate = 1e-3;
head.EncoderLearningRate = 1e-4;
head.WeightDecay = 1e-4;
using var classifier = TorchClassifier.Create(encoder, head);
classifier.SetClassWeights(Enumerable.Range(0, Classes).Select(c => 0.5f + (0.1f * c)).ToArray());
classifier.SetAugmentation(augment);

var batch = new PatchBatch(Batch, Bands, 0, Size, Size);
var stepTarget = new float[Batch];
var process = Process.GetCurrentProcess();
var clock = new Stopwatch();
var cpuAtStart = TimeSpan.Zero;
var workingSet = new List<long>();
var stepSeconds = new List<double>();
float loss = 0;
for (var step = 0; step < Warmup + steps; step++)
{
    if (step == Warmup)
    {
        clock.Start();
        process.Refresh();
        cpuAtStart = process.TotalProcessorTime;
    }

    var t0 = clock.Elapsed;
    var first = (step % 2) * Batch;
    batch.Clear();
    for (var i = 0; i < Batch; i++)
    {
        batch.Add(patches[first + i]);
        stepTarget[i] = targets[first + i];
    }

    loss = classifier.TrainStep(batch, stepTarget);
    if (step >= Warmup)
    {
        stepSeconds.Add((clock.Elapsed - t0).TotalSeconds);
        process.Refresh();
        workingSet.Add(process.WorkingSet64 / (1024 * 1024));
    }
}

clock.Stop();
process.Refresh();
var cpu = (process.TotalProcessorTime - cpuAtStart).TotalSeconds;
stepSeconds.Sort();
Console.WriteLine(JsonSerializer.Serialize(new
{
    side = "module",
    threads,
    augment,
    steps_measured = steps,
    images_per_second = Math.Round(Batch * steps / clock.Elapsed.TotalSeconds, 2),
    images_per_cpu_second = Math.Round(Batch * steps / cpu, 3),
    median_step_seconds = Math.Round(stepSeconds[stepSeconds.Count / 2], 4),
    rss_mb_first = workingSet[0],
    rss_mb_last = workingSet[^1],
    rss_mb_max = workingSet.Max(),
    peak_rss_mb = process.PeakWorkingSet64 / (1024 * 1024),
    final_loss = Math.Round(loss, 4),
}));
