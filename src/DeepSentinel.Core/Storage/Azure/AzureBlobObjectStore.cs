using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Http;

namespace DeepSentinel.Core.Storage.Azure;

/// <summary>How an Azure blob store authenticates.</summary>
public enum AzureAuthentication
{
    /// <summary>A shared access signature appended to every request.</summary>
    SharedAccessSignature,
    /// <summary>SharedKey signing with the account key.</summary>
    SharedKey,
    /// <summary>An Azure AD token (DefaultAzureCredential or a given TokenCredential).</summary>
    Token,
}

/// <summary>
/// An Azure Blob Storage container prefix as an object store, on the official client library
/// (Azure.Storage.Blobs): its retry policy, transfer validation, credentials and service version.
/// Objects up to <see cref="StorageOptions.BlockSize"/> are one Put Blob; larger ones are staged
/// as blocks and committed by one Put Block List carrying the whole object's MD5, so a reader
/// never sees a partial blob under its name. Create-only writes send If-None-Match: *.
/// </summary>
public sealed class AzureBlobObjectStore : IObjectStore
{
    private const string DevelopmentAccount = "devstoreaccount1";
    private readonly BlobContainerClient _container;
    private readonly StoreLocation _location;
    private readonly int _blockSize;
    private readonly IOperationReporter _reporter;
    private readonly TransferValidationOptions _validation;
    private int _containerChecked;

    private AzureBlobObjectStore(StoreLocation location, BlobContainerClient container, AzureAuthentication authentication, TransferValidationOptions validation, int blockSize, IOperationReporter reporter)
    {
        _location = location;
        _container = container;
        Authentication = authentication;
        _validation = validation;
        _blockSize = blockSize;
        _reporter = reporter;
    }

    /// <inheritdoc />
    public string DisplayName => _location.DisplayName;

    /// <summary>Objects per list page (the service maximum by default; tests lower it to exercise paging).</summary>
    internal int ListPageSize { get; set; } = 5000;

    /// <summary>The location (account, container, prefix, endpoint).</summary>
    public StoreLocation Location => _location;

    /// <summary>How requests are authenticated (never the credential itself).</summary>
    public AzureAuthentication Authentication { get; }

    /// <summary>
    /// The checksum sent with every upload and checked on every download: the SDK's choice
    /// (Auto, which is CRC64) for Azure; MD5 for the development storage account, as Azurite
    /// rejects CRC64.
    /// </summary>
    public StorageChecksumAlgorithm TransferChecksum => _validation.Upload.ChecksumAlgorithm;

    /// <summary>
    /// Opens a store. Credentials, in order: a SAS in the location or options; an account key;
    /// a connection string (options, then AZURE_STORAGE_CONNECTION_STRING for the same account);
    /// else an Azure AD token from options.AzureCredential or DefaultAzureCredential (managed
    /// identity in Azure Automation, workload identity, environment, Azure CLI ...).
    /// </summary>
    public static AzureBlobObjectStore Create(StoreLocation location, StorageOptions options, HttpClient httpClient, IOperationReporter reporter, HttpRetryOptions? defaultRetry = null)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(reporter);
        if (location.Kind != StoreKind.AzureBlob)
        {
            throw new ArgumentException("Not an Azure Blob location.", nameof(location));
        }

        var clientOptions = ClientOptions(options.Retry ?? defaultRetry ?? HttpRetryOptions.Default, httpClient, reporter, location.Account == DevelopmentAccount);
        var sas = location.SasToken ?? options.AzureSasToken?.TrimStart('?');
        BlobServiceClient service;
        AzureAuthentication kind;
        if (!string.IsNullOrEmpty(sas))
        {
            service = new BlobServiceClient(location.ServiceUri!, new AzureSasCredential(sas), clientOptions);
            kind = AzureAuthentication.SharedAccessSignature;
        }
        else if (!string.IsNullOrEmpty(options.AzureAccountKey))
        {
            service = new BlobServiceClient(location.ServiceUri!, SharedKey(location.Account!, options.AzureAccountKey), clientOptions);
            kind = AzureAuthentication.SharedKey;
        }
        else if ((options.AzureConnectionString ?? MatchingEnvironmentConnectionString(options, location)) is { Length: > 0 } text)
        {
            service = FromConnectionString(text, clientOptions, location);
            kind = service.CanGenerateAccountSasUri ? AzureAuthentication.SharedKey : AzureAuthentication.SharedAccessSignature;
            // The connection string's endpoint (BlobEndpoint, UseDevelopmentStorage) wins over the account's default one.
            location = location.WithServiceUri(service.Uri);
        }
        else
        {
            service = new BlobServiceClient(location.ServiceUri!, options.AzureCredential ?? new DefaultAzureCredential(), clientOptions);
            kind = AzureAuthentication.Token;
        }

        return new AzureBlobObjectStore(location, service.GetBlobContainerClient(location.Container), kind, clientOptions.TransferValidation, Math.Max(64 * 1024, options.BlockSize), reporter);
    }

    /// <inheritdoc />
    public async Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken)
    {
        var name = _location.ObjectName(key);
        try
        {
            var properties = (await Blob(name).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            return new ObjectInfo(key, properties.ContentLength, properties.LastModified, properties.ETag.ToString(), Base64OrNull(properties.ContentHash));
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
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
        var first = await ReadBlockAsync(content, cancellationToken).ConfigureAwait(false);
        var second = first.Length == _blockSize ? await ReadBlockAsync(content, cancellationToken).ConfigureAwait(false) : [];
        try
        {
            if (second.Length == 0)
            {
                await PutBlobAsync(key, name, first, options, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await PutBlocksAsync(key, name, first, second, content, options, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsServiceFailure(ex, cancellationToken))
        {
            throw Failure(ex, "write", name);
        }
    }

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var name = _location.ObjectName(key);
        try
        {
            // The SDK's download stream resumes from where it stopped when a connection drops mid-body.
            var download = await Blob(name).DownloadStreamingAsync(new BlobDownloadOptions { TransferValidation = _validation.Download }, cancellationToken).ConfigureAwait(false);
            return new FailureMappingStream(download.Value.Content, this, name);
        }
        catch (Exception ex) when (IsServiceFailure(ex, cancellationToken))
        {
            throw Failure(ex, "read", name);
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

        try
        {
            var download = await Blob(name).DownloadStreamingAsync(new BlobDownloadOptions { Range = new HttpRange(offset, buffer.Length), TransferValidation = RangeValidation(buffer.Length) }, cancellationToken).ConfigureAwait(false);
            await using var stream = download.Value.Content;
            var total = 0;
            while (total < buffer.Length)
            {
                var n = await stream.ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }

            return total;
        }
        catch (RequestFailedException ex) when (ex.Status == 416)
        {
            return 0;
        }
        catch (Exception ex) when (IsServiceFailure(ex, cancellationToken))
        {
            throw Failure(ex, "read", name);
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var fullPrefix = _location.Prefix + prefix;
        var pages = _container.GetBlobsAsync(new GetBlobsOptions { Prefix = fullPrefix }, cancellationToken).AsPages(pageSizeHint: ListPageSize).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                Page<BlobItem> page;
                try
                {
                    if (!await pages.MoveNextAsync().ConfigureAwait(false))
                    {
                        yield break;
                    }

                    page = pages.Current;
                }
                catch (RequestFailedException ex) when (ex.Status == 404)
                {
                    // No container yet: nothing stored.
                    yield break;
                }
                catch (Exception ex) when (IsServiceFailure(ex, cancellationToken))
                {
                    throw Failure(ex, "list", fullPrefix);
                }

                foreach (var blob in page.Values)
                {
                    yield return new ObjectInfo(_location.KeyOf(blob.Name), blob.Properties.ContentLength ?? 0, blob.Properties.LastModified, blob.Properties.ETag?.ToString(), Base64OrNull(blob.Properties.ContentHash));
                }
            }
        }
        finally
        {
            await pages.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var name = _location.ObjectName(key);
        try
        {
            await Blob(name).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsServiceFailure(ex, cancellationToken))
        {
            throw Failure(ex, "delete", name);
        }
    }

    private async Task PutBlobAsync(string key, string name, byte[] data, PutOptions options, CancellationToken cancellationToken)
    {
        var md5 = MD5.HashData(data);
        for (var containerCreated = false; ; containerCreated = true)
        {
            var attempts = new AttemptCounter();
            try
            {
                using (HttpPipeline.CreateHttpMessagePropertiesScope(attempts.Scope))
                {
                    await Blob(name).UploadAsync(
                        new MemoryStream(data, writable: false),
                        new BlobUploadOptions
                        {
                            HttpHeaders = new BlobHttpHeaders { ContentType = options.ContentType ?? "application/octet-stream", ContentHash = md5 },
                            Conditions = options.IfNotExists ? new BlobRequestConditions { IfNoneMatch = ETag.All } : null,
                            TransferValidation = _validation.Upload,
                        },
                        cancellationToken).ConfigureAwait(false);
                }

                return;
            }
            catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.ContainerNotFound && !containerCreated)
            {
                await CreateContainerAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && options.IfNotExists)
            {
                await ThrowExistsUnlessOwnAsync(key, md5, data.Length, attempts.Count, cancellationToken).ConfigureAwait(false);
                return;
            }
        }
    }

    private async Task PutBlocksAsync(string key, string name, byte[] first, byte[] second, Stream content, PutOptions options, CancellationToken cancellationToken)
    {
        if (options.IfNotExists && await GetInfoAsync(key, cancellationToken).ConfigureAwait(false) is not null)
        {
            // Do not stage gigabytes only to have the commit refused.
            throw new ObjectExistsException(key);
        }

        if (Interlocked.Exchange(ref _containerChecked, 1) == 0)
        {
            await CreateContainerAsync(cancellationToken).ConfigureAwait(false);
        }

        var blob = Blob(name);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        // A random tag per upload keeps concurrent writers of one name from mixing their uncommitted blocks.
        var tag = Guid.NewGuid().ToString("N");
        var blockIds = new List<string>();
        var block = first;
        while (block.Length > 0)
        {
            md5.AppendData(block);
            var id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"{tag}-{blockIds.Count:D6}"));
            await blob.StageBlockAsync(id, new MemoryStream(block, writable: false), new BlockBlobStageBlockOptions { TransferValidation = _validation.Upload }, cancellationToken).ConfigureAwait(false);
            blockIds.Add(id);
            block = second.Length > 0 ? second : await ReadBlockAsync(content, cancellationToken).ConfigureAwait(false);
            second = [];
        }

        var hash = md5.GetHashAndReset();
        var attempts = new AttemptCounter();
        try
        {
            using (HttpPipeline.CreateHttpMessagePropertiesScope(attempts.Scope))
            {
                await blob.CommitBlockListAsync(
                    blockIds,
                    new CommitBlockListOptions
                    {
                        HttpHeaders = new BlobHttpHeaders { ContentType = options.ContentType ?? "application/octet-stream", ContentHash = hash },
                        Conditions = options.IfNotExists ? new BlobRequestConditions { IfNoneMatch = ETag.All } : null,
                    },
                    cancellationToken).ConfigureAwait(false);
            }
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412 && options.IfNotExists)
        {
            await ThrowExistsUnlessOwnAsync(key, hash, -1, attempts.Count, cancellationToken).ConfigureAwait(false);
        }
    }

    // A retried create-only put whose first attempt was committed before its answer was lost finds
    // "its own" blob: the same bytes mean it succeeded. Otherwise another writer was first.
    private async Task ThrowExistsUnlessOwnAsync(string key, byte[] md5, long length, int attempts, CancellationToken cancellationToken)
    {
        if (attempts > 1 && await GetInfoAsync(key, cancellationToken).ConfigureAwait(false) is { } existing
            && existing.ContentMd5 == Convert.ToBase64String(md5) && (length < 0 || existing.Length == length))
        {
            _reporter.Verbose($"{DisplayName}: '{key}' was committed by an earlier attempt whose answer was lost; its MD5 matches.");
            return;
        }

        throw new ObjectExistsException(key);
    }

    private async Task CreateContainerAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false) is not null)
            {
                _reporter.Verbose($"Created container '{_location.Container}' at {SecretRedactor.Redact(_location.ServiceUri!)}.");
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 403 && Authentication == AzureAuthentication.SharedAccessSignature)
        {
            // A SAS scoped to the container may not create it: the write that follows tells.
        }
    }

    private BlockBlobClient Blob(string name) => _container.GetBlockBlobClient(name);

    private DownloadTransferValidationOptions RangeValidation(int length) =>
        // The service returns a range's checksum only for ranges up to 4 MiB.
        length > 4 * 1024 * 1024
            ? new DownloadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.None }
            : _validation.Download;

    private Task<byte[]> ReadBlockAsync(Stream content, CancellationToken cancellationToken) => ObjectStoreExtensions.ReadUpToAsync(content, _blockSize, cancellationToken);

    private static bool IsServiceFailure(Exception ex, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && ex is RequestFailedException or AggregateException or IOException or HttpRequestException or OperationCanceledException or AuthenticationFailedException or CredentialUnavailableException or InvalidDataException;

    private DeepSentinelException Failure(Exception ex, string operation, string name)
    {
        if (ex is AuthenticationFailedException or CredentialUnavailableException)
        {
            return new DeepSentinelException(
                ErrorIds.StorageCredentialUnavailable,
                ErrorKind.PermissionDenied,
                $"No Azure AD token could be obtained for {DisplayName} ({ex.GetType().Name}). Sign in (Connect-AzAccount / az login), use a managed identity, or give an account key, SAS token or connection string.",
                DisplayName);
        }

        if (ex is InvalidDataException)
        {
            // The SDK's transfer validation: the bytes received do not match the checksum sent with them.
            return new DeepSentinelException(ErrorIds.StorageIntegrityFailed, ErrorKind.InvalidData, $"The bytes of '{name}' in {DisplayName} did not match their checksum on the way ({operation}). Nothing was kept; try again.", name);
        }

        if (ex is RequestFailedException failed && failed.Status != 0)
        {
            // Its message may quote the string that was signed: only the status and error code are shown.
            var code = failed.ErrorCode;
            var what = $"Azure Blob Storage answered HTTP {failed.Status}{(code is null ? string.Empty : " (" + code + ")")} to {operation} '{name}' in {DisplayName}";
            if (code is "Md5Mismatch" or "InvalidMd5" or "Crc64Mismatch")
            {
                return new DeepSentinelException(ErrorIds.StorageIntegrityFailed, ErrorKind.InvalidData, $"Azure Blob Storage rejected '{name}' in {DisplayName}: the bytes received did not match their checksum ({code}). Nothing was stored; try again.", name);
            }

            return failed.Status switch
            {
                401 or 403 => new DeepSentinelException(ErrorIds.StorageAccessDenied, ErrorKind.PermissionDenied, $"{what}. Check the credentials and that they allow this operation (RBAC role, SAS permissions and expiry).", name),
                404 => new DeepSentinelException(ErrorIds.StorageObjectNotFound, ErrorKind.ObjectNotFound, $"{what}.", name),
                408 or 429 or >= 500 => new DeepSentinelException(ErrorIds.ServerUnavailable, ErrorKind.ResourceUnavailable, $"{what}, after retries. Try again later or lower -ThrottleLimit.", name),
                _ => new DeepSentinelException(ErrorIds.StorageRequestFailed, ErrorKind.ProtocolError, $"{what}.", name),
            };
        }

        var timedOut = ex is OperationCanceledException || (ex is AggregateException agg && agg.InnerExceptions.All(e => e is OperationCanceledException));
        var cause = (ex as AggregateException)?.InnerExceptions.LastOrDefault() ?? ex;
        return timedOut
            ? new DeepSentinelException(ErrorIds.RequestTimedOut, ErrorKind.OperationTimeout, $"Azure Blob Storage did not answer in time to {operation} '{name}' in {DisplayName}, after retries.", name)
            : new DeepSentinelException(ErrorIds.EndpointUnreachable, ErrorKind.ConnectionError, $"Could not reach Azure Blob Storage to {operation} '{name}' in {DisplayName} after retries ({SecretRedactor.Redact(cause.GetBaseException().Message)}). Check the account name, network and proxy.", name);
    }

    private static BlobClientOptions ClientOptions(HttpRetryOptions retry, HttpClient httpClient, IOperationReporter reporter, bool emulator)
    {
        var options = new BlobClientOptions { Transport = new HttpClientTransport(httpClient) };
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = retry.MaxAttempts - 1;
        options.Retry.Delay = retry.BaseDelay;
        options.Retry.MaxDelay = retry.MaxDelay;
        options.Retry.NetworkTimeout = retry.AttemptTimeout;
        options.Diagnostics.ApplicationId = "DeepSentinel";
        options.Diagnostics.IsDistributedTracingEnabled = false;
        // Azure.Core's logging policy already redacts unlisted headers and query values (sig among them).
        options.Diagnostics.IsLoggingContentEnabled = false;
        // Every upload carries a checksum the service verifies, every download one the SDK verifies:
        // the library's choice (Auto: CRC64) for Azure, MD5 for the emulator, which rejects CRC64.
        var algorithm = emulator ? StorageChecksumAlgorithm.MD5 : StorageChecksumAlgorithm.Auto;
        options.TransferValidation.Upload.ChecksumAlgorithm = algorithm;
        options.TransferValidation.Download.ChecksumAlgorithm = algorithm;

        options.AddPolicy(new AttemptPolicy(reporter), HttpPipelinePosition.PerRetry);
        return options;
    }

    private static StorageSharedKeyCredential SharedKey(string account, string base64Key)
    {
        try
        {
            return new StorageSharedKeyCredential(account, base64Key);
        }
        catch (FormatException)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.StorageCredentialUnavailable, $"The account key for storage account '{account}' is not valid base64.", account);
        }
    }

    private static BlobServiceClient FromConnectionString(string text, BlobClientOptions options, StoreLocation location)
    {
        try
        {
            return new BlobServiceClient(text, options);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            // The text itself is never echoed: it holds the key.
            throw DeepSentinelException.InvalidArgument(
                ErrorIds.StorageCredentialUnavailable,
                "The Azure Storage connection string is malformed: it must be 'Name=value' pairs separated by ';' (AccountName, AccountKey or SharedAccessSignature, optionally BlobEndpoint).",
                location.DisplayName);
        }
    }

    private static string? MatchingEnvironmentConnectionString(StorageOptions options, StoreLocation location)
    {
        var text = options.Environment("AZURE_STORAGE_CONNECTION_STRING");
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        // Only for the account it names: a developer's variable must not sign requests to another account.
        try
        {
            return new BlobServiceClient(text).AccountName == location.Account ? text : null;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string? Base64OrNull(byte[]? hash) => hash is { Length: > 0 } ? Convert.ToBase64String(hash) : null;

    /// <summary>Counts the transport attempts of one SDK call (a message property scope), so a retried create-only put can tell its own earlier success from a rival's.</summary>
    private sealed class AttemptCounter
    {
        public const string Property = "DeepSentinel.Attempts";

        public AttemptCounter() => Scope = new Dictionary<string, object?> { [Property] = this };

        public IDictionary<string, object?> Scope { get; }

        public int Count;
    }

    /// <summary>Counts attempts and reports the failed ones (redacted) for -Verbose; the SDK's retry policy decides.</summary>
    private sealed class AttemptPolicy(IOperationReporter reporter) : HttpPipelinePolicy
    {
        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline, async: false).AsTask().GetAwaiter().GetResult();

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline, async: true);

        private async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline, bool async)
        {
            var attempt = 1;
            if (message.TryGetProperty(AttemptCounter.Property, out var value) && value is AttemptCounter counter)
            {
                attempt = Interlocked.Increment(ref counter.Count);
            }

            var target = $"{message.Request.Method} {SecretRedactor.Redact(message.Request.Uri.ToUri())}";
            try
            {
                if (async)
                {
                    await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
                }
                else
                {
                    ProcessNext(message, pipeline);
                }
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or RequestFailedException or TaskCanceledException)
            {
                reporter.Verbose($"{target}: attempt {attempt} failed ({ex.GetType().Name}); the Azure SDK retries within its bounds.");
                throw;
            }

            if (message.ResponseClassifier.IsRetriableResponse(message))
            {
                reporter.Verbose($"{target}: attempt {attempt} got HTTP {message.Response.Status}; the Azure SDK retries within its bounds.");
            }
        }
    }

    /// <summary>The SDK's download stream, with its failures (after its own retries) turned into DeepSentinel errors.</summary>
    private sealed class FailureMappingStream(Stream inner, AzureBlobObjectStore store, string name) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            try
            {
                return inner.Read(buffer, offset, count);
            }
            catch (Exception ex) when (IsServiceFailure(ex, CancellationToken.None))
            {
                throw store.Failure(ex, "read", name);
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsServiceFailure(ex, cancellationToken))
            {
                throw store.Failure(ex, "read", name);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

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
            }

            base.Dispose(disposing);
        }
    }
}
