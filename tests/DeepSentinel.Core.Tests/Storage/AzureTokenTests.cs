using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Azure.Core;
using DeepSentinel.Core.Services;
using DeepSentinel.Core.Storage;
using DeepSentinel.Core.Storage.Azure;
using DeepSentinel.Core.Tests.TestServers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DeepSentinel.Core.Tests.Storage;

/// <summary>
/// Azure AD tokens (the path DefaultAzureCredential and managed identities take) through
/// Azure.Core's BearerTokenAuthenticationPolicy, which only sends tokens over TLS: a loopback
/// HTTPS blob endpoint with a self-signed certificate that accepts only unexpired tokens it knows.
/// Azurite would need its own certificate and OAuth mode for this.
/// </summary>
public sealed class AzureTokenTests
{
    [Fact]
    public async Task An_expired_token_is_replaced_before_the_next_request_and_the_run_goes_on()
    {
        var credential = new ShortLivedCredential(TimeSpan.FromSeconds(2));
        using var cert = SelfSigned();
        await using var app = await StartHttpsAsync(cert, credential);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == cert.GetCertHashString();
        var services = new CoreServices(new HttpClient(handler), TestServices.FastRetry);
        var store = (AzureBlobObjectStore)ObjectStores.Open($"{app.Uri}acct/corpus/p", new StorageOptions { AzureCredential = credential, Environment = _ => null }, services);

        await store.PutBytesAsync("a.json", [1]);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        await store.PutBytesAsync("b.json", [2]);

        Assert.Equal(AzureAuthentication.Token, store.Authentication);
        Assert.True(credential.Issued >= 2, $"{credential.Issued} tokens issued");
        Assert.Empty(app.Rejected);
        Assert.Equal(["https://storage.azure.com/.default"], credential.Scopes.Distinct());
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    private static async Task<HttpsBlobEndpoint> StartHttpsAsync(X509Certificate2 cert, ShortLivedCredential credential)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0, l => l.UseHttps(cert)));
        var app = builder.Build();
        var endpoint = new HttpsBlobEndpoint(app);
        app.Run(async context =>
        {
            var auth = context.Request.Headers.Authorization.ToString();
            if (!auth.StartsWith("Bearer ", StringComparison.Ordinal) || !credential.IsValid(auth[7..]))
            {
                endpoint.Rejected.Enqueue(auth.Length > 7 ? auth[7..] : auth);
                context.Response.StatusCode = 401;
                return;
            }

            context.Response.StatusCode = 201;
            BlobChecksums.Acknowledge(context);
            await context.Response.CompleteAsync();
        });
        await app.StartAsync();
        endpoint.Uri = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/");
        return endpoint;
    }

    private sealed class HttpsBlobEndpoint(WebApplication app) : IAsyncDisposable
    {
        public Uri Uri { get; set; } = null!;

        public ConcurrentQueue<string> Rejected { get; } = new();

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>A TokenCredential whose tokens live <paramref name="lifetime"/>; it knows which are still valid.</summary>
    private sealed class ShortLivedCredential(TimeSpan lifetime) : TokenCredential
    {
        private readonly ConcurrentDictionary<string, DateTimeOffset> _tokens = new();
        private int _issued;

        public int Issued => _issued;

        public ConcurrentQueue<string> Scopes { get; } = new();

        public bool IsValid(string token) => _tokens.TryGetValue(token, out var expires) && DateTimeOffset.UtcNow < expires;

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            foreach (var scope in requestContext.Scopes)
            {
                Scopes.Enqueue(scope);
            }

            var token = $"eyJ.test-{Interlocked.Increment(ref _issued)}";
            var expires = DateTimeOffset.UtcNow + lifetime;
            _tokens[token] = expires;
            return new AccessToken(token, expires);
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
