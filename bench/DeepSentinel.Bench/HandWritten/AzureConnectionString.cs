using DeepSentinel.Core.Storage;
using DeepSentinel.Core.Errors;

namespace DeepSentinel.Bench.HandWritten;

/// <summary>The parts of an Azure Storage connection string that the blob store needs.</summary>
internal sealed class AzureConnectionString
{
    // The development storage account's well-known, public key (Azurite and the Storage Emulator).
    private const string DevelopmentAccount = "devstoreaccount1";
    private const string DevelopmentKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public string? AccountName { get; private init; }

    public string? AccountKey { get; private init; }

    public string? SharedAccessSignature { get; private init; }

    public Uri? BlobEndpoint { get; private init; }

    public static AzureConnectionString Parse(string text)
    {
        var parts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw Invalid();
            }

            parts[pair[..eq].Trim()] = pair[(eq + 1)..].Trim();
        }

        if (parts.TryGetValue("UseDevelopmentStorage", out var dev) && dev.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            var proxy = parts.TryGetValue("DevelopmentStorageProxyUri", out var p) ? p.TrimEnd('/') : "http://127.0.0.1";
            return new AzureConnectionString
            {
                AccountName = DevelopmentAccount,
                AccountKey = DevelopmentKey,
                BlobEndpoint = new Uri($"{proxy}:10000/{DevelopmentAccount}/"),
            };
        }

        parts.TryGetValue("AccountName", out var account);
        Uri? endpoint = null;
        if (parts.TryGetValue("BlobEndpoint", out var blob))
        {
            if (!Uri.TryCreate(blob, UriKind.Absolute, out endpoint))
            {
                throw Invalid();
            }
        }
        else if (account is not null)
        {
            var protocol = parts.TryGetValue("DefaultEndpointsProtocol", out var proto) ? proto : "https";
            var suffix = parts.TryGetValue("EndpointSuffix", out var s) ? s : "core.windows.net";
            endpoint = new Uri($"{protocol}://{account}.blob.{suffix}/");
        }

        return new AzureConnectionString
        {
            AccountName = account,
            AccountKey = parts.TryGetValue("AccountKey", out var key) ? key : null,
            SharedAccessSignature = parts.TryGetValue("SharedAccessSignature", out var sas) ? sas.TrimStart('?') : null,
            BlobEndpoint = endpoint,
        };
    }

    // The text itself is never echoed: it holds the key.
    private static DeepSentinelException Invalid() => DeepSentinelException.InvalidArgument(
        ErrorIds.StorageCredentialUnavailable,
        "The Azure Storage connection string is malformed: it must be 'Name=value' pairs separated by ';' (AccountName, AccountKey or SharedAccessSignature, optionally BlobEndpoint).");
}
