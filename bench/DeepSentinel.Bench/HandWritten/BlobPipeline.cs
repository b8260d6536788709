using DeepSentinel.Core.Storage;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Http;

namespace DeepSentinel.Bench.HandWritten;

/// <summary>Options for the blob pipeline: Azure.Core's retry, logging and transport settings.</summary>
internal sealed class BlobPipelineOptions : ClientOptions
{
}

/// <summary>
/// Builds the Azure.Core HTTP pipeline the blob store sends through. Azure.Core supplies the retry
/// policy (exponential backoff on 408, 429, 5xx and dropped connections, rewinding request bodies)
/// and its logging policy; we add authentication and a verbose report of failed attempts.
/// </summary>
internal static class BlobPipeline
{
    /// <summary>The message property counting transport attempts, so a retried create-only put can tell its own earlier success from a rival's.</summary>
    public const string AttemptProperty = "DeepSentinel.Attempt";

    public static HttpPipeline Create(HttpClient httpClient, HttpRetryOptions retry, HttpPipelinePolicy? authentication, IOperationReporter reporter)
    {
        var options = new BlobPipelineOptions { Transport = new HttpClientTransport(httpClient) };
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = retry.MaxAttempts - 1;
        options.Retry.Delay = retry.BaseDelay;
        options.Retry.MaxDelay = retry.MaxDelay;
        options.Retry.NetworkTimeout = retry.AttemptTimeout;
        options.Diagnostics.ApplicationId = "DeepSentinel";
        options.Diagnostics.IsDistributedTracingEnabled = false;
        // Azure.Core's logging policy already redacts unlisted headers and query values (sig among them).
        options.Diagnostics.IsLoggingContentEnabled = false;

        var perRetry = new List<HttpPipelinePolicy> { new AttemptPolicy(reporter) };
        if (authentication is not null)
        {
            perRetry.Add(authentication);
        }

        return HttpPipelineBuilder.Build(options, [], perRetry.ToArray(), new ResponseClassifier());
    }

    /// <summary>Counts attempts and reports the failed ones (redacted) for -Verbose.</summary>
    private sealed class AttemptPolicy(IOperationReporter reporter) : HttpPipelinePolicy
    {
        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline, async: false).AsTask().GetAwaiter().GetResult();

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline, async: true);

        private async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline, bool async)
        {
            var attempt = message.TryGetProperty(AttemptProperty, out var value) && value is int n ? n + 1 : 1;
            message.SetProperty(AttemptProperty, attempt);
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
            catch (Exception ex) when (ex is IOException or HttpRequestException or global::Azure.RequestFailedException or TaskCanceledException)
            {
                reporter.Verbose($"{target}: attempt {attempt} failed ({ex.GetType().Name}); Azure.Core retries within its bounds.");
                throw;
            }

            if (message.ResponseClassifier.IsRetriableResponse(message))
            {
                reporter.Verbose($"{target}: attempt {attempt} got HTTP {message.Response.Status}; Azure.Core retries within its bounds.");
            }
        }
    }
}

/// <summary>
/// Signs requests with a storage account key (SharedKey). Runs once per attempt, so every retry
/// carries a fresh x-ms-date. The key never leaves this object.
/// </summary>
internal sealed class SharedKeyPolicy : HttpPipelineSynchronousPolicy
{
    private readonly string _account;
    private readonly byte[] _key;

    public SharedKeyPolicy(string account, string base64Key)
    {
        _account = account;
        try
        {
            _key = Convert.FromBase64String(base64Key);
        }
        catch (FormatException)
        {
            throw DeepSentinel.Core.Errors.DeepSentinelException.InvalidArgument(DeepSentinel.Core.Errors.ErrorIds.StorageCredentialUnavailable, $"The account key for storage account '{account}' is not valid base64.", account);
        }
    }

    public override void OnSendingRequest(HttpMessage message)
    {
        var request = message.Request;
        request.Headers.SetValue("x-ms-date", DateTimeOffset.UtcNow.ToString("r", CultureInfo.InvariantCulture));
        var signature = Convert.ToBase64String(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(StringToSign(request))));
        request.Headers.SetValue("Authorization", $"SharedKey {_account}:{signature}");
    }

    /// <summary>The string Azure expects signed, per "Authorize with Shared Key" (version 2015-02-21 and later).</summary>
    internal string StringToSign(Request request)
    {
        string Header(string name) => request.Headers.TryGetValue(name, out var v) ? v : string.Empty;
        var length = request.Content is not null && request.Content.TryComputeLength(out var n) && n > 0 ? n.ToString(CultureInfo.InvariantCulture) : string.Empty;
        var text = new StringBuilder()
            .Append(request.Method.Method).Append('\n')
            .Append(Header("Content-Encoding")).Append('\n')
            .Append(Header("Content-Language")).Append('\n')
            .Append(length).Append('\n')
            .Append(Header("Content-MD5")).Append('\n')
            .Append(Header("Content-Type")).Append('\n')
            .Append('\n') // Date: x-ms-date is used instead.
            .Append(Header("If-Modified-Since")).Append('\n')
            .Append(Header("If-Match")).Append('\n')
            .Append(Header("If-None-Match")).Append('\n')
            .Append(Header("If-Unmodified-Since")).Append('\n')
            .Append(Header("Range")).Append('\n');

        foreach (var header in request.Headers
            .Where(h => h.Name.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
            .Select(h => (Name: h.Name.ToLowerInvariant(), Value: h.Value.Trim()))
            .OrderBy(h => h.Name, StringComparer.Ordinal))
        {
            text.Append(header.Name).Append(':').Append(header.Value).Append('\n');
        }

        var uri = request.Uri.ToUri();
        text.Append('/').Append(_account).Append(uri.AbsolutePath);
        var query = uri.Query.TrimStart('?');
        if (query.Length > 0)
        {
            foreach (var group in query.Split('&', StringSplitOptions.RemoveEmptyEntries)
                .Select(p => p.Split('=', 2))
                .GroupBy(p => Uri.UnescapeDataString(p[0]).ToLowerInvariant())
                .OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var values = group.Select(p => p.Length > 1 ? Uri.UnescapeDataString(p[1]) : string.Empty).Order(StringComparer.Ordinal);
                text.Append('\n').Append(group.Key).Append(':').Append(string.Join(',', values));
            }
        }

        return text.ToString();
    }
}
