using System.Text.RegularExpressions;

namespace DeepSentinel.Core.Diagnostics;

/// <summary>
/// Removes secrets from text before it reaches output, errors or logs: SAS query parameters
/// (sig, se, st, skoid ...), OAuth tokens, subscription keys and account keys.
/// </summary>
public static partial class SecretRedactor
{
    /// <summary>The text that replaces a secret value.</summary>
    public const string Mask = "REDACTED";

    // Query parameters that make up (or reveal) a SAS token or an access token.
    private static readonly HashSet<string> SecretQueryKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "sig", "se", "st", "sp", "sv", "sr", "spr", "skoid", "sktid", "skt", "ske", "sks", "skv", "sip", "ss", "srt",
        "token", "access_token", "code", "key", "subscription-key", "X-Goog-Signature", "X-Goog-Credential",
        // A GCS resumable session URI is itself a credential: anyone holding it can write the object.
        "upload_id", "assertion", "refresh_token", "id_token",
    };

    /// <summary>Redacts every URL and key-like fragment found in <paramref name="text"/>.</summary>
    public static string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }

        var result = QueryParameter().Replace(text, m =>
            SecretQueryKeys.Contains(m.Groups["key"].Value) ? $"{m.Groups["sep"].Value}{m.Groups["key"].Value}={Mask}" : m.Value);
        result = AuthorizationValue().Replace(result, m => $"{m.Groups["scheme"].Value} {Mask}");
        result = NamedSecret().Replace(result, m => $"{m.Groups["name"].Value}{m.Groups["eq"].Value}{Mask}");
        result = JsonSecret().Replace(result, m => $"\"{m.Groups["name"].Value}\"{m.Groups["colon"].Value}\"{Mask}\"");
        return result;
    }

    /// <summary>Redacts a URI: keeps scheme, host and path, masks secret query parameters.</summary>
    public static string Redact(Uri? uri) => uri is null ? string.Empty : Redact(uri.OriginalString);

    [GeneratedRegex(@"(?<sep>[?&])(?<key>[A-Za-z_\-]+)=(?<value>[^&#\s""']*)", RegexOptions.CultureInvariant)]
    private static partial Regex QueryParameter();

    [GeneratedRegex(@"(?<scheme>Bearer|SharedKey|Basic)\s+[^\s""',;]+", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex AuthorizationValue();

    [GeneratedRegex(@"(?<name>AccountKey|SharedAccessSignature|Ocp-Apim-Subscription-Key|private_key|client_secret)(?<eq>\s*[=:]\s*""?)[^;""\s,]+", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex NamedSecret();

    // Token responses and service-account key files are JSON: "access_token": "ya29...".
    [GeneratedRegex(@"""(?<name>access_token|refresh_token|id_token|private_key|private_key_id|client_secret|assertion)""(?<colon>\s*:\s*)""(?:[^""\\]|\\.)*""", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex JsonSecret();
}
