namespace DeepSentinel.Core.Errors;

/// <summary>
/// The one exception type Core throws for expected failures. It carries a stable
/// <see cref="ErrorId"/>, an <see cref="ErrorKind"/> and the input it concerns, so the module can
/// turn it into an ErrorRecord without a stack trace. It is also the one place where secrets are
/// kept out of errors: the message, a string or URI target, and the message of every inner
/// exception go through <see cref="Diagnostics.SecretRedactor"/> here, so no caller can leak a SAS
/// signature or subscription key into an ErrorRecord's message, TargetObject, CategoryInfo or
/// Get-Error's exception chain.
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
        : base(Diagnostics.SecretRedactor.Redact(message), Redacted(innerException))
    {
        ArgumentException.ThrowIfNullOrEmpty(errorId);
        ErrorId = errorId;
        Kind = kind;
        Target = target switch
        {
            string text => Diagnostics.SecretRedactor.Redact(text),
            Uri uri => Diagnostics.SecretRedactor.Redact(uri),
            _ => target,
        };
    }

    /// <summary>The stable error identifier.</summary>
    public string ErrorId { get; }

    /// <summary>The kind of failure.</summary>
    public ErrorKind Kind { get; }

    /// <summary>The input the failure concerns, if any.</summary>
    public object? Target { get; }

    // An inner exception whose message (or whose inner exceptions' messages) holds a secret is
    // replaced by a copy that keeps its type name and the redacted message; others are kept as
    // they are, stack trace included.
    private static Exception? Redacted(Exception? inner)
    {
        if (inner is null || inner is DeepSentinelException || inner is RedactedException)
        {
            return inner;
        }

        var nested = Redacted(inner.InnerException);
        var message = Diagnostics.SecretRedactor.Redact(inner.Message);
        return message == inner.Message && ReferenceEquals(nested, inner.InnerException) ? inner : new RedactedException(inner.GetType().FullName ?? inner.GetType().Name, message, nested);
    }

    /// <summary>Shorthand for an invalid argument.</summary>
    public static DeepSentinelException InvalidArgument(string errorId, string message, object? target = null) =>
        new(errorId, ErrorKind.InvalidArgument, message, target);
}

/// <summary>An exception whose message held a secret, with the secret masked; <see cref="OriginalType"/> names what it was.</summary>
public sealed class RedactedException : Exception
{
    /// <summary>Creates the redacted copy.</summary>
    public RedactedException(string originalType, string message, Exception? innerException)
        : base($"{originalType}: {message}", innerException) => OriginalType = originalType;

    /// <summary>The full name of the exception type it replaces.</summary>
    public string OriginalType { get; }
}
