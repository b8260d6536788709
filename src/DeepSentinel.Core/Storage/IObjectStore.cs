namespace DeepSentinel.Core.Storage;

/// <summary>Metadata of one stored object.</summary>
/// <param name="Key">The object's key relative to the store's root ('/'-separated, no leading '/').</param>
/// <param name="Length">Size in bytes.</param>
/// <param name="LastModified">When it was last written, if known.</param>
/// <param name="ETag">An opaque version tag, if the store has one.</param>
/// <param name="ContentMd5">The content's MD5 as base64, when the store records it (Azure, GCS); null for local files.</param>
public sealed record ObjectInfo(string Key, long Length, DateTimeOffset? LastModified = null, string? ETag = null, string? ContentMd5 = null);

/// <summary>How an object is written.</summary>
public sealed record PutOptions
{
    /// <summary>Default options: overwrite allowed.</summary>
    public static PutOptions Overwrite { get; } = new();

    /// <summary>Create-only: never replace an existing object (concurrent writers never overwrite a finished sample).</summary>
    public static PutOptions CreateOnly { get; } = new() { IfNotExists = true };

    /// <summary>When true, the put fails with <see cref="ObjectExistsException"/> if the key exists.</summary>
    public bool IfNotExists { get; init; }

    /// <summary>The content type to record, if the store keeps one.</summary>
    public string? ContentType { get; init; }
}

/// <summary>Thrown by a create-only put when the object already exists.</summary>
public sealed class ObjectExistsException(string key) : Exception($"The object '{key}' already exists.")
{
    /// <summary>The key that exists.</summary>
    public string Key { get; } = key;
}

/// <summary>
/// A flat key/value store of immutable-ish objects under one root: a local folder, an Azure Blob
/// container prefix or a Google Cloud Storage bucket prefix. Corpora are read and written only
/// through this interface. Writes are atomic: a reader never sees a partially written object
/// under its final key. Implementations are thread-safe. Errors are DeepSentinelExceptions with
/// stable ids; credentials never appear in their messages.
/// </summary>
public interface IObjectStore
{
    /// <summary>The root, for display (credentials and signatures redacted).</summary>
    string DisplayName { get; }

    /// <summary>Metadata of an object, or null when it does not exist.</summary>
    Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken);

    /// <summary>Writes an object from a stream (read to its end), atomically.</summary>
    /// <exception cref="ObjectExistsException">With <see cref="PutOptions.IfNotExists"/> when the key exists.</exception>
    Task PutAsync(string key, Stream content, PutOptions options, CancellationToken cancellationToken);

    /// <summary>Opens an object for sequential reading.</summary>
    Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken);

    /// <summary>Reads up to buffer.Length bytes at <paramref name="offset"/>; returns the count read (0 at the end).</summary>
    Task<int> ReadRangeAsync(string key, long offset, Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Lists objects whose key starts with <paramref name="prefix"/>, in key order, page by page.</summary>
    IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Deletes an object; deleting a missing object is not an error.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken);
}
