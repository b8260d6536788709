namespace DeepSentinel.Core.Http;

/// <summary>
/// Bounds for the one retry loop every HTTP call in DeepSentinel goes through
/// (<see cref="ResilientHttpClient"/>). Retries happen on 408, 429, 5xx, per-attempt timeouts and
/// connection failures, with jittered exponential backoff that honours Retry-After.
/// </summary>
public sealed record HttpRetryOptions
{
    /// <summary>The defaults: 6 attempts, 0.5 s base delay, 30 s per attempt, 3 minutes in all.</summary>
    public static HttpRetryOptions Default { get; } = new();

    /// <summary>Total attempts per request, including the first (at least 1).</summary>
    public int MaxAttempts { get; init; } = 6;

    /// <summary>The backoff before the second attempt; it doubles per attempt, with jitter.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest computed backoff between attempts.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>The longest Retry-After the client waits; a longer one ends the retries.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long one attempt (request and response body) may take.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long all attempts of one request may take together, waits included.</summary>
    public TimeSpan TotalTimeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>Throws if a value is out of range.</summary>
    public void Validate()
    {
        if (MaxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "At least one attempt is needed.");
        }

        if (AttemptTimeout <= TimeSpan.Zero || TotalTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(AttemptTimeout), "Timeouts must be positive.");
        }

        if (BaseDelay < TimeSpan.Zero || MaxDelay < TimeSpan.Zero || MaxRetryAfter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(BaseDelay), "Delays must not be negative.");
        }
    }
}
