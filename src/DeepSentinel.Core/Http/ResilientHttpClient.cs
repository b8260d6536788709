using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;

namespace DeepSentinel.Core.Http;

/// <summary>
/// Sends HTTP requests with bounded, jittered retries. This is the project's single retry loop:
/// STAC searches, token requests and catalog reads all go through it.
/// </summary>
/// <remarks>
/// A request is built anew by a factory for every attempt (an HttpRequestMessage cannot be sent
/// twice). The response body is buffered inside the attempt, so a server that stalls mid-body
/// counts as a timed-out attempt. A response that is neither successful nor retryable is returned
/// to the caller, who knows what its status means.
/// </remarks>
public sealed class ResilientHttpClient
{
    private readonly HttpClient _client;
    private readonly HttpRetryOptions _options;
    private readonly IOperationReporter _reporter;
    private readonly TimeProvider _time;

    /// <summary>Creates a client over <paramref name="client"/>, whose own Timeout is not used.</summary>
    public ResilientHttpClient(HttpClient client, HttpRetryOptions? options = null, IOperationReporter? reporter = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _options = options ?? HttpRetryOptions.Default;
        _options.Validate();
        _reporter = reporter ?? NullReporter.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The retry bounds in force.</summary>
    public HttpRetryOptions Options => _options;

    /// <summary>Creates the HttpClient the module uses: automatic decompression, no client-side timeout.</summary>
    public static HttpClient CreateDefaultHttpClient()
    {
        var handler = new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.All,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(15),
        };
        var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("DeepSentinel/" + typeof(ResilientHttpClient).Assembly.GetName().Version?.ToString(3));
        return client;
    }

    /// <summary>
    /// Sends the request built by <paramref name="createRequest"/>, retrying transient failures.
    /// Returns the first response that is not retryable (successful or not), body buffered.
    /// </summary>
    /// <exception cref="DeepSentinelException">
    /// <see cref="ErrorIds.RateLimited"/> (429s), <see cref="ErrorIds.ServerUnavailable"/>, <see cref="ErrorIds.RequestTimedOut"/> or
    /// <see cref="ErrorIds.EndpointUnreachable"/> once the retry budget is spent.
    /// </exception>
    public Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> createRequest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(createRequest);
        return SendAsync((_, _) => Task.FromResult(createRequest()), HttpCompletionOption.ResponseContentRead, cancellationToken);
    }

    /// <summary>
    /// Sends the request built by <paramref name="createRequest"/> for each attempt (1-based), retrying
    /// transient failures. The factory may do asynchronous work first, such as fetching a token or
    /// asking a resumable-upload session how much it holds; an HttpRequestException it throws counts
    /// as a failed attempt. With <see cref="HttpCompletionOption.ResponseHeadersRead"/> the body is not
    /// buffered (downloads stream) and only reaching the headers is bounded and retried.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(Func<int, CancellationToken, Task<HttpRequestMessage>> createRequest, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(createRequest);
        var started = _time.GetTimestamp();
        string target = string.Empty;
        Exception? lastFailure = null;
        HttpStatusCode? lastStatus = null;

        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            HttpRequestMessage? request = null;
            TimeSpan? retryAfter = null;
            string failure;

            using (var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                attemptCts.CancelAfter(AttemptLimit(started));
                try
                {
                    request = await createRequest(attempt, attemptCts.Token).ConfigureAwait(false);
                    target = SecretRedactor.Redact(request.RequestUri);
                    var response = await _client.SendAsync(request, completion, attemptCts.Token).ConfigureAwait(false);
                    if (!IsRetryable(response.StatusCode))
                    {
                        return response;
                    }

                    lastStatus = response.StatusCode;
                    lastFailure = null;
                    retryAfter = ReadRetryAfter(response);
                    failure = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
                    response.Dispose();
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    lastStatus = null;
                    lastFailure = new TimeoutException($"No complete response within {_options.AttemptTimeout.TotalSeconds:0.#} s.");
                    failure = "timed out";
                }
                catch (HttpRequestException ex)
                {
                    lastStatus = null;
                    lastFailure = ex;
                    failure = DescribeConnectionFailure(ex);
                }
                finally
                {
                    request?.Dispose();
                }
            }

            if (attempt >= _options.MaxAttempts)
            {
                throw Exhausted(target, attempt, lastStatus, lastFailure, reason: "no attempts left");
            }

            var delay = retryAfter ?? Backoff(attempt);
            if (retryAfter is { } ra && ra > _options.MaxRetryAfter)
            {
                throw Exhausted(target, attempt, lastStatus, lastFailure, reason: $"the server asked to retry after {ra.TotalSeconds:0} s, more than the {_options.MaxRetryAfter.TotalSeconds:0} s allowed");
            }

            if (delay >= Remaining(started))
            {
                throw Exhausted(target, attempt, lastStatus, lastFailure, reason: $"the {_options.TotalTimeout.TotalSeconds:0.#} s budget is spent");
            }

            _reporter.Verbose($"{request?.Method.Method ?? "HTTP"} {target}: {failure}; attempt {attempt} of {_options.MaxAttempts}, retrying in {delay.TotalMilliseconds:0} ms.");
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private TimeSpan Remaining(long started) => _options.TotalTimeout - _time.GetElapsedTime(started);

    private TimeSpan AttemptLimit(long started)
    {
        var remaining = Remaining(started);
        var limit = remaining < _options.AttemptTimeout ? remaining : _options.AttemptTimeout;
        return limit > TimeSpan.Zero ? limit : TimeSpan.FromMilliseconds(1);
    }

    private static bool IsRetryable(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests
        || ((int)status >= 500 && status is not HttpStatusCode.NotImplemented and not HttpStatusCode.HttpVersionNotSupported);

    // "Equal jitter": half the exponential delay, plus a random part of the other half, so
    // concurrent clients spread out but none retries immediately.
    private TimeSpan Backoff(int attempt)
    {
        var exponential = _options.BaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1);
        var capped = Math.Min(exponential, _options.MaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds((capped / 2) + (Random.Shared.NextDouble() * capped / 2));
    }

    private TimeSpan? ReadRetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header is null)
        {
            return null;
        }

        if (header.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header.Date is { } date)
        {
            var wait = date - _time.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    private static string DescribeConnectionFailure(HttpRequestException ex) =>
        ex.InnerException is SocketException se
            ? $"connection failed ({se.SocketErrorCode})"
            : "connection failed (" + SecretRedactor.Redact(ex.Message) + ")";

    private static DeepSentinelException Exhausted(string target, int attempts, HttpStatusCode? status, Exception? failure, string reason)
    {
        var tries = string.Create(CultureInfo.InvariantCulture, $"after {attempts} attempt{(attempts == 1 ? string.Empty : "s")}");
        if (status == HttpStatusCode.TooManyRequests)
        {
            return new DeepSentinelException(
                ErrorIds.RateLimited,
                ErrorKind.ResourceUnavailable,
                $"The server at {target} kept answering HTTP 429 (Too Many Requests: its rate limit) {tries}; {reason}. Wait and rerun (a corpus resumes where it stopped), or lower -ThrottleLimit so fewer requests are in flight.",
                target);
        }

        if (status is { } s)
        {
            return new DeepSentinelException(
                ErrorIds.ServerUnavailable,
                ErrorKind.ResourceUnavailable,
                $"The server at {target} kept answering HTTP {(int)s} ({s}) {tries}; {reason}. It may be throttling or down: try again later, or with fewer parallel requests (-ThrottleLimit, where the command has one).",
                target);
        }

        if (failure is TimeoutException)
        {
            return new DeepSentinelException(
                ErrorIds.RequestTimedOut,
                ErrorKind.OperationTimeout,
                $"The server at {target} did not answer in time {tries}; {reason}. Check the URL and your network, or raise -TimeoutSec.",
                target,
                failure);
        }

        var detail = failure is HttpRequestException hre ? DescribeConnectionFailure(hre) : "connection failed";
        return new DeepSentinelException(
            ErrorIds.EndpointUnreachable,
            ErrorKind.ConnectionError,
            $"Could not reach {target} {tries} ({detail}); {reason}. Check the URL, DNS and proxy settings.",
            target);
    }
}
