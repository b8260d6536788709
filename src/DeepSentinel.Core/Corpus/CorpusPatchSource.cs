using System.Runtime.CompilerServices;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Storage;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Corpus;

/// <summary>
/// A corpus as training input (Start-Pretraining -Corpus): each pass streams the corpus index and
/// reads every sample's pixels from its store, so a corpus of any size trains without being held
/// in memory or copied. A sample whose files cannot be read is reported and skipped.
/// </summary>
public sealed class CorpusPatchSource : IPatchSource
{
    private readonly string _corpus;
    private readonly StorageOptions? _storage;
    private readonly IOperationReporter _reporter;

    /// <summary>Creates the source over a corpus location (a folder, az://, https://...blob..., gs://).</summary>
    public CorpusPatchSource(string corpus, StorageOptions? storage, IOperationReporter reporter)
    {
        ArgumentException.ThrowIfNullOrEmpty(corpus);
        _corpus = corpus;
        _storage = storage;
        _reporter = reporter ?? NullReporter.Instance;
    }

    /// <inheritdoc />
    public string Description => "corpus " + SecretRedactor.Redact(_corpus);

    /// <inheritdoc />
    public async IAsyncEnumerable<TrainingPatch> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var sample in new PatchSampleReader().ReadAsync(_corpus, null, null, _reporter, cancellationToken, _storage).ConfigureAwait(false))
        {
            TrainingPatch? patch = null;
            try
            {
                patch = await sample.LoadTrainingPatchAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (DeepSentinelException ex)
            {
                _reporter.Error(new DeepSentinelException(ex.ErrorId, ex.Kind, $"Sample {sample.Id} skipped: {ex.Message}", sample.Id, ex));
            }

            if (patch is not null)
            {
                yield return patch;
            }
        }
    }
}
