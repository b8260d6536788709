using System.Collections;
using System.Globalization;
using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Evaluation;
using DeepSentinel.Core.FineTuning;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Measures a classifier: overall and balanced accuracy, macro-F1, per-class precision, recall and F1, the confusion matrix; micro-F1 and mAP for multi-label predictions.</para>
/// <para type="description">Takes one object per sample with its true and predicted class (by property name: Actual and Predicted, as Import-Csv gives them), or, with -ActualLabel and -Probability, its true classes and a probability per class (multi-label). Writes one ClassificationEvaluation; Export-ClassificationEvaluation saves it as JSON, CSV and a confusion-matrix picture.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "Classification", DefaultParameterSetName = SingleLabelSet)]
[OutputType(typeof(ClassificationEvaluation))]
public sealed class MeasureClassificationCommand : AsyncPSCmdlet
{
    /// <summary>One class per sample.</summary>
    public const string SingleLabelSet = "SingleLabel";

    /// <summary>Classes above a threshold per sample.</summary>
    public const string MultiLabelSet = "MultiLabel";

    /// <summary>True class.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = SingleLabelSet, HelpMessage = "The sample's true class (a CLC code such as 211, or a dataset class name); by property name from the pipeline.")]
    [AllowEmptyString]
    public string Actual { get; set; } = string.Empty;

    /// <summary>Predicted class.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = SingleLabelSet, HelpMessage = "The class the model predicted for the sample; by property name from the pipeline.")]
    [AllowEmptyString]
    public string Predicted { get; set; } = string.Empty;

    /// <summary>True classes (multi-label).</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = MultiLabelSet, HelpMessage = "Multi-label: the classes present in the sample (for example the CLC classes above a share threshold); by property name.")]
    [AllowEmptyCollection]
    public string[] ActualLabel { get; set; } = [];

    /// <summary>Scores (multi-label).</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = MultiLabelSet, HelpMessage = "Multi-label: the model's probability for each class, a hashtable of class to probability (0-1); a class it lacks scores 0. By property name (also as Probabilities).")]
    [Alias("Probabilities")]
    public IDictionary? Probability { get; set; }

    /// <summary>Threshold (multi-label).</summary>
    [Parameter(ParameterSetName = MultiLabelSet, HelpMessage = "Multi-label: a class is predicted when its probability is at least this (default 0.5).")]
    [ValidateRange(0.0, 1.0)]
    public double Threshold { get; set; } = 0.5;

    /// <summary>Class order.</summary>
    [Parameter(HelpMessage = "The classes in the order of the confusion matrix (default: every class seen, sorted). Classes no sample has still get a row; a sample of a class not listed is an EvaluationInputInvalid error.")]
    [ValidateNotNullOrEmpty]
    public string[]? Class { get; set; }

    private readonly List<(string Actual, string Predicted)> _single = [];
    private readonly List<(string[] Actual, Dictionary<string, double> Scores)> _multi = [];

    /// <inheritdoc />
    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (ParameterSetName == SingleLabelSet)
        {
            if (string.IsNullOrWhiteSpace(Actual) || string.IsNullOrWhiteSpace(Predicted))
            {
                EmitError(new DeepSentinelException(ErrorIds.EvaluationInputInvalid, ErrorKind.InvalidArgument,
                    string.Create(CultureInfo.InvariantCulture, $"Sample {_single.Count + 1} has no {(string.IsNullOrWhiteSpace(Actual) ? "true" : "predicted")} class: it is left out of the evaluation."), _single.Count + 1));
                return Task.CompletedTask;
            }

            _single.Add((Actual.Trim(), Predicted.Trim()));
        }
        else
        {
            var scores = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (DictionaryEntry entry in Probability!)
            {
                var value = LanguagePrimitives.ConvertTo<double>(entry.Value);
                if (double.IsNaN(value) || value < 0 || value > 1)
                {
                    throw new DeepSentinelException(ErrorIds.EvaluationInputInvalid, ErrorKind.InvalidArgument, $"The probability of class '{entry.Key}' is {value}; probabilities are 0-1.", entry.Key);
                }

                scores[Convert.ToString(entry.Key, CultureInfo.InvariantCulture)!] = value;
            }

            _multi.Add((ActualLabel.Select(a => a.Trim()).ToArray(), scores));
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected override Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        if (_single.Count == 0 && _multi.Count == 0)
        {
            throw new DeepSentinelException(ErrorIds.EvaluationInputInvalid, ErrorKind.InvalidArgument, "No predictions came in: nothing to measure.");
        }

        var seen = _single.SelectMany(p => new[] { p.Actual, p.Predicted }).Concat(_multi.SelectMany(p => p.Actual.Concat(p.Scores.Keys)));
        var classes = Class?.Select(c => c.Trim()).ToList() ?? seen.Distinct(StringComparer.Ordinal).Order(ClassOrder.Instance).ToList();
        var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
        var unknown = seen.Where(c => !index.ContainsKey(c)).Distinct(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            throw new DeepSentinelException(ErrorIds.EvaluationInputInvalid, ErrorKind.InvalidArgument,
                $"The predictions hold class(es) that -Class does not list: {string.Join(", ", unknown.Take(5))}. Add them to -Class, or leave -Class out.", unknown[0]);
        }

        var names = classes.Select(LabelledSample.ClassName).ToList();
        Emit(ParameterSetName == SingleLabelSet
            ? ClassificationEvaluation.SingleLabel(classes, names, _single.Select(p => index[p.Actual]).ToList(), _single.Select(p => index[p.Predicted]).ToList())
            : ClassificationEvaluation.MultiLabel(classes, names,
                _multi.Select(p => classes.Select(c => p.Actual.Contains(c, StringComparer.Ordinal)).ToArray()).ToList(),
                _multi.Select(p => classes.Select(c => (float)p.Scores.GetValueOrDefault(c)).ToArray()).ToList(), Threshold));
        return Task.CompletedTask;
    }

    // Numeric class keys (CLC codes) in numeric order, names in ordinal order after them.
    private sealed class ClassOrder : IComparer<string>
    {
        public static readonly ClassOrder Instance = new();

        public int Compare(string? x, string? y)
        {
            var xn = long.TryParse(x, NumberStyles.Integer, CultureInfo.InvariantCulture, out var a);
            var yn = long.TryParse(y, NumberStyles.Integer, CultureInfo.InvariantCulture, out var b);
            return (xn, yn) switch
            {
                (true, true) => a.CompareTo(b),
                (true, false) => -1,
                (false, true) => 1,
                _ => string.CompareOrdinal(x, y),
            };
        }
    }
}
