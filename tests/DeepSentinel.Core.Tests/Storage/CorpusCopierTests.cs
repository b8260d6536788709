using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Storage;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Storage;

/// <summary>Copy-Corpus's engine between local disk, Azurite and the GCS emulator.</summary>
[Collection("StorageEmulators")]
public sealed class CorpusCopierTests(AzuriteFixture azurite, GcsEmulatorFixture gcs)
{
    private static readonly string[] Files = ["s1.tif", "s2.tif", "dem.tif", "rgb.png", "ndvi.png", "meta.json"];

    private static LocalObjectStore NewCorpus(int samples)
    {
        var store = new LocalObjectStore(Directory.CreateTempSubdirectory("ds-corpus-").FullName);
        for (var s = 0; s < samples; s++)
        {
            foreach (var (file, i) in Files.Select((f, i) => (f, i)))
            {
                File.WriteAllBytes(Path.Combine(Directory.CreateDirectory(Path.Combine(store.Root, $"samples/{s:D4}")).FullName, file), StoreTestData.Bytes(1000 + (s * 37) + (i * 501), seed: (s * 10) + i));
            }
        }

        return store;
    }

    private IObjectStore Azure(RecordingServices http) =>
        ObjectStores.Open(azurite.NewLocation("corpus/"), new StorageOptions { AzureAccountKey = AzuriteFixture.AccountKey, Environment = _ => null }, http.Services);

    private IObjectStore Gcs(RecordingServices http) =>
        ObjectStores.Open(GcsEmulatorFixture.NewLocation("corpus/"), new StorageOptions { GcsEndpoint = gcs.Endpoint, Environment = _ => null }, http.Services);

    [Fact]
    public async Task A_corpus_travels_local_to_Azure_to_GCS_to_local_unchanged()
    {
        var local = NewCorpus(4);
        var azure = Azure(new RecordingServices());
        var google = Gcs(new RecordingServices());
        var back = new LocalObjectStore(Directory.CreateTempSubdirectory("ds-back-").FullName);
        var copier = new CorpusCopier();
        var reporter = new RecordingReporter();

        var first = await copier.CopyAsync(new CorpusCopyRequest { Source = local, Destination = azure }, reporter, CancellationToken.None);
        var second = await copier.CopyAsync(new CorpusCopyRequest { Source = azure, Destination = google, Parallelism = 3 }, reporter, CancellationToken.None);
        var third = await copier.CopyAsync(new CorpusCopyRequest { Source = google, Destination = back, Parallelism = 1 }, reporter, CancellationToken.None);

        Assert.All(new[] { first, second, third }, r => Assert.Equal((24, 0, 0), (r.Copied, r.Skipped, r.Failed)));
        var original = await local.ListAllAsync();
        Assert.Equal(original.Select(i => i.Key), (await back.ListAllAsync()).Select(i => i.Key));
        foreach (var item in original)
        {
            Assert.Equal(await File.ReadAllBytesAsync(local.PathOf(item.Key)), await File.ReadAllBytesAsync(back.PathOf(item.Key)));
        }

        Assert.Equal(original.Sum(i => i.Length), third.BytesCopied);
        Assert.Empty(reporter.Errors);
        Assert.Contains(reporter.ProgressUpdates, p => p.Completed);
    }

    [Fact]
    public async Task An_interrupted_copy_rerun_sends_only_what_is_missing()
    {
        var local = NewCorpus(5);
        var http = new RecordingServices();
        var azure = Azure(http);
        using var stop = new CancellationTokenSource();
        var confirmed = 0;

        // The first run is stopped (as Ctrl+C would) after 11 objects were let through.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new CorpusCopier().CopyAsync(
            new CorpusCopyRequest
            {
                Source = local,
                Destination = azure,
                Parallelism = 1,
                Confirm = _ =>
                {
                    if (Interlocked.Increment(ref confirmed) > 11)
                    {
                        stop.Cancel();
                    }

                    return Task.FromResult(true);
                },
            },
            new RecordingReporter(),
            stop.Token));
        var afterFirst = (await azure.ListAllAsync()).Count;
        var putsBefore = http.Sent.Count(r => r.Method == "PUT" && !r.Uri.Query.Contains("restype=container", StringComparison.Ordinal));

        var rerun = await new CorpusCopier().CopyAsync(new CorpusCopyRequest { Source = local, Destination = azure }, new RecordingReporter(), CancellationToken.None);
        var puts = http.Sent.Count(r => r.Method == "PUT" && !r.Uri.Query.Contains("restype=container", StringComparison.Ordinal)) - putsBefore;

        Assert.InRange(afterFirst, 11, 12);
        Assert.Equal(afterFirst, rerun.Skipped);
        Assert.Equal(30 - afterFirst, rerun.Copied);
        Assert.Equal(30 - afterFirst, puts);
        Assert.Equal(30, (await azure.ListAllAsync()).Count);
    }

    [Fact]
    public async Task WhatIf_declines_every_object_and_nothing_is_written()
    {
        var local = NewCorpus(2);
        var http = new RecordingServices();
        var google = Gcs(http);
        var asked = new List<string>();

        var result = await new CorpusCopier().CopyAsync(
            new CorpusCopyRequest { Source = local, Destination = google, Confirm = i => { lock (asked) { asked.Add(i.Key); } return Task.FromResult(false); } },
            new RecordingReporter(),
            CancellationToken.None);

        Assert.Equal((0, 12), (result.Copied, result.Declined));
        Assert.Equal(12, asked.Count);
        Assert.DoesNotContain(http.Sent, r => r.Method is "POST" or "PUT");
    }

    [Fact]
    public async Task A_differing_object_at_the_destination_is_reported_and_kept_unless_Force()
    {
        var local = NewCorpus(1);
        var google = Gcs(new RecordingServices());
        await google.PutBytesAsync("samples/0000/meta.json", [1, 2, 3]);
        var reporter = new RecordingReporter();

        var kept = await new CorpusCopier().CopyAsync(new CorpusCopyRequest { Source = local, Destination = google }, reporter, CancellationToken.None);
        var forced = await new CorpusCopier().CopyAsync(new CorpusCopyRequest { Source = local, Destination = google, Overwrite = true }, new RecordingReporter(), CancellationToken.None);

        Assert.Equal((5, 1), (kept.Copied, kept.Failed));
        Assert.Equal(ErrorIds.CorpusCopyFailed, Assert.Single(reporter.Errors).ErrorId);
        Assert.Equal((1, 5, 0), (forced.Copied, forced.Skipped, forced.Failed));
        Assert.Equal(await File.ReadAllBytesAsync(local.PathOf("samples/0000/meta.json")), await google.ReadAllAsync("samples/0000/meta.json"));
    }
}
