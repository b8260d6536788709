using System.Collections.Concurrent;
using System.Management.Automation;
using System.Runtime.ExceptionServices;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;

namespace DeepSentinel.Cmdlets.Infrastructure;

/// <summary>
/// Base for cmdlets whose work is asynchronous Core code. The work runs on a worker task with a
/// CancellationToken that StopProcessing (Ctrl+C) cancels; everything it wants to say to the
/// pipeline (objects, errors, verbose, warnings, progress, ShouldProcess questions) is posted to a
/// queue that the pipeline thread drains, because only that thread may call Write* methods. The
/// queue lives as long as the cmdlet, so work that one record starts in the background (a stream
/// fed record by record) can post between records; every Begin/Process/End step drains it.
/// </summary>
public abstract class AsyncPSCmdlet : PSCmdlet, IDisposable
{
    private const int QueueCapacity = 256;
    private CancellationTokenSource? _cancellation;
    private BlockingCollection<Posted>? _queue;
    private volatile bool _draining;
    private volatile bool _stopped;
    private bool _disposed;
    private bool _inputResolved;

    /// <summary>Cancelled when the user presses Ctrl+C or a downstream command stops the pipeline.</summary>
    protected CancellationToken CancelToken => (_cancellation ??= new CancellationTokenSource()).Token;

    /// <summary>Posts Core's reports to this cmdlet's pipeline.</summary>
    protected IOperationReporter Reporter => new CmdletReporter(this);

    /// <inheritdoc />
    protected sealed override void BeginProcessing()
    {
        _cancellation ??= new CancellationTokenSource();
        Run(BeginProcessingAsync);
    }

    /// <inheritdoc />
    protected sealed override void ProcessRecord()
    {
        ResolveInputOnPipelineThread();
        Run(ProcessRecordAsync);
    }

    /// <inheritdoc />
    protected sealed override void EndProcessing()
    {
        // Empty pipeline input (@() | Cmdlet) calls no ProcessRecord: the parameters given on
        // the command line (paths, sources) still have to be resolved before the end's work.
        if (!_inputResolved)
        {
            ResolveInputOnPipelineThread();
        }

        Run(EndProcessingAsync);
    }

    /// <inheritdoc />
    protected sealed override void StopProcessing() => _cancellation?.Cancel();

    /// <summary>Work before the first pipeline input.</summary>
    protected virtual Task BeginProcessingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Runs on the pipeline thread before <see cref="ProcessRecordAsync"/>: read parameters,
    /// SessionState and paths here (they must not be touched from the worker). A
    /// DeepSentinelException thrown here becomes a terminating error with its stable id. It runs
    /// once per input record, and once before <see cref="EndProcessingAsync"/> when the pipeline
    /// brought no input at all.
    /// </summary>
    protected virtual void ResolveInput()
    {
    }

    /// <summary>Work per pipeline input (or once, without pipeline input).</summary>
    protected virtual Task ProcessRecordAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Work after the last pipeline input.</summary>
    protected virtual Task EndProcessingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Writes an object to the pipeline (from any thread).</summary>
    protected void Emit(object? value) => Post(() => WriteObject(value));

    /// <summary>Writes a non-terminating error for one failed item (from any thread); the cmdlet goes on.</summary>
    protected void EmitError(DeepSentinelException error) => Post(() => WriteError(ErrorMapping.ToErrorRecord(error)));

    /// <summary>Writes a verbose message (from any thread). Pass text free of secrets.</summary>
    protected void EmitVerbose(string message) => Post(() => WriteVerbose(message));

    /// <summary>Writes a warning (from any thread).</summary>
    protected void EmitWarning(string message) => Post(() => WriteWarning(message), () => Host.UI.WriteWarningLine(message));

    /// <summary>Writes a progress record (from any thread).</summary>
    protected void EmitProgress(ProgressUpdate update) => Post(() => WriteProgress(ErrorMapping.ToProgressRecord(update)));

    /// <summary>Asks ShouldProcess on the pipeline thread (honours -WhatIf and -Confirm) and returns its answer.</summary>
    protected async Task<bool> ShouldProcessAsync(string target, string action)
    {
        // A question still queued when the pipeline stops (Ctrl+C, Select-Object -First, a
        // prompt that threw under -NonInteractive) is never asked: the cancellation answers it,
        // so no worker waits forever for a reply.
        var answer = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = CancelToken.Register(() => answer.TrySetCanceled(CancelToken));
        Post(() =>
        {
            if (answer.Task.IsCompleted)
            {
                return;
            }

            try
            {
                answer.TrySetResult(ShouldProcess(target, action));
            }
            catch (Exception ex) when (ex is PSInvalidOperationException or System.Management.Automation.Host.HostException or NotImplementedException)
            {
                // -Confirm where no one can be asked (pwsh -NonInteractive, a job, a runbook).
                answer.TrySetException(ex);
                ThrowTerminatingError(new ErrorRecord(
                    new DeepSentinelException(ErrorIds.ConfirmationUnavailable, ErrorKind.InvalidOperation,
                        $"-Confirm needs an interactive session to ask \"{action}\" for {target}, and this one cannot prompt ({ex.Message}). Preview with -WhatIf, or run without -Confirm.", target, ex),
                    ErrorIds.ConfirmationUnavailable, ErrorCategory.InvalidOperation, target));
            }
            catch (Exception ex)
            {
                answer.TrySetException(ex);
                throw;
            }
        });
        return await answer.Task.ConfigureAwait(false);
    }

    /// <summary>Releases the cancellation source.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (_disposed)
        {
            return;
        }

        if (disposing)
        {
            _cancellation?.Dispose();
        }

        _disposed = true;
    }

    private void ResolveInputOnPipelineThread()
    {
        _inputResolved = true;
        try
        {
            ResolveInput();
        }
        catch (DeepSentinelException ex)
        {
            ThrowTerminatingError(ErrorMapping.ToErrorRecord(ex));
        }
    }

    private void Post(Action action, Action? whenStopped = null)
    {
        var queue = _queue;
        if (queue is null)
        {
            // Called on the pipeline thread before any Run (e.g. from a synchronous override).
            action();
            return;
        }

        // The queue lives as long as the cmdlet: work a Run started in the background (a label
        // run fed record by record) posts between Runs too, and the next Run drains it. A full
        // queue slows the worker down; only when no Run will drain it again (the pipeline has
        // stopped) is the item dropped.
        var posted = new Posted(action, whenStopped, null);
        try
        {
            while (!queue.TryAdd(posted, 50))
            {
                if (!_draining && (_stopped || CancelToken.IsCancellationRequested))
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
        {
            // The cmdlet is gone: nobody is listening.
        }
    }

    private void Run(Func<CancellationToken, Task> work)
    {
        var token = CancelToken;
        var queue = _queue ??= new BlockingCollection<Posted>(QueueCapacity);
        var end = new object();
        var worker = Task.Run(async () =>
        {
            try
            {
                await work(token).ConfigureAwait(false);
            }
            finally
            {
                // The pipeline thread drains until it sees this, so the Add cannot block for good.
                queue.Add(new Posted(null, null, end), CancellationToken.None);
            }
        });

        ExceptionDispatchInfo? pipelineFailure = null;
        _draining = true;
        try
        {
            foreach (var posted in queue.GetConsumingEnumerable())
            {
                if (ReferenceEquals(posted.EndOf, end))
                {
                    break;
                }

                if (posted.Action is null)
                {
                    continue;
                }

                if (_stopped)
                {
                    // The pipeline has stopped: objects and progress have nowhere to go, but what
                    // the user must still be told (a warning such as "stopped at step N") goes to
                    // the host directly.
                    posted.RunStopped();
                    continue;
                }

                try
                {
                    posted.Action();
                }
                catch (Exception ex)
                {
                    // A Write* call threw on the pipeline thread: typically PipelineStoppedException
                    // (Ctrl+C, Stop-Job), Select-Object -First stopping upstream, or a prompt that
                    // cannot be shown (-Confirm under -NonInteractive). Stop the worker, keep
                    // draining until it ends, then rethrow.
                    pipelineFailure = ExceptionDispatchInfo.Capture(ex);
                    _stopped = true;
                    _cancellation?.Cancel();
                    posted.RunStopped();
                }
            }
        }
        finally
        {
            _draining = false;
            try
            {
                worker.Wait(CancellationToken.None);
            }
            catch (AggregateException)
            {
                // Observed below (and secondary to a pipeline failure).
            }
        }

        pipelineFailure?.Throw();
        if (worker.Exception?.InnerException is { } failure)
        {
            switch (failure)
            {
                case OperationCanceledException when token.IsCancellationRequested:
                    // Stopped by the user: PowerShell already knows.
                    throw new PipelineStoppedException();
                case DeepSentinelException expected:
                    ThrowTerminatingError(ErrorMapping.ToErrorRecord(expected));
                    break;
                case PipelineStoppedException:
                    throw failure;
                default:
                    ThrowTerminatingError(new ErrorRecord(failure, "UnexpectedError", ErrorCategory.NotSpecified, null));
                    break;
            }
        }
    }

    private readonly record struct Posted(Action? Action, Action? WhenStopped, object? EndOf)
    {
        public void RunStopped()
        {
            try
            {
                WhenStopped?.Invoke();
            }
            catch (Exception ex) when (ex is PipelineStoppedException or System.Management.Automation.Host.HostException or NotImplementedException or InvalidOperationException)
            {
                // A host without a console (e.g. a remote or job host) may refuse it.
            }
        }
    }

    private sealed class CmdletReporter(AsyncPSCmdlet cmdlet) : IOperationReporter
    {
        public void Verbose(string message) => cmdlet.EmitVerbose(message);

        public void Warning(string message) => cmdlet.EmitWarning(message);

        public void Progress(ProgressUpdate update) => cmdlet.EmitProgress(update);

        public void Error(DeepSentinelException error) => cmdlet.EmitError(error);
    }
}
