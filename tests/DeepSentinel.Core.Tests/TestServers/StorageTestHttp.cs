using System.Collections.Concurrent;
using DeepSentinel.Core.Http;
using DeepSentinel.Core.Services;

namespace DeepSentinel.Core.Tests.TestServers;

/// <summary>A request as the client sent it (after signing), for assertions on the wire protocol.</summary>
public sealed record SentRequest(string Method, Uri Uri, IReadOnlyDictionary<string, string> Headers, long? ContentLength);

/// <summary>
/// Test set-up for firebase-tools' storage emulator, making its answers look like Cloud Storage's
/// where the Google client's download validation depends on them: the emulator answers a ranged
/// read (206) with the whole object's x-goog-hash, which real Cloud Storage does not send on
/// partial content and which the client would rightly reject, so it is removed from 206 answers;
/// and it sends an empty Content-Encoding header, which real Cloud Storage does not send for
/// unencoded objects and which makes the client skip validation as if the object were
/// transcoded, so that is removed too. Whole downloads are then validated as against Cloud Storage.
/// </summary>
public sealed class EmulatorRangeHashHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    public EmulatorRangeHashHandler()
        : this(new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = System.Net.DecompressionMethods.GZip | System.Net.DecompressionMethods.Deflate })
    {
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.PartialContent)
        {
            response.Headers.Remove("x-goog-hash");
        }

        if (response.Content.Headers.ContentEncoding.Count == 0 || response.Content.Headers.ContentEncoding.All(string.IsNullOrEmpty))
        {
            response.Content.Headers.Remove("Content-Encoding");
        }

        return response;
    }
}

/// <summary>Records every request an HttpClient sends, then passes it on.</summary>
public sealed class RecordingHandler() : DelegatingHandler(new EmulatorRangeHashHandler())
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
        // The Google client builds its own HttpClients: it gets the same recording handler.
        Services = new CoreServices(new HttpClient(Handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan }, retry ?? TestServices.FastRetry, time) { MessageHandlerFactory = () => Handler };
    }

    public RecordingHandler Handler { get; }

    public CoreServices Services { get; }

    public IEnumerable<SentRequest> Sent => Handler.Sent;
}

/// <summary>
/// For loopback blob endpoints that stand in for Azure: the SDK sends each upload with a CRC64
/// (a structured message body, or x-ms-content-crc64) and checks that the answer acknowledges
/// it, as Azure's does; these echo the acknowledgement. (The content itself is not what they test.)
/// </summary>
public static class BlobChecksums
{
    public static void Acknowledge(Microsoft.AspNetCore.Http.HttpContext context)
    {
        foreach (var header in new[] { "x-ms-structured-body", "x-ms-content-crc64" })
        {
            if (context.Request.Headers.TryGetValue(header, out var value))
            {
                context.Response.Headers[header] = value;
            }
        }
    }
}
