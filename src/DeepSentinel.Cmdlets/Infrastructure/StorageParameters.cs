using System.Runtime.InteropServices;
using System.Security;
using DeepSentinel.Core.Storage;

namespace DeepSentinel.Cmdlets.Infrastructure;

/// <summary>
/// Turns the storage credential parameters that cmdlets taking a location share (-AzureAccountKey,
/// -AzureSasToken, -AzureConnectionString as SecureStrings, -GcsKeyFile, -GcsUserProject) into
/// Core's <see cref="StorageOptions"/>. Secrets leave their SecureString only here, straight into
/// the options object that the stores sign with.
/// </summary>
public static class StorageParameters
{
    /// <summary>Builds the options; null parameters fall back to the environment and ambient identities.</summary>
    public static StorageOptions ToOptions(SecureString? azureAccountKey, SecureString? azureSasToken, SecureString? azureConnectionString, string? gcsKeyFile, string? gcsUserProject) => new()
    {
        AzureAccountKey = Reveal(azureAccountKey),
        AzureSasToken = Reveal(azureSasToken),
        AzureConnectionString = Reveal(azureConnectionString),
        GcsServiceAccountKeyPath = gcsKeyFile,
        GcsUserProject = gcsUserProject,
    };

    private static string? Reveal(SecureString? secure)
    {
        if (secure is null)
        {
            return null;
        }

        var pointer = Marshal.SecureStringToGlobalAllocUnicode(secure);
        try
        {
            return Marshal.PtrToStringUni(pointer);
        }
        finally
        {
            Marshal.ZeroFreeGlobalAllocUnicode(pointer);
        }
    }
}
