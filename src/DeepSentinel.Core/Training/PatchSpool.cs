using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using DeepSentinel.Core.Errors;

namespace DeepSentinel.Core.Training;

/// <summary>
/// Pipeline input for training: patches arrive once, but training reads them once per epoch.
/// They are appended to a temporary file and replayed from it, so memory stays flat whatever the
/// corpus size. The file is deleted on Dispose.
/// </summary>
public sealed class PatchSpool : IPatchSource, IDisposable
{
    private readonly string _path;
    private readonly FileStream _stream;
    private readonly BinaryWriter _writer;
    private readonly SemaphoreSlim _lock = new(1, 1);

    /// <summary>Creates an empty spool in <paramref name="folder"/> (the system temp folder by default).</summary>
    public PatchSpool(string description, string? folder = null)
    {
        Description = description;
        var directory = folder ?? Path.GetTempPath();
        Directory.CreateDirectory(directory);
        _path = Path.Combine(directory, $"deepsentinel-spool-{Guid.NewGuid():N}.bin");
        _stream = new FileStream(_path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, 1 << 16, FileOptions.DeleteOnClose);
        _writer = new BinaryWriter(_stream);
    }

    /// <inheritdoc />
    public string Description { get; }

    /// <summary>Patches added so far.</summary>
    public int Count { get; private set; }

    /// <summary>Appends a patch.</summary>
    public async Task AddAsync(TrainingPatch patch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(patch);
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _stream.Seek(0, SeekOrigin.End);
            _writer.Write(patch.SampleId);
            _writer.Write(patch.Height);
            _writer.Write(patch.Width);
            WriteArray(patch.S2);
            WriteArray(patch.S1);
            _writer.Write(patch.Location is not null);
            if (patch.Location is { } location)
            {
                _writer.Write(location.X);
                _writer.Write(location.Y);
                _writer.Write(location.Crs);
            }

            _writer.Flush();
            Count++;
        }
        catch (IOException ex)
        {
            throw new DeepSentinelException(ErrorIds.ModelWriteFailed, ErrorKind.WriteError, $"Cannot spool patch '{patch.SampleId}' to {_path}: {ex.Message}", _path, ex);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<TrainingPatch> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var reader = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        using var binary = new BinaryReader(reader);
        for (var i = 0; i < Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var id = binary.ReadString();
            var height = binary.ReadInt32();
            var width = binary.ReadInt32();
            var s2 = ReadArray(binary);
            var s1 = ReadArray(binary);
            PatchLocation? location = binary.ReadBoolean() ? new PatchLocation(binary.ReadDouble(), binary.ReadDouble(), binary.ReadString()) : null;
            yield return new TrainingPatch(id, height, width, s2, s1, location);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _writer.Dispose();
        _stream.Dispose();
        _lock.Dispose();
    }

    private void WriteArray(float[]? data)
    {
        _writer.Write(data?.Length ?? -1);
        if (data is not null)
        {
            _writer.Write(MemoryMarshal.AsBytes(data.AsSpan()));
        }
    }

    private static float[]? ReadArray(BinaryReader reader)
    {
        var length = reader.ReadInt32();
        if (length < 0)
        {
            return null;
        }

        var data = new float[length];
        reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(data.AsSpan()));
        return data;
    }
}
