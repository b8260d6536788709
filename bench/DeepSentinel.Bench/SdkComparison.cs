using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Http;
using DeepSentinel.Core.Services;
using DeepSentinel.Core.Storage;

namespace DeepSentinel.Bench;

/// <summary>
/// The SDK-based stores against the hand-written ones they replaced (a copy kept in HandWritten/
/// only for this comparison), in one invocation of bench/run.sh compare: each (layer, store) runs
/// in its own process (so its peak memory is its own) against freshly started emulators (Azurite
/// keeps everything in memory), on the same corpus.
/// </summary>
internal static class SdkComparison
{
    private const string AzuriteKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public sealed record Figures(string Layer, string Store, double UpSeq, double UpPar, double DownSeq, double DownPar, long Objects, long Bytes, long PeakWorkingSet, long Allocated, string LoadBefore, string LoadAfter);

    /// <summary>corpus &lt;folder&gt; &lt;samples&gt;: writes the corpus every run copies; prints its size in bytes.</summary>
    public static int Corpus(string[] args)
    {
        Console.WriteLine(MakeCorpus(args[1], int.Parse(args[2], CultureInfo.InvariantCulture)).ToString(CultureInfo.InvariantCulture));
        return 0;
    }

    /// <summary>report &lt;runs.jsonl&gt; &lt;samples&gt; &lt;parallel&gt; &lt;bytes&gt; &lt;report.md&gt;: the table over all runs of one invocation.</summary>
    public static async Task<int> ReportAsync(string[] args)
    {
        var results = (await File.ReadAllLinesAsync(args[1])).Where(l => l.StartsWith('{')).Select(l => JsonSerializer.Deserialize<Figures>(l)!).ToList();
        var samples = int.Parse(args[2], CultureInfo.InvariantCulture);
        var parallel = int.Parse(args[3], CultureInfo.InvariantCulture);
        var bytes = long.Parse(args[4], CultureInfo.InvariantCulture);
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"Corpus: {samples} samples, {samples * 6} objects, {bytes / 1e6:0.0} MB; parallel = {parallel} transfers; {Environment.ProcessorCount} cores. Each (layer, store) ran in its own process against freshly started emulators, in the order listed at the end.");
        report.AppendLine();
        report.AppendLine("Seconds for the whole corpus (median where a configuration ran more than once); ratio = SDK time / hand-written time (below 1: the SDK is faster).");
        report.AppendLine();
        report.AppendLine("| store | transfer | hand-written (baseline) | SDK | ratio |");
        report.AppendLine("|---|---|---|---|---|");
        foreach (var store in results.Select(r => r.Store).Distinct())
        {
            var hand = results.Where(r => r.Store == store && r.Layer == "hand-written").ToList();
            var sdk = results.Where(r => r.Store == store && r.Layer == "SDK").ToList();
            foreach (var (name, pick) in new (string, Func<Figures, double>)[] { ("upload, sequential", r => r.UpSeq), ("upload, parallel x" + parallel, r => r.UpPar), ("download, sequential", r => r.DownSeq), ("download, parallel x" + parallel, r => r.DownPar) })
            {
                var h = Median(hand.Select(pick));
                var s = Median(sdk.Select(pick));
                report.AppendLine(CultureInfo.InvariantCulture, $"| {store} | {name} | {h:0.0} s ({bytes / 1e6 / h:0.0} MB/s) | {s:0.0} s ({bytes / 1e6 / s:0.0} MB/s) | {s / h:0.00} |");
            }

            var hPeak = hand.Max(r => r.PeakWorkingSet) / 1048576.0;
            var sPeak = sdk.Max(r => r.PeakWorkingSet) / 1048576.0;
            var hAlloc = Median(hand.Select(r => (double)r.Allocated)) / 1e9;
            var sAlloc = Median(sdk.Select(r => (double)r.Allocated)) / 1e9;
            report.AppendLine(CultureInfo.InvariantCulture, $"| {store} | peak working set of the process | {hPeak:0} MB | {sPeak:0} MB | {sPeak / hPeak:0.00} |");
            report.AppendLine(CultureInfo.InvariantCulture, $"| {store} | managed bytes allocated | {hAlloc:0.0} GB | {sAlloc:0.0} GB | {sAlloc / hAlloc:0.00} |");
        }

        report.AppendLine();
        report.AppendLine("Every run, in order (load average 1/5/15 min before and after):");
        report.AppendLine();
        foreach (var r in results)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"- {r.Layer}, {r.Store}: up {r.UpSeq:0.0} s / {r.UpPar:0.0} s, down {r.DownSeq:0.0} s / {r.DownPar:0.0} s, peak {r.PeakWorkingSet / 1048576.0:0} MB; load {r.LoadBefore} -> {r.LoadAfter}");
        }

        Console.WriteLine(report);
        await File.WriteAllTextAsync(args[5], report.ToString());
        return 0;
    }

    /// <summary>child &lt;layer&gt; &lt;store&gt; &lt;azurite&gt; &lt;gcs&gt; &lt;corpus&gt; &lt;parallel&gt;: one configuration; prints its figures as JSON.</summary>
    public static async Task<int> ChildAsync(string[] args)
    {
        var (layer, store, azurite, gcs, corpusRoot) = (args[1], args[2], new Uri(args[3].TrimEnd('/') + "/"), new Uri(args[4]), args[5]);
        var parallel = int.Parse(args[6], CultureInfo.InvariantCulture);
        var services = new CoreServices(ResilientHttpClient.CreateDefaultHttpClient());
        var options = new StorageOptions { AzureAccountKey = AzuriteKey, GcsEndpoint = gcs, Environment = _ => null };
        var work = Directory.CreateTempSubdirectory("ds-bench-child-").FullName;
        var corpus = new LocalObjectStore(corpusRoot);
        IObjectStore Open(string tag)
        {
            var location = StoreLocation.Parse(store == "Azurite" ? $"{azurite}bench{tag}/corpus" : $"gs://bench{tag}/corpus");
            return (layer, store) switch
            {
                ("SDK", _) => ObjectStores.Open(location, options, services),
                (_, "Azurite") => HandWritten.AzureBlobObjectStore.Create(location, options, services.HttpClient, NullReporter.Instance, services.Retry),
                _ => HandWritten.GcsObjectStore.Create(location, options, services, NullReporter.Instance),
            };
        }

        var copier = new CorpusCopier();
        async Task<(double Seconds, CorpusCopyResult Result)> Copy(IObjectStore from, IObjectStore to, int p)
        {
            var clock = Stopwatch.StartNew();
            var result = await copier.CopyAsync(new CorpusCopyRequest { Source = from, Destination = to, Parallelism = p }, NullReporter.Instance, CancellationToken.None);
            if (result.Failed > 0 || result.Skipped > 0)
            {
                throw new InvalidOperationException($"{layer} {store}: copy {from.DisplayName} -> {to.DisplayName} copied {result.Copied}, failed {result.Failed}.");
            }

            return (clock.Elapsed.TotalSeconds, result);
        }

        var tag = Guid.NewGuid().ToString("N")[..8];
        var loadBefore = LoadAverage();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var sequential = Open("s" + tag);
        var upSeq = await Copy(corpus, sequential, 1);
        var target = Open("p" + tag);
        var upPar = await Copy(corpus, target, parallel);
        var downSeq = await Copy(target, new LocalObjectStore(Path.Combine(work, "d1")), 1);
        var downPar = await Copy(target, new LocalObjectStore(Path.Combine(work, "d2")), parallel);
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var figures = new Figures(layer, store, upSeq.Seconds, upPar.Seconds, downSeq.Seconds, downPar.Seconds, upSeq.Result.Copied, upSeq.Result.BytesCopied, self.PeakWorkingSet64, allocated, loadBefore, LoadAverage());
        Console.WriteLine(JsonSerializer.Serialize(figures));
        Directory.Delete(work, recursive: true);
        return 0;
    }

    private static long MakeCorpus(string root, int samples)
    {
        // As in Program.cs: per sample three GeoTIFF-sized blobs (100-800 KB), two PNG quicklooks
        // (~50 KB) and one JSON (~4 KB); random bytes, as compressed rasters do not compress further.
        var random = new Random(20261121);
        long bytes = 0;
        for (var s = 0; s < samples; s++)
        {
            var folder = Directory.CreateDirectory(Path.Combine(root, "samples", s.ToString("D5", CultureInfo.InvariantCulture))).FullName;
            foreach (var (name, size) in new[] { ("s1.tif", random.Next(100_000, 800_001)), ("s2.tif", random.Next(100_000, 800_001)), ("label.tif", random.Next(100_000, 800_001)), ("rgb.png", random.Next(45_000, 55_001)), ("s1.png", random.Next(45_000, 55_001)), ("sample.json", random.Next(3_500, 4_501)) })
            {
                var data = new byte[size];
                random.NextBytes(data);
                File.WriteAllBytes(Path.Combine(folder, name), data);
                bytes += size;
            }
        }

        return bytes;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
