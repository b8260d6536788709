using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DeepSentinel.Core.Hashing;
using Microsoft.AspNetCore.Http;

namespace DeepSentinel.Core.Tests.TestServers;

/// <summary>
/// The parts of the Cloud Storage JSON API that firebase-tools' emulator lacks, implemented
/// strictly on loopback: multi-chunk resumable uploads answered with 308 and a Range header
/// (non-final chunks must be multiples of 256 KiB and start exactly where the session stands),
/// upload status queries, ifGenerationMatch=0 preconditions, X-Goog-Hash checks on the final
/// request, and bearer tokens checked against the <see cref="OAuthTokenServer"/>'s live tokens.
/// Also serves object metadata and media so tests can read back what was committed.
/// </summary>
public sealed class MiniGcsServer : IAsyncDisposable
{
    private const int Granularity = 256 * 1024;
    private readonly LoopbackServer _server;
    private readonly ConcurrentDictionary<string, Session> _sessions = new();
    private long _generation = 1000;
    private int _chunkRequests;

    private MiniGcsServer(LoopbackServer server) => _server = server;

    public Uri BaseUri => _server.BaseUri;

    public ConcurrentQueue<RecordedRequest> Requests => _server.Requests;

    /// <summary>Committed objects: name to bytes, generation.</summary>
    public ConcurrentDictionary<string, (byte[] Data, long Generation)> Objects { get; } = new();

    /// <summary>When set, requests must carry a bearer token it accepts; others get 401.</summary>
    public Func<string, bool>? AcceptToken { get; set; }

    /// <summary>Chunk requests (1-based) during which the server keeps half the body, then drops the connection.</summary>
    public HashSet<int> DropChunkRequests { get; } = [];

    /// <summary>Called with the chunk request's index (1-based) after a non-final chunk is stored, before it is answered.</summary>
    public Action<int>? AfterChunk { get; set; }

    /// <summary>When false, a dropped chunk request keeps nothing of its body (the upload makes no progress).</summary>
    public bool KeepHalfOfDroppedChunks { get; set; } = true;

    /// <summary>When true, a non-final chunk's last 256 KiB are not kept (the 308's Range says how much), as GCS may do.</summary>
    public bool PersistPartialChunks { get; set; }

    /// <summary>How many objects were committed (an interrupted upload must commit nothing).</summary>
    public int Commits;

    public static async Task<MiniGcsServer> StartAsync()
    {
        MiniGcsServer? self = null;
        var server = await LoopbackServer.StartAsync((context, _) => self!.HandleAsync(context));
        self = new MiniGcsServer(server);
        return self;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        if (AcceptToken is { } accept)
        {
            var auth = request.Headers.Authorization.ToString();
            if (!auth.StartsWith("Bearer ", StringComparison.Ordinal) || !accept(auth["Bearer ".Length..]))
            {
                context.Response.StatusCode = 401;
                await context.Response.WriteAsJsonAsync(new { error = new { code = 401, message = "Invalid Credentials" } });
                return;
            }
        }

        var path = request.Path.Value ?? "/";
        var query = request.Query;
        if (request.Method == "POST" && path.StartsWith("/upload/storage/v1/b/", StringComparison.Ordinal))
        {
            // The object's name comes in the query (media uploads) or in the JSON metadata that
            // starts a resumable upload (as Google.Cloud.Storage.V1 sends it).
            var name = query["name"].ToString() is { Length: > 0 } inQuery ? inQuery : await NameInMetadataAsync(request);
            var createOnly = query["ifGenerationMatch"] == "0";
            if (createOnly && Objects.ContainsKey(name))
            {
                await Fail(context, 412, "At least one of the pre-conditions you specified did not hold.");
                return;
            }

            if (query["uploadType"] == "resumable")
            {
                var id = Guid.NewGuid().ToString("N");
                _sessions[id] = new Session(name, createOnly);
                context.Response.Headers.Location = $"{BaseUri}upload/storage/v1/b/bucket/o?uploadType=resumable&upload_id={id}";
                return;
            }

            var data = await ReadBodyAsync(request);
            if (!HashesMatch(request, data))
            {
                await Fail(context, 400, "Provided CRC32C \"x\" doesn't match calculated CRC32C \"y\".");
                return;
            }

            await CommitAsync(context, name, data);
            return;
        }

        if (request.Method == "PUT" && query["upload_id"].ToString() is { Length: > 0 } uploadId)
        {
            await HandleChunkAsync(context, uploadId);
            return;
        }

        if (request.Method == "GET" && path.StartsWith("/storage/v1/b/", StringComparison.Ordinal) && path.Contains("/o/", StringComparison.Ordinal))
        {
            var name = Uri.UnescapeDataString(path[(path.IndexOf("/o/", StringComparison.Ordinal) + 3)..]);
            if (!Objects.TryGetValue(name, out var stored))
            {
                await Fail(context, 404, "No such object.");
                return;
            }

            if (query["alt"] == "media")
            {
                await context.Response.Body.WriteAsync(stored.Data);
                return;
            }

            await context.Response.WriteAsync(Metadata(name, stored.Data, stored.Generation));
            return;
        }

        await Fail(context, 501, "Not implemented by the test server.");
    }

    private static async Task<string> NameInMetadataAsync(HttpRequest request)
    {
        request.Body.Position = 0;
        // The client gzips the metadata (Content-Encoding: gzip).
        Stream body = request.Headers.ContentEncoding.ToString() == "gzip" ? new System.IO.Compression.GZipStream(request.Body, System.IO.Compression.CompressionMode.Decompress, leaveOpen: true) : request.Body;
        try
        {
            using var json = await JsonDocument.ParseAsync(body);
            return json.RootElement.TryGetProperty("name", out var name) ? name.GetString() ?? string.Empty : string.Empty;
        }
        catch (JsonException)
        {
            return string.Empty;
        }
    }

    private async Task HandleChunkAsync(HttpContext context, string uploadId)
    {
        if (!_sessions.TryGetValue(uploadId, out var session))
        {
            await Fail(context, 404, "No such upload session.");
            return;
        }

        var range = context.Request.Headers["Content-Range"].ToString();
        var (start, end, total) = ParseContentRange(range);
        if (start is null)
        {
            // A status query: "bytes */total" or "bytes */*".
            await ReportAsync(context, session);
            return;
        }

        var index = Interlocked.Increment(ref _chunkRequests);
        if (start != session.Data.Length)
        {
            await Fail(context, 400, $"Chunk starts at {start}, the session holds {session.Data.Length} bytes.");
            return;
        }

        var expected = (int)(end!.Value - start.Value + 1);
        if (DropChunkRequests.Contains(index))
        {
            // Keep what arrived of the first half (GCS keeps whole 256 KiB units), then drop the connection.
            var half = new byte[KeepHalfOfDroppedChunks ? expected / 2 / Granularity * Granularity : 0];
            await context.Request.Body.ReadExactlyAsync(half);
            session.Data.Write(half);
            context.Abort();
            return;
        }

        var body = await ReadBodyAsync(context.Request);
        if (body.Length != expected)
        {
            await Fail(context, 400, "Content-Range does not match the body.");
            return;
        }

        var isFinal = total is not null && end + 1 == total;
        if (!isFinal && body.Length % Granularity != 0)
        {
            await Fail(context, 400, "Non-final chunks must be multiples of 256 KiB.");
            return;
        }

        var keep = !isFinal && PersistPartialChunks && body.Length > Granularity ? body.Length - Granularity : body.Length;
        session.Data.Write(body, 0, keep);
        if (!isFinal)
        {
            AfterChunk?.Invoke(index);
            await ReportAsync(context, session);
            return;
        }

        var data = session.Data.ToArray();
        if (!HashesMatch(context.Request, data))
        {
            await Fail(context, 400, "Provided MD5 hash doesn't match calculated MD5 hash.");
            return;
        }

        if (session.CreateOnly && Objects.ContainsKey(session.Name))
        {
            await Fail(context, 412, "At least one of the pre-conditions you specified did not hold.");
            return;
        }

        _sessions.TryRemove(uploadId, out _);
        await CommitAsync(context, session.Name, data);
    }

    private static async Task ReportAsync(HttpContext context, Session session)
    {
        context.Response.StatusCode = 308;
        if (session.Data.Length > 0)
        {
            context.Response.Headers["Range"] = $"bytes=0-{session.Data.Length - 1}";
        }

        await context.Response.CompleteAsync();
    }

    private async Task CommitAsync(HttpContext context, string name, byte[] data)
    {
        var generation = Interlocked.Increment(ref _generation);
        Objects[name] = (data, generation);
        Interlocked.Increment(ref Commits);
        await context.Response.WriteAsync(Metadata(name, data, generation));
    }

    private static string Metadata(string name, byte[] data, long generation)
    {
        var crc = new Crc32C();
        crc.Append(data);
        return JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["kind"] = "storage#object",
            ["name"] = name,
            ["size"] = data.Length.ToString(CultureInfo.InvariantCulture),
            ["generation"] = generation.ToString(CultureInfo.InvariantCulture),
            ["md5Hash"] = Convert.ToBase64String(MD5.HashData(data)),
            ["crc32c"] = Convert.ToBase64String(crc.GetCurrentHash()),
            ["updated"] = "2026-11-21T00:00:00.000Z",
        });
    }

    // X-Goog-Hash: crc32c=<b64>,md5=<b64>, checked like GCS does on the request that completes an upload.
    private static bool HashesMatch(HttpRequest request, byte[] data)
    {
        var header = request.Headers["X-Goog-Hash"].ToString();
        if (header.Length == 0)
        {
            return true;
        }

        var crc = new Crc32C();
        crc.Append(data);
        foreach (var part in header.Split(','))
        {
            var kv = part.Split('=', 2);
            var expected = kv[0].Trim() switch
            {
                "crc32c" => Convert.ToBase64String(crc.GetCurrentHash()),
                "md5" => Convert.ToBase64String(MD5.HashData(data)),
                _ => kv[1],
            };
            if (kv[1] != expected)
            {
                return false;
            }
        }

        return true;
    }

    private static (long? Start, long? End, long? Total) ParseContentRange(string header)
    {
        // "bytes 0-262143/*", "bytes 262144-300000/300001", "bytes */300001", "bytes */*"
        var spec = header.Replace("bytes ", string.Empty, StringComparison.Ordinal).Split('/');
        long? total = spec[1] == "*" ? null : long.Parse(spec[1], CultureInfo.InvariantCulture);
        if (spec[0] == "*")
        {
            return (null, null, total);
        }

        var bounds = spec[0].Split('-');
        return (long.Parse(bounds[0], CultureInfo.InvariantCulture), long.Parse(bounds[1], CultureInfo.InvariantCulture), total);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        request.Body.Position = 0;
        using var copy = new MemoryStream();
        await request.Body.CopyToAsync(copy);
        return copy.ToArray();
    }

    private static async Task Fail(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(new { error = new { code = status, message } });
    }

    private sealed class Session(string name, bool createOnly)
    {
        public string Name { get; } = name;

        public bool CreateOnly { get; } = createOnly;

        public MemoryStream Data { get; } = new();
    }
}

/// <summary>
/// A loopback OAuth2 token endpoint for the JWT bearer grant (RFC 7523): it verifies the
/// assertion's RS256 signature with the service account's public key, its audience, issuer, scope
/// and times, then issues opaque tokens with a chosen lifetime. Tokens can be revoked to
/// simulate expiry on the server's side.
/// </summary>
public sealed class OAuthTokenServer : IAsyncDisposable
{
    private readonly LoopbackServer _server;
    private readonly RSA _publicKey;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _issued = new();
    private int _count;

    private OAuthTokenServer(LoopbackServer server, RSA publicKey)
    {
        _server = server;
        _publicKey = publicKey;
    }

    public const string GoogleTokenUrl = "https://oauth2.googleapis.com/token";

    public Uri TokenUri => new(_server.BaseUri, "token");

    /// <summary>expires_in of issued tokens.</summary>
    public int LifetimeSeconds { get; set; } = 3600;

    public int Issued => _count;

    public ConcurrentQueue<string> Rejections { get; } = new();

    public ConcurrentQueue<RecordedRequest> Requests => _server.Requests;

    /// <summary>True for a token this server issued, not revoked and not past its lifetime.</summary>
    public bool IsValid(string token) => _issued.TryGetValue(token, out var expires) && DateTimeOffset.UtcNow < expires;

    /// <summary>Makes every token issued so far invalid (as if it expired early).</summary>
    public void RevokeAll() => _issued.Clear();

    public static async Task<OAuthTokenServer> StartAsync(RSA publicKey, string clientEmail)
    {
        OAuthTokenServer? self = null;
        var server = await LoopbackServer.StartAsync((context, recorded) => self!.HandleAsync(context, recorded, clientEmail));
        self = new OAuthTokenServer(server, publicKey);
        return self;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task HandleAsync(HttpContext context, RecordedRequest recorded, string clientEmail)
    {
        var form = System.Web.HttpUtility.ParseQueryString(recorded.Body);
        var why = Verify(form["grant_type"], form["assertion"], clientEmail);
        if (why is not null)
        {
            Rejections.Enqueue(why);
            context.Response.StatusCode = 400;
            await context.Response.WriteAsJsonAsync(new { error = "invalid_grant", error_description = why });
            return;
        }

        var token = $"ya29.test-{Interlocked.Increment(ref _count)}-{Guid.NewGuid():N}";
        _issued[token] = DateTimeOffset.UtcNow.AddSeconds(LifetimeSeconds);
        await context.Response.WriteAsJsonAsync(new { access_token = token, expires_in = LifetimeSeconds, token_type = "Bearer" });
    }

    private string? Verify(string? grantType, string? assertion, string clientEmail)
    {
        if (grantType != "urn:ietf:params:oauth:grant-type:jwt-bearer" || assertion is null)
        {
            return "unsupported grant";
        }

        var parts = assertion.Split('.');
        if (parts.Length != 3)
        {
            return "not a JWT";
        }

        using var header = JsonDocument.Parse(FromBase64Url(parts[0]));
        if (header.RootElement.GetProperty("alg").GetString() != "RS256")
        {
            return "alg is not RS256";
        }

        if (!_publicKey.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), FromBase64Url(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
        {
            return "Invalid JWT Signature.";
        }

        using var claims = JsonDocument.Parse(FromBase64Url(parts[1]));
        var root = claims.RootElement;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        // Google.Apis.Auth always names Google's token URL as the audience, whatever token_uri the key gives.
        if (root.GetProperty("aud").GetString() is not { } audience || (audience != TokenUri.AbsoluteUri && audience != GoogleTokenUrl))
        {
            return "wrong audience";
        }

        if (root.GetProperty("iss").GetString() != clientEmail || !root.GetProperty("scope").GetString()!.Contains("devstorage", StringComparison.Ordinal))
        {
            return "wrong issuer or scope";
        }

        var iat = root.GetProperty("iat").GetInt64();
        var exp = root.GetProperty("exp").GetInt64();
        return iat > now + 60 || exp < now || exp - iat > 3600 ? "bad times" : null;
    }

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s + new string('=', (4 - (s.Length % 4)) % 4));
    }
}
