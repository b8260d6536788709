using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Services;
using DeepSentinel.Core.Storage.Azure;
using DeepSentinel.Core.Storage.Gcs;

namespace DeepSentinel.Core.Storage;

/// <summary>Opens the store a location names: the one entry point corpus, label and training code use.</summary>
public static class ObjectStores
{
    /// <summary>Parses <paramref name="location"/> (relative paths against <paramref name="baseDirectory"/>) and opens its store.</summary>
    public static IObjectStore Open(string location, StorageOptions? options = null, CoreServices? services = null, IOperationReporter? reporter = null, string? baseDirectory = null) =>
        Open(StoreLocation.Parse(location, baseDirectory), options, services, reporter);

    /// <summary>
    /// Opens the store at <paramref name="location"/>: a <see cref="LocalObjectStore"/>,
    /// <see cref="AzureBlobObjectStore"/> or <see cref="GcsObjectStore"/>. No request is sent until
    /// the store is used.
    /// </summary>
    public static IObjectStore Open(StoreLocation location, StorageOptions? options = null, CoreServices? services = null, IOperationReporter? reporter = null)
    {
        ArgumentNullException.ThrowIfNull(location);
        options ??= StorageOptions.Default;
        services ??= CoreServices.Default;
        reporter ??= NullReporter.Instance;
        return location.Kind switch
        {
            StoreKind.Local => new LocalObjectStore(location.LocalPath!),
            StoreKind.AzureBlob => AzureBlobObjectStore.Create(location, options, services.HttpClient, reporter, services.Retry),
            StoreKind.GoogleCloudStorage => GcsObjectStore.Create(location, options, services, reporter),
            _ => throw new ArgumentOutOfRangeException(nameof(location)),
        };
    }
}
