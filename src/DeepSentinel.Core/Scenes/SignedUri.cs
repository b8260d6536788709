using DeepSentinel.Core.Diagnostics;

namespace DeepSentinel.Core.Scenes;

/// <summary>
/// An asset URL with a shared access signature appended. The signature is a secret: the
/// object's ToString (which PowerShell shows) redacts it, and only <see cref="Reveal"/> returns it,
/// for the code that actually opens the asset.
/// </summary>
public sealed class SignedUri
{
    private readonly string _signedUri;

    /// <summary>Creates a signed URI from the unsigned URI and the SAS query (without '?').</summary>
    public SignedUri(Uri unsigned, string sasQuery, DateTimeOffset expiresOn)
    {
        ArgumentNullException.ThrowIfNull(unsigned);
        ArgumentException.ThrowIfNullOrEmpty(sasQuery);
        Unsigned = unsigned;
        ExpiresOn = expiresOn;
        var query = sasQuery.TrimStart('?');
        _signedUri = unsigned.AbsoluteUri + (string.IsNullOrEmpty(unsigned.Query) ? "?" : "&") + query;
    }

    /// <summary>The URL without the signature.</summary>
    public Uri Unsigned { get; }

    /// <summary>When the signature stops working.</summary>
    public DateTimeOffset ExpiresOn { get; }

    /// <summary>True when the signature expires within <paramref name="margin"/> of <paramref name="now"/>.</summary>
    public bool ExpiresWithin(TimeSpan margin, DateTimeOffset now) => ExpiresOn - now <= margin;

    /// <summary>The full signed URL. Never log or print it.</summary>
    public string Reveal() => _signedUri;

    /// <inheritdoc />
    public override string ToString() => SecretRedactor.Redact(_signedUri);
}
