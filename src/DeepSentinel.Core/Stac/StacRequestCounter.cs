using System.Globalization;

namespace DeepSentinel.Core.Stac;

/// <summary>
/// Counts what a run asked of STAC APIs: scene searches, HTTP requests (landing page,
/// conformance, collection checks, search pages) and the attempts sent for them (retries of
/// 429, 5xx, timeouts included), and how the scene cache answered. Thread-safe; one instance per
/// run (New-PatchSample's <c>PatchSampleRequest.StacRequests</c>), read at any time.
/// </summary>
public sealed class StacRequestCounter
{
    private long _searches;
    private long _requests;
    private long _attempts;
    private long _pages;
    private long _cacheHits;
    private long _corpusCacheHits;
    private long _cacheMisses;

    /// <summary>Scene searches started against a STAC API (one per query, however many pages).</summary>
    public long Searches => Interlocked.Read(ref _searches);

    /// <summary>HTTP requests sent to STAC APIs, each counted once however often it was retried.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>HTTP attempts sent to STAC APIs: <see cref="Requests"/> plus every retry.</summary>
    public long Attempts => Interlocked.Read(ref _attempts);

    /// <summary>Attempts that were retries (after 408, 429, 5xx, a timeout or a dropped connection).</summary>
    public long Retries => Attempts - Requests;

    /// <summary>Search result pages received.</summary>
    public long Pages => Interlocked.Read(ref _pages);

    /// <summary>Scene lookups answered from the run's memory (no request).</summary>
    public long CacheHits => Interlocked.Read(ref _cacheHits);

    /// <summary>Scene lookups answered from the corpus's scene cache written by an earlier run (no request).</summary>
    public long CorpusCacheHits => Interlocked.Read(ref _corpusCacheHits);

    /// <summary>Scene lookups that had to search.</summary>
    public long CacheMisses => Interlocked.Read(ref _cacheMisses);

    internal void CountSearch() => Interlocked.Increment(ref _searches);

    internal void CountRequest() => Interlocked.Increment(ref _requests);

    internal void CountAttempt() => Interlocked.Increment(ref _attempts);

    internal void CountPage() => Interlocked.Increment(ref _pages);

    internal void CountCacheHit(bool fromCorpus)
    {
        if (fromCorpus)
        {
            Interlocked.Increment(ref _corpusCacheHits);
        }
        else
        {
            Interlocked.Increment(ref _cacheHits);
        }
    }

    internal void CountCacheMiss() => Interlocked.Increment(ref _cacheMisses);

    /// <summary>Wraps a request factory (called once per attempt by ResilientHttpClient) so that attempts are counted.</summary>
    internal Func<HttpRequestMessage> Counting(Func<HttpRequestMessage> factory)
    {
        CountRequest();
        return () =>
        {
            CountAttempt();
            return factory();
        };
    }

    /// <summary>A one-line summary, e.g. for a run's verbose output.</summary>
    public string Describe(long acceptedSamples)
    {
        var perSample = acceptedSamples > 0 ? ((double)Requests / acceptedSamples).ToString("0.00", CultureInfo.InvariantCulture) : "n/a";
        var searchesPerSample = acceptedSamples > 0 ? ((double)Searches / acceptedSamples).ToString("0.00", CultureInfo.InvariantCulture) : "n/a";
        return string.Create(CultureInfo.InvariantCulture, $"STAC: {Searches} searches ({searchesPerSample} per accepted sample), {Requests} requests ({perSample} per accepted sample), {Retries} retries, {Pages} pages; scene cache {CacheHits} hits, {CorpusCacheHits} from the corpus, {CacheMisses} misses");
    }

    /// <inheritdoc />
    public override string ToString() => Describe(0);
}
