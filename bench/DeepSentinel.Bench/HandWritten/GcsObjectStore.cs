using DeepSentinel.Core.Storage;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Hashing;
using DeepSentinel.Core.Http;
using DeepSentinel.Core.Services;

namespace DeepSentinel.Bench.HandWritten;

/// <summary>
/// A Google Cloud Storage bucket prefix as an object store: a thin JSON API client on
/// <see cref="ResilientHttpClient"/>. Objects up to one chunk are single media uploads; larger ones
/// are resumable uploads sent chunk by chunk, each chunk resumed from what the server reports it
/// holds after a failure. Every upload sends its CRC32C and MD5 (X-Goog-Hash) and checks the
/// hashes the server reports. An object appears under its name only when its upload completes.
/// </summary>
public sealed class GcsObjectStore : IObjectStore
{
    /// <summary>Non-final resumable chunks must be multiples of this.</summary>
    public const int ChunkGranularity = 256 * 1024;

    private static readonly Uri PublicEndpoint = new("https://storage.googleapis.com/");
    private static readonly Uri DefaultMetadataEndpoint = new("http://169.254.169.254/");
    private readonly StoreLocation _location;
    private readonly ResilientHttpClient _http;
    private readonly Uri _endpoint;
    private readonly GoogleTokenSource? _tokens;
    private readonly string? _userProject;
    private readonly int _chunkSize;
    private readonly IOperationReporter _reporter;

    private GcsObjectStore(StoreLocation location, ResilientHttpClient http, Uri endpoint, GoogleTokenSource? tokens, string? userProject, int chunkSize, IOperationReporter reporter)
    {
        _location = location;
        _http = http;
        _endpoint = endpoint;
        _tokens = tokens;
        _userProject = userProject;
        _chunkSize = chunkSize;
        _reporter = reporter;
    }

    /// <inheritdoc />
    public string DisplayName => _location.DisplayName;

    /// <summary>Objects per list page (the service maximum by default; tests lower it to exercise paging).</summary>
    internal int ListPageSize { get; set; } = 1000;

    /// <summary>The location (bucket, prefix).</summary>
    public StoreLocation Location => _location;

    /// <summary>The JSON API endpoint in use.</summary>
    public Uri Endpoint => _endpoint;

    /// <summary>Where tokens come from (null: anonymous, e.g. an emulator).</summary>
    public GoogleTokenSource? TokenSource => _tokens;

    /// <summary>
    /// Opens a store. The endpoint is options.GcsEndpoint, else STORAGE_EMULATOR_HOST, else
    /// storage.googleapis.com. Credentials, in order: options' key JSON or key file;
    /// GOOGLE_APPLICATION_CREDENTIALS; none for an emulator or with GcsAnonymous; gcloud's
    /// application-default credentials; the metadata server (Compute Engine, GKE, Cloud Run).
    /// </summary>
    public static GcsObjectStore Create(StoreLocation location, StorageOptions options, CoreServices services, IOperationReporter reporter)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(services);
        if (location.Kind != StoreKind.GoogleCloudStorage)
        {
            throw new ArgumentException("Not a Cloud Storage location.", nameof(location));
        }

        var http = services.CreateHttp(reporter, options.Retry);
        var emulator = options.GcsEndpoint ?? EndpointFromEnvironment(options.Environment("STORAGE_EMULATOR_HOST"));
        var endpoint = emulator is null ? PublicEndpoint : new Uri(emulator.AbsoluteUri.TrimEnd('/') + "/");
        var tokens = ResolveCredentials(options, services, http, anonymousByDefault: options.GcsAnonymous || emulator is not null);
        if (tokens is not null)
        {
            reporter.Verbose($"{location.DisplayName}: authenticating as {tokens.Description}.");
        }

        var chunk = Math.Max(ChunkGranularity, options.BlockSize / ChunkGranularity * ChunkGranularity);
        return new GcsObjectStore(location, http, endpoint, tokens, string.IsNullOrWhiteSpace(options.GcsUserProject) ? null : options.GcsUserProject, chunk, reporter);
    }

    /// <inheritdoc />
    public async Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken)
    {
        var name = _location.ObjectName(key);
        using var response = await SendAsync((_, _) => Task.FromResult(new HttpRequestMessage(HttpMethod.Get, ObjectUri(name))), HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureSuccessAsync(response, "read", name, cancellationToken).ConfigureAwait(false);
        using var json = await ReadJsonAsync(response, name, cancellationToken).ConfigureAwait(false);
        return InfoOf(json.RootElement);
    }

    /// <inheritdoc />
    public async Task PutAsync(string key, Stream content, PutOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(options);
        var name = _location.ObjectName(key);
        var first = await ReadChunkAsync(content, cancellationToken).ConfigureAwait(false);
        var second = first.Length == _chunkSize ? await ReadChunkAsync(content, cancellationToken).ConfigureAwait(false) : [];
        if (second.Length == 0)
        {
            await MediaUploadAsync(key, name, first, options, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await ResumableUploadAsync(key, name, first, second, content, options, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var name = _location.ObjectName(key);
        var response = await SendAsync((_, _) => Task.FromResult(new HttpRequestMessage(HttpMethod.Get, ObjectUri(name, "alt=media"))), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            await EnsureSuccessAsync(response, "read", name, cancellationToken).ConfigureAwait(false);
            return new ResponseStream(response, await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public async Task<int> ReadRangeAsync(string key, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var name = _location.ObjectName(key);
        if (buffer.Length == 0)
        {
            return 0;
        }

        var length = buffer.Length;
        using var response = await SendAsync(
            (_, _) =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, ObjectUri(name, "alt=media"));
                request.Headers.Range = new RangeHeaderValue(offset, offset + length - 1);
                return Task.FromResult(request);
            },
            HttpCompletionOption.ResponseContentRead,
            cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            return 0;
        }

        await EnsureSuccessAsync(response, "read", name, cancellationToken).ConfigureAwait(false);
        var data = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var window = response.StatusCode == HttpStatusCode.PartialContent
            ? data.AsMemory(0, Math.Min(data.Length, length))
            : offset >= data.Length ? Memory<byte>.Empty : data.AsMemory((int)offset, (int)Math.Min(length, data.Length - offset));
        window.CopyTo(buffer);
        return window.Length;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var entry in ListEntriesAsync(prefix, delimiter: null, cancellationToken).ConfigureAwait(false))
        {
            if (entry.Object is { } info)
            {
                yield return info;
            }
        }
    }

    /// <summary>
    /// The "folders" directly under <paramref name="prefix"/>: keys up to and including the next
    /// <paramref name="delimiter"/>, each once, in key order (a list with a delimiter).
    /// </summary>
    public async IAsyncEnumerable<string> ListPrefixesAsync(string prefix, string delimiter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(delimiter);
        await foreach (var entry in ListEntriesAsync(prefix, delimiter, cancellationToken).ConfigureAwait(false))
        {
            if (entry.Prefix is { } folder)
            {
                yield return folder;
            }
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var name = _location.ObjectName(key);
        using var response = await SendAsync((_, _) => Task.FromResult(new HttpRequestMessage(HttpMethod.Delete, ObjectUri(name))), HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.NotFound)
        {
            await EnsureSuccessAsync(response, "delete", name, cancellationToken).ConfigureAwait(false);
        }
    }

    private async IAsyncEnumerable<(ObjectInfo? Object, string? Prefix)> ListEntriesAsync(string prefix, string? delimiter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var fullPrefix = _location.Prefix + prefix;
        string? pageToken = null;
        do
        {
            var query = $"prefix={Uri.EscapeDataString(fullPrefix)}&maxResults={ListPageSize}"
                + (delimiter is null ? string.Empty : "&delimiter=" + Uri.EscapeDataString(delimiter))
                + (pageToken is null ? string.Empty : "&pageToken=" + Uri.EscapeDataString(pageToken));
            var uri = BucketUri("o", query);
            using var response = await SendAsync((_, _) => Task.FromResult(new HttpRequestMessage(HttpMethod.Get, uri)), HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                yield break;
            }

            await EnsureSuccessAsync(response, "list", fullPrefix, cancellationToken).ConfigureAwait(false);
            using var json = await ReadJsonAsync(response, fullPrefix, cancellationToken).ConfigureAwait(false);
            var root = json.RootElement;
            // Objects and prefixes come as two sorted lists: merge them so the caller sees key order.
            var entries = new List<(string Key, ObjectInfo? Object, string? Prefix)>();
            if (root.TryGetProperty("items", out var items))
            {
                entries.AddRange(items.EnumerateArray().Select(InfoOf).Select(i => (i.Key, (ObjectInfo?)i, (string?)null)));
            }

            if (root.TryGetProperty("prefixes", out var prefixes))
            {
                entries.AddRange(prefixes.EnumerateArray().Select(p => _location.KeyOf(p.GetString()!)).Select(p => (p, (ObjectInfo?)null, (string?)p)));
            }

            foreach (var entry in entries.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                yield return (entry.Object, entry.Prefix);
            }

            pageToken = root.TryGetProperty("nextPageToken", out var next) && next.GetString() is { Length: > 0 } t ? t : null;
        }
        while (pageToken is not null);
    }

    private async Task MediaUploadAsync(string key, string name, byte[] data, PutOptions options, CancellationToken cancellationToken)
    {
        var hashes = UploadHashes.Of(data);
        var query = "uploadType=media&name=" + Uri.EscapeDataString(name) + (options.IfNotExists ? "&ifGenerationMatch=0" : string.Empty);
        var attempts = 0;
        using var response = await SendAsync(
            (attempt, _) =>
            {
                attempts = attempt;
                var request = new HttpRequestMessage(HttpMethod.Post, UploadUri(query)) { Content = new ByteArrayContent(data) };
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(options.ContentType ?? "application/octet-stream");
                request.Headers.TryAddWithoutValidation("X-Goog-Hash", hashes.Header);
                return Task.FromResult(request);
            },
            HttpCompletionOption.ResponseContentRead,
            cancellationToken).ConfigureAwait(false);
        await FinishUploadAsync(response, key, name, hashes, data.Length, attempts > 1, cancellationToken).ConfigureAwait(false);
    }

    private async Task ResumableUploadAsync(string key, string name, byte[] first, byte[] second, Stream content, PutOptions options, CancellationToken cancellationToken)
    {
        var session = await StartSessionAsync(key, name, options, cancellationToken).ConfigureAwait(false);
        var crc = new Crc32C();
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        long start = 0;
        var chunk = first;
        var next = second;
        while (true)
        {
            crc.Append(chunk);
            md5.AppendData(chunk);
            var following = next.Length > 0 ? next : await ReadChunkAsync(content, cancellationToken).ConfigureAwait(false);
            next = [];
            var isLast = following.Length == 0;
            UploadHashes? hashes = isLast ? new UploadHashes(crc.GetCurrentHash(), md5.GetHashAndReset()) : null;
            var response = await SendChunkAsync(session, chunk, start, isLast ? start + chunk.Length : null, hashes, name, cancellationToken).ConfigureAwait(false);
            if (isLast)
            {
                using (response)
                {
                    await FinishUploadAsync(response!, key, name, hashes!, start + chunk.Length, retried: false, cancellationToken).ConfigureAwait(false);
                }

                return;
            }

            start += chunk.Length;
            chunk = following;
        }
    }

    private async Task<Uri> StartSessionAsync(string key, string name, PutOptions options, CancellationToken cancellationToken)
    {
        var query = "uploadType=resumable&name=" + Uri.EscapeDataString(name) + (options.IfNotExists ? "&ifGenerationMatch=0" : string.Empty);
        var metadata = JsonSerializer.Serialize(new Dictionary<string, string> { ["name"] = name, ["contentType"] = options.ContentType ?? "application/octet-stream" });
        using var response = await SendAsync(
            (_, _) =>
            {
                var request = new HttpRequestMessage(HttpMethod.Post, UploadUri(query)) { Content = new StringContent(metadata, Encoding.UTF8, "application/json") };
                request.Headers.TryAddWithoutValidation("X-Upload-Content-Type", options.ContentType ?? "application/octet-stream");
                return Task.FromResult(request);
            },
            HttpCompletionOption.ResponseContentRead,
            cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            throw new ObjectExistsException(key);
        }

        await EnsureSuccessAsync(response, "write", name, cancellationToken).ConfigureAwait(false);
        return response.Headers.Location ?? throw new DeepSentinelException(ErrorIds.StorageRequestFailed, ErrorKind.ProtocolError, $"Cloud Storage started no resumable upload session for '{name}' in {DisplayName} (no Location header).", name);
    }

    /// <summary>
    /// Sends one chunk, resuming it after failures: a retry first asks the session how many bytes
    /// it holds (a 308's Range), then sends only the rest. Returns the final response for the last
    /// chunk, null for others.
    /// </summary>
    private async Task<HttpResponseMessage?> SendChunkAsync(Uri session, byte[] chunk, long start, long? total, UploadHashes? hashes, string name, CancellationToken cancellationToken)
    {
        var end = start + chunk.Length;
        var sent = start;
        var rounds = 0;
        while (true)
        {
            if (++rounds > Math.Max(2, _http.Options.MaxAttempts) * 2)
            {
                throw new DeepSentinelException(ErrorIds.StorageWriteFailed, ErrorKind.WriteError, $"The resumable upload of '{name}' to {DisplayName} made no progress at byte {sent}; it was abandoned and no object was created.", name);
            }

            var from = sent;
            var response = await SendAsync(
                (attempt, _) => Task.FromResult(attempt == 1 ? ChunkRequest(session, chunk, start, from, total, hashes) : StatusRequest(session, total)),
                HttpCompletionOption.ResponseContentRead,
                cancellationToken).ConfigureAwait(false);
            if ((int)response.StatusCode == 308)
            {
                using (response)
                {
                    sent = PersistedEnd(response);
                }

                if (sent < start || sent > end)
                {
                    throw new DeepSentinelException(ErrorIds.StorageRequestFailed, ErrorKind.ProtocolError, $"Cloud Storage reported {sent} bytes of '{name}' held, outside the chunk {start}-{end} being sent.", name);
                }

                if (sent == end && total is null)
                {
                    return null;
                }

                continue;
            }

            if (response.IsSuccessStatusCode && total is not null)
            {
                return response;
            }

            using (response)
            {
                await EnsureSuccessAsync(response, "write", name, cancellationToken).ConfigureAwait(false);
                throw new DeepSentinelException(ErrorIds.StorageRequestFailed, ErrorKind.ProtocolError, $"Cloud Storage answered HTTP {(int)response.StatusCode} to a chunk of '{name}' that was not the last.", name);
            }
        }
    }

    private static HttpRequestMessage ChunkRequest(Uri session, byte[] chunk, long chunkStart, long from, long? total, UploadHashes? hashes)
    {
        var offset = (int)(from - chunkStart);
        var request = new HttpRequestMessage(HttpMethod.Put, session) { Content = new ByteArrayContent(chunk, offset, chunk.Length - offset) };
        var last = chunkStart + chunk.Length - 1;
        request.Content.Headers.TryAddWithoutValidation("Content-Range", string.Create(CultureInfo.InvariantCulture, $"bytes {from}-{last}/{(total is { } t ? t.ToString(CultureInfo.InvariantCulture) : "*")}"));
        if (hashes is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Goog-Hash", hashes.Header);
        }

        return request;
    }

    private static HttpRequestMessage StatusRequest(Uri session, long? total)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, session) { Content = new ByteArrayContent([]) };
        request.Content.Headers.TryAddWithoutValidation("Content-Range", "bytes */" + (total is { } t ? t.ToString(CultureInfo.InvariantCulture) : "*"));
        return request;
    }

    // A 308's "Range: bytes=0-N" means N+1 bytes are held; no Range means none.
    private static long PersistedEnd(HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues("Range", out var values) && values.FirstOrDefault() is { } range)
        {
            var dash = range.LastIndexOf('-');
            if (dash > 0 && long.TryParse(range[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var last))
            {
                return last + 1;
            }
        }

        return 0;
    }

    private async Task FinishUploadAsync(HttpResponseMessage response, string key, string name, UploadHashes hashes, long length, bool retried, CancellationToken cancellationToken)
    {
        if (response.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            // A retried create-only upload whose first attempt committed before its answer was lost
            // finds "its own" object: the same hashes mean it succeeded.
            if (retried && await GetInfoAsync(key, cancellationToken).ConfigureAwait(false) is { } existing
                && existing.Length == length && existing.ContentMd5 == Convert.ToBase64String(hashes.Md5))
            {
                _reporter.Verbose($"{DisplayName}: '{key}' was committed by an earlier attempt whose answer was lost; its hashes match.");
                return;
            }

            throw new ObjectExistsException(key);
        }

        if (response.StatusCode == HttpStatusCode.BadRequest && await IsHashRejectionAsync(response, cancellationToken).ConfigureAwait(false))
        {
            throw Corrupt(name, "the server computed other hashes for the bytes it received; nothing was stored");
        }

        await EnsureSuccessAsync(response, "write", name, cancellationToken).ConfigureAwait(false);
        using var json = await ReadJsonAsync(response, name, cancellationToken).ConfigureAwait(false);
        var root = json.RootElement;
        var crc = root.TryGetProperty("crc32c", out var c) ? c.GetString() : null;
        var md5 = root.TryGetProperty("md5Hash", out var m) ? m.GetString() : null;
        if ((crc is not null && crc != Convert.ToBase64String(hashes.Crc32C)) || (md5 is not null && md5 != Convert.ToBase64String(hashes.Md5)))
        {
            // The server stored other bytes than were sent: remove exactly that generation.
            var generation = root.TryGetProperty("generation", out var g) ? g.GetString() : null;
            if (generation is not null)
            {
                using var delete = await SendAsync((_, _) => Task.FromResult(new HttpRequestMessage(HttpMethod.Delete, ObjectUri(name, "ifGenerationMatch=" + generation))), HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            }

            throw Corrupt(name, "the stored object's CRC32C/MD5 differ from the bytes sent; the corrupt object was deleted");
        }
    }

    private static async Task<bool> IsHashRejectionAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return text.Contains("hash", StringComparison.OrdinalIgnoreCase) || text.Contains("checksum", StringComparison.OrdinalIgnoreCase);
    }

    private DeepSentinelException Corrupt(string name, string why) =>
        new(ErrorIds.StorageIntegrityFailed, ErrorKind.InvalidData, $"Uploading '{name}' to {DisplayName} failed its integrity check: {why}. Try again.", name);

    /// <summary>Sends with retries (ResilientHttpClient), adding the bearer token; a 401 (token expired or revoked early) fetches a new token and tries once more.</summary>
    private async Task<HttpResponseMessage> SendAsync(Func<int, CancellationToken, Task<HttpRequestMessage>> create, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        for (var authAttempt = 1; ; authAttempt++)
        {
            string? used = null;
            var response = await _http.SendAsync(
                async (attempt, token) =>
                {
                    var request = await create(attempt, token).ConfigureAwait(false);
                    if (_tokens is not null)
                    {
                        used = await _tokens.GetTokenAsync(token).ConfigureAwait(false);
                        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", used);
                    }

                    return request;
                },
                completion,
                cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Unauthorized && _tokens is not null && used is not null && authAttempt == 1)
            {
                response.Dispose();
                _reporter.Verbose($"{DisplayName}: the access token was refused (HTTP 401); fetching a new one.");
                _tokens.Invalidate(used);
                continue;
            }

            return response;
        }
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string operation, string name, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        string? detail = null;
        try
        {
            var text = response.Content.Headers.ContentType?.MediaType == "application/json" ? await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false) : null;
            if (text is not null)
            {
                using var json = JsonDocument.Parse(text);
                detail = json.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object && e.TryGetProperty("message", out var m) ? m.GetString() : null;
            }
        }
        catch (Exception ex) when (ex is JsonException or HttpRequestException or IOException)
        {
        }

        detail = detail is null ? string.Empty : ": " + SecretRedactor.Redact(detail.Length > 300 ? detail[..300] : detail);
        var status = (int)response.StatusCode;
        var what = $"Cloud Storage answered HTTP {status} to {operation} '{name}' in {DisplayName}{detail}";
        throw status switch
        {
            401 or 403 => new DeepSentinelException(ErrorIds.StorageAccessDenied, ErrorKind.PermissionDenied, $"{what}. Check the credentials, the bucket's IAM roles, and -UserProject for requester-pays buckets.", name),
            404 => new DeepSentinelException(ErrorIds.StorageObjectNotFound, ErrorKind.ObjectNotFound, $"{what}.", name),
            _ => new DeepSentinelException(ErrorIds.StorageRequestFailed, ErrorKind.ProtocolError, $"{what}.", name),
        };
    }

    private static async Task<JsonDocument> ReadJsonAsync(HttpResponseMessage response, string name, CancellationToken cancellationToken)
    {
        try
        {
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (JsonException ex)
        {
            throw new DeepSentinelException(ErrorIds.StorageRequestFailed, ErrorKind.ProtocolError, $"Cloud Storage returned a response for '{name}' that is not valid JSON.", name, ex);
        }
    }

    private ObjectInfo InfoOf(JsonElement item)
    {
        string? Text(string property) => item.TryGetProperty(property, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText() : null;
        var name = Text("name") ?? string.Empty;
        return new ObjectInfo(
            _location.KeyOf(name),
            long.TryParse(Text("size"), NumberStyles.None, CultureInfo.InvariantCulture, out var size) ? size : 0,
            DateTimeOffset.TryParse(Text("updated"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var updated) ? updated : null,
            Text("generation") ?? Text("etag"),
            Text("md5Hash"));
    }

    private Uri BucketUri(string path, string query) =>
        new($"{_endpoint.AbsoluteUri}storage/v1/b/{Uri.EscapeDataString(_location.Bucket!)}/{path}?{WithUserProject(query)}");

    private Uri ObjectUri(string name, string? query = null) =>
        new($"{_endpoint.AbsoluteUri}storage/v1/b/{Uri.EscapeDataString(_location.Bucket!)}/o/{Uri.EscapeDataString(name)}{QueryString(query)}");

    private Uri UploadUri(string query) =>
        new($"{_endpoint.AbsoluteUri}upload/storage/v1/b/{Uri.EscapeDataString(_location.Bucket!)}/o?{WithUserProject(query)}");

    private string QueryString(string? query)
    {
        var all = WithUserProject(query ?? string.Empty);
        return all.Length == 0 ? string.Empty : "?" + all;
    }

    private string WithUserProject(string query) =>
        _userProject is null ? query : (query.Length == 0 ? string.Empty : query + "&") + "userProject=" + Uri.EscapeDataString(_userProject);

    private Task<byte[]> ReadChunkAsync(Stream content, CancellationToken cancellationToken) => ObjectStoreExtensions.ReadUpToAsync(content, _chunkSize, cancellationToken);

    private static Uri? EndpointFromEnvironment(string? host)
    {
        if (string.IsNullOrWhiteSpace(host))
        {
            return null;
        }

        // The client libraries accept "host:port" as well as a URL.
        return Uri.TryCreate(host.Contains("://", StringComparison.Ordinal) ? host : "http://" + host, UriKind.Absolute, out var uri) ? uri : null;
    }

    private static GoogleTokenSource? ResolveCredentials(StorageOptions options, CoreServices services, ResilientHttpClient http, bool anonymousByDefault)
    {
        if (!string.IsNullOrEmpty(options.GcsServiceAccountKeyJson))
        {
            return FromKeyJson(options.GcsServiceAccountKeyJson, services, http, "the given key");
        }

        var path = options.GcsServiceAccountKeyPath ?? options.Environment("GOOGLE_APPLICATION_CREDENTIALS");
        if (!string.IsNullOrEmpty(path))
        {
            string json;
            try
            {
                json = File.ReadAllText(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new DeepSentinelException(ErrorIds.StorageCredentialUnavailable, ErrorKind.ObjectNotFound, $"The Google credentials file '{path}' cannot be read: {ex.Message}", path, ex);
            }

            return FromKeyJson(json, services, http, $"'{path}'");
        }

        if (anonymousByDefault)
        {
            return null;
        }

        var home = options.Environment("HOME");
        var adc = options.Environment("CLOUDSDK_CONFIG") is { Length: > 0 } config
            ? Path.Combine(config, "application_default_credentials.json")
            : home is null ? null : Path.Combine(home, ".config", "gcloud", "application_default_credentials.json");
        if (adc is not null && File.Exists(adc))
        {
            return FromKeyJson(File.ReadAllText(adc), services, http, $"'{adc}'");
        }

        var metadataHost = options.GcsMetadataEndpoint ?? EndpointFromEnvironment(options.Environment("GCE_METADATA_HOST")) ?? DefaultMetadataEndpoint;
        // Off Google Cloud the metadata address does not answer: give up quickly.
        var metadataHttp = services.CreateHttp(NullReporter.Instance, new HttpRetryOptions { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(100), AttemptTimeout = TimeSpan.FromSeconds(3), TotalTimeout = TimeSpan.FromSeconds(10) });
        return new MetadataServerTokenSource(metadataHttp, services.Time, metadataHost);
    }

    private static GoogleTokenSource FromKeyJson(string json, CoreServices services, ResilientHttpClient http, string origin)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.TryGetProperty("type", out var type) && type.GetString() == "authorized_user")
            {
                string Text(string name) => root.TryGetProperty(name, out var v) ? v.GetString() ?? string.Empty : string.Empty;
                return new AuthorizedUserTokenSource(http, services.Time, Text("client_id"), Text("client_secret"), Text("refresh_token"));
            }
        }
        catch (JsonException)
        {
            // Reported below with the same wording as any unusable key.
        }

        return ServiceAccountTokenSource.FromJson(json, http, services.Time, origin);
    }

    /// <summary>The CRC32C and MD5 of an upload, as GCS reports them (base64 of big-endian bytes).</summary>
    private sealed record UploadHashes(byte[] Crc32C, byte[] Md5)
    {
        public string Header => $"crc32c={Convert.ToBase64String(Crc32C)},md5={Convert.ToBase64String(Md5)}";

        public static UploadHashes Of(byte[] data)
        {
            var crc = new Crc32C();
            crc.Append(data);
            return new UploadHashes(crc.GetCurrentHash(), MD5.HashData(data));
        }
    }

    /// <summary>A response body stream that disposes its response with it.</summary>
    private sealed class ResponseStream(HttpResponseMessage response, Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                response.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
