// The corpus table's writer at corpus sizes far beyond a test's: N synthetic samples like the demo
// corpus's (one UTM zone, random patch origins, the same asset layout), written as items.parquet by
// CorpusTable.WriteFileAsync and, as the baseline in the same process, as the ndjson index lines
// the corpus already has (PatchSample.ToJsonLine). One line of results: rows, bytes and rows/s of
// both, the size ratio, and the process's peak working set.
//
//   dotnet DeepSentinel.TableBench.dll <rows> <folder>
using System.Diagnostics;
using System.Globalization;
using DeepSentinel.Core.Corpus;

var rows = int.Parse(args[0], CultureInfo.InvariantCulture);
var folder = args[1];
Directory.CreateDirectory(folder);

var ndjson = Path.Combine(folder, "index.ndjson");
var watch = Stopwatch.StartNew();
await using (var writer = new StreamWriter(ndjson))
{
    await foreach (var sample in Samples(rows))
    {
        await writer.WriteLineAsync(sample.ToJsonLine());
    }
}

var ndjsonSeconds = watch.Elapsed.TotalSeconds;
var table = Path.Combine(folder, "items.parquet");
watch.Restart();
await CorpusTable.WriteFileAsync(table, Samples(rows), CorpusTable.RowGroupSize, CancellationToken.None);
var tableSeconds = watch.Elapsed.TotalSeconds;

var tableBytes = new FileInfo(table).Length;
var ndjsonBytes = new FileInfo(ndjson).Length;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"rows={rows} table_bytes={tableBytes} table_bytes_per_row={tableBytes / (double)rows:F1} table_rows_per_s={rows / tableSeconds:F0} ndjson_bytes={ndjsonBytes} ndjson_bytes_per_row={ndjsonBytes / (double)rows:F1} ndjson_rows_per_s={rows / ndjsonSeconds:F0} size_ratio={tableBytes / (double)ndjsonBytes:F3} peak_working_set_mib={Process.GetCurrentProcess().PeakWorkingSet64 / 1048576}"));
File.Delete(table);
File.Delete(ndjson);

static async IAsyncEnumerable<PatchSample> Samples(int count)
{
    var random = new Random(1);
    for (var i = 0; i < count; i++)
    {
        var id = string.Create(CultureInfo.InvariantCulture, $"ds{i * 3:D8}_31UDQ_20190801");
        var x = 400020 + (random.Next(0, 1500) * 60.0);
        var y = 5400000 + (random.Next(0, 1500) * 60.0);
        var sample = new PatchSample
        {
            Id = id,
            Index = i * 3L,
            Longitude = 2.3,
            Latitude = 48.8,
            Epsg = 32631,
            GeoTransform = [x, 10, 0, y, 0, -10],
            Width = 256,
            Height = 256,
            S2SceneId = "S2B_MSIL2A_20190801T105621_R051_T31UDQ_20190801T105621",
            S2Datetime = new DateTimeOffset(2019, 8, 1, 10, 56, 21, TimeSpan.Zero).AddMinutes(i % 977),
            MgrsTile = "31UDQ",
            S2SceneCloudCover = 3.2,
            S1SceneId = "S1A_IW_GRDH_1SDV_20190802T055621_20190802T055646_028400_0334D0_rtc",
            S1Datetime = new DateTimeOffset(2019, 8, 2, 5, 56, 21, TimeSpan.Zero),
            S1OrbitState = "ascending",
            DaysApart = Math.Round(random.NextDouble() * 3, 4),
            CloudFraction = Math.Round(random.NextDouble() * 0.1, 6),
            NoDataFraction = 0,
        };
        foreach (var (key, file) in new[] { ("s2", "s2.tif"), ("s1", "s1.tif"), ("scl", "scl.tif"), ("s2_preview", "s2.png"), ("s1_preview", "s1.png"), ("item", "item.json") })
        {
            sample.Assets[key] = PatchCorpus.SampleKey(id, file);
        }

        yield return sample;
    }

    await Task.CompletedTask;
}
