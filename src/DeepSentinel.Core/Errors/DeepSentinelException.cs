namespace DeepSentinel.Core.Errors;

/// <summary>
/// The one exception type Core throws for expected failures. It carries a stable
/// <see cref="ErrorId"/>, an <see cref="ErrorKind"/> and the input it concerns, so the module can
/// turn it into an ErrorRecord without a stack trace. Messages never contain secrets: build them
/// from redacted values (<see cref="Diagnostics.SecretRedactor"/>).
/// </summary>
public class DeepSentinelException : Exception
{
    /// <summary>Creates an exception.</summary>
    /// <param name="errorId">A stable identifier from <see cref="ErrorIds"/>.</param>
    /// <param name="kind">The kind of failure.</param>
    /// <param name="message">What failed, for which input, and what to do.</param>
    /// <param name="target">The input the failure concerns (a URL, an id, a value), if any.</param>
    /// <param name="innerException">The underlying exception, if any.</param>
    public DeepSentinelException(string errorId, ErrorKind kind, string message, object? target = null, Exception? innerException = null)
        : base(message, innerException)
    {
        ArgumentException.ThrowIfNullOrEmpty(errorId);
        ErrorId = errorId;
        Kind = kind;
        Target = target;
    }

    /// <summary>The stable error identifier.</summary>
    public string ErrorId { get; }

    /// <summary>The kind of failure.</summary>
    public ErrorKind Kind { get; }

    /// <summary>The input the failure concerns, if any.</summary>
    public object? Target { get; }

    /// <summary>Shorthand for an invalid argument.</summary>
    public static DeepSentinelException InvalidArgument(string errorId, string message, object? target = null) =>
        new(errorId, ErrorKind.InvalidArgument, message, target);
}
