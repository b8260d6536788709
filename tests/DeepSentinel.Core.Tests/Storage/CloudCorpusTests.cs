using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Storage;
using DeepSentinel.Core.Tests.Raster;
using DeepSentinel.Core.Tests.Sampling;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Storage;

/// <summary>New-PatchSample writing straight into Azurite and the GCS emulator, and Get-PatchSample reading back.</summary>
[Collection("StorageEmulators")]
public sealed class CloudCorpusTests(AzuriteFixture azurite, GcsEmulatorFixture gcs) : IClassFixture<DemoCatalogFixture>, IDisposable
{
    private readonly TemporaryFolders _folders = new();

    public void Dispose() => _folders.Dispose();

    public static TheoryData<string> Stores => ["azure", "gcs"];

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_corpus_built_on_a_cloud_store_reads_back_and_resumes(string kind)
    {
        var demo = new DemoCatalogFixture();
        try
        {
            var (location, options) = kind == "azure"
                ? (azurite.NewLocation("corpus/"), new StorageOptions { AzureConnectionString = azurite.ConnectionString, Environment = _ => null })
                : (GcsEmulatorFixture.NewLocation("corpus/"), new StorageOptions { GcsEndpoint = gcs.Endpoint, Environment = _ => null });
            var request = CorpusTestSupport.Request(demo, demo.Root, location, count: 3) with { Storage = options };

            var built = await CorpusTestSupport.RunAsync(request);
            var again = await CorpusTestSupport.RunAsync(request);
            var read = new List<PatchSample>();
            await foreach (var sample in new PatchSampleReader().ReadAsync(location, null, null, new RecordingReporter(), CancellationToken.None, options))
            {
                read.Add(sample);
            }

            Assert.Equal(3, built.Count);
            Assert.Equal(built.Select(s => s.Id), again.Select(s => s.Id));
            Assert.Equal(built.Select(s => s.Id), read.Select(s => s.Id));
            var store = ObjectStores.Open(location, options);
            var s2 = await store.ReadAllBytesAsync(read[0].Assets[PatchSample.AssetKeys.S2], CancellationToken.None);
            var local = Path.Combine(_folders.New("ds-cloud-"), "s2.tif");
            Directory.CreateDirectory(Path.GetDirectoryName(local)!);
            await File.WriteAllBytesAsync(local, s2);
            Assert.Equal("COG", (string)Independent.GdalInfo(local)["metadata"]!["IMAGE_STRUCTURE"]!["LAYOUT"]!);
            Assert.StartsWith(kind == "azure" ? "http" : "gs://", read[0].Corpus, StringComparison.Ordinal);
            Assert.DoesNotContain("AccountKey", read[0].Corpus, StringComparison.Ordinal);
        }
        finally
        {
            demo.Dispose();
        }
    }
}
