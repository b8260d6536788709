using System.Collections.Concurrent;
using DeepSentinel.Core.Http;
using DeepSentinel.Core.Services;

namespace DeepSentinel.Core.Tests.TestServers;

/// <summary>A request as the client sent it (after signing), for assertions on the wire protocol.</summary>
public sealed record SentRequest(string Method, Uri Uri, IReadOnlyDictionary<string, string> Headers, long? ContentLength);

/// <summary>Records every request an HttpClient sends, then passes it on.</summary>
public sealed class RecordingHandler() : DelegatingHandler(new SocketsHttpHandler { AllowAutoRedirect = false })
{
    public ConcurrentQueue<SentRequest> Sent { get; } = new();

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var headers = request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
            .GroupBy(h => h.Key, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => string.Join(",", g.SelectMany(h => h.Value)), StringComparer.OrdinalIgnoreCase);
        Sent.Enqueue(new SentRequest(request.Method.Method, request.RequestUri!, headers, request.Content?.Headers.ContentLength));
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Core services over a recording HttpClient, with fast retries.</summary>
public sealed class RecordingServices
{
    public RecordingServices(HttpRetryOptions? retry = null, TimeProvider? time = null)
    {
        Handler = new RecordingHandler();
        Services = new CoreServices(new HttpClient(Handler) { Timeout = Timeout.InfiniteTimeSpan }, retry ?? TestServices.FastRetry, time);
    }

    public RecordingHandler Handler { get; }

    public CoreServices Services { get; }

    public IEnumerable<SentRequest> Sent => Handler.Sent;
}
