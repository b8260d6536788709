using System.Collections.Concurrent;
using DeepSentinel.Core.Http;
using DeepSentinel.Core.Stac;

namespace DeepSentinel.Core.Services;

/// <summary>
/// The shared parts every Core service uses: one HttpClient (connection pooling), the retry
/// bounds, the clock, and the Planetary Computer token caches. The module keeps one
/// <see cref="Default"/> per process so that tokens and connections outlive a single cmdlet call;
/// tests build their own with short timeouts and fake clocks.
/// </summary>
public sealed class CoreServices
{
    private static readonly Lazy<CoreServices> LazyDefault = new(() => new CoreServices(ResilientHttpClient.CreateDefaultHttpClient()));
    private readonly ConcurrentDictionary<string, PlanetaryComputerSigner> _signers = new(StringComparer.Ordinal);

    /// <summary>Creates the services over an HttpClient.</summary>
    public CoreServices(HttpClient httpClient, HttpRetryOptions? retry = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        HttpClient = httpClient;
        Retry = retry ?? HttpRetryOptions.Default;
        Retry.Validate();
        Time = time ?? TimeProvider.System;
    }

    /// <summary>The process-wide instance the module uses.</summary>
    public static CoreServices Default => LazyDefault.Value;

    /// <summary>The HttpClient all HTTP goes through.</summary>
    public HttpClient HttpClient { get; }

    /// <summary>
    /// Where client libraries that build their own HTTP clients (Google.Cloud.Storage.V1) get
    /// their innermost handler; null: the library's default. Tests put recording handlers here.
    /// </summary>
    public Func<HttpMessageHandler>? MessageHandlerFactory { get; init; }

    /// <summary>The retry bounds.</summary>
    public HttpRetryOptions Retry { get; }

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; }

    /// <summary>A retrying client reporting to <paramref name="reporter"/>, optionally with other bounds.</summary>
    public ResilientHttpClient CreateHttp(Diagnostics.IOperationReporter reporter, HttpRetryOptions? retry = null) =>
        new(HttpClient, retry ?? Retry, reporter, Time);

    /// <summary>
    /// The signer for a token endpoint and subscription key, created once and cached, so its tokens
    /// are reused across calls. The key is kept only inside the signer.
    /// </summary>
    public PlanetaryComputerSigner GetSigner(Uri? tokenEndpoint, string? subscriptionKey)
    {
        var endpoint = tokenEndpoint ?? PlanetaryComputerSigner.DefaultTokenEndpoint;
        var cacheKey = endpoint.AbsoluteUri + "|" + (subscriptionKey is null ? string.Empty : Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(subscriptionKey))));
        return _signers.GetOrAdd(cacheKey, _ => new PlanetaryComputerSigner(CreateHttp(Diagnostics.NullReporter.Instance), endpoint, subscriptionKey, Time));
    }
}
