using Azure.Core;
using DeepSentinel.Core.Http;

namespace DeepSentinel.Core.Storage;

/// <summary>
/// Credentials and transfer settings for opening stores. Secrets are held only here and in the
/// SDK credential objects made from them; this class deliberately has no ToString that shows
/// them, and no member of it is ever written to output, errors or logs.
/// </summary>
public sealed class StorageOptions
{
    /// <summary>No explicit credentials: environment and ambient identities (DefaultAzureCredential, ADC).</summary>
    public static StorageOptions Default { get; } = new();

    /// <summary>An Azure Storage connection string (AccountKey or SharedAccessSignature; BlobEndpoint for emulators). A secret.</summary>
    public string? AzureConnectionString { get; init; }

    /// <summary>An Azure storage account key (base64), used with SharedKey signing (StorageSharedKeyCredential). A secret.</summary>
    public string? AzureAccountKey { get; init; }

    /// <summary>An Azure SAS token (query string, with or without '?'). A secret.</summary>
    public string? AzureSasToken { get; init; }

    /// <summary>An Azure AD credential; when no key, SAS or connection string is given, DefaultAzureCredential (which covers managed identities) is used.</summary>
    public TokenCredential? AzureCredential { get; init; }

    /// <summary>A Google service-account key file's JSON text. A secret.</summary>
    public string? GcsServiceAccountKeyJson { get; init; }

    /// <summary>The path of a Google service-account key file (else GOOGLE_APPLICATION_CREDENTIALS, else the GCE metadata server).</summary>
    public string? GcsServiceAccountKeyPath { get; init; }

    /// <summary>Send no credentials to Cloud Storage (public buckets, emulators). Implied by an emulator endpoint.</summary>
    public bool GcsAnonymous { get; init; }

    /// <summary>The Cloud Storage endpoint (an emulator); else STORAGE_EMULATOR_HOST, else storage.googleapis.com.</summary>
    public Uri? GcsEndpoint { get; init; }

    /// <summary>The project billed for requests on requester-pays buckets (userProject).</summary>
    public string? GcsUserProject { get; init; }

    /// <summary>The GCE metadata server (else GCE_METADATA_HOST, else 169.254.169.254).</summary>
    public Uri? GcsMetadataEndpoint { get; init; }

    /// <summary>
    /// Bytes per block (Azure Put Block) or chunk (GCS resumable upload); larger objects are sent in
    /// pieces, each retried or resumed alone. For GCS it is rounded down to a multiple of 256 KiB.
    /// Default 8 MiB.
    /// </summary>
    public int BlockSize { get; init; } = 8 * 1024 * 1024;

    /// <summary>Retry bounds for cloud requests (the Azure SDK's retry policy and the Google client's back-off handler both take them); default <see cref="HttpRetryOptions.Default"/>.</summary>
    public HttpRetryOptions? Retry { get; init; }

    /// <summary>Reads environment variables; tests replace it to stay hermetic.</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;
}
