// The main job without PowerShell: runs the pipeline of examples/01-search-scenes.ps1 through the
// same Core services the cmdlets call, and prints what the module's default table view shows.
// Where pwsh is installed, build.sh runs the .ps1 itself instead.
using System.Globalization;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Services;

var catalog = args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "demo-catalog");
var service = new SceneSearchService(CoreServices.Default);
var reporter = new ConsoleReporter();
var area = new SceneQuery
{
    BoundingBox = BoundingBox.From([1.5, 48.4, 3.5, 49.5]),
    Start = new DateTimeOffset(2019, 8, 1, 0, 0, 0, TimeSpan.Zero),
    End = new DateTimeOffset(2019, 8, 31, 0, 0, 0, TimeSpan.Zero),
};

try
{
    Console.WriteLine($"PS> Get-SentinelScene -Catalog {catalog} -BoundingBox 1.5, 48.4, 3.5, 49.5 -Start 2019-08-01 -End 2019-08-31 -Mission S2 -MaxCloudCover 30");
    var optical = await Collect(area with { Missions = [SentinelMission.S2], MaxCloudCover = 30 });
    PrintTable(optical.OrderByDescending(s => s.Datetime));

    Console.WriteLine($"PS> Get-SentinelScene -Catalog {catalog} -BoundingBox 1.5, 48.4, 3.5, 49.5 -Start 2019-08-01 -End 2019-08-31 -Mission S1 -Polarization VV, VH");
    var radar = await Collect(area with { Missions = [SentinelMission.S1], Polarizations = ["VV", "VH"] });
    PrintTable(radar);

    Console.WriteLine("Matched pairs (S1 within 3 days of S2):");
    foreach (var s2 in optical)
    {
        var matches = radar.Count(s1 => Math.Abs((s1.Datetime - s2.Datetime).TotalDays) <= 3);
        Console.WriteLine($"  {s2.Id}  {matches} S1 scene(s) within 3 days");
    }

    return reporter.Errors == 0 && optical.Count > 0 && radar.Count > 0 ? 0 : 1;
}
catch (DeepSentinelException ex)
{
    Console.Error.WriteLine($"{ex.ErrorId}: {ex.Message}");
    return 2;
}

async Task<List<SentinelScene>> Collect(SceneQuery query)
{
    var scenes = new List<SentinelScene>();
    await foreach (var scene in service.SearchAsync(new SceneSearchRequest { Catalog = catalog, Query = query }, reporter, CancellationToken.None))
    {
        scenes.Add(scene);
    }

    return scenes;
}

static void PrintTable(IEnumerable<SentinelScene> scenes)
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

internal sealed class ConsoleReporter : IOperationReporter
{
    public int Errors { get; private set; }

    public void Verbose(string message)
    {
    }

    public void Warning(string message) => Console.Error.WriteLine("WARNING: " + message);

    public void Progress(ProgressUpdate update)
    {
    }

    public void Error(DeepSentinelException error)
    {
        Errors++;
        Console.Error.WriteLine($"{error.ErrorId}: {error.Message}");
    }
}
