using System.Net;
using System.Net.Sockets;
using System.Text;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Http;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Stac;
using DeepSentinel.Core.Tests.TestServers;
using Microsoft.AspNetCore.Http;

namespace DeepSentinel.Core.Tests.Stac;

/// <summary>Throttling, server errors, malformed pages, hangs and wrong endpoints.</summary>
public sealed class FaultTests
{
    private static SceneSearchRequest S2(Uri root, int pageSize = 100) => new()
    {
        StacUrl = root,
        Query = new SceneQuery { Missions = [SentinelMission.S2] },
        PageSize = pageSize,
    };

    [Fact]
    public async Task A_429_with_Retry_After_is_waited_out_and_retried()
    {
        await using var server = await StacApiServer.StartAsync(options: new StacApiOptions { TooManyRequests = 1, RetryAfterSeconds = 1 });
        var service = new SceneSearchService(TestServices.Create());
        var reporter = new RecordingReporter();
        var started = DateTime.UtcNow;

        var scenes = await service.SearchAllAsync(S2(server.RootUrl), reporter);

        Assert.Equal(12, scenes.Count);
        Assert.Equal(2, server.SearchRequests.Count);
        // The backoff alone would be ~10 ms: waiting about a second shows Retry-After was honoured.
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(900));
        Assert.Contains(reporter.VerboseMessages, m => m.Contains("429", StringComparison.Ordinal) && m.Contains("retrying in 1000 ms", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_burst_of_server_errors_is_retried_with_backoff()
    {
        await using var server = await StacApiServer.StartAsync(options: new StacApiOptions { ServerErrors = 3 });
        var service = new SceneSearchService(TestServices.Create());

        var scenes = await service.SearchAllAsync(S2(server.RootUrl));

        Assert.Equal(12, scenes.Count);
        Assert.Equal(4, server.SearchRequests.Count);
    }

    [Fact]
    public async Task Errors_beyond_the_retry_budget_end_in_ServerUnavailable()
    {
        await using var server = await StacApiServer.StartAsync(options: new StacApiOptions { ServerErrors = 50 });
        var service = new SceneSearchService(TestServices.Create());

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => service.SearchAllAsync(S2(server.RootUrl)));

        Assert.Equal(ErrorIds.ServerUnavailable, error.ErrorId);
        Assert.Equal(ErrorKind.ResourceUnavailable, error.Kind);
        Assert.Equal(TestServices.FastRetry.MaxAttempts, server.SearchRequests.Count);
        Assert.Contains("after 4 attempts", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Retry_After_longer_than_allowed_fails_at_once()
    {
        await using var server = await StacApiServer.StartAsync(options: new StacApiOptions { TooManyRequests = 10, RetryAfterSeconds = 3600 });
        var service = new SceneSearchService(TestServices.Create());

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => service.SearchAllAsync(S2(server.RootUrl)));

        Assert.Equal(ErrorIds.RateLimited, error.ErrorId);
        Assert.Single(server.SearchRequests);
        Assert.Contains("3600 s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_page_is_a_clear_error_after_the_good_pages_streamed()
    {
        var options = new StacApiOptions();
        options.MalformedPages.Add(2);
        await using var server = await StacApiServer.StartAsync(options: options);
        var service = new SceneSearchService(TestServices.Create());
        var received = new List<SentinelScene>();

        var error = await Assert.ThrowsAsync<DeepSentinelException>(async () =>
        {
            await foreach (var scene in service.SearchAsync(S2(server.RootUrl, pageSize: 5), new RecordingReporter(), CancellationToken.None))
            {
                received.Add(scene);
            }
        });

        Assert.Equal(ErrorIds.StacResponseMalformed, error.ErrorId);
        Assert.Equal(ErrorKind.InvalidData, error.Kind);
        Assert.Contains("search page 2", error.Message, StringComparison.Ordinal);
        Assert.Equal(5, received.Count);
    }

    [Fact]
    public async Task A_hanging_server_times_out_with_RequestTimedOut()
    {
        await using var server = await StacApiServer.StartAsync(options: new StacApiOptions { HangingPage = 1 });
        var retry = TestServices.FastRetry with { MaxAttempts = 2, AttemptTimeout = TimeSpan.FromMilliseconds(300) };
        var service = new SceneSearchService(TestServices.Create(retry));

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => service.SearchAllAsync(S2(server.RootUrl)));

        Assert.Equal(ErrorIds.RequestTimedOut, error.ErrorId);
        Assert.Equal(ErrorKind.OperationTimeout, error.Kind);
        Assert.Equal(2, server.SearchRequests.Count);
    }

    [Fact]
    public async Task An_unreachable_endpoint_is_EndpointUnreachable()
    {
        // A port that was just free and is now closed: connections are refused.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var service = new SceneSearchService(TestServices.Create(TestServices.FastRetry with { MaxAttempts = 2 }));

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => service.SearchAllAsync(S2(new Uri($"http://127.0.0.1:{port}/stac/"))));

        Assert.Equal(ErrorIds.EndpointUnreachable, error.ErrorId);
        Assert.Equal(ErrorKind.ConnectionError, error.Kind);
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("text/html", "<!DOCTYPE html><html><body>Welcome</body></html>", ErrorIds.NotAStacEndpoint)]
    [InlineData("application/json", "{\"message\": \"hello\"}", ErrorIds.NotAStacEndpoint)]
    [InlineData("application/json", "{\"links\": [], \"conformsTo\": [\"https://api.stacspec.org/v1.0.0/core\"]}", ErrorIds.NotAStacEndpoint)]
    [InlineData("application/json", "{\"links\": [", ErrorIds.StacResponseMalformed)]
    public async Task A_URL_that_is_not_a_STAC_API_is_named_as_such(string contentType, string body, string errorId)
    {
        await using var server = await LoopbackServer.StartAsync(async (context, _) =>
        {
            context.Response.ContentType = contentType;
            await context.Response.WriteAsync(body, Encoding.UTF8);
        });
        var service = new SceneSearchService(TestServices.Create());

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => service.SearchAllAsync(S2(server.BaseUri)));

        Assert.Equal(errorId, error.ErrorId);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A_404_landing_page_is_NotAStacEndpoint()
    {
        await using var server = await StacApiServer.StartAsync();
        var service = new SceneSearchService(TestServices.Create());

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => service.SearchAllAsync(S2(new Uri(server.Server.BaseUri, "nothing/here/"))));

        Assert.Equal(ErrorIds.NotAStacEndpoint, error.ErrorId);
        Assert.Equal(ErrorKind.ObjectNotFound, error.Kind);
    }

    [Fact]
    public async Task A_server_that_repeats_its_next_link_is_stopped_without_duplicates()
    {
        await using var server = await StacApiServer.StartAsync(options: new StacApiOptions { RepeatNextLink = true });
        var service = new SceneSearchService(TestServices.Create());
        var reporter = new RecordingReporter();

        var scenes = await service.SearchAllAsync(S2(server.RootUrl, pageSize: 5), reporter);

        Assert.Equal(5, scenes.Count);
        Assert.Equal(5, scenes.Select(s => s.Id).Distinct().Count());
        Assert.Contains(reporter.Warnings, w => w.Contains("same next link", StringComparison.Ordinal));
        Assert.Equal(2, server.SearchRequests.Count);
    }

    [Fact]
    public async Task Cancellation_stops_the_search()
    {
        await using var server = await StacApiServer.StartAsync(options: new StacApiOptions { HangingPage = 2 });
        var service = new SceneSearchService(TestServices.Create());
        using var cts = new CancellationTokenSource();
        var received = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var scene in service.SearchAsync(S2(server.RootUrl, pageSize: 5), new RecordingReporter(), cts.Token))
            {
                if (++received == 5)
                {
                    cts.CancelAfter(200);
                }
            }
        });

        Assert.Equal(5, received);
    }

    [Fact]
    public void Retry_options_reject_nonsense()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new HttpRetryOptions { MaxAttempts = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new HttpRetryOptions { AttemptTimeout = TimeSpan.Zero }.Validate());
    }
}
