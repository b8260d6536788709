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
/// queue that the pipeline thread drains, because only that thread may call Write* methods.
/// </summary>
public abstract class AsyncPSCmdlet : PSCmdlet, IDisposable
{
    private const int QueueCapacity = 256;
    private CancellationTokenSource? _cancellation;
    private BlockingCollection<Action>? _queue;
    private bool _disposed;

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
        try
        {
            ResolveInput();
        }
        catch (DeepSentinelException ex)
        {
            ThrowTerminatingError(ErrorMapping.ToErrorRecord(ex));
        }

        Run(ProcessRecordAsync);
    }

    /// <inheritdoc />
    protected sealed override void EndProcessing() => Run(EndProcessingAsync);

    /// <inheritdoc />
    protected sealed override void StopProcessing() => _cancellation?.Cancel();

    /// <summary>Work before the first pipeline input.</summary>
    protected virtual Task BeginProcessingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Runs on the pipeline thread before <see cref="ProcessRecordAsync"/>: read parameters,
    /// SessionState and paths here (they must not be touched from the worker). A
    /// DeepSentinelException thrown here becomes a terminating error with its stable id.
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
    protected void EmitWarning(string message) => Post(() => WriteWarning(message));

    /// <summary>Writes a progress record (from any thread).</summary>
    protected void EmitProgress(ProgressUpdate update) => Post(() => WriteProgress(ErrorMapping.ToProgressRecord(update)));

    /// <summary>Asks ShouldProcess on the pipeline thread (honours -WhatIf and -Confirm) and returns its answer.</summary>
    protected Task<bool> ShouldProcessAsync(string target, string action)
    {
        var answer = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            try
            {
                answer.SetResult(ShouldProcess(target, action));
            }
            catch (Exception ex)
            {
                answer.SetException(ex);
                throw;
            }
        });
        return answer.Task;
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

    private void Post(Action action)
    {
        var queue = _queue;
        if (queue is null)
        {
            // Called on the pipeline thread outside Run (e.g. from a synchronous override).
            action();
            return;
        }

        try
        {
            queue.Add(action, CancelToken);
        }
        catch (InvalidOperationException)
        {
            // The pipeline thread has stopped draining (the pipeline is stopping): drop it.
        }
    }

    private void Run(Func<CancellationToken, Task> work)
    {
        var token = CancelToken;
        using var queue = new BlockingCollection<Action>(QueueCapacity);
        _queue = queue;
        var worker = Task.Run(async () =>
        {
            try
            {
                await work(token).ConfigureAwait(false);
            }
            finally
            {
                queue.CompleteAdding();
            }
        });

        ExceptionDispatchInfo? pipelineFailure = null;
        try
        {
            foreach (var action in queue.GetConsumingEnumerable())
            {
                action();
            }
        }
        catch (Exception ex)
        {
            // A Write* call threw on the pipeline thread: typically PipelineStoppedException
            // (Ctrl+C) or Select-Object -First stopping upstream. Stop the worker, then rethrow.
            pipelineFailure = ExceptionDispatchInfo.Capture(ex);
            _cancellation?.Cancel();
        }
        finally
        {
            try
            {
                worker.Wait(CancellationToken.None);
            }
            catch (AggregateException) when (pipelineFailure is not null)
            {
                // The worker's own failure is secondary to the pipeline's.
            }
            catch (AggregateException)
            {
                // Observed below.
            }

            _queue = null;
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

    private sealed class CmdletReporter(AsyncPSCmdlet cmdlet) : IOperationReporter
    {
        public void Verbose(string message) => cmdlet.EmitVerbose(message);

        public void Warning(string message) => cmdlet.EmitWarning(message);

        public void Progress(ProgressUpdate update) => cmdlet.EmitProgress(update);

        public void Error(DeepSentinelException error) => cmdlet.EmitError(error);
    }
}
