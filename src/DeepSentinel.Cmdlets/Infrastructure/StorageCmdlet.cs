using System.Management.Automation;
using System.Security;
using DeepSentinel.Core.Storage;

namespace DeepSentinel.Cmdlets.Infrastructure;

/// <summary>
/// Base for cmdlets that read or write corpora on any store: the credential parameters they all
/// share (-AzureAccountKey, -AzureSasToken, -AzureConnectionString, -GcsKeyFile,
/// -GcsUserProject), and their conversion into Core's <see cref="StorageOptions"/>. Without them,
/// stores use the environment and ambient identities (DefaultAzureCredential, the GCE metadata
/// server ...).
/// </summary>
public abstract class StorageCmdlet : AsyncPSCmdlet
{
    /// <summary>Azure account key.</summary>
    [Parameter(HelpMessage = "An Azure storage account key, as a SecureString, for SharedKey signing. Never written anywhere.")]
    public SecureString? AzureAccountKey { get; set; }

    /// <summary>Azure SAS token.</summary>
    [Parameter(HelpMessage = "An Azure SAS token (the query string), as a SecureString. Never written anywhere.")]
    public SecureString? AzureSasToken { get; set; }

    /// <summary>Azure connection string.</summary>
    [Parameter(HelpMessage = "An Azure Storage connection string, as a SecureString (AccountKey or SharedAccessSignature; BlobEndpoint for emulators). Never written anywhere.")]
    public SecureString? AzureConnectionString { get; set; }

    /// <summary>GCS key file.</summary>
    [Parameter(HelpMessage = "A Google service-account key file (JSON). Without it: GOOGLE_APPLICATION_CREDENTIALS, gcloud's application-default credentials, then the metadata server.")]
    [ValidateNotNullOrEmpty]
    public string? GcsKeyFile { get; set; }

    /// <summary>GCS billing project.</summary>
    [Parameter(HelpMessage = "The Google Cloud project billed for requests to requester-pays buckets (userProject).")]
    [ValidateNotNullOrEmpty]
    public string? GcsUserProject { get; set; }

    /// <summary>The storage options from the credential parameters (call on the pipeline thread, e.g. in ResolveInput).</summary>
    protected StorageOptions ResolveStorageOptions() =>
        StorageParameters.ToOptions(AzureAccountKey, AzureSasToken, AzureConnectionString, GcsKeyFile is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(GcsKeyFile), GcsUserProject);

    /// <summary>A location as a store location string: URLs as given, paths resolved against the current PowerShell location.</summary>
    protected string ResolveLocation(string location) =>
        location.Contains("://", StringComparison.Ordinal) ? location : SessionState.Path.GetUnresolvedProviderPathFromPSPath(location);
}
