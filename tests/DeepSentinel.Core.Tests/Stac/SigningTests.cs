using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Http;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Stac;
using DeepSentinel.Core.Tests.TestServers;
using Microsoft.AspNetCore.Http;

namespace DeepSentinel.Core.Tests.Stac;

/// <summary>Planetary Computer SAS signing: caching per container, re-signing near expiry, secrecy.</summary>
public sealed class SigningTests
{
    private const string Secret = "TOPSECRETSIGNATURE";

    [Fact]
    public async Task Assets_are_signed_with_one_token_per_container()
    {
        await using var server = await StacApiServer.StartAsync();
        var service = new SceneSearchService(TestServices.Create());

        var scenes = await service.SearchAllAsync(new SceneSearchRequest { Provider = StacProvider.PlanetaryComputer, StacUrl = server.RootUrl, SasTokenEndpoint = server.TokenEndpoint });

        Assert.Equal(20, scenes.Count);
        // 12 Sentinel-2 scenes share one container and 8 Sentinel-1 scenes another.
        Assert.Equal(2, server.TokensIssued);
        Assert.Contains(server.TokenRequests, r => r.Path == "/api/sas/v1/token/sentinel2l2a01/sentinel2-l2");
        Assert.Contains(server.TokenRequests, r => r.Path == "/api/sas/v1/token/sentinel1euwestrtc/sentinel1-grd-rtc");
        var b04 = scenes.First(s => s.Mission == SentinelMission.S2).FindBand("B04")!;
        Assert.NotNull(b04.SignedHref);
        Assert.StartsWith(b04.Href.AbsoluteUri + "?st=", b04.SignedHref!.Reveal(), StringComparison.Ordinal);
        Assert.Contains("sig=" + Secret, b04.SignedHref.Reveal(), StringComparison.Ordinal);
        Assert.Equal(b04.SignedHref.Reveal(), b04.ResolveForReading());
        Assert.DoesNotContain("sig=", b04.Href.AbsoluteUri, StringComparison.Ordinal);
        // Non-blob assets (the tilejson and preview endpoints) are left unsigned.
        Assert.Null(scenes.First(s => s.Mission == SentinelMission.S2).Assets["tilejson"].SignedHref);
    }

    [Fact]
    public async Task Signatures_never_appear_in_ToString_or_reports()
    {
        await using var server = await StacApiServer.StartAsync();
        var service = new SceneSearchService(TestServices.Create());
        var reporter = new RecordingReporter();

        var scenes = await service.SearchAllAsync(new SceneSearchRequest { Provider = StacProvider.PlanetaryComputer, StacUrl = server.RootUrl, SasTokenEndpoint = server.TokenEndpoint, SubscriptionKey = "my-subscription-key-123" }, reporter);

        foreach (var scene in scenes)
        {
            Assert.DoesNotContain(Secret, scene.ToString(), StringComparison.Ordinal);
            foreach (var asset in scene.Assets.Values)
            {
                Assert.DoesNotContain(Secret, asset.ToString(), StringComparison.Ordinal);
                Assert.DoesNotContain(Secret, asset.SignedHref?.ToString() ?? string.Empty, StringComparison.Ordinal);
            }
        }

        Assert.Contains("sig=REDACTED", scenes[0].FindBand("B02")!.SignedHref!.ToString(), StringComparison.Ordinal);
        Assert.NotEmpty(reporter.VerboseMessages);
        Assert.DoesNotContain(Secret, reporter.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain("my-subscription-key-123", reporter.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_subscription_key_goes_to_the_token_endpoint_and_the_API_as_a_header()
    {
        await using var server = await StacApiServer.StartAsync();
        var service = new SceneSearchService(TestServices.Create());

        await service.SearchAllAsync(new SceneSearchRequest { Provider = StacProvider.PlanetaryComputer, StacUrl = server.RootUrl, SasTokenEndpoint = server.TokenEndpoint, SubscriptionKey = "key-abc", Query = new SceneQuery { Missions = [SentinelMission.S2] } });

        Assert.All(server.TokenRequests, r => Assert.Equal("key-abc", r.Headers[PlanetaryComputerSigner.SubscriptionKeyHeader]));
        Assert.All(server.SearchRequests, r => Assert.Equal("key-abc", r.Headers[PlanetaryComputerSigner.SubscriptionKeyHeader]));
        Assert.DoesNotContain("key-abc", new SceneSearchRequest { SubscriptionKey = "key-abc" }.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tokens_are_cached_until_shortly_before_expiry_then_fetched_again()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero));
        await using var server = await StacApiServer.StartAsync(options: new StacApiOptions { TokenLifetime = TimeSpan.FromMinutes(30), Clock = clock.GetUtcNow });
        var http = new ResilientHttpClient(ResilientHttpClient.CreateDefaultHttpClient(), TestServices.FastRetry, time: clock);
        var signer = new PlanetaryComputerSigner(http, server.TokenEndpoint, time: clock, refreshMargin: TimeSpan.FromMinutes(5));
        var href = new Uri("https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2/31/U/DQ/B04.tif");

        var first = await signer.SignAsync(href, CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(24));
        var stillCached = await signer.SignAsync(href, CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(2)); // 4 minutes left: inside the 5-minute margin.
        var renewed = await signer.SignAsync(href, CancellationToken.None);

        Assert.Equal(first!.Reveal(), stillCached!.Reveal());
        Assert.NotEqual(first.Reveal(), renewed!.Reveal());
        Assert.Equal(2, server.TokensIssued);
        Assert.Equal(2, signer.TokensFetched);
        Assert.True(renewed.ExpiresOn > first.ExpiresOn);
        Assert.True(first.ExpiresWithin(TimeSpan.FromMinutes(5), clock.GetUtcNow()));
    }

    [Fact]
    public async Task Concurrent_signing_of_one_container_fetches_one_token()
    {
        await using var server = await StacApiServer.StartAsync();
        var http = new ResilientHttpClient(ResilientHttpClient.CreateDefaultHttpClient(), TestServices.FastRetry);
        var signer = new PlanetaryComputerSigner(http, server.TokenEndpoint);

        var signed = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => signer.SignAsync(new Uri($"https://acct.blob.core.windows.net/cont/file{i}.tif"), CancellationToken.None)));

        Assert.All(signed, s => Assert.NotNull(s));
        Assert.Equal(1, server.TokensIssued);
    }

    [Fact]
    public async Task A_failing_token_endpoint_is_SasTokenUnavailable_and_not_cached()
    {
        var calls = 0;
        await using var tokenServer = await LoopbackServer.StartAsync(async (context, _) =>
        {
            calls++;
            context.Response.StatusCode = calls == 1 ? 403 : 200;
            await context.Response.WriteAsync(calls == 1 ? "{\"detail\":\"forbidden\"}" : "{\"msft:expiry\":\"2099-01-01T00:00:00Z\",\"token\":\"sv=1&sig=abc\"}");
        });
        var http = new ResilientHttpClient(ResilientHttpClient.CreateDefaultHttpClient(), TestServices.FastRetry);
        var signer = new PlanetaryComputerSigner(http, tokenServer.BaseUri, subscriptionKey: "wrong");
        var href = new Uri("https://acct.blob.core.windows.net/cont/a.tif");

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => signer.SignAsync(href, CancellationToken.None));
        var retried = await signer.SignAsync(href, CancellationToken.None);

        Assert.Equal(ErrorIds.SasTokenUnavailable, error.ErrorId);
        Assert.Equal(ErrorKind.PermissionDenied, error.Kind);
        Assert.DoesNotContain("wrong", error.Message, StringComparison.Ordinal);
        Assert.NotNull(retried);
    }

    [Theory]
    [InlineData("https://acct.blob.core.windows.net/cont/a.tif", true)]
    [InlineData("https://acct.blob.core.windows.net/cont/a.tif?sv=1&sig=x", false)]
    [InlineData("https://planetarycomputer.microsoft.com/api/data/v1/item/map", false)]
    [InlineData("http://acct.blob.core.windows.net/cont/a.tif", false)]
    [InlineData("https://acct.blob.core.windows.net/", false)]
    public void Only_unsigned_blob_URLs_need_signing(string url, bool expected) =>
        Assert.Equal(expected, PlanetaryComputerSigner.NeedsSigning(new Uri(url)));
}
