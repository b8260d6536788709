using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Torch;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.FineTuning;

/// <summary>
/// Applies a fine-tuned classifier to patches, a batch at a time: Invoke-ClassPrediction and the
/// evaluation at the end of Start-FineTuning both use it. Patches go in with <see cref="Add"/>;
/// each full batch comes back as predictions, and <see cref="Complete"/> returns the rest.
/// </summary>
public sealed class ClassPredictor : IDisposable
{
    private readonly ClassificationModel _model;
    private readonly TorchModel _encoder;
    private readonly TorchClassifier _classifier;
    private readonly PatchBatch _batch;
    private readonly LabelledSample?[] _labels;
    private readonly float[] _probabilities;

    private ClassPredictor(ClassificationModel model, TorchModel encoder, TorchClassifier classifier, int batchSize)
    {
        _model = model;
        _encoder = encoder;
        _classifier = classifier;
        _batch = new PatchBatch(batchSize, encoder.Config.S2Channels, encoder.Config.S1Channels, model.Card.PatchSize, model.Card.PatchSize);
        _labels = new LabelledSample?[batchSize];
        _probabilities = new float[batchSize * model.Card.Classes.Count];
    }

    /// <summary>Loads the classifier's encoder and head into the engine.</summary>
    public static ClassPredictor Open(ClassificationModel model, TrainingDevice device, int batchSize = 16, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        TorchNative.EnsureLoaded();
        if (threads is { } t)
        {
            TorchNative.SetThreads(t);
        }

        var encoder = TorchModel.Load(model.EncoderCheckpointPath, null, device);
        try
        {
            if (encoder.Channels != model.Card.Bands.Count)
            {
                throw new DeepSentinelException(ErrorIds.ModelFileCorrupt, ErrorKind.InvalidData,
                    $"The encoder checkpoint {model.EncoderCheckpointPath} takes {encoder.Channels} bands; {ClassifierCard.FileName} lists {model.Card.Bands.Count}.", model.EncoderCheckpointPath);
            }

            var config = NativeClassifierConfig.Create();
            config.Classes = model.Card.Classes.Count;
            config.MultiLabel = model.Task == ClassificationTask.MultiLabel ? 1 : 0;
            config.FreezeEncoder = 1;
            config.HeadLearningRate = 1e-3;
            config.EncoderLearningRate = 1e-3;
            var classifier = TorchClassifier.Create(encoder, config);
            try
            {
                classifier.LoadHead(model.HeadCheckpointPath);
                return new ClassPredictor(model, encoder, classifier, batchSize);
            }
            catch
            {
                classifier.Dispose();
                throw;
            }
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    /// <summary>Queues a patch (its label, if known, is carried into the prediction); returns the predictions of a batch once it is full.</summary>
    public IReadOnlyList<ClassPrediction> Add(TrainingPatch patch, LabelledSample? label)
    {
        ArgumentNullException.ThrowIfNull(patch);
        var selected = FineTuningService.SelectSensors(patch, _model.Sensors);
        if (selected is null || !_batch.CanUse(selected))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.TrainingInputInvalid,
                $"Patch '{patch.SampleId}' has {patch.Modalities} data only; the classifier {_model.Name} is fed {_model.Sensors}.", patch.SampleId);
        }

        ModelBands.Check(_model, selected);
        if (selected.Height != _model.Card.PatchSize || selected.Width != _model.Card.PatchSize)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.TrainingInputInvalid,
                $"Patch '{patch.SampleId}' is {selected.Height} x {selected.Width} px; the classifier {_model.Name} was trained on {_model.Card.PatchSize} x {_model.Card.PatchSize} px patches.", patch.SampleId);
        }

        _labels[_batch.Count] = label;
        _batch.Add(selected);
        return _batch.IsFull ? Flush() : [];
    }

    /// <summary>The predictions of the patches still queued.</summary>
    public IReadOnlyList<ClassPrediction> Complete() => _batch.Count == 0 ? [] : Flush();

    /// <inheritdoc />
    public void Dispose()
    {
        _classifier.Dispose();
        _encoder.Dispose();
    }

    private List<ClassPrediction> Flush()
    {
        _classifier.Predict(_batch, _probabilities);
        var classes = _model.Classes;
        var n = classes.Count;
        var multi = _model.Task == ClassificationTask.MultiLabel;
        var results = new List<ClassPrediction>(_batch.Count);
        for (var i = 0; i < _batch.Count; i++)
        {
            var row = _probabilities.AsSpan(i * n, n);
            var probability = new Dictionary<string, double>(StringComparer.Ordinal);
            var best = 0;
            for (var c = 0; c < n; c++)
            {
                probability[classes[c]] = row[c];
                if (row[c] > row[best])
                {
                    best = c;
                }
            }

            var label = _labels[i];
            results.Add(multi
                ? new ClassPrediction
                {
                    SampleId = _batch.Ids[i],
                    Model = _model.Name,
                    Probability = probability,
                    PredictedLabel = classes.Where(c => probability[c] >= 0.5).ToArray(),
                    ActualLabel = label is null ? null : label.ClassShares.Where(kv => kv.Value >= _model.Card.ShareThreshold).Select(kv => kv.Key).Where(classes.Contains).ToArray(),
                    Modalities = _batch.ModalitiesAt(i),
                }
                : new ClassPrediction
                {
                    SampleId = _batch.Ids[i],
                    Model = _model.Name,
                    Probability = probability,
                    Predicted = classes[best],
                    Confidence = row[best],
                    Actual = label?.DominantClass,
                    Modalities = _batch.ModalitiesAt(i),
                });
            _labels[i] = null;
        }

        _batch.Clear();
        return results;
    }
}
