using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Http;
using DeepSentinel.Core.Scenes;

namespace DeepSentinel.Core.Stac;

/// <summary>
/// Signs Planetary Computer asset hrefs (Azure Blob URLs) with SAS tokens from its public token
/// endpoint. One token serves a whole storage container, so tokens are cached per
/// account/container and fetched again only when they come within <see cref="RefreshMargin"/>
/// of expiring.
/// </summary>
public sealed class PlanetaryComputerSigner
{
    /// <summary>The public token endpoint.</summary>
    public static readonly Uri DefaultTokenEndpoint = new("https://planetarycomputer.microsoft.com/api/sas/v1/token/");

    /// <summary>The environment variable the Planetary Computer SDKs read the subscription key from.</summary>
    public const string SubscriptionKeyVariable = "PC_SDK_SUBSCRIPTION_KEY";

    /// <summary>The header that carries the subscription key.</summary>
    public const string SubscriptionKeyHeader = "Ocp-Apim-Subscription-Key";

    private const string BlobHostSuffix = ".blob.core.windows.net";
    private readonly ResilientHttpClient _http;
    private readonly Uri _endpoint;
    private readonly string? _subscriptionKey;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Task<SasToken>> _tokens = new(StringComparer.Ordinal);

    /// <summary>Creates a signer.</summary>
    /// <param name="http">The HTTP client to fetch tokens with.</param>
    /// <param name="tokenEndpoint">The token endpoint (default: Planetary Computer's).</param>
    /// <param name="subscriptionKey">An optional subscription key (higher rate limits, longer tokens).</param>
    /// <param name="time">The clock.</param>
    /// <param name="refreshMargin">Re-sign when a token expires within this span (default 5 minutes).</param>
    public PlanetaryComputerSigner(ResilientHttpClient http, Uri? tokenEndpoint = null, string? subscriptionKey = null, TimeProvider? time = null, TimeSpan? refreshMargin = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        var endpoint = tokenEndpoint ?? DefaultTokenEndpoint;
        _endpoint = endpoint.AbsoluteUri.EndsWith('/') ? endpoint : new Uri(endpoint.AbsoluteUri + "/");
        _subscriptionKey = string.IsNullOrWhiteSpace(subscriptionKey) ? null : subscriptionKey;
        _time = time ?? TimeProvider.System;
        RefreshMargin = refreshMargin ?? TimeSpan.FromMinutes(5);
    }

    /// <summary>How close to expiry a cached token is replaced.</summary>
    public TimeSpan RefreshMargin { get; }

    /// <summary>How many tokens have been fetched from the endpoint (for diagnostics and tests).</summary>
    public int TokensFetched => _tokensFetched;

    private int _tokensFetched;

    /// <summary>True for URLs this signer signs: Azure Blob URLs without a signature.</summary>
    public static bool NeedsSigning(Uri href) =>
        href.Scheme == Uri.UriSchemeHttps
        && href.Host.EndsWith(BlobHostSuffix, StringComparison.OrdinalIgnoreCase)
        && !href.Query.Contains("sig=", StringComparison.OrdinalIgnoreCase)
        && href.AbsolutePath.Trim('/').Length > 0;

    /// <summary>Signs a URL, or returns null when it does not need signing.</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.SasTokenUnavailable"/>.</exception>
    public async Task<SignedUri?> SignAsync(Uri href, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(href);
        if (!NeedsSigning(href))
        {
            return null;
        }

        var account = href.Host[..^BlobHostSuffix.Length];
        var container = href.AbsolutePath.Trim('/').Split('/')[0];
        var token = await GetTokenAsync(account, container, cancellationToken).ConfigureAwait(false);
        return new SignedUri(href, token.Token, token.ExpiresOn);
    }

    /// <summary>Signs every asset of a scene that needs it (one token request per container at most).</summary>
    public async Task SignAsync(SentinelScene scene, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scene);
        foreach (var asset in scene.Assets.Values)
        {
            asset.SignedHref = await SignAsync(asset.Href, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<SasToken> GetTokenAsync(string account, string container, CancellationToken cancellationToken)
    {
        var key = account + "/" + container;
        while (true)
        {
            var cached = _tokens.GetOrAdd(key, _ => FetchAsync(account, container, cancellationToken));
            SasToken token;
            try
            {
                token = await cached.ConfigureAwait(false);
            }
            catch
            {
                // Do not cache failures: the next asset asks again.
                _tokens.TryRemove(new KeyValuePair<string, Task<SasToken>>(key, cached));
                throw;
            }

            if (token.ExpiresOn - _time.GetUtcNow() > RefreshMargin)
            {
                return token;
            }

            // Near expiry: replace it, unless another caller already has.
            _tokens.TryRemove(new KeyValuePair<string, Task<SasToken>>(key, cached));
        }
    }

    private async Task<SasToken> FetchAsync(string account, string container, CancellationToken cancellationToken)
    {
        var url = new Uri(_endpoint, Uri.EscapeDataString(account) + "/" + Uri.EscapeDataString(container));
        using var response = await _http.SendAsync(
            () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, url);
                if (_subscriptionKey is not null)
                {
                    request.Headers.TryAddWithoutValidation(SubscriptionKeyHeader, _subscriptionKey);
                }

                return request;
            },
            cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _tokensFetched);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var kind = (int)response.StatusCode is 401 or 403 ? ErrorKind.PermissionDenied : ErrorKind.ResourceUnavailable;
            throw new DeepSentinelException(ErrorIds.SasTokenUnavailable, kind, $"The Planetary Computer token endpoint answered HTTP {(int)response.StatusCode} for container {account}/{container}. {(kind == ErrorKind.PermissionDenied ? "Check the subscription key." : "Try again later.")}", key(account, container));
        }

        try
        {
            using var doc = JsonDocument.Parse(body);
            var token = StacItemReader.GetString(doc.RootElement, "token");
            var expiry = StacItemReader.GetString(doc.RootElement, "msft:expiry");
            if (string.IsNullOrEmpty(token) || expiry is null || !DateTimeOffset.TryParse(expiry, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var expiresOn))
            {
                throw new JsonException("missing \"token\" or \"msft:expiry\"");
            }

            return new SasToken(token, expiresOn);
        }
        catch (JsonException ex)
        {
            throw new DeepSentinelException(ErrorIds.SasTokenUnavailable, ErrorKind.InvalidData, $"The Planetary Computer token endpoint's answer for container {account}/{container} is unreadable ({SecretRedactor.Redact(ex.Message)}).", key(account, container));
        }

        static string key(string a, string c) => a + "/" + c;
    }

    private sealed record SasToken(string Token, DateTimeOffset ExpiresOn)
    {
        public override string ToString() => $"SAS token (expires {ExpiresOn:u})";
    }
}
