namespace DeepSentinel.Core.Storage;

/// <summary>
/// A run's private folder for files being prepared before they are committed to a store:
/// <c>&lt;root&gt;/&lt;run&gt;/</c>, owned through an exclusive lock on <c>&lt;root&gt;/&lt;run&gt;.lock</c>
/// that the operating system releases when the process dies. A later run deletes the folders
/// whose lock it can take (their owner is gone), at once rather than after a delay, and never
/// those of a run still going. Created on first use, so a run that writes nothing leaves nothing;
/// disposing deletes the folder, its lock and the root when it is empty.
/// </summary>
public sealed class StagingArea : IDisposable
{
    private const string LockSuffix = ".lock";
    private readonly object _gate = new();
    private readonly string _root;
    private readonly string _name = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..12];
    private FileStream? _lock;
    private string? _folder;

    /// <summary>A staging area under <paramref name="root"/> (e.g. the corpus's .staging folder).</summary>
    public StagingArea(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        _root = Path.GetFullPath(root);
    }

    /// <summary>This run's folder, created (with its lock) on first use.</summary>
    public string Folder
    {
        get
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_lock is null && _folder is not null, this);
                if (_folder is null)
                {
                    Directory.CreateDirectory(_root);
                    // The lock first, then the folder: a folder without a lock is never a live run's.
                    _lock = new FileStream(Path.Combine(_root, _name + LockSuffix), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
                    _folder = Path.Combine(_root, _name);
                    Directory.CreateDirectory(_folder);
                }

                return _folder;
            }
        }
    }

    /// <summary>
    /// Deletes what killed runs left under <paramref name="root"/>: folders whose lock can be
    /// taken or that have none. Returns how many were deleted.
    /// </summary>
    public static int DeleteAbandoned(string root)
    {
        if (!Directory.Exists(root))
        {
            return 0;
        }

        var deleted = 0;
        foreach (var folder in Directory.GetDirectories(root))
        {
            var lockPath = folder + LockSuffix;
            FileStream? held = null;
            try
            {
                if (File.Exists(lockPath))
                {
                    // Throws while the owner lives (flock is released when a process dies).
                    held = new FileStream(lockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
                }

                Directory.Delete(folder, recursive: true);
                deleted++;
                if (held is not null)
                {
                    File.Delete(lockPath);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Its run is still going, or it is not ours to delete.
            }
            finally
            {
                held?.Dispose();
            }
        }

        // Locks whose folder is gone (a cleanup killed between the two deletes).
        foreach (var lockPath in Directory.GetFiles(root, "*" + LockSuffix))
        {
            if (Directory.Exists(lockPath[..^LockSuffix.Length]))
            {
                continue;
            }

            try
            {
                using var held = new FileStream(lockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
                File.Delete(lockPath);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }

        DeleteIfEmpty(root);
        return deleted;
    }

    /// <summary>Deletes a folder if it is empty.</summary>
    public static void DeleteIfEmpty(string folder)
    {
        try
        {
            if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any())
            {
                Directory.Delete(folder);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Another run put something there meanwhile.
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            if (_lock is null)
            {
                return;
            }

            try
            {
                Directory.Delete(_folder!, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }

            File.Delete(_lock.Name);
            _lock.Dispose();
            _lock = null;
            DeleteIfEmpty(_root);
        }
    }
}
