using System.Security.Cryptography;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Storage;
using DeepSentinel.Core.Storage.Azure;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Storage;

/// <summary>The Azure blob store against Azurite (a real Blob REST server) on loopback.</summary>
[Collection("StorageEmulators")]
public sealed class AzureBlobStoreTests(AzuriteFixture azurite)
{
    private (AzureBlobObjectStore Store, RecordingServices Http, RecordingReporter Reporter) Open(string? location = null, StorageOptions? options = null)
    {
        var http = new RecordingServices();
        var reporter = new RecordingReporter();
        var store = (AzureBlobObjectStore)ObjectStores.Open(location ?? azurite.NewLocation("corpus/"), options ?? new StorageOptions { AzureAccountKey = AzuriteFixture.AccountKey, Environment = _ => null }, http.Services, reporter);
        return (store, http, reporter);
    }

    [Fact]
    public async Task Objects_round_trip_with_SharedKey_and_the_container_is_created_on_first_write()
    {
        var (store, http, _) = Open();
        var data = StoreTestData.Bytes(70_000);

        Assert.Null(await store.GetInfoAsync("s/0001/s2.tif", CancellationToken.None));
        await store.PutBytesAsync("s/0001/s2.tif", data);
        var info = await store.GetInfoAsync("s/0001/s2.tif", CancellationToken.None);

        Assert.Equal(AzureAuthentication.SharedKey, store.Authentication);
        Assert.Equal(data, await store.ReadAllAsync("s/0001/s2.tif"));
        Assert.NotNull(info);
        Assert.Equal(70_000, info.Length);
        Assert.Equal(Convert.ToBase64String(MD5.HashData(data)), info.ContentMd5);
        Assert.All(http.Sent, r => Assert.StartsWith("SharedKey devstoreaccount1:", r.Headers["Authorization"], StringComparison.Ordinal));
        Assert.Contains(http.Sent, r => r.Method == "PUT" && r.Uri.Query.Contains("restype=container", StringComparison.Ordinal));
        // The blob sits under the location's prefix in the container.
        Assert.Contains(http.Sent, r => r.Method == "PUT" && r.Uri.AbsolutePath.EndsWith("/corpus/s/0001/s2.tif", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ranged_reads_return_the_window_and_zero_past_the_end()
    {
        var (store, http, _) = Open();
        var data = StoreTestData.Bytes(10_000, seed: 2);
        await store.PutBytesAsync("a.bin", data);
        var buffer = new byte[100];

        Assert.Equal(100, await store.ReadRangeAsync("a.bin", 5000, buffer, CancellationToken.None));
        Assert.Equal(data.AsSpan(5000, 100).ToArray(), buffer);
        Assert.Equal(50, await store.ReadRangeAsync("a.bin", 9950, buffer, CancellationToken.None));
        Assert.Equal(data.AsSpan(9950, 50).ToArray(), buffer[..50]);
        Assert.Equal(0, await store.ReadRangeAsync("a.bin", 20_000, buffer, CancellationToken.None));
        Assert.Contains(http.Sent, r => r.Headers.TryGetValue("x-ms-range", out var range) && range == "bytes=5000-5099");
    }

    [Fact]
    public async Task Create_only_puts_refuse_to_overwrite_with_If_None_Match()
    {
        var (store, http, _) = Open();
        await store.PutBytesAsync("sample.json", "{\"v\":1}"u8.ToArray(), createOnly: true);

        var error = await Assert.ThrowsAsync<ObjectExistsException>(() => store.PutBytesAsync("sample.json", "{\"v\":2}"u8.ToArray(), createOnly: true));

        Assert.Equal("sample.json", error.Key);
        Assert.Equal("{\"v\":1}"u8.ToArray(), await store.ReadAllAsync("sample.json"));
        var blobPuts = http.Sent.Where(r => r.Method == "PUT" && r.Uri.AbsolutePath.EndsWith("/sample.json", StringComparison.Ordinal)).ToList();
        Assert.All(blobPuts, r => Assert.Equal("*", r.Headers["If-None-Match"]));
        Assert.True(blobPuts.Count >= 2);
    }

    [Fact]
    public async Task Large_objects_are_staged_as_blocks_and_committed_by_one_block_list()
    {
        var (store, http, _) = Open(options: new StorageOptions { AzureAccountKey = AzuriteFixture.AccountKey, BlockSize = 64 * 1024, Environment = _ => null });
        var data = StoreTestData.Bytes((64 * 1024 * 4) + 123, seed: 3);

        await store.PutAsync("big/patch.tif", new StoreTestData.TrickleStream(data, 5000), PutOptions.CreateOnly, CancellationToken.None);

        Assert.Equal(data, await store.ReadAllAsync("big/patch.tif"));
        Assert.Equal(5, http.Sent.Count(r => r.Uri.Query.Contains("comp=block&", StringComparison.Ordinal)));
        var commit = Assert.Single(http.Sent, r => r.Uri.Query.Contains("comp=blocklist", StringComparison.Ordinal));
        Assert.Equal("*", commit.Headers["If-None-Match"]);
        Assert.Equal(Convert.ToBase64String(MD5.HashData(data)), (await store.GetInfoAsync("big/patch.tif", CancellationToken.None))!.ContentMd5);
        await Assert.ThrowsAsync<ObjectExistsException>(() => store.PutAsync("big/patch.tif", new MemoryStream(data), PutOptions.CreateOnly, CancellationToken.None));
    }

    [Fact]
    public async Task Listing_pages_through_markers_in_key_order_within_the_prefix()
    {
        var location = azurite.NewLocation("corpus/");
        var (store, http, _) = Open(location);
        var (outside, _, _) = Open(location.Replace("/corpus/", "/other/", StringComparison.Ordinal));
        var keys = new[] { "b/2.png", "a/1.tif", "a/10.tif", "c.json", "a/2.tif" };
        foreach (var key in keys)
        {
            await store.PutBytesAsync(key, [1, 2, 3]);
        }

        await outside.PutBytesAsync("a/1.tif", [9]);
        store.ListPageSize = 2;

        var all = await store.ListAllAsync();
        var a = await store.ListAllAsync("a/");

        Assert.Equal(keys.Order(StringComparer.Ordinal), all.Select(i => i.Key));
        Assert.All(all, i => Assert.Equal(3, i.Length));
        Assert.Equal(["a/1.tif", "a/10.tif", "a/2.tif"], a.Select(i => i.Key));
        Assert.True(http.Sent.Count(r => r.Uri.Query.Contains("marker=", StringComparison.Ordinal)) >= 2);
    }

    [Fact]
    public async Task Delete_removes_and_missing_objects_are_reported_as_not_found()
    {
        var (store, _, _) = Open();
        await store.PutBytesAsync("x.bin", [1]);

        await store.DeleteAsync("x.bin", CancellationToken.None);
        await store.DeleteAsync("x.bin", CancellationToken.None);
        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => store.OpenReadAsync("x.bin", CancellationToken.None));

        Assert.Null(await store.GetInfoAsync("x.bin", CancellationToken.None));
        Assert.Equal(ErrorIds.StorageObjectNotFound, error.ErrorId);
    }

    [Fact]
    public async Task A_connection_string_with_BlobEndpoint_opens_an_az_location_on_the_emulator()
    {
        var container = "c" + Guid.NewGuid().ToString("N");
        var (store, _, _) = Open($"az://devstoreaccount1/{container}/p", new StorageOptions { AzureConnectionString = azurite.ConnectionString, Environment = _ => null });

        await store.PutBytesAsync("k", [4, 5]);

        Assert.Equal(AzureAuthentication.SharedKey, store.Authentication);
        Assert.Equal(azurite.BlobEndpoint, store.Location.ServiceUri);
        Assert.Equal(new byte[] { 4, 5 }, await store.ReadAllAsync("k"));
    }

    [Fact]
    public async Task A_wrong_key_is_AccessDenied_and_no_key_or_signature_leaks()
    {
        var wrongKey = Convert.ToBase64String(StoreTestData.Bytes(64, seed: 9));
        var (store, http, reporter) = Open(options: new StorageOptions { AzureAccountKey = wrongKey, Environment = _ => null });

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => store.PutBytesAsync("k", [1]));

        Assert.Equal(ErrorIds.StorageAccessDenied, error.ErrorId);
        Assert.Equal(ErrorKind.PermissionDenied, error.Kind);
        var signature = http.Sent.Last().Headers["Authorization"].Split(':')[1];
        foreach (var text in new[] { error.Message, error.Target?.ToString() ?? string.Empty, reporter.AllText, store.DisplayName })
        {
            Assert.DoesNotContain(wrongKey, text, StringComparison.Ordinal);
            Assert.DoesNotContain(signature, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Without_key_SAS_or_connection_string_DefaultAzureCredential_is_used()
    {
        var store = AzureBlobObjectStore.Create(StoreLocation.Parse("az://acct/corpus"), new StorageOptions { Environment = _ => null }, new HttpClient(), DeepSentinel.Core.Diagnostics.NullReporter.Instance);

        Assert.Equal(AzureAuthentication.Token, store.Authentication);
    }

    [Fact]
    public async Task Transfers_to_the_emulator_are_validated_with_MD5_and_Azure_keeps_the_SDK_default()
    {
        var (store, http, _) = Open();
        var data = StoreTestData.Bytes(5000, seed: 12);
        var azure = AzureBlobObjectStore.Create(StoreLocation.Parse("az://acct/corpus"), new StorageOptions { AzureAccountKey = AzuriteFixture.AccountKey, Environment = _ => null }, new HttpClient(), DeepSentinel.Core.Diagnostics.NullReporter.Instance);

        await store.PutBytesAsync("v.bin", data);
        var buffer = new byte[100];
        await store.ReadRangeAsync("v.bin", 10, buffer, CancellationToken.None);

        // Azurite rejects CRC64: the development account gets MD5; real accounts the SDK's default (CRC64).
        Assert.Equal(global::Azure.Storage.StorageChecksumAlgorithm.MD5, store.TransferChecksum);
        Assert.Equal(global::Azure.Storage.StorageChecksumAlgorithm.Auto, azure.TransferChecksum);
        // The first Put Blob finds no container (404); the second lands.
        var put = http.Sent.Last(r => r.Method == "PUT" && r.Uri.AbsolutePath.EndsWith("/v.bin", StringComparison.Ordinal));
        Assert.Equal(Convert.ToBase64String(MD5.HashData(data)), put.Headers["Content-MD5"]);
        Assert.Contains(http.Sent, r => r.Method == "GET" && r.Headers.TryGetValue("x-ms-range-get-content-md5", out var v) && v == "true");
        Assert.All(http.Sent, r => Assert.StartsWith("2026-", r.Headers["x-ms-version"], StringComparison.Ordinal));
    }
}
