using System.Globalization;
using DeepSentinel.Core.Interop.Gdal;
using DeepSentinel.Core.Storage;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Corpus;

/// <summary>
/// Reads a sample's pixels for training and embedding: s2.tif (12 bands) and s1.tif (VV, VH)
/// as band-major float32 with NaN for nodata. Local corpora are opened in place; cloud corpora
/// are fetched whole in one GET per file and decoded from memory, which the storage benchmark
/// found faster than GDAL's own /vsiaz/ and /vsigs/ range reads for patch-sized files.
/// </summary>
internal static class PatchPixels
{
    // Samples that lost their store on the way (serialised into a thread job, say) share one
    // per corpus instead of opening a store, and its HTTP pipeline, for every sample.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, IObjectStore> Stores = new(StringComparer.Ordinal);

    public static async ValueTask<TrainingPatch> LoadAsync(PatchSample sample, CancellationToken cancellationToken)
    {
        var store = sample.Store ?? Stores.GetOrAdd(sample.Corpus, corpus => PatchCorpus.Open(corpus).Store);
        var s2 = await ReadAsync(store, sample, PatchSample.AssetKeys.S2, 12, zeroIsNoData: true, cancellationToken).ConfigureAwait(false);
        var s1 = await ReadAsync(store, sample, PatchSample.AssetKeys.S1, 2, zeroIsNoData: false, cancellationToken).ConfigureAwait(false);
        var gt = sample.GeoTransform;
        var location = gt.Length == 6
            ? new PatchLocation(gt[0] + (sample.Width * gt[1] / 2), gt[3] + (sample.Height * gt[5] / 2), string.Create(CultureInfo.InvariantCulture, $"EPSG:{sample.Epsg}"))
            : null;
        return new TrainingPatch(sample.Id, sample.Height, sample.Width, s2, s1, location)
        {
            Georeference = gt.Length == 6 ? new PatchGeoreference(sample.Epsg, gt) : null,
        };
    }

    private static async Task<float[]> ReadAsync(IObjectStore store, PatchSample sample, string asset, int bands, bool zeroIsNoData, CancellationToken cancellationToken)
    {
        var key = sample.Assets[asset];
        using var dataset = store is LocalObjectStore local
            ? GdalDataset.Open(local.PathOf(key))
            : GdalDataset.OpenBytes(await store.ReadAllBytesAsync(key, cancellationToken).ConfigureAwait(false), key);
        if (dataset.BandCount != bands || dataset.Width != sample.Width || dataset.Height != sample.Height)
        {
            throw new Errors.DeepSentinelException(Errors.ErrorIds.TrainingInputInvalid, Errors.ErrorKind.InvalidData, $"Sample {sample.Id}: {key} has {dataset.BandCount} band(s) of {dataset.Width} x {dataset.Height}; {bands} of {sample.Width} x {sample.Height} were expected.", sample.Id);
        }

        var plane = sample.Width * sample.Height;
        var values = new float[bands * plane];
        for (var b = 0; b < bands; b++)
        {
            var span = values.AsSpan(b * plane, plane);
            dataset.Read<float>(b + 1, 0, 0, sample.Width, sample.Height, span, sample.Width, sample.Height);
            if (zeroIsNoData)
            {
                for (var i = 0; i < span.Length; i++)
                {
                    if (span[i] == 0)
                    {
                        span[i] = float.NaN;
                    }
                }
            }
        }

        return values;
    }
}
