// Drives the patch-sampling benchmark (bench/patch-sampling/run.sh) through the same Core services
// the cmdlets call, in a process of its own, so that its wall time and peak memory are the corpus
// builder's alone (a pwsh host would add its own).
//
//   DeepSentinel.PatchBench catalog <dest> <tileSize> <tiles> <s2PerTile> <s1Scenes>
//   DeepSentinel.PatchBench corpus <catalog> <dest> <count> <seed> <throttle (0: the default)> <start> <end> [ioConcurrency [shard shardCount]]
using System.Diagnostics;
using System.Globalization;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Demo;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Sampling;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Services;

var reporter = new ConsoleReporter(verbose: Environment.GetEnvironmentVariable("DEEPSENTINEL_VERBOSE") == "1");
try
{
    return args.FirstOrDefault() switch
    {
        "catalog" => Catalog(args[1], Int(args[2]), Int(args[3]), Int(args[4]), Int(args[5])),
        "corpus" => await Corpus(args[1], args[2], Int(args[3]), long.Parse(args[4], CultureInfo.InvariantCulture), Int(args[5]), Date(args[6]), Date(args[7]), args.Length > 8 ? Int(args[8]) : 1, args.Length > 10 ? Int(args[9]) : 0, args.Length > 10 ? Int(args[10]) : 1),
        _ => Usage(),
    };
}
catch (DeepSentinelException ex)
{
    Console.Error.WriteLine($"{ex.ErrorId}: {ex.Message}");
    return 2;
}

int Catalog(string destination, int tileSize, int tiles, int s2PerTile, int s1Scenes)
{
    var result = new DemoCatalogGenerator().Generate(new DemoCatalogOptions { Destination = destination, TileSize = tileSize, Tiles = tiles, S2ScenesPerTile = s2PerTile, S1Scenes = s1Scenes }, reporter, CancellationToken.None);
    Console.WriteLine($"catalog {result.CatalogPath} s2={result.S2Scenes} s1={result.S1Scenes} reused={result.Reused}");
    return 0;
}

async Task<int> Corpus(string catalog, string destination, int count, long seed, int throttle, DateTimeOffset start, DateTimeOffset end, int io, int shard, int shards)
{
    var request = new PatchSampleRequest
    {
        Destination = destination,
        Count = count,
        Seed = seed,
        Start = start,
        End = end,
        ThrottleLimit = throttle > 0 ? throttle : null,
        IoConcurrency = io,
        Shard = shard,
        ShardCount = shards,
        MaxCloudCover = 60,
        MaxPatchCloud = 20,
        Source = new SceneSearchRequest { Catalog = catalog },
    };
    var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
    var clock = Stopwatch.StartNew();
    var samples = new List<PatchSample>();
    var times = new List<double>();
    var service = new PatchSampleService(CoreServices.Default);
    await foreach (var sample in service.RunAsync(request, reporter, null, CancellationToken.None))
    {
        samples.Add(sample);
        times.Add(clock.Elapsed.TotalSeconds);
        Console.WriteLine($"sample {sample.Id}");
    }

    clock.Stop();
    // Figures for the benchmark: wall time and the peak resident set of this process.
    var peak = File.ReadAllLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
    var run = service.LastRun!;
    // The steady rate: samples after the first quarter over the time they took, so that start-up
    // (JIT, the catalog, first header reads) is left out; the baseline reports the same figure.
    var skip = times.Count / 4;
    var steady = times.Count - skip >= 2 && skip > 0 ? (times.Count - skip) / (times[^1] - times[skip - 1]) : double.NaN;
    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done samples={samples.Count} seconds={clock.Elapsed.TotalSeconds:0.000} peak_kb={peak} steady_per_s={steady:0.000} cpu_s={(Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart).TotalSeconds:0.000} errors={reporter.Errors} points={run.PointsTried} cog_gets={run.CogGets} cog_heads={run.CogHeads} cog_bytes={run.CogBytes}"));
    return reporter.Errors == 0 ? 0 : 1;
}

static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

static DateTimeOffset Date(string s) => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

static int Usage()
{
    Console.Error.WriteLine("usage: DeepSentinel.PatchBench catalog <dest> <tileSize> <tiles> <s2PerTile> <s1Scenes> | corpus <catalog> <dest> <count> <seed> <throttle> <start> <end>");
    return 64;
}

internal sealed class ConsoleReporter(bool verbose) : IOperationReporter
{
    private int _errors;

    public int Errors => _errors;

    public void Verbose(string message)
    {
        if (verbose)
        {
            Console.Error.WriteLine("VERBOSE: " + message);
        }
    }

    public void Warning(string message) => Console.Error.WriteLine("WARNING: " + message);

    public void Progress(ProgressUpdate update)
    {
    }

    public void Error(DeepSentinelException error)
    {
        Interlocked.Increment(ref _errors);
        Console.Error.WriteLine($"{error.ErrorId}: {error.Message}");
    }
}
