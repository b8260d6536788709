using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.FineTuning;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Splits labelled patches into training and test sets: deterministic by seed, spatially blocked, optionally holding whole classes out.</para>
/// <para type="description">Collects the piped samples, groups them into spatial blocks (grid cells, MGRS tiles, or none), orders the blocks by -Seed and fills the training side up to -TrainFraction; samples of -HoldOutClass always test. With -TrainIdFile and -TestIdFile the split is read from files of sample ids instead. Writes one CorpusSplit.</para>
/// </summary>
[Cmdlet(VerbsCommon.Split, "LabelledCorpus", DefaultParameterSetName = SeededSet)]
[OutputType(typeof(CorpusSplit))]
public sealed class SplitLabelledCorpusCommand : AsyncPSCmdlet
{
    /// <summary>A seeded, spatially blocked split.</summary>
    public const string SeededSet = "Seeded";

    /// <summary>A split read from id files.</summary>
    public const string FilesSet = "Files";

    /// <summary>Samples.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, HelpMessage = "Labelled samples: PatchSample objects from Get-PatchSample after Add-CorineLabel, or EuroSAT-style samples. Samples without a label are left out with a warning.")]
    public ITrainingPatchProvider[] InputObject { get; set; } = [];

    /// <summary>Training share.</summary>
    [Parameter(ParameterSetName = SeededSet, HelpMessage = "Share of the samples (those not held out) that go to training; default 0.7, the rest tests. Whole blocks move, so the share reached is ActualTrainFraction.")]
    [ValidateRange(0.01, 0.99)]
    public double TrainFraction { get; set; } = 0.7;

    /// <summary>Seed.</summary>
    [Parameter(ParameterSetName = SeededSet, HelpMessage = "Seed of the block order (default 0): the same seed and samples give the same split, in any input order.")]
    public int Seed { get; set; }

    /// <summary>Blocking unit.</summary>
    [Parameter(ParameterSetName = SeededSet, HelpMessage = "What a spatial block is: Grid (default; square cells of -BlockSize metres in each patch's UTM CRS), MgrsTile (whole Sentinel-2 tiles) or Sample (no blocking: a random split, which leaks between overlapping neighbours).")]
    public SplitBlocking BlockBy { get; set; } = SplitBlocking.Grid;

    /// <summary>Block size.</summary>
    [Parameter(ParameterSetName = SeededSet, HelpMessage = "Side of a grid block in metres (default 10000; a patch is 2560 m). Patches whose centres share a cell go to the same side.")]
    [ValidateRange(1.0, 1e7)]
    public double BlockSize { get; set; } = 10_000;

    /// <summary>Held-out classes.</summary>
    [Parameter(ParameterSetName = SeededSet, HelpMessage = "Classes held out of training: every sample whose dominant class (CLC code at -ClcLevel, or a dataset's class name) is one of these goes to the test side.")]
    [ValidateNotNullOrEmpty]
    public string[] HoldOutClass { get; set; } = [];

    /// <summary>CLC level.</summary>
    [Parameter(HelpMessage = "The CORINE level (1, 2 or 3; default 3) classes are counted and held out at: 311 is 31 at level 2 and 3 at level 1.")]
    [ValidateRange(1, 3)]
    public int ClcLevel { get; set; } = 3;

    /// <summary>Training id file.</summary>
    [Parameter(Mandatory = true, ParameterSetName = FilesSet, HelpMessage = "A file of training sample ids, one per line (# comments and blank lines ignored; file names such as AnnualCrop_1.tif count as their id). An id that is not an input sample is a SplitIdUnknown error.")]
    [ValidateNotNullOrEmpty]
    public string TrainIdFile { get; set; } = string.Empty;

    /// <summary>Test id file.</summary>
    [Parameter(Mandatory = true, ParameterSetName = FilesSet, HelpMessage = "A file of test sample ids, one per line, as -TrainIdFile.")]
    [ValidateNotNullOrEmpty]
    public string TestIdFile { get; set; } = string.Empty;

    private readonly List<ITrainingPatchProvider> _samples = [];
    private CorpusSplitOptions? _options;
    private (string Train, string Test)? _files;

    /// <inheritdoc />
    protected override void ResolveInput()
    {
        _options ??= new CorpusSplitOptions
        {
            TrainFraction = TrainFraction,
            Seed = Seed,
            BlockBy = BlockBy,
            BlockSize = BlockSize,
            ClcLevel = ClcLevel,
            HoldOutClasses = HoldOutClass,
        };
        if (ParameterSetName == FilesSet)
        {
            _files ??= (SessionState.Path.GetUnresolvedProviderPathFromPSPath(TrainIdFile), SessionState.Path.GetUnresolvedProviderPathFromPSPath(TestIdFile));
        }
    }

    /// <inheritdoc />
    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        _samples.AddRange(InputObject);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected override Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        Emit(_files is { } files
            ? SplitService.FromFiles(_samples, files.Train, files.Test, _options!.ClcLevel, Reporter)
            : SplitService.Split(_samples, _options!, Reporter));
        return Task.CompletedTask;
    }
}
