using System.Globalization;
using System.Runtime.CompilerServices;
using DeepSentinel.Core.Errors;

namespace DeepSentinel.Core.Storage;

/// <summary>
/// A folder on local disk as an object store. Writes go to a temporary file in the same folder
/// and are renamed into place, so a killed process never leaves a truncated file under a final
/// name; create-only puts use a hard link, which fails atomically when the name exists.
/// </summary>
public sealed class LocalObjectStore : IObjectStore
{
    private const string TempSuffix = ".partial";

    /// <summary>
    /// Opens the folder <paramref name="root"/>. Nothing is created until the first write, so a
    /// command that only reads (Get-PatchSample, a label run's -Corpus, a copy's source) never
    /// leaves a mistyped folder behind.
    /// </summary>
    public LocalObjectStore(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = Path.GetFullPath(root);
    }

    /// <summary>The folder's full path.</summary>
    public string Root { get; }

    /// <inheritdoc />
    public string DisplayName => Root;

    /// <summary>The full local path of a key.</summary>
    public string PathOf(string key)
    {
        var path = Path.GetFullPath(Path.Combine(Root, ValidateKey(key)));
        if (!path.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, $"The key '{key}' leaves the store's folder.", key);
        }

        return path;
    }

    /// <inheritdoc />
    public Task<ObjectInfo?> GetInfoAsync(string key, CancellationToken cancellationToken)
    {
        var file = new FileInfo(PathOf(key));
        return Task.FromResult(file.Exists ? new ObjectInfo(key, file.Length, file.LastWriteTimeUtc) : null);
    }

    /// <inheritdoc />
    public async Task PutAsync(string key, Stream content, PutOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(options);
        var path = PathOf(key);
        CreateFolderOf(path, key);
        // The writer's process id is in the name: a later run can tell a dead writer's leftover
        // from a file being written right now (DeleteAbandonedTemporaryFiles).
        var temp = string.Create(CultureInfo.InvariantCulture, $"{path}.{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}{TempSuffix}");
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }

            Commit(temp, path, key, options.IfNotExists);
        }
        catch (IOException ex)
        {
            throw new DeepSentinelException(ErrorIds.StorageWriteFailed, ErrorKind.WriteError, $"Could not write '{path}': {ex.Message}", key, ex);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Moves a finished local file into the store under <paramref name="key"/> (same atomicity as <see cref="PutAsync"/>).</summary>
    public void CommitFile(string sourcePath, string key, bool ifNotExists)
    {
        var path = PathOf(key);
        CreateFolderOf(path, key);
        Commit(sourcePath, path, key, ifNotExists);
    }

    // The store's folders appear with the first object written into them.
    private static void CreateFolderOf(string path, string key)
    {
        var folder = Path.GetDirectoryName(path)!;
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DeepSentinelException(ErrorIds.StorageWriteFailed, ex is UnauthorizedAccessException ? ErrorKind.PermissionDenied : ErrorKind.WriteError,
                $"Cannot create the folder '{folder}': {ex.Message}", key, ex);
        }
    }

    /// <inheritdoc />
    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        try
        {
            return Task.FromResult<Stream>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DeepSentinelException(ErrorIds.StorageObjectNotFound, ErrorKind.ObjectNotFound, $"'{path}' does not exist.", key, ex);
        }
    }

    /// <inheritdoc />
    public async Task<int> ReadRangeAsync(string key, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        await using var stream = await OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
        stream.Seek(offset, SeekOrigin.Begin);
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        var keys = new List<(string Key, FileInfo File)>();
        if (Directory.Exists(Root))
        {
            foreach (var file in new DirectoryInfo(Root).EnumerateFiles("*", SearchOption.AllDirectories))
            {
                var key = Path.GetRelativePath(Root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
                if (key.StartsWith(prefix, StringComparison.Ordinal) && !key.EndsWith(TempSuffix, StringComparison.Ordinal))
                {
                    keys.Add((key, file));
                }
            }
        }

        foreach (var (key, file) in keys.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return new ObjectInfo(key, file.Length, file.LastWriteTimeUtc);
        }
    }

    /// <inheritdoc />
    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        File.Delete(PathOf(key));
        return Task.CompletedTask;
    }

    /// <summary>
    /// Deletes the temporary files (*.partial) that killed writers left under <paramref name="prefix"/>:
    /// those whose writing process no longer runs on this machine, and any older than a day
    /// (another machine's, or a name without a process id). Returns how many were deleted.
    /// </summary>
    public int DeleteAbandonedTemporaryFiles(string prefix)
    {
        var folder = Path.Combine(Root, prefix);
        if (!Directory.Exists(folder))
        {
            return 0;
        }

        var deleted = 0;
        foreach (var file in new DirectoryInfo(folder).EnumerateFiles("*" + TempSuffix, SearchOption.AllDirectories))
        {
            if (!IsAbandoned(file))
            {
                continue;
            }

            try
            {
                file.Delete();
                deleted++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone already, or not ours to delete: leave it.
            }
        }

        return deleted;
    }

    /// <summary>Whether a process with this id runs on this machine.</summary>
    internal static bool ProcessRuns(int processId)
    {
        if (processId == Environment.ProcessId)
        {
            return true;
        }

        if (OperatingSystem.IsLinux())
        {
            return Directory.Exists(string.Create(CultureInfo.InvariantCulture, $"/proc/{processId}"));
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static bool IsAbandoned(FileInfo file)
    {
        if (file.LastWriteTimeUtc < DateTime.UtcNow.AddDays(-1))
        {
            return true;
        }

        // <name>.<pid>-<8 hex>.partial
        var stem = file.Name[..^TempSuffix.Length];
        var tag = stem[(stem.LastIndexOf('.') + 1)..];
        var dash = tag.IndexOf('-', StringComparison.Ordinal);
        return dash > 0 && int.TryParse(tag.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && !ProcessRuns(pid);
    }

    private static void Commit(string temp, string path, string key, bool ifNotExists)
    {
        if (!ifNotExists)
        {
            File.Move(temp, path, overwrite: true);
            return;
        }

        // link(2) fails with EEXIST when the name exists: an atomic create-only rename.
        if (Link(temp, path) != 0)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno == 17)
            {
                throw new ObjectExistsException(key);
            }

            throw new IOException($"link failed with errno {errno}");
        }

        File.Delete(temp);
    }

    private static string ValidateKey(string key)
    {
        if (string.IsNullOrEmpty(key) || key.StartsWith('/') || key.Contains('\\') || key.Split('/').Any(p => p is "" or "." or ".."))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, $"'{key}' is not a valid object key ('/'-separated, relative, no empty, '.' or '..' parts).", key);
        }

        return key;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string oldPath, [System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string newPath);
}
