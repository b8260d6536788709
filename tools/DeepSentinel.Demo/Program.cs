// Runs DeepSentinel's pipelines without PowerShell, through the same Core services the cmdlets
// call: the README's main job (where pwsh is absent), and the process a kill-and-rerun test and
// the benchmark drive.
//
//   DeepSentinel.Demo demo <workdir>                         the main job: demo catalog -> corpus -> listing
//   DeepSentinel.Demo search <catalog>                       examples/01-search-scenes.ps1
//   DeepSentinel.Demo catalog <dest> <tileSize> <tiles> <s2PerTile> <s1Scenes>
//   DeepSentinel.Demo corpus <catalog> <dest> <count> <seed> <throttle> <start> <end>
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
        "search" => await Search(args[1]),
        "catalog" => Catalog(args[1], Int(args[2]), Int(args[3]), Int(args[4]), Int(args[5])),
        "corpus" => await Corpus(args[1], args[2], Int(args[3]), long.Parse(args[4], CultureInfo.InvariantCulture), Int(args[5]), Date(args[6]), Date(args[7]), printTable: false),
        "demo" => await Demo(args.Length > 1 ? args[1] : Path.Combine(Environment.CurrentDirectory, "out", "demo")),
        _ => Usage(),
    };
}
catch (DeepSentinelException ex)
{
    Console.Error.WriteLine($"{ex.ErrorId}: {ex.Message}");
    return 2;
}

async Task<int> Demo(string workdir)
{
    var catalogDir = Path.Combine(workdir, "catalog");
    var corpusDir = Path.Combine(workdir, "corpus");
    Console.WriteLine($"PS> New-DemoCatalog {catalogDir}");
    var catalog = new DemoCatalogGenerator().Generate(new DemoCatalogOptions { Destination = catalogDir }, reporter, CancellationToken.None);
    Console.WriteLine();
    Console.WriteLine($"S2 scenes S1 scenes Reused CatalogPath");
    Console.WriteLine($"--------- --------- ------ -----------");
    Console.WriteLine($"{catalog.S2Scenes,9} {catalog.S1Scenes,9} {catalog.Reused,-6} {catalog.CatalogPath}");
    Console.WriteLine();
    Console.WriteLine($"PS> New-PatchSample {corpusDir} -Catalog {catalogDir} -Start 2019-08-01 -End 2019-08-20 -Count 16 -Seed 1");
    var result = await Corpus(catalogDir, corpusDir, 16, 1, Environment.ProcessorCount, new DateTimeOffset(2019, 8, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2019, 8, 20, 0, 0, 0, TimeSpan.Zero), printTable: true);
    Console.WriteLine($"PS> Get-PatchSample {corpusDir} | Measure-Object");
    var count = 0;
    await foreach (var _ in new PatchSampleReader().ReadAsync(corpusDir, null, null, reporter, CancellationToken.None))
    {
        count++;
    }

    Console.WriteLine($"Count    : {count}");
    Console.WriteLine();
    return result == 0 && count == 16 ? 0 : 1;
}

async Task<int> Search(string catalog)
{
    var service = new SceneSearchService(CoreServices.Default);
    var area = new SceneQuery
    {
        BoundingBox = BoundingBox.From([1.5, 48.4, 3.5, 49.5]),
        Start = new DateTimeOffset(2019, 8, 1, 0, 0, 0, TimeSpan.Zero),
        End = new DateTimeOffset(2019, 8, 31, 0, 0, 0, TimeSpan.Zero),
    };
    Console.WriteLine($"PS> Get-SentinelScene -Catalog {catalog} -BoundingBox 1.5, 48.4, 3.5, 49.5 -Start 2019-08-01 -End 2019-08-31 -Mission S2 -MaxCloudCover 30");
    var optical = await Collect(service, catalog, area with { Missions = [SentinelMission.S2], MaxCloudCover = 30 });
    PrintScenes(optical.OrderByDescending(s => s.Datetime));
    Console.WriteLine($"PS> Get-SentinelScene -Catalog {catalog} -BoundingBox 1.5, 48.4, 3.5, 49.5 -Start 2019-08-01 -End 2019-08-31 -Mission S1 -Polarization VV, VH");
    var radar = await Collect(service, catalog, area with { Missions = [SentinelMission.S1], Polarizations = ["VV", "VH"] });
    PrintScenes(radar);
    return reporter.Errors == 0 && optical.Count > 0 && radar.Count > 0 ? 0 : 1;
}

int Catalog(string destination, int tileSize, int tiles, int s2PerTile, int s1Scenes)
{
    var result = new DemoCatalogGenerator().Generate(new DemoCatalogOptions { Destination = destination, TileSize = tileSize, Tiles = tiles, S2ScenesPerTile = s2PerTile, S1Scenes = s1Scenes }, reporter, CancellationToken.None);
    Console.WriteLine($"catalog {result.CatalogPath} s2={result.S2Scenes} s1={result.S1Scenes} reused={result.Reused}");
    return 0;
}

async Task<int> Corpus(string catalog, string destination, int count, long seed, int throttle, DateTimeOffset start, DateTimeOffset end, bool printTable)
{
    var request = new PatchSampleRequest
    {
        Destination = destination,
        Count = count,
        Seed = seed,
        Start = start,
        End = end,
        ThrottleLimit = throttle,
        MaxCloudCover = 60,
        MaxPatchCloud = 20,
        Source = new SceneSearchRequest { Catalog = catalog },
    };
    var clock = Stopwatch.StartNew();
    var samples = new List<PatchSample>();
    await foreach (var sample in new PatchSampleService(CoreServices.Default).RunAsync(request, reporter, null, CancellationToken.None))
    {
        samples.Add(sample);
        if (!printTable)
        {
            Console.WriteLine($"sample {sample.Id}");
        }
    }

    clock.Stop();
    if (printTable)
    {
        Console.WriteLine();
        Console.WriteLine($"{"Id",-28} {"S2 date",-10} {"Days",4} {"Cloud %",7} {"S1 pass",-10} {"Lon",9} {"Lat",9}");
        Console.WriteLine($"{"--",-28} {"-------",-10} {"----",4} {"-------",7} {"-------",-10} {"---",9} {"---",9}");
        foreach (var s in samples)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.Id,-28} {s.DisplayTime,-10} {s.DaysApart,4:0.0} {s.DisplayCloud,7} {s.S1OrbitState,-10} {s.Longitude,9:0.0000} {s.Latitude,9:0.0000}"));
        }

        Console.WriteLine();
    }

    // Figures for the benchmark: wall time and the peak resident set of this process.
    var peak = File.ReadAllLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done samples={samples.Count} seconds={clock.Elapsed.TotalSeconds:0.000} peak_kb={peak} errors={reporter.Errors}"));
    return reporter.Errors == 0 ? 0 : 1;
}

static async Task<List<SentinelScene>> Collect(SceneSearchService service, string catalog, SceneQuery query)
{
    var scenes = new List<SentinelScene>();
    await foreach (var scene in service.SearchAsync(new SceneSearchRequest { Catalog = catalog, Query = query }, NullReporter.Instance, CancellationToken.None))
    {
        scenes.Add(scene);
    }

    return scenes;
}

static void PrintScenes(IEnumerable<SentinelScene> scenes)
{
    // The columns of DeepSentinel.Format.ps1xml's SentinelScene table view.
    Console.WriteLine();
    Console.WriteLine($"{"Time (UTC)",-16} {"Mission",-7} {"Cloud",5} {"Orbit",-8} {"Tile",-5} Id");
    Console.WriteLine($"{new string('-', 10),-16} {new string('-', 7),-7} {new string('-', 5),5} {new string('-', 5),-8} {new string('-', 4),-5} --");
    foreach (var s in scenes)
    {
        var cloud = s.CloudCover is { } c ? c.ToString("0.0", CultureInfo.InvariantCulture) : string.Empty;
        Console.WriteLine($"{s.DisplayTime,-16} {s.Mission,-7} {cloud,5} {s.DisplayOrbit,-8} {s.MgrsTile,-5} {s.Id}");
    }

    Console.WriteLine();
}

static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

static DateTimeOffset Date(string s) => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

static int Usage()
{
    Console.Error.WriteLine("usage: DeepSentinel.Demo demo [workdir] | search <catalog> | catalog <dest> <tileSize> <tiles> <s2PerTile> <s1Scenes> | corpus <catalog> <dest> <count> <seed> <throttle> <start> <end>");
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
