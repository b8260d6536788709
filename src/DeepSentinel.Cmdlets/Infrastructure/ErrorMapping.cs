using System.Management.Automation;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;

namespace DeepSentinel.Cmdlets.Infrastructure;

/// <summary>Turns Core's errors and progress into PowerShell's records.</summary>
public static class ErrorMapping
{
    /// <summary>The ErrorCategory for an error kind.</summary>
    public static ErrorCategory ToCategory(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        ErrorKind.InvalidData => ErrorCategory.InvalidData,
        ErrorKind.ConnectionError => ErrorCategory.ConnectionError,
        ErrorKind.OperationTimeout => ErrorCategory.OperationTimeout,
        ErrorKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
        ErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        ErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        ErrorKind.ProtocolError => ErrorCategory.ProtocolError,
        ErrorKind.WriteError => ErrorCategory.WriteError,
        ErrorKind.InvalidOperation => ErrorCategory.InvalidOperation,
        ErrorKind.InvalidResult => ErrorCategory.InvalidResult,
        _ => ErrorCategory.NotSpecified,
    };

    /// <summary>
    /// An ErrorRecord whose id is the exception's stable ErrorId. The message is shown as is;
    /// PowerShell shows no stack trace for it.
    /// </summary>
    public static ErrorRecord ToErrorRecord(DeepSentinelException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new ErrorRecord(exception, exception.ErrorId, ToCategory(exception.Kind), exception.Target);
    }

    /// <summary>A ProgressRecord for a Core progress update.</summary>
    public static ProgressRecord ToProgressRecord(ProgressUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        return new ProgressRecord(update.ActivityId, update.Activity, string.IsNullOrEmpty(update.Status) ? " " : update.Status)
        {
            PercentComplete = Math.Clamp(update.PercentComplete, -1, 100),
            SecondsRemaining = update.SecondsRemaining,
            RecordType = update.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
        };
    }
}
