using System.Diagnostics;
using System.Globalization;
using System.Text;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Http;
using DeepSentinel.Core.Services;
using DeepSentinel.Core.Storage;

// Storage benchmark (not a test): upload and download throughput of a corpus of realistic file
// sizes to Azurite and the GCS emulator, sequential (the baseline) vs parallel, through the same
// CorpusCopier that Copy-Corpus uses; and the time for the storage layer to fetch whole GeoTIFF
// patches, for comparison with GDAL's /vsiaz/ and /vsigs/ (bench/gdal_vs_ranges.py).
//
// Usage: DeepSentinel.Bench <azurite-blob-endpoint> <gcs-endpoint> <patch-folder> <samples> <parallel> <report.md>
var azurite = new Uri(args[0].TrimEnd('/') + "/");
var gcs = new Uri(args[1]);
var patchFolder = args[2];
var samples = int.Parse(args[3], CultureInfo.InvariantCulture);
var parallel = int.Parse(args[4], CultureInfo.InvariantCulture);
var reportPath = args[5];
const string AzuriteKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

var services = new CoreServices(ResilientHttpClient.CreateDefaultHttpClient());
var options = new StorageOptions { AzureAccountKey = AzuriteKey, GcsEndpoint = gcs, Environment = _ => null };
var work = Directory.CreateTempSubdirectory("ds-bench-").FullName;
var report = new StringBuilder();
void Line(string text)
{
    Console.WriteLine(text);
    report.AppendLine(text);
}

// A corpus like New-PatchSample's: per sample three GeoTIFF-sized blobs (100-800 KB), two PNG
// quicklooks (~50 KB) and one JSON (~4 KB). Random bytes: compressed rasters do not compress further.
var corpus = new LocalObjectStore(Path.Combine(work, "corpus"));
var random = new Random(20261121);
long corpusBytes = 0;
for (var s = 0; s < samples; s++)
{
    var folder = Directory.CreateDirectory(Path.Combine(corpus.Root, "samples", s.ToString("D5", CultureInfo.InvariantCulture))).FullName;
    foreach (var (name, size) in new[] { ("s1.tif", random.Next(100_000, 800_001)), ("s2.tif", random.Next(100_000, 800_001)), ("label.tif", random.Next(100_000, 800_001)), ("rgb.png", random.Next(45_000, 55_001)), ("s1.png", random.Next(45_000, 55_001)), ("sample.json", random.Next(3_500, 4_501)) })
    {
        var data = new byte[size];
        random.NextBytes(data);
        File.WriteAllBytes(Path.Combine(folder, name), data);
        corpusBytes += size;
    }
}

Line($"Corpus: {samples} samples, {samples * 6} objects, {corpusBytes / 1e6:0.0} MB; parallel = {parallel} transfers; {Environment.ProcessorCount} cores.");
Line(string.Empty);
Line("| store | direction | sequential (baseline) | parallel x" + parallel + " | speed-up |");
Line("|---|---|---|---|---|");

var copier = new CorpusCopier();
async Task<CorpusCopyResult> Copy(IObjectStore from, IObjectStore to, int p)
{
    var result = await copier.CopyAsync(new CorpusCopyRequest { Source = from, Destination = to, Parallelism = p }, NullReporter.Instance, CancellationToken.None);
    if (result.Failed > 0 || result.Copied != samples * 6)
    {
        throw new InvalidOperationException($"Copy {from.DisplayName} -> {to.DisplayName} copied {result.Copied}, failed {result.Failed}.");
    }

    return result;
}

string Figure(CorpusCopyResult r) => string.Create(CultureInfo.InvariantCulture, $"{r.MegabytesPerSecond:0.0} MB/s, {r.Copied / r.Elapsed.TotalSeconds:0} obj/s ({r.Elapsed.TotalSeconds:0.0} s)");

var targets = new (string Name, Func<string, IObjectStore> Open)[]
{
    ("local disk", tag => new LocalObjectStore(Path.Combine(work, tag))),
    ("Azurite", tag => ObjectStores.Open($"{azurite}bench{tag}/corpus", options, services)),
    ("GCS emulator", tag => ObjectStores.Open($"gs://bench{tag}/corpus", options, services)),
};

foreach (var (name, open) in targets)
{
    var upSeq = await Copy(corpus, open("s" + Guid.NewGuid().ToString("N")[..8]), 1);
    var storeParallel = open("p" + Guid.NewGuid().ToString("N")[..8]);
    var upPar = await Copy(corpus, storeParallel, parallel);
    Line($"| {name} | upload | {Figure(upSeq)} | {Figure(upPar)} | {upSeq.Elapsed / upPar.Elapsed:0.0}x |");
    var downSeq = await Copy(storeParallel, new LocalObjectStore(Path.Combine(work, "d" + Guid.NewGuid().ToString("N")[..8])), 1);
    var downPar = await Copy(storeParallel, new LocalObjectStore(Path.Combine(work, "d" + Guid.NewGuid().ToString("N")[..8])), parallel);
    Line($"| {name} | download | {Figure(downSeq)} | {Figure(downPar)} | {downSeq.Elapsed / downPar.Elapsed:0.0}x |");
}

// GeoTIFF patches for the GDAL comparison: uploaded to both emulators, then fetched whole by
// the storage layer (one GET each), sequentially and in parallel.
var patches = new LocalObjectStore(patchFolder);
var patchList = new List<ObjectInfo>();
await foreach (var p in patches.ListAsync(string.Empty, CancellationToken.None))
{
    patchList.Add(p);
}

Line(string.Empty);
Line($"Whole-patch fetch by the storage layer: {patchList.Count} GeoTIFF patches, {patchList.Sum(p => p.Length) / 1e6:0.0} MB.");
Line(string.Empty);
Line("| store | fetch, sequential | fetch, parallel x" + parallel + " |");
Line("|---|---|---|");
foreach (var (name, location) in new[] { ("Azurite", $"{azurite}gdalbench/patches"), ("GCS emulator", "gs://gdalbench/patches") })
{
    var store = ObjectStores.Open(location, options, services);
    await copier.CopyAsync(new CorpusCopyRequest { Source = patches, Destination = store, Parallelism = parallel, Overwrite = true }, NullReporter.Instance, CancellationToken.None);
    var timings = new List<double>();
    foreach (var p in new[] { 1, parallel })
    {
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(patchList, new ParallelOptions { MaxDegreeOfParallelism = p }, async (item, token) =>
        {
            var buffer = new byte[item.Length];
            var n = await store.ReadRangeAsync(item.Key, 0, buffer, token);
            if (n != item.Length)
            {
                throw new InvalidOperationException($"{item.Key}: read {n} of {item.Length} bytes.");
            }
        });
        timings.Add(clock.Elapsed.TotalMilliseconds / patchList.Count);
    }

    Line(string.Create(CultureInfo.InvariantCulture, $"| {name} | {timings[0]:0.00} ms/patch | {timings[1]:0.00} ms/patch |"));
}

await File.WriteAllTextAsync(reportPath, report.ToString());
Directory.Delete(work, recursive: true);
