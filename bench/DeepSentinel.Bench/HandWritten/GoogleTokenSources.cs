using DeepSentinel.Core.Storage;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Http;

namespace DeepSentinel.Bench.HandWritten;

/// <summary>Supplies OAuth2 access tokens for Cloud Storage requests, cached until shortly before they expire.</summary>
public abstract class GoogleTokenSource
{
    /// <summary>The scope DeepSentinel asks for: read and write objects, nothing more.</summary>
    public const string StorageScope = "https://www.googleapis.com/auth/devstorage.read_write";

    // Refresh this long before expiry, so a token never expires between being read and being used.
    private static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly TimeProvider _time;
    private string? _token;
    private DateTimeOffset _refreshAt;

    /// <summary>Creates the cache.</summary>
    protected GoogleTokenSource(ResilientHttpClient http, TimeProvider time)
    {
        Http = http;
        _time = time;
    }

    /// <summary>What kind of credential this is, for verbose output (never the credential).</summary>
    public abstract string Description { get; }

    /// <summary>How many tokens have been fetched (tests check refreshes).</summary>
    public int TokensFetched { get; private set; }

    /// <summary>The retrying client for token requests.</summary>
    protected ResilientHttpClient Http { get; }

    /// <summary>A valid access token, fetched when none is cached or the cached one is near expiry.</summary>
    public async Task<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        if (_token is { } cached && _time.GetUtcNow() < _refreshAt)
        {
            return cached;
        }

        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_token is { } again && _time.GetUtcNow() < _refreshAt)
            {
                return again;
            }

            var (token, lifetime) = await FetchAsync(cancellationToken).ConfigureAwait(false);
            TokensFetched++;
            // Short-lived tokens (tests, some metadata servers) are refreshed at half their life.
            var margin = lifetime > RefreshMargin * 2 ? RefreshMargin : lifetime / 2;
            _token = token;
            _refreshAt = _time.GetUtcNow() + lifetime - margin;
            return token;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Forgets <paramref name="rejected"/> (the server answered 401: expired or revoked early), so the next call fetches a new token.</summary>
    public void Invalidate(string rejected)
    {
        if (_token == rejected)
        {
            _token = null;
        }
    }

    /// <summary>Fetches a new token and its lifetime.</summary>
    protected abstract Task<(string Token, TimeSpan Lifetime)> FetchAsync(CancellationToken cancellationToken);

    /// <summary>Reads an OAuth2 token response, or fails with an error that names only the OAuth error code.</summary>
    protected static async Task<(string Token, TimeSpan Lifetime)> ReadTokenResponseAsync(HttpResponseMessage response, string source, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        string? error = null;
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            if (response.IsSuccessStatusCode && root.TryGetProperty("access_token", out var token) && token.GetString() is { Length: > 0 } value)
            {
                var seconds = root.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var s) ? s : 3600;
                return (value, TimeSpan.FromSeconds(Math.Max(1, seconds)));
            }

            error = root.TryGetProperty("error", out var code) && code.ValueKind == JsonValueKind.String ? code.GetString() : null;
        }
        catch (JsonException)
        {
        }

        throw new DeepSentinelException(
            ErrorIds.StorageCredentialUnavailable,
            response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden ? ErrorKind.PermissionDenied : ErrorKind.ProtocolError,
            $"{source} did not issue a Cloud Storage token (HTTP {(int)response.StatusCode}{(error is null ? string.Empty : ", " + error)}). Check that the key is current and the account may use Cloud Storage.",
            source);
    }
}

/// <summary>
/// A service account's key: a JWT signed with its private key (RS256) is exchanged at the key's
/// token_uri for an access token (the OAuth2 JWT bearer grant, RFC 7523).
/// </summary>
public sealed class ServiceAccountTokenSource : GoogleTokenSource
{
    private readonly string _email;
    private readonly string? _keyId;
    private readonly Uri _tokenUri;
    private readonly RSA _key;
    private readonly TimeProvider _clock;

    private ServiceAccountTokenSource(ResilientHttpClient http, TimeProvider time, string email, string? keyId, Uri tokenUri, RSA key)
        : base(http, time)
    {
        _email = email;
        _keyId = keyId;
        _tokenUri = tokenUri;
        _key = key;
        _clock = time;
    }

    /// <inheritdoc />
    public override string Description => $"service account {_email}";

    /// <summary>Reads a key file's JSON ("type": "service_account"). The text is never echoed in errors.</summary>
    public static ServiceAccountTokenSource FromJson(string json, ResilientHttpClient http, TimeProvider time, string origin)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            string? Text(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            if (Text("type") != "service_account" || Text("client_email") is not { } email || Text("private_key") is not { } pem)
            {
                throw BadKey(origin, "it is not a service-account key (type, client_email and private_key are required)");
            }

            var tokenUri = Uri.TryCreate(Text("token_uri") ?? "https://oauth2.googleapis.com/token", UriKind.Absolute, out var t) ? t : throw BadKey(origin, "its token_uri is not a URL");
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new ServiceAccountTokenSource(http, time, email, Text("private_key_id"), tokenUri, rsa);
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or CryptographicException)
        {
            throw BadKey(origin, "it is not valid JSON with a PEM private key");
        }
    }

    /// <summary>The signed assertion (exposed for tests that verify it).</summary>
    internal string CreateAssertion()
    {
        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        var header = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["alg"] = "RS256", ["typ"] = "JWT", ["kid"] = _keyId ?? string.Empty });
        var claims = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["iss"] = _email,
            ["scope"] = StorageScope,
            ["aud"] = _tokenUri.AbsoluteUri,
            ["iat"] = now,
            ["exp"] = now + 3600,
        });
        var signingInput = Base64Url(header) + "." + Base64Url(claims);
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url(signature);
    }

    /// <inheritdoc />
    protected override async Task<(string Token, TimeSpan Lifetime)> FetchAsync(CancellationToken cancellationToken)
    {
        using var response = await Http.SendAsync(
            () => new HttpRequestMessage(HttpMethod.Post, _tokenUri)
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["grant_type"] = "urn:ietf:params:oauth:grant-type:jwt-bearer",
                    ["assertion"] = CreateAssertion(),
                }),
            },
            cancellationToken).ConfigureAwait(false);
        return await ReadTokenResponseAsync(response, $"The token endpoint {SecretRedactor.Redact(_tokenUri)} (for {_email})", cancellationToken).ConfigureAwait(false);
    }

    private static string Base64Url(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static DeepSentinelException BadKey(string origin, string why) =>
        DeepSentinelException.InvalidArgument(ErrorIds.StorageCredentialUnavailable, $"The Google credentials from {origin} cannot be used: {why}.", origin);
}

/// <summary>A gcloud user credential (application_default_credentials.json, "type": "authorized_user"): a refresh-token grant.</summary>
public sealed class AuthorizedUserTokenSource : GoogleTokenSource
{
    private static readonly Uri TokenUri = new("https://oauth2.googleapis.com/token");
    private readonly string _clientId;
    private readonly string _clientSecret;
    private readonly string _refreshToken;

    internal AuthorizedUserTokenSource(ResilientHttpClient http, TimeProvider time, string clientId, string clientSecret, string refreshToken)
        : base(http, time)
    {
        _clientId = clientId;
        _clientSecret = clientSecret;
        _refreshToken = refreshToken;
    }

    /// <inheritdoc />
    public override string Description => "gcloud user credentials";

    /// <inheritdoc />
    protected override async Task<(string Token, TimeSpan Lifetime)> FetchAsync(CancellationToken cancellationToken)
    {
        using var response = await Http.SendAsync(
            () => new HttpRequestMessage(HttpMethod.Post, TokenUri)
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["grant_type"] = "refresh_token",
                    ["client_id"] = _clientId,
                    ["client_secret"] = _clientSecret,
                    ["refresh_token"] = _refreshToken,
                }),
            },
            cancellationToken).ConfigureAwait(false);
        return await ReadTokenResponseAsync(response, "Google's token endpoint (gcloud user credentials)", cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>The GCE/GKE/Cloud Run metadata server's token for the attached service account.</summary>
public sealed class MetadataServerTokenSource : GoogleTokenSource
{
    private readonly Uri _tokenUri;

    /// <summary>Uses the metadata server at <paramref name="metadataEndpoint"/> (http://169.254.169.254 on Google Cloud).</summary>
    public MetadataServerTokenSource(ResilientHttpClient http, TimeProvider time, Uri metadataEndpoint)
        : base(http, time)
    {
        ArgumentNullException.ThrowIfNull(metadataEndpoint);
        _tokenUri = new Uri(metadataEndpoint, "/computeMetadata/v1/instance/service-accounts/default/token");
    }

    /// <inheritdoc />
    public override string Description => "the metadata server's service account";

    /// <inheritdoc />
    protected override async Task<(string Token, TimeSpan Lifetime)> FetchAsync(CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await Http.SendAsync(
                () =>
                {
                    var request = new HttpRequestMessage(HttpMethod.Get, _tokenUri);
                    request.Headers.Add("Metadata-Flavor", "Google");
                    return request;
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (DeepSentinelException ex) when (ex.ErrorId is ErrorIds.EndpointUnreachable or ErrorIds.RequestTimedOut)
        {
            throw new DeepSentinelException(
                ErrorIds.StorageCredentialUnavailable,
                ErrorKind.PermissionDenied,
                "No Google credentials were found: give -GcsKeyFile (a service-account key), set GOOGLE_APPLICATION_CREDENTIALS, run 'gcloud auth application-default login', or run on Google Cloud (the metadata server did not answer).",
                _tokenUri.AbsoluteUri,
                ex);
        }

        using (response)
        {
            return await ReadTokenResponseAsync(response, "The metadata server", cancellationToken).ConfigureAwait(false);
        }
    }
}
