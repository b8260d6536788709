using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.FineTuning;

/// <summary>
/// The Sentinel-2 bands a classifier is trained on and the check that the input matches its card
/// (ModelBandMismatch): a classifier trained on RGB does not take 12 bands, nor the reverse, and a
/// pretrained encoder takes only bands its card lists.
/// </summary>
public static class ModelBands
{
    /// <summary>The S2 bands a provider measures (an EuroSAT-style image's own; a corpus sample's 12), or null when unknown before reading.</summary>
    public static IReadOnlyList<string> Of(ITrainingPatchProvider patch) => patch switch
    {
        IBandDescribedPatch described => described.InputBands,
        TrainingPatch { InputBands: { } bands } => bands,
        _ => TrainingPatch.S2BandNames,
    };

    /// <summary>The processing level of a provider's values ("L2A" for corpus samples).</summary>
    public static string LevelOf(ITrainingPatchProvider patch) => patch is IBandDescribedPatch described ? described.InputLevel : "L2A";

    /// <summary>
    /// The bands and level every sample of the split measures (S2 input only; null bands for an S1
    /// classifier). Samples that disagree, or bands a pretrained encoder's card lacks, are
    /// ModelBandMismatch, raised before anything is written.
    /// </summary>
    public static (IReadOnlyList<string>? Bands, string? Level) ResolveForTraining(CorpusSplit split, SensorInput sensors, EmbeddingModel? pretrained)
    {
        ArgumentNullException.ThrowIfNull(split);
        if (sensors == SensorInput.S1)
        {
            return (null, null);
        }

        var all = split.Train.Concat(split.Test).ToList();
        var first = all[0];
        var bands = Of(first.Patch);
        var level = LevelOf(first.Patch);
        foreach (var sample in all)
        {
            var other = Of(sample.Patch);
            if (!other.SequenceEqual(bands, StringComparer.Ordinal))
            {
                throw new DeepSentinelException(ErrorIds.ModelBandMismatch, ErrorKind.InvalidArgument,
                    $"Sample {sample.Id} has Sentinel-2 bands {string.Join(",", other)}; sample {first.Id} has {string.Join(",", bands)}. A classifier is trained on one set of bands: read the dataset with one -Band list (Get-LabelledImage).", sample.Id);
            }
        }

        if (pretrained is not null)
        {
            var known = pretrained.Bands.ToHashSet(StringComparer.Ordinal);
            var missing = bands.Where(b => !known.Contains(b)).ToList();
            if (missing.Count > 0)
            {
                throw new DeepSentinelException(ErrorIds.ModelBandMismatch, ErrorKind.InvalidArgument,
                    $"The input's bands {string.Join(",", missing)} are not among the bands of the pretrained encoder {pretrained.Path} ({string.Join(",", pretrained.Bands)}), as its model card lists them.", pretrained.Path);
            }
        }

        return (bands, level);
    }

    /// <summary>Refuses a patch whose S2 bands differ from those on the classifier's card (cards without InputBands are not checked).</summary>
    public static void Check(ClassificationModel model, TrainingPatch patch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(patch);
        if (model.Card.InputBands is not { } expected || patch.S2 is null || model.Sensors == SensorInput.S1)
        {
            return;
        }

        var actual = patch.InputBands ?? TrainingPatch.S2BandNames;
        if (!actual.SequenceEqual(expected, StringComparer.Ordinal))
        {
            throw new DeepSentinelException(ErrorIds.ModelBandMismatch, ErrorKind.InvalidArgument,
                $"Patch '{patch.SampleId}' has Sentinel-2 bands {string.Join(",", actual)}; the classifier {model.Name} was trained on {string.Join(",", expected)} ({model.Card.InputLevel ?? "L2A"}), as its {ClassifierCard.FileName} says. Give it input with those bands (Get-LabelledImage -Band {string.Join(",", expected)}), or fine-tune a classifier on these.", patch.SampleId);
        }
    }
}
