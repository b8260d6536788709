using System.Diagnostics;
using System.Globalization;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Sampling;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Tests.Raster;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Sampling;

/// <summary>
/// A corpus build killed with SIGKILL at different moments (a separate process: the runner in
/// tools/), then rerun: it completes to the same corpus as an uninterrupted build, with no
/// duplicates and no truncated file under a final name.
/// </summary>
[Collection(DemoCatalogCollection.Name)]
public sealed class KillAndRerunTests(DemoCatalogFixture fixture) : IDisposable
{
    private const int Count = 8;
    private readonly TemporaryFolders _folders = new();

    public void Dispose() => _folders.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task Killed_after_N_samples_and_rerun_gives_the_uninterrupted_corpus(int killAfter)
    {
        var killed = NewFolder();
        var reference = NewFolder();
        var start = fixture.Options.Start;
        var end = start.AddDays(14);

        using (var process = StartRunner(killed, start, end))
        {
            var journal = Path.Combine(killed, "journal");
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (!process.HasExited && (!Directory.Exists(journal) || Directory.GetFiles(journal, "*.accepted.json").Length < killAfter))
            {
                Assert.True(DateTime.UtcNow < deadline, "the runner made no progress in 120 s");
                await Task.Delay(10);
            }

            Assert.False(process.HasExited, "the runner finished before it could be killed: " + process.StandardError.ReadToEnd());
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        // Whatever the kill interrupted, every file under a final name is whole.
        foreach (var tif in Directory.GetFiles(Path.Combine(killed, "samples"), "*.tif", SearchOption.AllDirectories))
        {
            Assert.Equal("COG", (string)Independent.GdalInfo(tif)["metadata"]!["IMAGE_STRUCTURE"]!["LAYOUT"]!);
        }

        foreach (var item in Directory.GetFiles(Path.Combine(killed, "samples"), "item.json", SearchOption.AllDirectories))
        {
            var folder = Path.GetDirectoryName(item)!;
            Assert.All(new[] { "s2.tif", "s1.tif", "scl.tif", "s2.png", "s1.png" }, f => Assert.True(File.Exists(Path.Combine(folder, f)), $"{f} missing beside a finished item"));
        }

        var resumed = await RunAsync(killed, start, end);
        var uninterrupted = await RunAsync(reference, start, end);

        Assert.Equal(Count, resumed.Count);
        Assert.Equal(resumed.Select(s => s.Id).Distinct().Count(), resumed.Count);
        Assert.Equal(Ids(reference), Ids(killed));
        Assert.Equal(uninterrupted.Select(s => s.Id).Order(), resumed.Select(s => s.Id).Order());
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference, "samples", uninterrupted[0].Id, "s2.tif")), File.ReadAllBytes(Path.Combine(killed, "samples", uninterrupted[0].Id, "s2.tif")));
    }

    private string NewFolder() => _folders.New("ds-kill-");

    private Process StartRunner(string destination, DateTimeOffset start, DateTimeOffset end)
    {
        // The runner is built beside the tests (same configuration) by a project reference.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var runner = Path.Combine(TestData.RepositoryRoot, "tools", "DeepSentinel.Demo", "bin", configuration, "net10.0", "DeepSentinel.Demo.dll");
        Assert.True(File.Exists(runner), $"runner not built at {runner}");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { runner, "corpus", fixture.Root, destination, Count.ToString(CultureInfo.InvariantCulture), "7", "2", start.ToString("O", CultureInfo.InvariantCulture), end.ToString("O", CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info)!;
    }

    // The same parameters as the runner's corpus command (tools/DeepSentinel.Demo).
    private Task<List<PatchSample>> RunAsync(string destination, DateTimeOffset start, DateTimeOffset end) =>
        CorpusTestSupport.RunAsync(CorpusTestSupport.Request(fixture, fixture.Root, destination, Count) with { Start = start, End = end, MaxNoData = 5 });

    private static List<string> Ids(string corpus) =>
        File.ReadAllLines(Path.Combine(corpus, PatchCorpus.IndexKey(0, 1))).Select(l => PatchSample.FromJson(l, corpus).Id).ToList();
}
