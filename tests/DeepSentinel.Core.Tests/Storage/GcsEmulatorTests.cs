using System.Security.Cryptography;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Hashing;
using DeepSentinel.Core.Storage;
using DeepSentinel.Core.Storage.Gcs;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Storage;

/// <summary>The Cloud Storage store against firebase-tools' storage emulator (the GCS JSON API) on loopback.</summary>
[Collection("StorageEmulators")]
public sealed class GcsEmulatorTests(GcsEmulatorFixture emulator)
{
    private (GcsObjectStore Store, RecordingServices Http) Open(string? location = null, string? userProject = null)
    {
        var http = new RecordingServices();
        var options = new StorageOptions { GcsEndpoint = emulator.Endpoint, GcsUserProject = userProject, Environment = _ => null };
        return ((GcsObjectStore)ObjectStores.Open(location ?? GcsEmulatorFixture.NewLocation("corpus/"), options, http.Services), http);
    }

    [Fact]
    public async Task Objects_round_trip_as_resumable_uploads_with_CRC32C_sent_and_hashes_checked()
    {
        var (store, http) = Open();
        var data = StoreTestData.Bytes(300_000);
        var crc = new Crc32C();
        crc.Append(data);

        await store.PutBytesAsync("s/0001/s1.tif", data, createOnly: true);
        var info = await store.GetInfoAsync("s/0001/s1.tif", CancellationToken.None);

        Assert.Null(store.Credential);
        Assert.Equal(data, await store.ReadAllAsync("s/0001/s1.tif"));
        Assert.Equal(300_000, info!.Length);
        Assert.Equal(Convert.ToBase64String(MD5.HashData(data)), info.ContentMd5);
        // Google.Cloud.Storage.V1 starts a resumable session (the name in its JSON metadata) and
        // sends the object in one PUT carrying its CRC32C, which the server checks.
        var start = Assert.Single(http.Sent, r => r.Method == "POST");
        Assert.Contains("uploadType=resumable", start.Uri.Query, StringComparison.Ordinal);
        Assert.Contains("ifGenerationMatch=0", start.Uri.Query, StringComparison.Ordinal);
        var put = Assert.Single(http.Sent, r => r.Method == "PUT");
        Assert.Equal("bytes 0-299999/300000", put.Headers["Content-Range"]);
        Assert.Equal($"crc32c={Convert.ToBase64String(crc.GetCurrentHash())}", put.Headers["x-goog-hash"]);
        Assert.DoesNotContain(http.Sent, r => r.Headers.ContainsKey("Authorization"));
    }

    [Fact]
    public async Task A_corrupted_download_fails_its_hash_check()
    {
        var (store, _) = Open();
        var data = StoreTestData.Bytes(100_000, seed: 5);
        await store.PutBytesAsync("c.bin", data);
        await using var proxy = new FaultProxy(emulator.Endpoint);
        proxy.Decide = r => r.Method == "GET" && r.PathAndQuery.Contains("alt=media", StringComparison.Ordinal) ? Fault.CorruptResponseBody : Fault.None;
        var corrupted = (GcsObjectStore)ObjectStores.Open(store.Location.ToString(), new StorageOptions { GcsEndpoint = proxy.BaseUri, Environment = _ => null }, TestServices.Create());

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => corrupted.ReadAllAsync("c.bin"));

        Assert.Equal(ErrorIds.StorageIntegrityFailed, error.ErrorId);
        Assert.Equal(data, await store.ReadAllAsync("c.bin"));
        Assert.Contains(proxy.Log, l => l.Fault == Fault.CorruptResponseBody);
    }

    [Fact]
    public async Task Ranged_downloads_return_the_window_and_zero_past_the_end()
    {
        var (store, _) = Open();
        var data = StoreTestData.Bytes(50_000, seed: 4);
        await store.PutBytesAsync("a.bin", data);
        var buffer = new byte[1000];

        Assert.Equal(1000, await store.ReadRangeAsync("a.bin", 12_345, buffer, CancellationToken.None));
        Assert.Equal(data.AsSpan(12_345, 1000).ToArray(), buffer);
        Assert.Equal(500, await store.ReadRangeAsync("a.bin", 49_500, buffer, CancellationToken.None));
        Assert.Equal(data.AsSpan(49_500, 500).ToArray(), buffer[..500]);
    }

    [Fact]
    public async Task Listing_pages_with_page_tokens_in_key_order_and_lists_folders_with_a_delimiter()
    {
        var location = GcsEmulatorFixture.NewLocation("corpus/");
        var (store, http) = Open(location);
        var (outside, _) = Open(location.Replace("/corpus/", "/other/", StringComparison.Ordinal));
        var keys = new[] { "s2/b.tif", "s1/a.tif", "s1/c.tif", "meta.json", "s10/x.tif" };
        foreach (var key in keys)
        {
            await store.PutBytesAsync(key, [7, 7]);
        }

        await outside.PutBytesAsync("s1/a.tif", [1]);
        store.ListPageSize = 2;

        var all = await store.ListAllAsync();
        var s1 = await store.ListAllAsync("s1/");
        var folders = new List<string>();
        await foreach (var folder in store.ListPrefixesAsync(string.Empty, "/", CancellationToken.None))
        {
            folders.Add(folder);
        }

        Assert.Equal(keys.Order(StringComparer.Ordinal), all.Select(i => i.Key));
        Assert.Equal(["s1/a.tif", "s1/c.tif"], s1.Select(i => i.Key));
        Assert.Equal(["s1/", "s10/", "s2/"], folders);
        Assert.Contains(http.Sent, r => r.Uri.Query.Contains("pageToken=", StringComparison.Ordinal));
        Assert.Contains(http.Sent, r => r.Uri.Query.Contains("delimiter=%2F", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Delete_removes_and_missing_objects_are_not_found()
    {
        var (store, _) = Open();
        await store.PutBytesAsync("x.json", [1]);

        await store.DeleteAsync("x.json", CancellationToken.None);
        await store.DeleteAsync("x.json", CancellationToken.None);
        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => store.OpenReadAsync("x.json", CancellationToken.None));

        Assert.Null(await store.GetInfoAsync("x.json", CancellationToken.None));
        Assert.Equal(ErrorIds.StorageObjectNotFound, error.ErrorId);
    }

    [Fact]
    public async Task Requester_pays_sends_userProject_on_every_request()
    {
        var (store, http) = Open(userProject: "billing-project-1");

        await store.PutBytesAsync("k.bin", [1, 2]);
        await store.GetInfoAsync("k.bin", CancellationToken.None);
        await store.ReadRangeAsync("k.bin", 0, new byte[1], CancellationToken.None);
        await store.ListAllAsync();
        await store.DeleteAsync("k.bin", CancellationToken.None);

        // Every API request names the billing project; the upload session's own URL (from the server) needs none.
        var api = http.Sent.Where(r => !r.Uri.Query.Contains("upload_id=", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, api.Count);
        Assert.All(api, r => Assert.Contains("userProject=billing-project-1", r.Uri.Query, StringComparison.Ordinal));
    }

    [Fact]
    public void STORAGE_EMULATOR_HOST_selects_the_emulator_without_credentials()
    {
        var store = (GcsObjectStore)ObjectStores.Open("gs://bucket/p", new StorageOptions { Environment = name => name == "STORAGE_EMULATOR_HOST" ? "127.0.0.1:9199" : null }, TestServices.Create());

        Assert.Equal(new Uri("http://127.0.0.1:9199/"), store.Endpoint);
        Assert.Null(store.Credential);
    }
}
