namespace DeepSentinel.Core.Errors;

/// <summary>
/// What kind of failure an error is. The module maps each kind to a PowerShell ErrorCategory;
/// Core keeps its own enum so that it never references System.Management.Automation.
/// </summary>
public enum ErrorKind
{
    /// <summary>No more specific kind applies.</summary>
    NotSpecified,
    /// <summary>An argument or parameter value is invalid.</summary>
    InvalidArgument,
    /// <summary>Data read from a server or file is malformed.</summary>
    InvalidData,
    /// <summary>A server could not be reached, or the connection failed.</summary>
    ConnectionError,
    /// <summary>A server did not answer in time.</summary>
    OperationTimeout,
    /// <summary>A named resource (collection, file, model) does not exist.</summary>
    ObjectNotFound,
    /// <summary>The server or store refused access.</summary>
    PermissionDenied,
    /// <summary>A server is temporarily unable to serve (throttled or failing).</summary>
    ResourceUnavailable,
    /// <summary>The server answered with something that is not the expected protocol.</summary>
    ProtocolError,
    /// <summary>Writing or reading local resources failed.</summary>
    WriteError,
    /// <summary>The operation cannot be done in this session (e.g. a prompt where none can be shown).</summary>
    InvalidOperation,
    /// <summary>A computation gave no usable result (e.g. the training engine failed or its loss is not finite).</summary>
    InvalidResult,
}
