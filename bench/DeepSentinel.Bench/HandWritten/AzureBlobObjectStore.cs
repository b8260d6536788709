using DeepSentinel.Core.Storage;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Response = global::Azure.Response;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Http;

namespace DeepSentinel.Bench.HandWritten;

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
/// An Azure Blob Storage container prefix as an object store: thin Blob REST calls on Azure.Core's
/// HTTP pipeline (its retry and logging policies). Objects up to <see cref="StorageOptions.BlockSize"/>
/// are one Put Blob; larger ones are staged as blocks and committed by one Put Block List, so a
/// reader never sees a partial blob under its name. Create-only writes send If-None-Match: *.
/// </summary>
public sealed class AzureBlobObjectStore : IObjectStore
{
    /// <summary>The Blob REST version sent (Azurite 3.37 accepts it without --skipApiVersionCheck).</summary>
    public const string ApiVersion = "2025-01-05";

    private const string StorageScope = "https://storage.azure.com/.default";
    private readonly HttpPipeline _pipeline;
    private readonly StoreLocation _location;
    private readonly string? _sas;
    private readonly int _blockSize;
    private readonly IOperationReporter _reporter;
    private int _containerChecked;

    private AzureBlobObjectStore(StoreLocation location, HttpPipeline pipeline, string? sas, AzureAuthentication authentication, int blockSize, IOperationReporter reporter)
    {
        _location = location;
        _pipeline = pipeline;
        _sas = sas;
        Authentication = authentication;
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
    /// Opens a store. Credentials, in order: a SAS in the location or options; an account key;
    /// a connection string (options, then AZURE_STORAGE_CONNECTION_STRING for the same account);
    /// else an Azure AD token from options.AzureCredential or DefaultAzureCredential (managed
    /// identity in Azure Automation, workload identity, environment, Azure CLI ...).
    /// </summary>
    public static AzureBlobObjectStore Create(StoreLocation location, StorageOptions options, HttpClient httpClient, IOperationReporter reporter, HttpRetryOptions? defaultRetry = null)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(options);
        if (location.Kind != StoreKind.AzureBlob)
        {
            throw new ArgumentException("Not an Azure Blob location.", nameof(location));
        }

        var retry = options.Retry ?? defaultRetry ?? HttpRetryOptions.Default;
        var sas = location.SasToken ?? options.AzureSasToken?.TrimStart('?');
        HttpPipelinePolicy? auth = null;
        AzureAuthentication kind;
        if (!string.IsNullOrEmpty(sas))
        {
            kind = AzureAuthentication.SharedAccessSignature;
        }
        else if (!string.IsNullOrEmpty(options.AzureAccountKey))
        {
            auth = new SharedKeyPolicy(location.Account!, options.AzureAccountKey);
            kind = AzureAuthentication.SharedKey;
        }
        else if ((options.AzureConnectionString ?? MatchingEnvironmentConnectionString(options, location)) is { Length: > 0 } text)
        {
            var parsed = AzureConnectionString.Parse(text);
            if (parsed.BlobEndpoint is { } endpoint && location.SasToken is null && options.AzureConnectionString is not null)
            {
                location = location.WithServiceUri(endpoint);
            }

            if (!string.IsNullOrEmpty(parsed.SharedAccessSignature))
            {
                sas = parsed.SharedAccessSignature;
                kind = AzureAuthentication.SharedAccessSignature;
            }
            else if (!string.IsNullOrEmpty(parsed.AccountKey))
            {
                auth = new SharedKeyPolicy(parsed.AccountName ?? location.Account!, parsed.AccountKey);
                kind = AzureAuthentication.SharedKey;
            }
            else
            {
                throw DeepSentinelException.InvalidArgument(ErrorIds.StorageCredentialUnavailable, "The Azure Storage connection string has neither an AccountKey nor a SharedAccessSignature.", location.DisplayName);
            }
        }
        else
        {
            var credential = options.AzureCredential ?? new DefaultAzureCredential();
            auth = new BearerTokenAuthenticationPolicy(credential, StorageScope);
            kind = AzureAuthentication.Token;
        }

        var pipeline = BlobPipeline.Create(httpClient, retry, auth, reporter);
        return new AzureBlobObjectStore(location, pipeline, string.IsNullOrEmpty(sas) ? null : sas, kind, Math.Max(64 * 1024, options.BlockSize), reporter);
    }

    /// <inheritdoc />
    public async Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken)
    {
        var name = _location.ObjectName(key);
        using var message = CreateMessage(RequestMethod.Head, BlobUri(name));
        await SendAsync(message, "read", name, cancellationToken).ConfigureAwait(false);
        var response = message.Response;
        if (response.Status == (int)HttpStatusCode.NotFound)
        {
            return null;
        }

        EnsureSuccess(response, "read", name);
        return InfoFromHeaders(key, response);
    }

    /// <inheritdoc />
    public async Task PutAsync(string key, Stream content, PutOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(options);
        var name = _location.ObjectName(key);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var first = await ReadBlockAsync(content, cancellationToken).ConfigureAwait(false);
        var second = first.Length == _blockSize ? await ReadBlockAsync(content, cancellationToken).ConfigureAwait(false) : [];
        if (second.Length == 0)
        {
            await PutBlobAsync(key, name, first, options, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (options.IfNotExists && await GetInfoAsync(key, cancellationToken).ConfigureAwait(false) is not null)
        {
            // Do not stage gigabytes only to have the commit refused.
            throw new ObjectExistsException(key);
        }

        await EnsureContainerOnceAsync(cancellationToken).ConfigureAwait(false);

        // A random tag per upload keeps concurrent writers of one name from mixing their uncommitted blocks.
        var tag = Guid.NewGuid().ToString("N");
        var blockIds = new List<string>();
        var block = first;
        while (block.Length > 0)
        {
            md5.AppendData(block);
            var id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"{tag}-{blockIds.Count:D6}"));
            await PutBlockAsync(name, id, block, cancellationToken).ConfigureAwait(false);
            blockIds.Add(id);
            block = second.Length > 0 ? second : await ReadBlockAsync(content, cancellationToken).ConfigureAwait(false);
            second = [];
        }

        await PutBlockListAsync(key, name, blockIds, md5.GetHashAndReset(), options, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var name = _location.ObjectName(key);
        using var message = CreateMessage(RequestMethod.Get, BlobUri(name));
        message.BufferResponse = false;
        await SendAsync(message, "read", name, cancellationToken).ConfigureAwait(false);
        EnsureSuccess(message.Response, "read", name);
        return message.ExtractResponseContent() ?? Stream.Null;
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

        using var message = CreateMessage(RequestMethod.Get, BlobUri(name));
        message.Request.Headers.SetValue("x-ms-range", string.Create(CultureInfo.InvariantCulture, $"bytes={offset}-{offset + buffer.Length - 1}"));
        await SendAsync(message, "read", name, cancellationToken).ConfigureAwait(false);
        var response = message.Response;
        if (response.Status == (int)HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            return 0;
        }

        EnsureSuccess(response, "read", name);
        var data = response.Content.ToMemory();
        if (data.Length > buffer.Length)
        {
            // A 200 means the server ignored the range: take the requested window.
            data = offset >= data.Length ? ReadOnlyMemory<byte>.Empty : data.Slice((int)offset, Math.Min(buffer.Length, data.Length - (int)offset));
        }

        data.CopyTo(buffer);
        return data.Length;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        string? marker = null;
        do
        {
            var query = $"restype=container&comp=list&maxresults={ListPageSize}&prefix={Uri.EscapeDataString(_location.Prefix + prefix)}"
                + (marker is null ? string.Empty : "&marker=" + Uri.EscapeDataString(marker));
            using var message = CreateMessage(RequestMethod.Get, ContainerUri(query));
            await SendAsync(message, "list", _location.Prefix + prefix, cancellationToken).ConfigureAwait(false);
            var response = message.Response;
            if (response.Status == (int)HttpStatusCode.NotFound)
            {
                // No container yet: nothing stored.
                yield break;
            }

            EnsureSuccess(response, "list", _location.Prefix + prefix);
            XDocument page;
            try
            {
                page = XDocument.Parse(response.Content.ToString());
            }
            catch (System.Xml.XmlException ex)
            {
                throw new DeepSentinelException(ErrorIds.StorageRequestFailed, ErrorKind.ProtocolError, $"Listing {DisplayName} returned a page that is not valid XML.", DisplayName, ex);
            }

            foreach (var blob in page.Root?.Element("Blobs")?.Elements("Blob") ?? [])
            {
                var name = blob.Element("Name")?.Value ?? string.Empty;
                var properties = blob.Element("Properties");
                yield return new ObjectInfo(
                    _location.KeyOf(name),
                    long.Parse(properties?.Element("Content-Length")?.Value ?? "0", CultureInfo.InvariantCulture),
                    DateTimeOffset.TryParse(properties?.Element("Last-Modified")?.Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var modified) ? modified : null,
                    properties?.Element("Etag")?.Value,
                    NullIfEmpty(properties?.Element("Content-MD5")?.Value));
            }

            marker = NullIfEmpty(page.Root?.Element("NextMarker")?.Value);
        }
        while (marker is not null);
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var name = _location.ObjectName(key);
        using var message = CreateMessage(RequestMethod.Delete, BlobUri(name));
        await SendAsync(message, "delete", name, cancellationToken).ConfigureAwait(false);
        if (message.Response.Status != (int)HttpStatusCode.NotFound)
        {
            EnsureSuccess(message.Response, "delete", name);
        }
    }

    private async Task PutBlobAsync(string key, string name, byte[] data, PutOptions options, CancellationToken cancellationToken)
    {
        var md5 = MD5.HashData(data);
        for (var containerCreated = false; ; containerCreated = true)
        {
            using var message = CreateMessage(RequestMethod.Put, BlobUri(name));
            var request = message.Request;
            request.Headers.SetValue("x-ms-blob-type", "BlockBlob");
            request.Headers.SetValue("Content-MD5", Convert.ToBase64String(md5));
            request.Headers.SetValue("Content-Type", options.ContentType ?? "application/octet-stream");
            if (options.IfNotExists)
            {
                request.Headers.SetValue("If-None-Match", "*");
            }

            request.Content = RequestContent.Create(data);
            await SendAsync(message, "write", name, cancellationToken).ConfigureAwait(false);
            var response = message.Response;
            if (response.Status == (int)HttpStatusCode.NotFound && ErrorCode(response) == "ContainerNotFound" && !containerCreated)
            {
                await CreateContainerAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            await CheckPutAsync(message, key, md5, data.Length, cancellationToken).ConfigureAwait(false);
            return;
        }
    }

    private async Task PutBlockAsync(string name, string blockId, byte[] data, CancellationToken cancellationToken)
    {
        using var message = CreateMessage(RequestMethod.Put, BlobUri(name, "comp=block&blockid=" + Uri.EscapeDataString(blockId)));
        message.Request.Headers.SetValue("Content-MD5", Convert.ToBase64String(MD5.HashData(data)));
        message.Request.Content = RequestContent.Create(data);
        await SendAsync(message, "write", name, cancellationToken).ConfigureAwait(false);
        EnsureSuccess(message.Response, "write", name);
    }

    private async Task PutBlockListAsync(string key, string name, List<string> blockIds, byte[] md5, PutOptions options, CancellationToken cancellationToken)
    {
        var xml = new XDocument(new XDeclaration("1.0", "utf-8", null), new XElement("BlockList", blockIds.Select(id => new XElement("Latest", id))));
        var body = Encoding.UTF8.GetBytes(xml.Declaration + xml.ToString(SaveOptions.DisableFormatting));
        using var message = CreateMessage(RequestMethod.Put, BlobUri(name, "comp=blocklist"));
        var request = message.Request;
        request.Headers.SetValue("x-ms-blob-content-md5", Convert.ToBase64String(md5));
        request.Headers.SetValue("x-ms-blob-content-type", options.ContentType ?? "application/octet-stream");
        request.Headers.SetValue("Content-Type", "application/xml");
        if (options.IfNotExists)
        {
            request.Headers.SetValue("If-None-Match", "*");
        }

        request.Content = RequestContent.Create(body);
        await SendAsync(message, "write", name, cancellationToken).ConfigureAwait(false);
        await CheckPutAsync(message, key, md5, -1, cancellationToken).ConfigureAwait(false);
    }

    private async Task CheckPutAsync(HttpMessage message, string key, byte[] md5, long length, CancellationToken cancellationToken)
    {
        var response = message.Response;
        var name = _location.ObjectName(key);
        if (response.Status is (int)HttpStatusCode.Conflict or (int)HttpStatusCode.PreconditionFailed)
        {
            // A retried create-only put whose first attempt was committed before the connection
            // dropped finds "its own" blob: the same bytes mean it succeeded.
            var attempts = message.TryGetProperty(BlobPipeline.AttemptProperty, out var value) && value is int n ? n : 1;
            if (attempts > 1 && await GetInfoAsync(key, cancellationToken).ConfigureAwait(false) is { } existing
                && existing.ContentMd5 == Convert.ToBase64String(md5) && (length < 0 || existing.Length == length))
            {
                _reporter.Verbose($"{DisplayName}: '{key}' was committed by an earlier attempt whose answer was lost; its MD5 matches.");
                return;
            }

            throw new ObjectExistsException(key);
        }

        if (response.Status == (int)HttpStatusCode.BadRequest && ErrorCode(response) is "Md5Mismatch" or "InvalidMd5")
        {
            throw new DeepSentinelException(ErrorIds.StorageIntegrityFailed, ErrorKind.InvalidData, $"Azure Blob Storage rejected '{name}' in {DisplayName}: the bytes received did not match their MD5. Nothing was stored; try again.", name);
        }

        EnsureSuccess(response, "write", name);
    }

    private async Task EnsureContainerOnceAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _containerChecked, 1) == 0)
        {
            await CreateContainerAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task CreateContainerAsync(CancellationToken cancellationToken)
    {
        using var message = CreateMessage(RequestMethod.Put, ContainerUri("restype=container"));
        await SendAsync(message, "create container", _location.Container!, cancellationToken).ConfigureAwait(false);
        var status = message.Response.Status;
        if (status == (int)HttpStatusCode.Conflict || (status == (int)HttpStatusCode.Forbidden && _sas is not null))
        {
            // Exists already, or a SAS scoped to the container may not create it: the write that follows tells.
            return;
        }

        EnsureSuccess(message.Response, "create container", _location.Container!);
        _reporter.Verbose($"Created container '{_location.Container}' at {SecretRedactor.Redact(_location.ServiceUri)}.");
    }

    private HttpMessage CreateMessage(RequestMethod method, Uri uri)
    {
        var message = _pipeline.CreateMessage();
        message.Request.Method = method;
        message.Request.Uri.Reset(uri);
        message.Request.Headers.SetValue("x-ms-version", ApiVersion);
        return message;
    }

    private async Task SendAsync(HttpMessage message, string operation, string name, CancellationToken cancellationToken)
    {
        try
        {
            await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is global::Azure.RequestFailedException or AggregateException or IOException or HttpRequestException or OperationCanceledException or AuthenticationFailedException or CredentialUnavailableException)
        {
            throw TransportFailure(ex, operation, name);
        }
    }

    private DeepSentinelException TransportFailure(Exception ex, string operation, string name)
    {
        if (ex is AuthenticationFailedException or CredentialUnavailableException)
        {
            return new DeepSentinelException(
                ErrorIds.StorageCredentialUnavailable,
                ErrorKind.PermissionDenied,
                $"No Azure AD token could be obtained for {DisplayName} ({ex.GetType().Name}). Sign in (Connect-AzAccount / az login), use a managed identity, or give an account key, SAS token or connection string.",
                DisplayName);
        }

        var timedOut = ex is OperationCanceledException || (ex is AggregateException agg && agg.InnerExceptions.All(e => e is OperationCanceledException));
        return timedOut
            ? new DeepSentinelException(ErrorIds.RequestTimedOut, ErrorKind.OperationTimeout, $"Azure Blob Storage did not answer in time to {operation} '{name}' in {DisplayName}, after retries.", name)
            : new DeepSentinelException(ErrorIds.EndpointUnreachable, ErrorKind.ConnectionError, $"Could not reach Azure Blob Storage to {operation} '{name}' in {DisplayName} after retries ({SecretRedactor.Redact(ex.GetBaseException().Message)}). Check the account name, network and proxy.", name);
    }

    private void EnsureSuccess(Response response, string operation, string name)
    {
        if (response.Status is >= 200 and < 300)
        {
            return;
        }

        // The error body may quote the string that was signed: only the error code is shown.
        var code = ErrorCode(response);
        var what = $"Azure Blob Storage answered HTTP {response.Status}{(code is null ? string.Empty : " (" + code + ")")} to {operation} '{name}' in {DisplayName}";
        throw response.Status switch
        {
            401 or 403 => new DeepSentinelException(ErrorIds.StorageAccessDenied, ErrorKind.PermissionDenied, $"{what}. Check the credentials and that they allow this operation (RBAC role, SAS permissions and expiry).", name),
            404 => new DeepSentinelException(ErrorIds.StorageObjectNotFound, ErrorKind.ObjectNotFound, $"{what}.", name),
            408 or 429 or >= 500 => new DeepSentinelException(ErrorIds.ServerUnavailable, ErrorKind.ResourceUnavailable, $"{what}, after retries. Try again later or lower -ThrottleLimit.", name),
            _ => new DeepSentinelException(ErrorIds.StorageRequestFailed, ErrorKind.ProtocolError, $"{what}.", name),
        };
    }

    private static string? ErrorCode(Response response) => response.Headers.TryGetValue("x-ms-error-code", out var code) ? code : null;

    private static ObjectInfo InfoFromHeaders(string key, Response response)
    {
        var headers = response.Headers;
        long length = headers.ContentLength ?? 0;
        DateTimeOffset? modified = headers.TryGetValue("Last-Modified", out var lm) && DateTimeOffset.TryParse(lm, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var m) ? m : null;
        return new ObjectInfo(key, length, modified, headers.ETag?.ToString(), headers.TryGetValue("Content-MD5", out var md5) ? md5 : null);
    }

    private Uri BlobUri(string name, string? query = null) =>
        WithSas(_location.ServiceUri!.AbsoluteUri + _location.Container + "/" + string.Join('/', name.Split('/').Select(Uri.EscapeDataString)), query);

    private Uri ContainerUri(string query) => WithSas(_location.ServiceUri!.AbsoluteUri + _location.Container, query);

    private Uri WithSas(string path, string? query)
    {
        var parts = new[] { query, _sas }.Where(p => !string.IsNullOrEmpty(p));
        var all = string.Join('&', parts);
        return new Uri(all.Length == 0 ? path : path + "?" + all);
    }

    private Task<byte[]> ReadBlockAsync(Stream content, CancellationToken cancellationToken) => ObjectStoreExtensions.ReadUpToAsync(content, _blockSize, cancellationToken);

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static string? MatchingEnvironmentConnectionString(StorageOptions options, StoreLocation location)
    {
        var text = options.Environment("AZURE_STORAGE_CONNECTION_STRING");
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        // Only for the account it names: a developer's variable must not sign requests to another account.
        return AzureConnectionString.Parse(text).AccountName == location.Account ? text : null;
    }
}
