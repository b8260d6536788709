using System.Globalization;

namespace DeepSentinel.Core.Sampling;

/// <summary>
/// What one New-PatchSample run did: points, samples, and the HTTP requests GDAL sent for COG
/// reads (GET and HEAD through /vsicurl/ and the cloud file systems; STAC searches and corpus
/// writes are not in them) with the bytes it downloaded. The request counts are GDAL's own,
/// process-wide (<see cref="Interop.Gdal.GdalNetworkStatistics"/>).
/// </summary>
/// <param name="Accepted">Samples written in this run (parallel workers may write one or two past the corpus's end, which the run removes; their reads are in the counts).</param>
/// <param name="PointsTried">Points tried in this run.</param>
/// <param name="Rejected">Points rejected for reasons of the data.</param>
/// <param name="Failed">Points that failed (left for a rerun).</param>
/// <param name="Deferred">Points deferred because a scene failed earlier.</param>
/// <param name="CogGets">GET requests.</param>
/// <param name="CogHeads">HEAD requests.</param>
/// <param name="CogBytes">Bytes downloaded.</param>
/// <param name="Elapsed">Wall time of the run.</param>
/// <param name="ThrottleLimit">Workers.</param>
/// <param name="IoConcurrency">Reads in flight per worker.</param>
public sealed record PatchSampleRunSummary(
    int Accepted,
    long PointsTried,
    int Rejected,
    int Failed,
    int Deferred,
    long CogGets,
    long CogHeads,
    long CogBytes,
    TimeSpan Elapsed,
    int ThrottleLimit,
    int IoConcurrency)
{
    /// <summary>All COG requests.</summary>
    public long CogRequests => CogGets + CogHeads;

    /// <summary>COG requests per accepted sample (rejected points' reads included), or NaN without samples.</summary>
    public double RequestsPerSample => Accepted > 0 ? (double)CogRequests / Accepted : double.NaN;

    /// <summary>Bytes downloaded per accepted sample, or NaN.</summary>
    public double BytesPerSample => Accepted > 0 ? (double)CogBytes / Accepted : double.NaN;

    /// <summary>Accepted samples per second of wall time.</summary>
    public double SamplesPerSecond => Elapsed.TotalSeconds > 0 ? Accepted / Elapsed.TotalSeconds : 0;

    /// <summary>The rates, for the progress bar.</summary>
    public string Rates() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Accepted} samples in {Elapsed.TotalSeconds:0.0} s ({SamplesPerSecond:0.00} samples/s), {CogRequests} COG requests ({RequestsPerSample:0.0} a sample), {CogBytes / 1048576.0:0.0} MiB ({BytesPerSample / 1048576.0:0.00} MiB a sample)");

    /// <inheritdoc />
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"Run summary: {Rates()}; {PointsTried} points tried, {Rejected} rejected, {Failed} failed, {Deferred} deferred; {CogGets} GET and {CogHeads} HEAD requests; {ThrottleLimit} workers x {IoConcurrency} reads in flight.");
}
