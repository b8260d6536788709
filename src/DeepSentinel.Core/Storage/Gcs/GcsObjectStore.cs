using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Hashing;
using DeepSentinel.Core.Http;
using DeepSentinel.Core.Services;
using Google;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;
using Google.Apis.Http;
using Google.Apis.Util;
using Google.Cloud.Storage.V1;
using GcsObject = Google.Apis.Storage.v1.Data.Object;

namespace DeepSentinel.Core.Storage.Gcs;

/// <summary>
/// A Google Cloud Storage bucket prefix as an object store, on the official client library
/// (Google.Cloud.Storage.V1): its resumable uploads (an object appears under its name only when
/// its upload completes), upload and download hash validation, credentials (service-account keys,
/// application-default credentials, the metadata server) and token refresh. Requests are retried by
/// the library's exponential back-off handler within <see cref="StorageOptions.Retry"/>.
/// </summary>
public sealed class GcsObjectStore : IObjectStore
{
    /// <summary>Upload chunks must be multiples of this.</summary>
    public const int ChunkGranularity = 256 * 1024;

    /// <summary>The scope DeepSentinel asks for: read and write objects, nothing more.</summary>
    public const string StorageScope = "https://www.googleapis.com/auth/devstorage.read_write";

    // What the library buffers of a download before passing it on (its default is 10 MiB per download; corpus files are mostly smaller than 1 MiB).
    private const int DownloadBuffer = 256 * 1024;

    private static readonly Uri PublicEndpoint = new("https://storage.googleapis.com/");
    private static readonly Uri DefaultMetadataEndpoint = new("http://169.254.169.254/");
    private readonly StoreLocation _location;
    private readonly StorageClient _client;
    private readonly string? _userProject;
    private readonly int _chunkSize;
    private readonly int _failuresWithoutProgress;
    private readonly HttpRetryOptions _retry;

    // The upload in progress on this async flow, so the HTTP handlers can count its failed attempts.
    private static readonly AsyncLocal<UploadWatch?> CurrentUpload = new();

    private GcsObjectStore(StoreLocation location, StorageClient client, Uri endpoint, GoogleCredential? credential, string? userProject, int chunkSize, HttpRetryOptions retry)
    {
        _retry = retry;
        _failuresWithoutProgress = Math.Max(2, retry.MaxAttempts) * 2;
        _location = location;
        _client = client;
        Endpoint = endpoint;
        Credential = credential;
        _userProject = userProject;
        _chunkSize = chunkSize;
    }

    /// <inheritdoc />
    public string DisplayName => _location.DisplayName;

    /// <summary>Objects per list page (the service maximum by default; tests lower it to exercise paging).</summary>
    internal int ListPageSize { get; set; } = 1000;

    /// <summary>The location (bucket, prefix).</summary>
    public StoreLocation Location => _location;

    /// <summary>The JSON API endpoint in use.</summary>
    public Uri Endpoint { get; }

    /// <summary>The credential requests are signed with (null: anonymous, e.g. an emulator).</summary>
    public GoogleCredential? Credential { get; }

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
        ArgumentNullException.ThrowIfNull(reporter);
        if (location.Kind != StoreKind.GoogleCloudStorage)
        {
            throw new ArgumentException("Not a Cloud Storage location.", nameof(location));
        }

        var emulator = options.GcsEndpoint ?? EndpointFromEnvironment(options.Environment("STORAGE_EMULATOR_HOST"));
        var endpoint = emulator is null ? PublicEndpoint : new Uri(emulator.AbsoluteUri.TrimEnd('/') + "/");
        var (credential, description) = ResolveCredential(options, anonymousByDefault: options.GcsAnonymous || emulator is not null);
        if (description is not null)
        {
            reporter.Verbose($"{location.DisplayName}: authenticating as {description}.");
        }

        var builder = new StorageClientBuilder
        {
            BaseUri = new Uri(endpoint, "storage/v1/").AbsoluteUri,
            ApplicationName = "DeepSentinel",
            HttpClientFactory = new GcsHttpClientFactory(services, options.Retry ?? services.Retry, reporter),
            // Service-account keys are exchanged for OAuth2 access tokens at the token endpoint (as
            // gcloud does), rather than signing self-issued JWTs for every request.
            UseJwtAccessWithScopes = false,
        };
        if (credential is null)
        {
            builder.UnauthenticatedAccess = true;
        }
        else
        {
            builder.GoogleCredential = credential;
        }

        var chunk = Math.Max(ChunkGranularity, options.BlockSize / ChunkGranularity * ChunkGranularity);
        var retry = options.Retry ?? services.Retry;
        return new GcsObjectStore(location, builder.Build(), endpoint, credential, string.IsNullOrWhiteSpace(options.GcsUserProject) ? null : options.GcsUserProject, chunk, retry);
    }

    /// <inheritdoc />
    public async Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken)
    {
        var name = _location.ObjectName(key);
        try
        {
            return InfoOf(await _client.GetObjectAsync(_location.Bucket, name, new GetObjectOptions { UserProject = _userProject }, cancellationToken).ConfigureAwait(false));
        }
        catch (GoogleApiException ex) when (ex.HttpStatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception ex) when (IsServiceFailure(ex, cancellationToken))
        {
            throw Failure(ex, "read", name);
        }
    }

    /// <inheritdoc />
    public async Task PutAsync(string key, Stream content, PutOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(options);
        var name = _location.ObjectName(key);
        // The library resumes a resumable upload after every failed chunk for as long as it is
        // asked to; an upload that keeps failing without the session gaining a byte is abandoned.
        using var watch = new UploadWatch(_failuresWithoutProgress, cancellationToken);
        CurrentUpload.Value = watch;
        try
        {
            // A resumable upload in chunks: a chunk that fails is resumed from what the session
            // holds, and the object exists only once the last chunk is committed.
            await _client.UploadObjectAsync(
                new GcsObject { Bucket = _location.Bucket, Name = name, ContentType = options.ContentType ?? "application/octet-stream" },
                content,
                new UploadObjectOptions { IfGenerationMatch = options.IfNotExists ? 0 : null, UserProject = _userProject, ChunkSize = ChunkSizeFor(content) },
                watch.Token,
                watch).ConfigureAwait(false);
        }
        catch (GoogleApiException ex) when (ex.HttpStatusCode == HttpStatusCode.PreconditionFailed && options.IfNotExists)
        {
            throw new ObjectExistsException(key);
        }
        catch (OperationCanceledException) when (watch.Abandoned && !cancellationToken.IsCancellationRequested)
        {
            throw new DeepSentinelException(ErrorIds.StorageWriteFailed, ErrorKind.WriteError, $"The upload of '{name}' to {DisplayName} failed {_failuresWithoutProgress} times without progress; it was abandoned and no object was created.", name);
        }
        catch (Exception ex) when (IsServiceFailure(ex, cancellationToken))
        {
            throw Failure(watch.LastFailure is { } last && ex is OperationCanceledException ? last : ex, "write", name);
        }
        finally
        {
            CurrentUpload.Value = null;
        }
    }

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var name = _location.ObjectName(key);
        // The library downloads into a stream it is given: a pipe hands the bytes on as they
        // arrive, and its hash check (at the end) fails the last read if the object was corrupted.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 4 * 1024 * 1024, resumeWriterThreshold: 2 * 1024 * 1024, useSynchronizationContext: false));
        var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var token = stop.Token;
        var download = Task.Run(
            async () =>
            {
                try
                {
                    await using var sink = pipe.Writer.AsStream(leaveOpen: true);
                    await DownloadAsync(name, sink, 0, null, token).ConfigureAwait(false);
                    await pipe.Writer.CompleteAsync().ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    var error = IsServiceFailure(ex, token) ? DownloadFailure(ex, name) : ex;
                    await pipe.Writer.CompleteAsync(error).ConfigureAwait(false);
                }
            },
            CancellationToken.None);
        try
        {
            // Wait for the first bytes (or the end), so that a missing object fails here, not on the first read.
            var first = await pipe.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            pipe.Reader.AdvanceTo(first.Buffer.Start);
            return new DownloadStream(pipe.Reader, stop, download);
        }
        catch
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await pipe.Reader.CompleteAsync().ConfigureAwait(false);
            stop.Dispose();
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

        using var received = new MemoryStream();
        try
        {
            await DownloadAsync(name, received, offset, buffer.Length, cancellationToken).ConfigureAwait(false);
        }
        catch (GoogleApiException ex) when (ex.HttpStatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            return 0;
        }
        catch (Exception ex) when (IsServiceFailure(ex, cancellationToken))
        {
            throw DownloadFailure(ex, name);
        }

        var data = received.GetBuffer().AsMemory(0, (int)received.Length);
        var window = data.Length <= buffer.Length ? data : data.Slice(0, buffer.Length);
        window.CopyTo(buffer);
        return window.Length;
    }

    /// <summary>
    /// Downloads into <paramref name="destination"/> with the library, which checks the object's
    /// hashes but retries no response cut off mid-body (its back-off handler sees only failures
    /// before the body). Such a download is asked for again, within the retry bounds, from the
    /// first byte not yet received and pinned to the object's generation; a whole object put
    /// together so is checked against its CRC32C here.
    /// </summary>
    private async Task DownloadAsync(string name, Stream destination, long offset, long? length, CancellationToken cancellationToken)
    {
        var sink = new CountingStream(destination, whole: offset == 0 && length is null);
        long? generation = null;
        string? crc32c = null;
        for (var resumes = 0; ; resumes++)
        {
            var from = offset + sink.Written;
            var range = from == 0 && length is null ? null : new RangeHeaderValue(from, length is { } n ? offset + n - 1 : null);
            try
            {
                await _client.DownloadObjectAsync(_location.Bucket, name, sink, new DownloadObjectOptions { UserProject = _userProject, Range = range, Generation = generation, ChunkSize = DownloadBuffer }, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException && !IsHashMismatch(ex) && resumes < _retry.MaxAttempts - 1 && !cancellationToken.IsCancellationRequested)
            {
                // The library buffers what it receives in chunks: the cut may have cost nothing or a chunk.
                await Task.Delay(TimeSpan.FromTicks(Math.Min(_retry.MaxDelay.Ticks, _retry.BaseDelay.Ticks << Math.Min(resumes, 16))), cancellationToken).ConfigureAwait(false);
                var current = await _client.GetObjectAsync(_location.Bucket, name, new GetObjectOptions { UserProject = _userProject }, cancellationToken).ConfigureAwait(false);
                generation ??= current.Generation;
                crc32c ??= current.Crc32c;
            }
        }

        if (sink.Crc is { } crc && crc32c is not null && Convert.ToBase64String(crc.GetCurrentHash()) != crc32c)
        {
            throw new IOException($"Incorrect hash of the resumed download: expected '{crc32c}' (base64), was '{Convert.ToBase64String(crc.GetCurrentHash())}' (base64).");
        }
    }

    // The library holds a buffer of the chunk size per upload: a 4 KB sample.json needs no 8 MiB one.
    private int ChunkSizeFor(Stream content) =>
        ObjectStoreExtensions.RemainingLength(content) is { } length && length < _chunkSize
            ? (int)Math.Max(ChunkGranularity, (length + ChunkGranularity - 1) / ChunkGranularity * ChunkGranularity)
            : _chunkSize;

    private static bool IsHashMismatch(Exception ex) => ex is IOException && ex.Message.Contains("hash", StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var page in ListPagesAsync(prefix, delimiter: null, cancellationToken).ConfigureAwait(false))
        {
            foreach (var item in page.Items ?? [])
            {
                yield return InfoOf(item);
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
        await foreach (var page in ListPagesAsync(prefix, delimiter, cancellationToken).ConfigureAwait(false))
        {
            foreach (var folder in (page.Prefixes ?? []).Order(StringComparer.Ordinal))
            {
                yield return _location.KeyOf(folder);
            }
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var name = _location.ObjectName(key);
        try
        {
            await _client.DeleteObjectAsync(_location.Bucket, name, new DeleteObjectOptions { UserProject = _userProject }, cancellationToken).ConfigureAwait(false);
        }
        catch (GoogleApiException ex) when (ex.HttpStatusCode == HttpStatusCode.NotFound)
        {
        }
        catch (Exception ex) when (IsServiceFailure(ex, cancellationToken))
        {
            throw Failure(ex, "delete", name);
        }
    }

    private async IAsyncEnumerable<Google.Apis.Storage.v1.Data.Objects> ListPagesAsync(string prefix, string? delimiter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var fullPrefix = _location.Prefix + prefix;
        var pages = _client.ListObjectsAsync(_location.Bucket, fullPrefix, new ListObjectsOptions { PageSize = ListPageSize, Delimiter = delimiter, UserProject = _userProject })
            .AsRawResponses().GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                try
                {
                    if (!await pages.MoveNextAsync().ConfigureAwait(false))
                    {
                        yield break;
                    }
                }
                catch (GoogleApiException ex) when (ex.HttpStatusCode == HttpStatusCode.NotFound)
                {
                    // No bucket: nothing stored.
                    yield break;
                }
                catch (Exception ex) when (IsServiceFailure(ex, cancellationToken))
                {
                    throw Failure(ex, "list", fullPrefix);
                }

                yield return pages.Current;
            }
        }
        finally
        {
            await pages.DisposeAsync().ConfigureAwait(false);
        }
    }

    private ObjectInfo InfoOf(GcsObject item) =>
        new(_location.KeyOf(item.Name), (long)(item.Size ?? 0), item.UpdatedDateTimeOffset, item.Generation?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? item.ETag, item.Md5Hash);

    private static bool IsServiceFailure(Exception ex, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && ex is GoogleApiException or TokenResponseException or HttpRequestException or IOException or OperationCanceledException or InvalidOperationException;

    private DeepSentinelException DownloadFailure(Exception ex, string name) =>
        // The library reports a hash mismatch of the received bytes as an IOException naming the hashes.
        IsHashMismatch(ex)
            ? new DeepSentinelException(ErrorIds.StorageIntegrityFailed, ErrorKind.InvalidData, $"Downloading '{name}' from {DisplayName} failed its integrity check: the bytes received do not match the object's hashes. Try again.", name)
            : Failure(ex, "read", name);

    private DeepSentinelException Failure(Exception ex, string operation, string name)
    {
        if (ex is TokenResponseException token)
        {
            return new DeepSentinelException(
                ErrorIds.StorageCredentialUnavailable,
                ErrorKind.PermissionDenied,
                $"The Google credentials for {DisplayName} did not yield a Cloud Storage token (HTTP {(int?)token.StatusCode}{(token.Error?.Error is { } code ? ", " + code : string.Empty)}). Check that the key is current and the account may use Cloud Storage.",
                DisplayName);
        }

        if (ex is GoogleApiException api && api.HttpStatusCode != 0)
        {
            var detail = api.Error?.Message is { Length: > 0 } m ? ": " + SecretRedactor.Redact(m.Length > 300 ? m[..300] : m) : string.Empty;
            var status = (int)api.HttpStatusCode;
            if (status == 400 && operation == "write" && (detail.Contains("hash", StringComparison.OrdinalIgnoreCase) || detail.Contains("checksum", StringComparison.OrdinalIgnoreCase)))
            {
                // The server computed other hashes for the bytes it received than the library sent with them.
                return new DeepSentinelException(ErrorIds.StorageIntegrityFailed, ErrorKind.InvalidData, $"Uploading '{name}' to {DisplayName} failed its integrity check{detail}. Nothing was stored; try again.", name);
            }

            var what = $"Cloud Storage answered HTTP {status} to {operation} '{name}' in {DisplayName}{detail}";
            return status switch
            {
                401 or 403 => new DeepSentinelException(ErrorIds.StorageAccessDenied, ErrorKind.PermissionDenied, $"{what}. Check the credentials, the bucket's IAM roles, and -GcsUserProject for requester-pays buckets.", name),
                404 => new DeepSentinelException(ErrorIds.StorageObjectNotFound, ErrorKind.ObjectNotFound, $"{what}.", name),
                408 or 429 or >= 500 => new DeepSentinelException(ErrorIds.ServerUnavailable, ErrorKind.ResourceUnavailable, $"{what}, after retries. Try again later or lower -ThrottleLimit.", name),
                _ => new DeepSentinelException(ErrorIds.StorageRequestFailed, ErrorKind.ProtocolError, $"{what}.", name),
            };
        }

        return ex is OperationCanceledException
            ? new DeepSentinelException(ErrorIds.RequestTimedOut, ErrorKind.OperationTimeout, $"Cloud Storage did not answer in time to {operation} '{name}' in {DisplayName}, after retries.", name)
            : new DeepSentinelException(ErrorIds.EndpointUnreachable, ErrorKind.ConnectionError, $"Could not reach Cloud Storage to {operation} '{name}' in {DisplayName} after retries ({SecretRedactor.Redact(ex.GetBaseException().Message)}). Check the network and proxy.", name);
    }

    private static Uri? EndpointFromEnvironment(string? host)
    {
        if (string.IsNullOrWhiteSpace(host))
        {
            return null;
        }

        // The client libraries accept "host:port" as well as a URL.
        return Uri.TryCreate(host.Contains("://", StringComparison.Ordinal) ? host : "http://" + host, UriKind.Absolute, out var uri) ? uri : null;
    }

    private static (GoogleCredential? Credential, string? Description) ResolveCredential(StorageOptions options, bool anonymousByDefault)
    {
        if (!string.IsNullOrEmpty(options.GcsServiceAccountKeyJson))
        {
            return FromKeyJson(options.GcsServiceAccountKeyJson, "the given key");
        }

        var path = options.GcsServiceAccountKeyPath ?? options.Environment("GOOGLE_APPLICATION_CREDENTIALS");
        if (!string.IsNullOrEmpty(path))
        {
            return FromKeyJson(ReadCredentialsFile(path), $"'{path}'");
        }

        if (anonymousByDefault)
        {
            return (null, null);
        }

        var home = options.Environment("HOME");
        var adc = options.Environment("CLOUDSDK_CONFIG") is { Length: > 0 } config
            ? Path.Combine(config, "application_default_credentials.json")
            : home is null ? null : Path.Combine(home, ".config", "gcloud", "application_default_credentials.json");
        if (adc is not null && File.Exists(adc))
        {
            return FromKeyJson(ReadCredentialsFile(adc), $"'{adc}'");
        }

        var metadata = options.GcsMetadataEndpoint ?? EndpointFromEnvironment(options.Environment("GCE_METADATA_HOST")) ?? DefaultMetadataEndpoint;
        var compute = new ComputeCredential(new ComputeCredential.Initializer(new Uri(metadata, "/computeMetadata/v1/instance/service-accounts/default/token").AbsoluteUri));
        return (compute.ToGoogleCredential(), "the metadata server's service account");
    }

    private static string ReadCredentialsFile(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DeepSentinelException(ErrorIds.StorageCredentialUnavailable, ErrorKind.ObjectNotFound, $"The Google credentials file '{path}' cannot be read: {ex.Message}", path, ex);
        }
    }

    // The key's text is never echoed in errors: it holds the private key.
    private static (GoogleCredential Credential, string Description) FromKeyJson(string json, string origin)
    {
        string? type;
        try
        {
            using var document = JsonDocument.Parse(json);
            type = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        }
        catch (JsonException)
        {
            throw BadKey(origin, "it is not valid JSON");
        }

        try
        {
            switch (type)
            {
                case JsonCredentialParameters.ServiceAccountCredentialType:
                    var account = CredentialFactory.FromJson<ServiceAccountCredential>(json);
                    return (account.ToGoogleCredential().CreateScoped(StorageScope), $"service account {account.Id}");
                case JsonCredentialParameters.AuthorizedUserCredentialType:
                    return (CredentialFactory.FromJson<UserCredential>(json).ToGoogleCredential().CreateScoped(StorageScope), "gcloud user credentials");
                default:
                    throw BadKey(origin, "it is not a service-account key or gcloud user credentials (\"type\" must be \"service_account\" or \"authorized_user\")");
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or System.Security.Cryptography.CryptographicException)
        {
            throw BadKey(origin, "its fields are missing or its private key is not a valid PEM key");
        }
    }

    private static DeepSentinelException BadKey(string origin, string why) =>
        DeepSentinelException.InvalidArgument(ErrorIds.StorageCredentialUnavailable, $"The Google credentials from {origin} cannot be used: {why}.", origin);

    /// <summary>
    /// The library's HTTP clients, with its exponential back-off handler (5xx, 408, 429 and
    /// dropped connections) bounded by DeepSentinel's retry options, a verbose report of each
    /// failed attempt (redacted), and the message handler the core services supply, if any.
    /// </summary>
    private sealed class GcsHttpClientFactory(CoreServices services, HttpRetryOptions retry, IOperationReporter reporter) : Google.Apis.Http.IHttpClientFactory
    {
        // The library's own factory (which keeps its response-stream interception, and with it the
        // download hash checks), over the core services' handler when they supply one.
        private readonly Google.Apis.Http.IHttpClientFactory _inner = services.MessageHandlerFactory is { } handlers
            ? new HttpClientFromMessageHandlerFactory(_ => new HttpClientFromMessageHandlerFactory.ConfiguredHttpMessageHandler(handlers(), false, false))
            : new HttpClientFactory();

        public ConfigurableHttpClient CreateHttpClient(CreateHttpClientArgs args)
        {
            var client = _inner.CreateHttpClient(args);
            client.Timeout = retry.TotalTimeout;
            var handler = client.MessageHandler;
            handler.NumTries = retry.MaxAttempts;
            var backOff = new BackOffHandler(new BackOffHandler.Initializer(new ExponentialBackOff(retry.BaseDelay, Math.Max(0, retry.MaxAttempts - 1)))
            {
                // Each wait doubles from BaseDelay; the attempts together are bounded by TotalTimeout.
                MaxTimeSpan = retry.TotalTimeout,
                HandleUnsuccessfulResponseFunc = response => IsRetriable(response.StatusCode),
                HandleExceptionFunc = ex => ex is HttpRequestException or IOException or TaskCanceledException,
            });
            handler.AddUnsuccessfulResponseHandler(new AttemptReporter(reporter));
            handler.AddExceptionHandler(new AttemptReporter(reporter));
            handler.AddUnsuccessfulResponseHandler(backOff);
            handler.AddExceptionHandler(backOff);
            return client;
        }

        private static bool IsRetriable(HttpStatusCode status) => (int)status is 408 or 429 or >= 500;
    }

    /// <summary>Reports failed attempts for -Verbose; never retries itself.</summary>
    private sealed class AttemptReporter(IOperationReporter reporter) : IHttpUnsuccessfulResponseHandler, IHttpExceptionHandler
    {
        public Task<bool> HandleResponseAsync(HandleUnsuccessfulResponseArgs args)
        {
            if ((int)args.Response.StatusCode < 400)
            {
                // 308 is how a resumable upload session says how much it holds: no failure.
                return Task.FromResult(false);
            }

            reporter.Verbose($"{args.Request.Method} {SecretRedactor.Redact(args.Request.RequestUri!)}: attempt {args.CurrentFailedTry} got HTTP {(int)args.Response.StatusCode}; the Google client retries within its bounds.");
            if ((int)args.Response.StatusCode >= 500)
            {
                CurrentUpload.Value?.Failed(null);
            }

            return Task.FromResult(false);
        }

        public Task<bool> HandleExceptionAsync(HandleExceptionArgs args)
        {
            reporter.Verbose($"{args.Request.Method} {SecretRedactor.Redact(args.Request.RequestUri!)}: attempt {args.CurrentFailedTry} failed ({args.Exception.GetType().Name}); the Google client retries within its bounds.");
            CurrentUpload.Value?.Failed(args.Exception);
            return Task.FromResult(false);
        }
    }

    /// <summary>Counts an upload's failed attempts since its session last gained bytes, and stops it past a bound.</summary>
    private sealed class UploadWatch(int limit, CancellationToken cancellationToken) : IProgress<Google.Apis.Upload.IUploadProgress>, IDisposable
    {
        private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        private long _sent = -1;
        private int _failures;

        public CancellationToken Token => _stop.Token;

        public bool Abandoned { get; private set; }

        public Exception? LastFailure { get; private set; }

        public void Failed(Exception? error)
        {
            LastFailure = error ?? LastFailure;
            if (Interlocked.Increment(ref _failures) >= limit && !Abandoned)
            {
                Abandoned = true;
                _stop.Cancel();
            }
        }

        public void Report(Google.Apis.Upload.IUploadProgress value)
        {
            if (value.BytesSent > Interlocked.Read(ref _sent))
            {
                Interlocked.Exchange(ref _sent, value.BytesSent);
                Interlocked.Exchange(ref _failures, 0);
            }
        }

        public void Dispose() => _stop.Dispose();
    }

    /// <summary>Passes writes on, counting them (and hashing them, for a whole object).</summary>
    private sealed class CountingStream(Stream inner, bool whole) : Stream
    {
        public long Written { get; private set; }

        public Crc32C? Crc { get; } = whole ? new Crc32C() : null;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Written;

        public override long Position { get => Written; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            Crc?.Append(buffer);
            Written += buffer.Length;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            Crc?.Append(buffer.Span);
            Written += buffer.Length;
        }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>The reading end of a download pipe; disposing it stops the download.</summary>
    private sealed class DownloadStream(PipeReader reader, CancellationTokenSource stop, Task download) : Stream
    {
        private readonly Stream _inner = reader.AsStream(leaveOpen: true);
        private int _disposed;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1)
            {
                return;
            }

            await stop.CancelAsync().ConfigureAwait(false);
            await reader.CompleteAsync().ConfigureAwait(false);
            await download.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            stop.Dispose();
            await base.DisposeAsync().ConfigureAwait(false);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                stop.Cancel();
                reader.Complete();
                download.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing).GetAwaiter().GetResult();
                stop.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
