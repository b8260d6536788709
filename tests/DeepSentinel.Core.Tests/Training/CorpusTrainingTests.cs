using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Embeddings;
using DeepSentinel.Core.Training;
using DeepSentinel.Core.Tests.Raster;
using DeepSentinel.Core.Tests.Sampling;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Training;

/// <summary>
/// The whole pipeline on a real corpus: samples New-PatchSample wrote (and Get-PatchSample reads
/// back) are training input for Start-Pretraining and Get-Embedding.
/// </summary>
[Collection(DemoCatalogCollection.Name)]
public sealed class CorpusTrainingTests(DemoCatalogFixture fixture) : IDisposable
{
    private readonly TemporaryFolders _folders = new();

    public void Dispose() => _folders.Dispose();

    [Fact]
    public async Task Corpus_samples_train_a_model_and_get_embeddings()
    {
        var corpus = _folders.New("ds-train-corpus-");
        await CorpusTestSupport.RunAsync(CorpusTestSupport.Request(fixture, fixture.Root, corpus, count: 4));
        var samples = new List<PatchSample>();
        await foreach (var s in new PatchSampleReader().ReadAsync(corpus, null, null, new RecordingReporter(), CancellationToken.None))
        {
            samples.Add(s);
        }

        var first = await samples[0].LoadTrainingPatchAsync(CancellationToken.None);
        Assert.Equal(12, first.S2Channels);
        Assert.Equal(2, first.S1Channels);
        Assert.Equal(256, first.Width);
        Assert.Equal($"EPSG:{samples[0].Epsg}", first.Location!.Crs);
        Assert.True(first.S2!.Take(65536 * 4).Where(v => !float.IsNaN(v)).Average() > 100, "S2 reflectance x 10000 expected");
        Assert.True(first.S1!.Where(v => !float.IsNaN(v)).Average() is > 0 and < 2, "linear backscatter expected");

        using var spool = new PatchSpool("corpus", _folders.New("ds-spool-"));
        foreach (var sample in samples)
        {
            await spool.AddAsync(await sample.LoadTrainingPatchAsync(CancellationToken.None), CancellationToken.None);
        }

        var model = await new PretrainingService().RunAsync(spool, Tiny.Options(_folders.New("ds-model-")) with { BatchSize = 4, Epochs = 1 }, new RecordingReporter(), CancellationToken.None);
        using var session = EmbeddingSession.Open(model, new EmbeddingOptions { BatchSize = 4, Threads = 2 });
        var embeddings = new List<PatchEmbedding>();
        foreach (var sample in samples)
        {
            embeddings.AddRange(session.Add(await sample.LoadTrainingPatchAsync(CancellationToken.None)));
        }

        embeddings.AddRange(session.Flush());
        Assert.Equal(samples.Select(s => s.Id), embeddings.Select(e => e.SampleId));
        Assert.All(embeddings, e => Assert.Equal(16, e.Vector.Length));
        Assert.All(embeddings, e => Assert.All(e.Vector, v => Assert.True(float.IsFinite(v))));

        // Start-Pretraining -Corpus: the corpus streamed from its store every epoch.
        var reporter = new TestServers.RecordingReporter();
        var streamed = await new PretrainingService().RunAsync(new CorpusPatchSource(corpus, null, reporter), Tiny.Options(_folders.New("ds-model-")) with { BatchSize = 4, Epochs = 2 }, reporter, CancellationToken.None);
        Assert.Empty(reporter.Errors);
        Assert.Equal(2, streamed.Card.Steps);
        Assert.Contains(corpus, streamed.Card.Corpus!.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_UNet_writes_per_pixel_embeddings_as_GeoTIFFs_on_the_patch_grid()
    {
        var corpus = _folders.New("ds-unet-corpus-");
        var samples = await CorpusTestSupport.RunAsync(CorpusTestSupport.Request(fixture, fixture.Root, corpus, count: 2));
        var reporter = new TestServers.RecordingReporter();
        var model = await new PretrainingService().RunAsync(new CorpusPatchSource(corpus, null, reporter), Tiny.Options(_folders.New("ds-unet-"), PretrainingMethod.Autoencoder, EncoderKind.UNet) with { BatchSize = 2, Epochs = 1 }, reporter, CancellationToken.None);
        var folder = _folders.New("ds-pixels-");

        using (var session = EmbeddingSession.Open(model, new EmbeddingOptions { BatchSize = 2, Threads = 2, GeoTiffFolder = folder }))
        {
            foreach (var sample in samples)
            {
                session.Add(await sample.LoadTrainingPatchAsync(CancellationToken.None));
            }

            session.Flush();
        }

        var info = Independent.GdalInfo(Path.Combine(folder, samples[0].Id + ".tif"));
        Assert.Equal(16, info["bands"]!.AsArray().Count);
        Assert.All(info["bands"]!.AsArray(), b => Assert.Equal("Float32", (string)b!["type"]!));
        Assert.Equal(samples[0].GeoTransform, info["geoTransform"]!.AsArray().Select(v => (double)v!));
        Assert.Equal(new[] { 256, 256 }, info["size"]!.AsArray().Select(v => (int)v!));
        Assert.Equal("embedding_000", (string)info["bands"]![0]!["description"]!);
        Assert.True(File.Exists(Path.Combine(folder, samples[1].Id + ".tif")));
    }
}
