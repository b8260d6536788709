namespace DeepSentinel.Core.Diagnostics;

/// <summary>
/// How a Core service tells its caller what it is doing. The module implements it by posting
/// to the pipeline thread (Write-Verbose, Write-Warning, Write-Progress); tests record calls.
/// Implementations must be thread-safe and must never throw.
/// </summary>
public interface IOperationReporter
{
    /// <summary>A detail for -Verbose. Callers pass text already free of secrets.</summary>
    void Verbose(string message);

    /// <summary>Something the user should know that does not stop the operation.</summary>
    void Warning(string message);

    /// <summary>Progress of a long operation.</summary>
    void Progress(ProgressUpdate update);

    /// <summary>A failure of one item of a batch; the operation goes on with the rest.</summary>
    void Error(Errors.DeepSentinelException error);
}

/// <summary>A progress report.</summary>
/// <param name="ActivityId">Distinguishes concurrent activities of one operation.</param>
/// <param name="Activity">What is being done, e.g. "Searching STAC".</param>
/// <param name="Status">The current state, e.g. "page 3, 250 scenes".</param>
/// <param name="PercentComplete">0-100, or -1 when unknown.</param>
/// <param name="SecondsRemaining">Estimated seconds left, or -1 when unknown.</param>
/// <param name="Completed">True once the activity has finished.</param>
public sealed record ProgressUpdate(
    int ActivityId,
    string Activity,
    string Status,
    int PercentComplete = -1,
    int SecondsRemaining = -1,
    bool Completed = false);

/// <summary>A reporter that discards everything.</summary>
public sealed class NullReporter : IOperationReporter
{
    /// <summary>The shared instance.</summary>
    public static readonly NullReporter Instance = new();

    private NullReporter()
    {
    }

    /// <inheritdoc />
    public void Verbose(string message)
    {
    }

    /// <inheritdoc />
    public void Warning(string message)
    {
    }

    /// <inheritdoc />
    public void Progress(ProgressUpdate update)
    {
    }

    /// <inheritdoc />
    public void Error(Errors.DeepSentinelException error)
    {
    }
}
