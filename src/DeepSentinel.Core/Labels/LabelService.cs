using System.Runtime.CompilerServices;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Interop.Gdal;

namespace DeepSentinel.Core.Labels;

/// <summary>The engine of Add-CorineLabel and Add-OsmLabel.</summary>
public sealed class LabelService
{
    /// <summary>
    /// Adds CLC labels to samples and streams the labelled ones (newly or already labelled).
    /// A bad source is one terminating error; a failing sample is reported and skipped.
    /// </summary>
    public IAsyncEnumerable<PatchSample> AddCorineAsync(IAsyncEnumerable<PatchSample> samples, CorineLabelRequest request, LabelRunOptions options, IOperationReporter reporter, Func<string, string, Task<bool>>? shouldProcess, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return LabelRunner.RunAsync(samples, () => new CorineLabeler(request), options, "Adding CORINE Land Cover labels", reporter, shouldProcess, cancellationToken);
    }

    /// <summary>Adds OSM class masks to samples and streams the labelled ones (newly or already labelled).</summary>
    public async IAsyncEnumerable<PatchSample> AddOsmAsync(IAsyncEnumerable<PatchSample> samples, OsmLabelRequest request, LabelRunOptions options, IOperationReporter reporter, Func<string, string, Task<bool>>? shouldProcess, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        reporter ??= NullReporter.Instance;
        string? copy = null;
        OsmLabelRequest? prepared = null;
        // A missing source is a terminating error at once; the extract itself is read when the
        // first sample needs a label (not for -WhatIf or a rerun that skips every sample).
        OsmLabeler.EnsureExists(request.Source);
        // Opening reads the file's header only (not the extract): a file that is no vector source
        // at all is still one terminating error at once.
        VectorSource.Open(request.Source).Dispose();
        OsmLabeler NewLabeler()
        {
            if (prepared is null)
            {
                // An OSM extract is read once into a GeoPackage with spatial indexes that every
                // worker queries (see VectorSource.CopyToGeoPackage for why).
                copy = OsmLabeler.PrepareSource(request.Source, reporter);
                prepared = copy is null ? request : request with { Source = copy, DisplayName = Path.GetFileName(request.Source) };
            }

            return new OsmLabeler(prepared);
        }

        try
        {
            await foreach (var sample in LabelRunner.RunAsync(samples, NewLabeler, options, "Adding OpenStreetMap labels", reporter, shouldProcess, cancellationToken, (OsmLabeler.Asset, OsmLabeler.ActionText)).ConfigureAwait(false))
            {
                yield return sample;
            }
        }
        finally
        {
            if (copy is not null)
            {
                File.Delete(copy);
            }
        }
    }

    /// <summary>Every sample of a corpus (its index), for -Corpus.</summary>
    public static IAsyncEnumerable<PatchSample> ReadCorpus(string corpus, IOperationReporter reporter, CancellationToken cancellationToken, Storage.StorageOptions? storage = null) =>
        new PatchSampleReader().ReadAsync(corpus, null, null, reporter, cancellationToken, storage);

    /// <summary>Wraps samples from the pipeline.</summary>
    public static async IAsyncEnumerable<PatchSample> FromList(IReadOnlyList<PatchSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        foreach (var sample in samples)
        {
            yield return sample;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }
}
