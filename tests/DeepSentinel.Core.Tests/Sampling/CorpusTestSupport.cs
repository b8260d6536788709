using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Sampling;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Tests.Raster;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Sampling;

/// <summary>Temporary folders for one test class, deleted when it is done.</summary>
public sealed class TemporaryFolders : IDisposable
{
    private readonly List<string> _folders = [];

    /// <summary>A new, not yet created folder under the temp directory.</summary>
    public string New(string prefix = "ds-test-")
    {
        var folder = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N")[..8]);
        _folders.Add(folder);
        return folder;
    }

    public void Dispose()
    {
        foreach (var folder in _folders.Where(Directory.Exists))
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

/// <summary>Building corpora from the demo catalog in tests.</summary>
public static class CorpusTestSupport
{
    /// <summary>The request the corpus tests share: the demo catalog's first two weeks, lenient cloud limits.</summary>
    public static PatchSampleRequest Request(DemoCatalogFixture fixture, string catalog, string destination, int count, long seed = 7, int throttle = 2) => new()
    {
        Destination = destination,
        Count = count,
        Seed = seed,
        Start = fixture.Options.Start,
        End = fixture.Options.Start.AddDays(14),
        MaxCloudCover = 60,
        MaxPatchCloud = 20,
        MaxNoData = 5,
        ThrottleLimit = throttle,
        Source = new SceneSearchRequest { Catalog = catalog },
    };

    /// <summary>Runs New-PatchSample's engine to the end and returns what it wrote out.</summary>
    public static async Task<List<PatchSample>> RunAsync(PatchSampleRequest request, RecordingReporter? reporter = null, Func<string, string, Task<bool>>? shouldProcess = null, CancellationToken cancellationToken = default)
    {
        var samples = new List<PatchSample>();
        await foreach (var sample in new PatchSampleService(TestServices.Create()).RunAsync(request, reporter ?? new RecordingReporter(), shouldProcess, cancellationToken))
        {
            samples.Add(sample);
        }

        return samples;
    }
}
