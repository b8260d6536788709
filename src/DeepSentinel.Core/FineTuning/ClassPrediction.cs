using System.Globalization;

namespace DeepSentinel.Core.FineTuning;

/// <summary>
/// A classifier's prediction for one patch (Invoke-ClassPrediction). Single-label: Predicted and
/// its Confidence; multi-label: PredictedLabel (the classes at or above the threshold). Probability
/// holds every class's probability. Actual / ActualLabel are the patch's own label when it has one,
/// so predictions pipe straight into Measure-Classification.
/// </summary>
public sealed class ClassPrediction
{
    /// <summary>The patch's sample id.</summary>
    public required string SampleId { get; init; }

    /// <summary>The classifier's folder name.</summary>
    public required string Model { get; init; }

    /// <summary>Single-label: the most probable class (null for multi-label).</summary>
    public string? Predicted { get; init; }

    /// <summary>The predicted class's name.</summary>
    public string? PredictedName => Predicted is null ? null : LabelledSample.ClassName(Predicted);

    /// <summary>Single-label: the probability of <see cref="Predicted"/>.</summary>
    public double Confidence { get; init; }

    /// <summary>Single-label: the patch's true class, when it is labelled (null otherwise, and for multi-label).</summary>
    public string? Actual { get; init; }

    /// <summary>Multi-label: the classes predicted present (null for single-label).</summary>
    public string[]? PredictedLabel { get; init; }

    /// <summary>Multi-label: the classes truly present, when the patch is labelled.</summary>
    public string[]? ActualLabel { get; init; }

    /// <summary>Every class's probability, by class key.</summary>
    public required Dictionary<string, double> Probability { get; init; }

    /// <summary>What the model saw: "S2+S1", "S2" or "S1".</summary>
    public string Modalities { get; init; } = string.Empty;

    /// <inheritdoc />
    public override string ToString() => Predicted is not null
        ? string.Create(CultureInfo.InvariantCulture, $"{SampleId}: {Predicted} ({Confidence:0.00})")
        : $"{SampleId}: {string.Join(", ", PredictedLabel ?? [])}";
}
