using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Storage;
using DeepSentinel.Core.Tests.Raster;
using DeepSentinel.Core.Tests.Sampling;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Storage;

/// <summary>
/// Downloads cut off mid-body by the fault proxy (issue 12): the SDKs' download streams resume
/// them, so Copy-Corpus from a cloud store and training input read from one get every byte.
/// </summary>
[Collection("StorageEmulators")]
public sealed class DownloadFaultTests(AzuriteFixture azurite, GcsEmulatorFixture gcs) : IClassFixture<DemoCatalogFixture>, IDisposable
{
    private static readonly StorageOptions AzureKey = new() { AzureAccountKey = AzuriteFixture.AccountKey, Environment = _ => null };
    private readonly TemporaryFolders _folders = new();

    public void Dispose() => _folders.Dispose();

    private static bool IsBlobGet(ProxiedRequest r) => r.Method == "GET" && !r.PathAndQuery.Contains("comp=list", StringComparison.Ordinal);

    [Fact]
    public async Task An_Azure_download_cut_mid_body_is_resumed_and_whole()
    {
        var container = "c" + Guid.NewGuid().ToString("N");
        var direct = ObjectStores.Open($"{azurite.BlobEndpoint}{container}/p", AzureKey, TestServices.Create());
        var data = StoreTestData.Bytes(300_000, seed: 21);
        await direct.PutBytesAsync("a.tif", data);
        await using var proxy = new FaultProxy(azurite.BlobEndpoint);
        var cut = 0;
        proxy.Decide = r => IsBlobGet(r) && Interlocked.Increment(ref cut) <= 2 ? Fault.DropResponseMidBody : Fault.None;
        var store = ObjectStores.Open($"{proxy.BaseUri}devstoreaccount1/{container}/p", AzureKey, TestServices.Create());

        var read = await store.ReadAllAsync("a.tif");

        Assert.Equal(data, read);
        Assert.Equal(2, proxy.Log.Count(l => l.Fault == Fault.DropResponseMidBody));
        Assert.True(proxy.Log.Count(l => IsBlobGet(l.Request)) >= 3);
    }

    [Fact]
    public async Task Copy_Corpus_from_Azure_survives_downloads_cut_mid_body()
    {
        var container = "c" + Guid.NewGuid().ToString("N");
        var source = new LocalObjectStore(_folders.New("ds-src-"));
        for (var i = 0; i < 12; i++)
        {
            await source.PutBytesAsync($"samples/{i:D4}/s2.tif", StoreTestData.Bytes(50_000 + (i * 1000), seed: i));
        }

        var copier = new CorpusCopier();
        var direct = ObjectStores.Open($"{azurite.BlobEndpoint}{container}/corpus", AzureKey, TestServices.Create());
        Assert.Equal(12, (await copier.CopyAsync(new CorpusCopyRequest { Source = source, Destination = direct }, new RecordingReporter(), CancellationToken.None)).Copied);
        await using var proxy = new FaultProxy(azurite.BlobEndpoint);
        // The first download of every blob is cut off halfway through its body (a fixed pattern:
        // counting all requests would, with parallel transfers, sometimes cut one blob's every
        // retry and make the test depend on scheduling).
        var cutOnce = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        proxy.Decide = r => IsBlobGet(r) && cutOnce.TryAdd(r.PathAndQuery.Split('?')[0], true) ? Fault.DropResponseMidBody : Fault.None;
        var back = new LocalObjectStore(_folders.New("ds-back-"));
        var reporter = new RecordingReporter();

        var result = await copier.CopyAsync(new CorpusCopyRequest { Source = ObjectStores.Open($"{proxy.BaseUri}devstoreaccount1/{container}/corpus", AzureKey, TestServices.Create()), Destination = back, Parallelism = 3 }, reporter, CancellationToken.None);

        Assert.Equal((12, 0), (result.Copied, result.Failed));
        Assert.Empty(reporter.Errors);
        Assert.True(proxy.Log.Count(l => l.Fault == Fault.DropResponseMidBody) >= 4);
        foreach (var item in await source.ListAllAsync())
        {
            Assert.Equal(await source.ReadAllAsync(item.Key), await back.ReadAllAsync(item.Key));
        }
    }

    [Fact]
    public async Task Training_input_read_from_az_survives_downloads_cut_mid_body()
    {
        var demo = new DemoCatalogFixture();
        try
        {
            var container = "c" + Guid.NewGuid().ToString("N");
            var location = $"{azurite.BlobEndpoint}{container}/corpus/";
            var options = new StorageOptions { AzureConnectionString = azurite.ConnectionString, Environment = _ => null };
            await CorpusTestSupport.RunAsync(CorpusTestSupport.Request(demo, demo.Root, location, count: 3) with { Storage = options });
            var expected = await ReadPatchesAsync(location, AzureKey);
            await using var proxy = new FaultProxy(azurite.BlobEndpoint);
            var cutOnce = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
            proxy.Decide = r => IsBlobGet(r) && r.PathAndQuery.EndsWith(".tif", StringComparison.Ordinal) && cutOnce.TryAdd(r.PathAndQuery, true) ? Fault.DropResponseMidBody : Fault.None;
            var reporter = new RecordingReporter();

            var patches = await ReadPatchesAsync($"{proxy.BaseUri}devstoreaccount1/{container}/corpus/", AzureKey, reporter);

            Assert.Equal(3, expected.Count);
            Assert.Equal(expected.Select(p => p.SampleId), patches.Select(p => p.SampleId));
            Assert.All(expected.Zip(patches), pair =>
            {
                Assert.Equal(pair.First.S2, pair.Second.S2);
                Assert.Equal(pair.First.S1, pair.Second.S1);
            });
            Assert.Empty(reporter.Errors);
            Assert.True(proxy.Log.Count(l => l.Fault == Fault.DropResponseMidBody) >= 3);
        }
        finally
        {
            demo.Dispose();
        }
    }

    [Fact]
    public async Task A_Cloud_Storage_download_cut_mid_body_is_retried_and_whole()
    {
        var location = GcsEmulatorFixture.NewLocation("p/");
        var direct = ObjectStores.Open(location, new StorageOptions { GcsEndpoint = gcs.Endpoint, Environment = _ => null }, TestServices.Create());
        var data = StoreTestData.Bytes(300_000, seed: 22);
        await direct.PutBytesAsync("a.tif", data);
        await using var proxy = new FaultProxy(gcs.Endpoint);
        var cut = 0;
        proxy.Decide = r => r.Method == "GET" && r.PathAndQuery.Contains("alt=media", StringComparison.Ordinal) && Interlocked.Increment(ref cut) <= 2 ? Fault.DropResponseMidBody : Fault.None;
        var store = ObjectStores.Open(location, new StorageOptions { GcsEndpoint = proxy.BaseUri, Environment = _ => null }, TestServices.Create());

        var read = await store.ReadAllAsync("a.tif");

        Assert.Equal(data, read);
        Assert.Equal(2, proxy.Log.Count(l => l.Fault == Fault.DropResponseMidBody));
    }

    private static async Task<List<DeepSentinel.Core.Training.TrainingPatch>> ReadPatchesAsync(string location, StorageOptions options, RecordingReporter? reporter = null)
    {
        var patches = new List<DeepSentinel.Core.Training.TrainingPatch>();
        await foreach (var patch in new CorpusPatchSource(location, options, reporter ?? new RecordingReporter()).ReadAsync(CancellationToken.None))
        {
            patches.Add(patch);
        }

        return patches;
    }
}
