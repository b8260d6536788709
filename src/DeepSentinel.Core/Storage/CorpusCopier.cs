using System.Diagnostics;
using System.Globalization;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;

namespace DeepSentinel.Core.Storage;

/// <summary>What to copy and how.</summary>
public sealed record CorpusCopyRequest
{
    /// <summary>The store to read.</summary>
    public required IObjectStore Source { get; init; }

    /// <summary>The store to write.</summary>
    public required IObjectStore Destination { get; init; }

    /// <summary>Only keys starting with this (relative to the source's root); empty for all.</summary>
    public string Prefix { get; init; } = string.Empty;

    /// <summary>Objects copied at once (1 = sequential).</summary>
    public int Parallelism { get; init; } = 8;

    /// <summary>Replace destination objects that differ from the source; without it they are reported as failures.</summary>
    public bool Overwrite { get; init; }

    /// <summary>
    /// Asked before each object is written (the cmdlet's ShouldProcess: -WhatIf, -Confirm); null copies all.
    /// Objects it declines are counted in <see cref="CorpusCopyResult.Declined"/>.
    /// </summary>
    public Func<ObjectInfo, Task<bool>>? Confirm { get; init; }
}

/// <summary>The outcome of a corpus copy.</summary>
/// <param name="Source">The source, for display.</param>
/// <param name="Destination">The destination, for display.</param>
/// <param name="Copied">Objects written.</param>
/// <param name="Skipped">Objects already at the destination with the same size (and MD5 where both stores record it): not sent again.</param>
/// <param name="Declined">Objects not copied because -WhatIf or -Confirm said no.</param>
/// <param name="Failed">Objects that could not be copied (each reported as an error).</param>
/// <param name="BytesCopied">Bytes written.</param>
/// <param name="Elapsed">Wall-clock time.</param>
public sealed record CorpusCopyResult(string Source, string Destination, int Copied, int Skipped, int Declined, int Failed, long BytesCopied, TimeSpan Elapsed)
{
    /// <summary>Throughput of the bytes written, in MB/s.</summary>
    public double MegabytesPerSecond => Elapsed.TotalSeconds > 0 ? BytesCopied / 1e6 / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Copies a corpus between any two stores, resumably: it lists both sides first and sends only
/// objects the destination lacks, so a rerun after an interruption (Ctrl+C, a lost connection,
/// a killed runbook) sends only what is missing. Every write is atomic in every store, so an
/// interrupted copy never leaves a partial object that a rerun would mistake for a finished one.
/// </summary>
public sealed class CorpusCopier
{
    private const int ProgressActivity = 50;

    /// <summary>Runs the copy. Per-object failures go to <paramref name="reporter"/> and the copy goes on.</summary>
    public async Task<CorpusCopyResult> CopyAsync(CorpusCopyRequest request, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(reporter);
        var clock = Stopwatch.StartNew();
        var activity = $"Copying corpus {request.Source.DisplayName} -> {request.Destination.DisplayName}";
        reporter.Progress(new ProgressUpdate(ProgressActivity, activity, "listing both stores"));

        var sourceList = ToListAsync(request.Source, request.Prefix, cancellationToken);
        var destinationList = ToListAsync(request.Destination, request.Prefix, cancellationToken);
        var source = await sourceList.ConfigureAwait(false);
        var existing = (await destinationList.ConfigureAwait(false)).ToDictionary(i => i.Key, StringComparer.Ordinal);
        if (source.Count == 0)
        {
            // A mistyped source (or container) is an error, not an empty copy; nothing is written.
            throw new DeepSentinelException(ErrorIds.CorpusNotFound, ErrorKind.ObjectNotFound,
                $"{request.Source.DisplayName} is empty or does not exist: nothing was copied. Check the source location.", request.Source.DisplayName);
        }

        var toCopy = new List<ObjectInfo>();
        int skipped = 0, failed = 0, declined = 0, copied = 0;
        foreach (var item in source)
        {
            if (!existing.TryGetValue(item.Key, out var there))
            {
                toCopy.Add(item);
            }
            else if (Same(item, there))
            {
                skipped++;
            }
            else if (request.Overwrite)
            {
                toCopy.Add(item);
            }
            else
            {
                failed++;
                reporter.Error(Differs(request, item, there));
            }
        }

        reporter.Verbose($"{activity}: {source.Count} objects in the source, {skipped} already copied, {toCopy.Count} to copy.");
        var totalBytes = toCopy.Sum(i => i.Length);
        long bytes = 0;
        var lastReport = Stopwatch.StartNew();
        var reportLock = new object();

        await Parallel.ForEachAsync(
            toCopy,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, request.Parallelism), CancellationToken = cancellationToken },
            async (item, token) =>
            {
                if (request.Confirm is not null && !await request.Confirm(item).ConfigureAwait(false))
                {
                    Interlocked.Increment(ref declined);
                    return;
                }

                try
                {
                    await CopyOneAsync(request, item, existing.ContainsKey(item.Key), token).ConfigureAwait(false);
                    Interlocked.Increment(ref copied);
                    var done = Interlocked.Add(ref bytes, item.Length);
                    lock (reportLock)
                    {
                        if (lastReport.ElapsedMilliseconds >= 250)
                        {
                            lastReport.Restart();
                            reporter.Progress(Progress(activity, copied, toCopy.Count, done, totalBytes, clock.Elapsed));
                        }
                    }
                }
                catch (ObjectExistsException)
                {
                    // Another writer finished it between our listing and our write.
                    Interlocked.Increment(ref skipped);
                }
                catch (DeepSentinelException ex)
                {
                    Interlocked.Increment(ref failed);
                    reporter.Error(new DeepSentinelException(ErrorIds.CorpusCopyFailed, ex.Kind, $"Could not copy '{item.Key}' to {request.Destination.DisplayName}: {ex.Message}", item.Key, ex));
                }
            }).ConfigureAwait(false);

        reporter.Progress(new ProgressUpdate(ProgressActivity, activity, "done", 100, 0, Completed: true));
        return new CorpusCopyResult(request.Source.DisplayName, request.Destination.DisplayName, copied, skipped, declined, failed, bytes, clock.Elapsed);
    }

    private static async Task CopyOneAsync(CorpusCopyRequest request, ObjectInfo item, bool replace, CancellationToken cancellationToken)
    {
        await using var content = await request.Source.OpenReadAsync(item.Key, cancellationToken).ConfigureAwait(false);
        await request.Destination.PutAsync(item.Key, content, replace ? PutOptions.Overwrite : PutOptions.CreateOnly, cancellationToken).ConfigureAwait(false);
    }

    private static bool Same(ObjectInfo source, ObjectInfo destination) =>
        source.Length == destination.Length && (source.ContentMd5 is null || destination.ContentMd5 is null || source.ContentMd5 == destination.ContentMd5);

    private static DeepSentinelException Differs(CorpusCopyRequest request, ObjectInfo source, ObjectInfo there) =>
        new(ErrorIds.CorpusCopyFailed, ErrorKind.WriteError, string.Create(CultureInfo.InvariantCulture, $"'{source.Key}' already exists in {request.Destination.DisplayName} with other content ({there.Length} bytes there, {source.Length} in the source); it was left alone. Use -Force to replace it."), source.Key);

    private static ProgressUpdate Progress(string activity, int copied, int total, long bytes, long totalBytes, TimeSpan elapsed)
    {
        var percent = totalBytes > 0 ? (int)(bytes * 100 / totalBytes) : copied * 100 / Math.Max(1, total);
        var rate = bytes / Math.Max(0.001, elapsed.TotalSeconds);
        var remaining = rate > 0 ? (int)((totalBytes - bytes) / rate) : -1;
        return new ProgressUpdate(ProgressActivity, activity, string.Create(CultureInfo.InvariantCulture, $"{copied} of {total} objects, {bytes / 1e6:0.0} of {totalBytes / 1e6:0.0} MB, {rate / 1e6:0.0} MB/s"), percent, remaining);
    }

    private static async Task<List<ObjectInfo>> ToListAsync(IObjectStore store, string prefix, CancellationToken cancellationToken)
    {
        var list = new List<ObjectInfo>();
        await foreach (var item in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            list.Add(item);
        }

        return list;
    }
}
