using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Storage;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Storage;

/// <summary>
/// Faults between DeepSentinel and real storage servers: a loopback proxy in front of Azurite
/// and the GCS emulator answers bursts of 503, drops connections mid-upload and loses answers.
/// Azure requests are retried by Azure.Core's retry policy, GCS requests by ResilientHttpClient.
/// </summary>
[Collection("StorageEmulators")]
public sealed class AzureFaultTests(AzuriteFixture azurite)
{
    private static readonly StorageOptions Key = new() { AzureAccountKey = AzuriteFixture.AccountKey, BlockSize = 64 * 1024, Environment = _ => null };

    private static (IObjectStore Store, RecordingReporter Reporter) Open(Uri service, string container)
    {
        var reporter = new RecordingReporter();
        return (ObjectStores.Open($"{service}devstoreaccount1/{container}/p", Key, TestServices.Create(), reporter), reporter);
    }

    [Fact]
    public async Task A_burst_of_503_is_retried_by_Azure_Core_and_the_write_lands()
    {
        await using var proxy = new FaultProxy(azurite.BlobEndpoint);
        proxy.Decide = r => r.Index <= 3 ? Fault.ServiceUnavailable : Fault.None;
        var container = "c" + Guid.NewGuid().ToString("N");
        var (store, reporter) = Open(proxy.BaseUri, container);
        var data = StoreTestData.Bytes(20_000);

        await store.PutBytesAsync("a.tif", data, createOnly: true);

        Assert.Equal(data, await Open(new Uri(azurite.BlobEndpoint, "/"), container).Store.ReadAllAsync("a.tif"));
        Assert.Equal(3, proxy.Log.Count(l => l.Fault == Fault.ServiceUnavailable));
        Assert.Equal(3, reporter.VerboseMessages.Count(m => m.Contains("HTTP 503", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_connection_dropped_mid_upload_is_retried_and_the_blob_is_whole()
    {
        await using var proxy = new FaultProxy(azurite.BlobEndpoint);
        var dropped = 0;
        proxy.Decide = r => r.Method == "PUT" && r.ContentLength > 10_000 && Interlocked.Increment(ref dropped) <= 2 ? Fault.DropMidBody : Fault.None;
        var container = "c" + Guid.NewGuid().ToString("N");
        var (store, _) = Open(proxy.BaseUri, container);
        var data = StoreTestData.Bytes(50_000, seed: 2);

        await store.PutBytesAsync("b.tif", data);

        Assert.Equal(2, proxy.Log.Count(l => l.Fault == Fault.DropMidBody));
        Assert.Equal(data, await Open(new Uri(azurite.BlobEndpoint, "/"), container).Store.ReadAllAsync("b.tif"));
    }

    [Fact]
    public async Task An_interrupted_block_upload_leaves_the_previous_object_intact_and_no_partial_one()
    {
        await using var proxy = new FaultProxy(azurite.BlobEndpoint);
        var container = "c" + Guid.NewGuid().ToString("N");
        var (direct, _) = Open(new Uri(azurite.BlobEndpoint, "/"), container);
        var (store, _) = Open(proxy.BaseUri, container);
        var v1 = StoreTestData.Bytes(1000, seed: 3);
        await direct.PutBytesAsync("sample.tif", v1);
        // From the third block on, every request is cut mid-body: the upload cannot finish.
        proxy.Decide = r => r.PathAndQuery.Contains("comp=block", StringComparison.Ordinal) && r.ContentLength > 0 && r.Index > 2 ? Fault.DropMidBody : Fault.None;

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => store.PutBytesAsync("sample.tif", StoreTestData.Bytes(64 * 1024 * 5, seed: 4)));
        await Assert.ThrowsAsync<DeepSentinelException>(() => store.PutBytesAsync("fresh.tif", StoreTestData.Bytes(64 * 1024 * 5, seed: 5)));

        Assert.Equal(ErrorIds.EndpointUnreachable, error.ErrorId);
        Assert.Equal(v1, await direct.ReadAllAsync("sample.tif"));
        Assert.Null(await direct.GetInfoAsync("fresh.tif", CancellationToken.None));
        Assert.Equal(["sample.tif"], (await direct.ListAllAsync()).Select(i => i.Key));
    }

    [Fact]
    public async Task A_create_only_put_whose_answer_was_lost_recognises_its_own_blob()
    {
        await using var proxy = new FaultProxy(azurite.BlobEndpoint);
        var lost = 0;
        proxy.Decide = r => r.Method == "PUT" && r.PathAndQuery.EndsWith("/p/c.tif", StringComparison.Ordinal) && Interlocked.Increment(ref lost) == 2 ? Fault.DropResponse : Fault.None;
        var container = "c" + Guid.NewGuid().ToString("N");
        var (store, reporter) = Open(proxy.BaseUri, container);
        var data = StoreTestData.Bytes(3000, seed: 6);

        // The first PUT finds no container (404), the second is written but its answer is lost, the third gets 409.
        await store.PutBytesAsync("c.tif", data, createOnly: true);

        Assert.Equal(data, await store.ReadAllAsync("c.tif"));
        Assert.Contains(reporter.VerboseMessages, m => m.Contains("committed by an earlier attempt", StringComparison.Ordinal));
        await Assert.ThrowsAsync<ObjectExistsException>(() => store.PutBytesAsync("c.tif", data, createOnly: true));
    }
}

[Collection("StorageEmulators")]
public sealed class GcsFaultTests(GcsEmulatorFixture emulator)
{
    private static (IObjectStore Store, RecordingReporter Reporter) Open(Uri endpoint, string location)
    {
        var reporter = new RecordingReporter();
        return (ObjectStores.Open(location, new StorageOptions { GcsEndpoint = endpoint, Environment = _ => null }, TestServices.Create(), reporter), reporter);
    }

    [Fact]
    public async Task A_burst_of_503_is_retried_and_the_object_lands()
    {
        await using var proxy = new FaultProxy(emulator.Endpoint);
        proxy.Decide = r => r.Index <= 3 ? Fault.ServiceUnavailable : Fault.None;
        var location = GcsEmulatorFixture.NewLocation("p/");
        var (store, reporter) = Open(proxy.BaseUri, location);
        var data = StoreTestData.Bytes(40_000);

        await store.PutBytesAsync("a.tif", data, createOnly: true);

        Assert.Equal(data, await Open(emulator.Endpoint, location).Store.ReadAllAsync("a.tif"));
        Assert.Equal(3, reporter.VerboseMessages.Count(m => m.Contains("HTTP 503", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_connection_dropped_mid_upload_is_retried_and_the_object_is_whole()
    {
        await using var proxy = new FaultProxy(emulator.Endpoint);
        var dropped = 0;
        proxy.Decide = r => r.Method == "POST" && Interlocked.Increment(ref dropped) <= 2 ? Fault.DropMidBody : Fault.None;
        var location = GcsEmulatorFixture.NewLocation("p/");
        var (store, _) = Open(proxy.BaseUri, location);
        var data = StoreTestData.Bytes(200_000, seed: 2);

        await store.PutBytesAsync("b.tif", data);

        Assert.Equal(2, proxy.Log.Count(l => l.Fault == Fault.DropMidBody));
        var (direct, _) = Open(emulator.Endpoint, location);
        Assert.Equal(data, await direct.ReadAllAsync("b.tif"));
        Assert.Equal(200_000, (await direct.GetInfoAsync("b.tif", CancellationToken.None))!.Length);
    }

    [Fact]
    public async Task An_upload_that_never_gets_through_leaves_no_object()
    {
        await using var proxy = new FaultProxy(emulator.Endpoint);
        proxy.Decide = r => r.Method == "POST" ? Fault.DropMidBody : Fault.None;
        var location = GcsEmulatorFixture.NewLocation("p/");
        var (store, _) = Open(proxy.BaseUri, location);
        var (direct, _) = Open(emulator.Endpoint, location);
        await direct.PutBytesAsync("keep.json", [1]);

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => store.PutBytesAsync("c.tif", StoreTestData.Bytes(100_000, seed: 3)));

        Assert.Equal(ErrorIds.EndpointUnreachable, error.ErrorId);
        Assert.Equal(TestServices.FastRetry.MaxAttempts, proxy.Log.Count(l => l.Fault == Fault.DropMidBody));
        Assert.Null(await direct.GetInfoAsync("c.tif", CancellationToken.None));
        Assert.Equal(["keep.json"], (await direct.ListAllAsync()).Select(i => i.Key));
    }
}
