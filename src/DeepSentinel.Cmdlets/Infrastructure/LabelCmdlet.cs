using System.Management.Automation;
using System.Threading.Channels;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Labels;

namespace DeepSentinel.Cmdlets.Infrastructure;

/// <summary>
/// Base of the label cmdlets (Add-CorineLabel, Add-OsmLabel): samples from the pipeline or a
/// whole corpus, -Force, -ThrottleLimit and the storage credentials. A subclass adds its source
/// parameters and calls its Core labeller in <see cref="LabelAsync"/>.
/// </summary>
public abstract class LabelCmdlet : StorageCmdlet
{
    /// <summary>Samples from the pipeline.</summary>
    public const string InputObjectSet = "InputObject";

    /// <summary>A whole corpus.</summary>
    public const string CorpusSet = "Corpus";

    private const int InputCapacity = 64;
    private readonly Channel<PatchSample> _input = Channel.CreateBounded<PatchSample>(new BoundedChannelOptions(InputCapacity) { SingleReader = true, SingleWriter = true });
    private string? _corpus;
    private Core.Storage.StorageOptions? _storage;
    private Task? _run;

    /// <summary>Samples.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet, HelpMessage = "Patch samples from New-PatchSample or Get-PatchSample to label.")]
    public PatchSample[] InputObject { get; set; } = [];

    /// <summary>Corpus.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CorpusSet, HelpMessage = "A corpus written by New-PatchSample (a folder, az://..., https://...blob... or gs://...): every sample in its index is labelled.")]
    [ValidateNotNullOrEmpty]
    public string Corpus { get; set; } = string.Empty;

    /// <summary>Relabel.</summary>
    [Parameter(HelpMessage = "Relabel samples that already carry this label; without it they are passed on unchanged.")]
    public SwitchParameter Force { get; set; }

    /// <summary>Workers.</summary>
    [Parameter(HelpMessage = "Parallel workers, each with its own GDAL handles (default: the number of cores).")]
    [ValidateRange(1, 64)]
    public int ThrottleLimit { get; set; } = Environment.ProcessorCount;

    /// <summary>Resolves the subclass's own parameters (paths) on the pipeline thread.</summary>
    protected abstract void ResolveSource();

    /// <summary>Labels the samples with the subclass's labeller.</summary>
    protected abstract IAsyncEnumerable<PatchSample> LabelAsync(IAsyncEnumerable<PatchSample> samples, LabelRunOptions options, CancellationToken cancellationToken);

    /// <summary>A path parameter as a full path; GDAL virtual paths (/vsi...) as given.</summary>
    protected string ResolveSourcePath(string path) =>
        path.StartsWith("/vsi", StringComparison.Ordinal) ? path : SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    /// <inheritdoc />
    protected sealed override void ResolveInput()
    {
        if (_storage is not null)
        {
            return;
        }

        ResolveSource();
        _corpus = ParameterSetName == CorpusSet ? ResolveLocation(Corpus) : null;
        _storage = ResolveStorageOptions();
    }

    /// <inheritdoc />
    protected sealed override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (_corpus is not null)
        {
            return;
        }

        // Piped samples stream: the label run starts with the first record and labels while
        // upstream (e.g. New-PatchSample) still produces; the bounded channel holds it back when
        // labelling is slower. Its output is drained on the pipeline thread by every Run.
        _run ??= Task.Run(() => LabelStreamAsync(_input.Reader.ReadAllAsync(cancellationToken), cancellationToken), CancellationToken.None);
        foreach (var sample in InputObject)
        {
            if (sample is null)
            {
                continue;
            }

            try
            {
                await _input.Writer.WriteAsync(sample, cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                // The run ended early (a bad source): its own error is the one to report.
                await _run.ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <inheritdoc />
    protected sealed override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        _input.Writer.TryComplete();
        if (_corpus is not null)
        {
            await LabelStreamAsync(LabelService.ReadCorpus(_corpus, Reporter, cancellationToken, _storage), cancellationToken).ConfigureAwait(false);
            return;
        }

        // No input at all still opens the source once, so a bad -Path is reported.
        await (_run ?? LabelStreamAsync(_input.Reader.ReadAllAsync(cancellationToken), cancellationToken)).ConfigureAwait(false);
    }

    private async Task LabelStreamAsync(IAsyncEnumerable<PatchSample> samples, CancellationToken cancellationToken)
    {
        try
        {
            var options = new LabelRunOptions { Force = Force.IsPresent, ThrottleLimit = ThrottleLimit, Storage = _storage };
            await foreach (var sample in LabelAsync(samples, options, cancellationToken).ConfigureAwait(false))
            {
                Emit(sample);
            }
        }
        finally
        {
            // A run that ended early must not leave the pipeline thread waiting to write into it.
            _input.Writer.TryComplete();
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && _run is { IsCompleted: false } run)
        {
            // Stopped mid-stream (Ctrl+C, Select-Object -First): the run has been cancelled; let
            // it close its GDAL handles and delete its temporary files before the cmdlet goes.
            _input.Writer.TryComplete();
            try
            {
                run.Wait(TimeSpan.FromSeconds(60));
            }
            catch (AggregateException)
            {
                // Its failure was reported, or does not matter any more.
            }
        }

        base.Dispose(disposing);
    }
}
