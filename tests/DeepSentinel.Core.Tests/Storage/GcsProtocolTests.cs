using System.Security.Cryptography;
using System.Text.Json;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Storage;
using DeepSentinel.Core.Storage.Gcs;
using DeepSentinel.Core.Tests.TestServers;
using Google.Apis.Auth.OAuth2;
using Microsoft.AspNetCore.Http;

namespace DeepSentinel.Core.Tests.Storage;

/// <summary>
/// Protocol parts the firebase-tools emulator does not implement (multi-chunk resumable uploads
/// with 308, ifGenerationMatch preconditions, OAuth), tested against our own strict loopback
/// server (<see cref="MiniGcsServer"/>) and a loopback OAuth2 token endpoint that verifies the
/// JWT's RS256 signature (<see cref="OAuthTokenServer"/>).
/// </summary>
public sealed class GcsProtocolTests : IAsyncLifetime
{
    private const string ClientEmail = "corpus-writer@deepsentinel-test.iam.gserviceaccount.com";
    private const int Chunk = GcsObjectStore.ChunkGranularity;
    private readonly RSA _key = RSA.Create(2048);
    private MiniGcsServer _gcs = null!;
    private OAuthTokenServer _tokens = null!;

    public async Task InitializeAsync()
    {
        _gcs = await MiniGcsServer.StartAsync();
        _tokens = await OAuthTokenServer.StartAsync(_key, ClientEmail);
    }

    public async Task DisposeAsync()
    {
        await _gcs.DisposeAsync();
        await _tokens.DisposeAsync();
        _key.Dispose();
    }

    private string KeyJson() => JsonSerializer.Serialize(new Dictionary<string, string>
    {
        ["type"] = "service_account",
        ["project_id"] = "deepsentinel-test",
        ["private_key_id"] = "key-1",
        ["private_key"] = _key.ExportPkcs8PrivateKeyPem(),
        ["client_email"] = ClientEmail,
        ["token_uri"] = _tokens.TokenUri.AbsoluteUri,
    });

    private (GcsObjectStore Store, RecordingServices Http, RecordingReporter Reporter) Open(StorageOptions? options = null, int blockSize = Chunk)
    {
        var http = new RecordingServices();
        var reporter = new RecordingReporter();
        var store = (GcsObjectStore)ObjectStores.Open("gs://bucket/corpus", options ?? new StorageOptions { GcsEndpoint = _gcs.BaseUri, GcsAnonymous = true, BlockSize = blockSize, Environment = _ => null }, http.Services, reporter);
        return (store, http, reporter);
    }

    [Fact]
    public async Task Large_objects_go_up_as_a_resumable_upload_in_256_KiB_multiples_answered_with_308()
    {
        var (store, http, _) = Open();
        var data = StoreTestData.Bytes((Chunk * 3) + 1000);

        await store.PutAsync("big.tif", new StoreTestData.TrickleStream(data, 7000), PutOptions.CreateOnly, CancellationToken.None);

        Assert.Equal(data, _gcs.Objects["corpus/big.tif"].Data);
        var chunks = http.Sent.Where(r => r.Method == "PUT").ToList();
        Assert.Equal(4, chunks.Count);
        // The stream's length is known, so every chunk names the total; only the last carries the CRC32C.
        Assert.Equal([$"bytes 0-{Chunk - 1}/{data.Length}", $"bytes {Chunk}-{(2 * Chunk) - 1}/{data.Length}", $"bytes {2 * Chunk}-{(3 * Chunk) - 1}/{data.Length}", $"bytes {3 * Chunk}-{data.Length - 1}/{data.Length}"], chunks.Select(c => c.Headers["Content-Range"]));
        Assert.StartsWith("crc32c=", chunks[^1].Headers["X-Goog-Hash"], StringComparison.Ordinal);
        Assert.All(chunks[..^1], c => Assert.False(c.Headers.ContainsKey("X-Goog-Hash")));
        Assert.Contains("ifGenerationMatch=0", Assert.Single(http.Sent, r => r.Method == "POST").Uri.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_chunk_the_server_kept_only_partly_is_completed_from_the_308_Range()
    {
        _gcs.PersistPartialChunks = true;
        var (store, http, _) = Open(blockSize: 2 * Chunk);
        var data = StoreTestData.Bytes((Chunk * 4) + 10, seed: 5);

        await store.PutBytesAsync("partial.tif", data);

        Assert.Equal(data, _gcs.Objects["corpus/partial.tif"].Data);
        // The server kept one of the chunk's two 256 KiB units: the next request starts at the second.
        var puts = http.Sent.Where(r => r.Method == "PUT").Select(r => r.Headers["Content-Range"]).ToList();
        Assert.StartsWith($"bytes {Chunk}-", puts[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_connection_dropped_mid_chunk_is_resumed_from_what_the_session_holds_and_commits_once()
    {
        _gcs.DropChunkRequests.Add(2);
        var (store, http, reporter) = Open(blockSize: 2 * Chunk);
        var data = StoreTestData.Bytes((Chunk * 6) + 5, seed: 6);

        await store.PutBytesAsync("dropped.tif", data, createOnly: true);

        Assert.Equal(data, _gcs.Objects["corpus/dropped.tif"].Data);
        Assert.Equal(1, _gcs.Commits);
        // After the drop (the server kept the first half of bytes 2-4 Chunk): a status query, then
        // the upload goes on from where the session stands.
        Assert.Contains(http.Sent, r => r.Method == "PUT" && r.Headers["Content-Range"] == "bytes */*");
        Assert.Contains(http.Sent, r => r.Method == "PUT" && r.Headers["Content-Range"].StartsWith($"bytes {3 * Chunk}-", StringComparison.Ordinal));
        // The session URI is a credential (whoever has it can write): it is never reported unredacted.
        Assert.DoesNotMatch("upload_id=(?!REDACTED)", reporter.AllText);
    }

    [Fact]
    public async Task An_upload_interrupted_for_good_leaves_no_object_under_its_name()
    {
        // Every chunk after the first is cut off with nothing kept: no progress, so the client gives up.
        _gcs.KeepHalfOfDroppedChunks = false;
        for (var i = 2; i < 200; i++)
        {
            _gcs.DropChunkRequests.Add(i);
        }

        var (store, _, _) = Open();
        var data = StoreTestData.Bytes((Chunk * 3) + 5, seed: 7);

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => store.PutBytesAsync("never.tif", data));

        Assert.Equal(0, _gcs.Commits);
        Assert.False(_gcs.Objects.ContainsKey("corpus/never.tif"));
        Assert.Null(await store.GetInfoAsync("never.tif", CancellationToken.None));
        Assert.Contains("never.tif", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ifGenerationMatch_0_makes_media_and_resumable_uploads_create_only()
    {
        var (store, _, _) = Open();
        await store.PutBytesAsync("small.json", [1], createOnly: true);
        await store.PutBytesAsync("large.tif", StoreTestData.Bytes(Chunk + 1), createOnly: true);

        await Assert.ThrowsAsync<ObjectExistsException>(() => store.PutBytesAsync("small.json", [2], createOnly: true));
        await Assert.ThrowsAsync<ObjectExistsException>(() => store.PutBytesAsync("large.tif", StoreTestData.Bytes(Chunk + 1, seed: 9), createOnly: true));
        await store.PutBytesAsync("small.json", [3]);

        Assert.Equal(new byte[] { 3 }, _gcs.Objects["corpus/small.json"].Data);
        Assert.Equal(StoreTestData.Bytes(Chunk + 1), _gcs.Objects["corpus/large.tif"].Data);
    }

    [Fact]
    public async Task A_service_account_key_is_exchanged_for_a_token_with_an_RS256_JWT_and_the_token_is_reused()
    {
        _gcs.AcceptToken = _tokens.IsValid;
        var (store, http, reporter) = Open(new StorageOptions { GcsEndpoint = _gcs.BaseUri, GcsServiceAccountKeyJson = KeyJson(), Environment = _ => null });

        for (var i = 0; i < 5; i++)
        {
            await store.PutBytesAsync($"k{i}", [(byte)i]);
        }

        Assert.IsType<ServiceAccountCredential>(store.Credential!.UnderlyingCredential);
        Assert.Equal(1, _tokens.Issued);
        Assert.Empty(_tokens.Rejections);
        Assert.All(http.Sent.Where(r => r.Uri.Port == _gcs.BaseUri.Port), r => Assert.StartsWith("Bearer ya29.test-1-", r.Headers["Authorization"], StringComparison.Ordinal));
        Assert.Contains(ClientEmail, reporter.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_that_expires_mid_run_is_replaced_and_the_run_goes_on()
    {
        _gcs.AcceptToken = _tokens.IsValid;
        var (store, _, reporter) = Open(new StorageOptions { GcsEndpoint = _gcs.BaseUri, GcsServiceAccountKeyJson = KeyJson(), BlockSize = Chunk, Environment = _ => null });
        await store.PutBytesAsync("before", [1]);

        var data = StoreTestData.Bytes((Chunk * 2) + 3, seed: 8);
        // The server stops honouring the token once the upload's first chunk is stored.
        var revoked = 0;
        _gcs.AfterChunk = _ =>
        {
            if (Interlocked.Exchange(ref revoked, 1) == 0)
            {
                _tokens.RevokeAll();
            }
        };
        await store.PutAsync("during.tif", new MemoryStream(data), PutOptions.CreateOnly, CancellationToken.None);
        _tokens.RevokeAll();
        await store.PutBytesAsync("after", [2]);

        Assert.Equal(data, _gcs.Objects["corpus/during.tif"].Data);
        Assert.Equal(new byte[] { 2 }, _gcs.Objects["corpus/after"].Data);
        Assert.Equal(3, _tokens.Issued);
        Assert.Equal(2, reporter.VerboseMessages.Count(m => m.Contains("HTTP 401", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_key_the_token_endpoint_rejects_is_a_credential_error_that_shows_no_secret()
    {
        using var other = RSA.Create(2048);
        var json = KeyJson().Replace(JsonSerializer.Serialize(_key.ExportPkcs8PrivateKeyPem())[1..^1], JsonSerializer.Serialize(other.ExportPkcs8PrivateKeyPem())[1..^1], StringComparison.Ordinal);
        _gcs.AcceptToken = _tokens.IsValid;
        var (store, _, reporter) = Open(new StorageOptions { GcsEndpoint = _gcs.BaseUri, GcsServiceAccountKeyJson = json, Environment = _ => null });

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => store.PutBytesAsync("k", [1]));

        Assert.Equal(ErrorIds.StorageCredentialUnavailable, error.ErrorId);
        Assert.Contains("invalid_grant", error.Message, StringComparison.Ordinal);
        Assert.Equal("Invalid JWT Signature.", Assert.Single(_tokens.Rejections));
        Assert.DoesNotContain("PRIVATE KEY", error.Message + reporter.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GOOGLE_APPLICATION_CREDENTIALS_names_the_key_file()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("ds-gcs-key").FullName, "key.json");
        await File.WriteAllTextAsync(file, KeyJson());
        _gcs.AcceptToken = _tokens.IsValid;
        var (store, _, _) = Open(new StorageOptions { GcsEndpoint = _gcs.BaseUri, Environment = name => name == "GOOGLE_APPLICATION_CREDENTIALS" ? file : null });

        await store.PutBytesAsync("k", [1]);

        Assert.IsType<ServiceAccountCredential>(store.Credential!.UnderlyingCredential);
        Assert.Equal(1, _tokens.Issued);
    }

    [Fact]
    public async Task Without_a_key_the_metadata_server_supplies_the_token()
    {
        await using var metadata = await LoopbackServer.StartAsync(async (context, request) =>
        {
            if (request.Path != "/computeMetadata/v1/instance/service-accounts/default/token" || request.Headers.GetValueOrDefault("Metadata-Flavor") != "Google")
            {
                context.Response.StatusCode = 403;
                return;
            }

            await context.Response.WriteAsJsonAsync(new { access_token = "ya29.metadata-token", expires_in = 3599, token_type = "Bearer" });
        });
        _gcs.AcceptToken = t => t == "ya29.metadata-token";
        var (store, _, _) = Open(new StorageOptions { GcsEndpoint = _gcs.BaseUri, GcsMetadataEndpoint = metadata.BaseUri, Environment = _ => null });
        // An explicit endpoint alone would mean an emulator (anonymous): this endpoint is "real".
        Assert.Null(store.Credential);
        var real = (GcsObjectStore)ObjectStores.Open("gs://bucket/corpus", new StorageOptions { GcsMetadataEndpoint = metadata.BaseUri, Environment = _ => null }, TestServices.Create());
        var compute = Assert.IsType<ComputeCredential>(real.Credential!.UnderlyingCredential);

        Assert.Equal("ya29.metadata-token", await ((ITokenAccess)compute).GetAccessTokenForRequestAsync(cancellationToken: CancellationToken.None));
        Assert.Single(metadata.Requests);
    }
}
