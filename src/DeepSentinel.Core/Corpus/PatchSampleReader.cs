using System.Runtime.CompilerServices;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;

namespace DeepSentinel.Core.Corpus;

/// <summary>Reads a corpus back as PatchSample objects: the engine of Get-PatchSample.</summary>
public sealed class PatchSampleReader
{
    /// <summary>Streams the corpus's samples (index order), optionally only some ids, at most <paramref name="first"/>.</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.CorpusNotFound"/>.</exception>
    public async IAsyncEnumerable<PatchSample> ReadAsync(string corpus, IReadOnlyCollection<string>? ids, int? first, IOperationReporter reporter, [EnumeratorCancellation] CancellationToken cancellationToken, Storage.StorageOptions? storage = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(corpus);
        reporter ??= NullReporter.Instance;
        if (first is < 1)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, $"First must be at least 1; it was {first}.", first);
        }

        var wanted = ids is { Count: > 0 } ? new HashSet<string>(ids, StringComparer.OrdinalIgnoreCase) : null;
        var count = 0;
        var opened = PatchCorpus.Open(corpus, storage, reporter: reporter);
        await foreach (var sample in opened.ReadIndexAsync(reporter.Error, cancellationToken).ConfigureAwait(false))
        {
            if (wanted is not null && !wanted.Remove(sample.Id))
            {
                continue;
            }

            // Labels are recorded in the sample's Item (written last by Add-CorineLabel and
            // Add-OsmLabel), not in the index, so labelling never rewrites a shard's index part.
            try
            {
                Labels.LabelRunner.AttachLabels(sample, await Labels.LabelRunner.ReadItemAsync(opened, sample, cancellationToken).ConfigureAwait(false));
            }
            catch (DeepSentinelException ex)
            {
                // A sample whose Item is gone or unreadable (a deleted or damaged sample folder)
                // is that sample's error, and is not passed on as if it were whole.
                reporter.Error(ex);
                continue;
            }

            yield return sample;
            if (++count == first || wanted is { Count: 0 })
            {
                yield break;
            }
        }

        foreach (var missing in wanted ?? [])
        {
            reporter.Error(new DeepSentinelException(ErrorIds.SampleNotFound, ErrorKind.ObjectNotFound, $"The corpus {corpus} has no sample '{missing}'.", missing));
        }
    }
}
