namespace DeepSentinel.Core.Storage;

/// <summary>Conveniences over <see cref="IObjectStore"/> that every store gets.</summary>
public static class ObjectStoreExtensions
{
    /// <summary>
    /// Reads a whole object with one request. This is how corpus patches are read from any store:
    /// fetch the bytes, then let GDAL decode them from memory (/vsimem/). Measured faster than GDAL
    /// reading from /vsiaz/ or /vsigs/ itself, which probes for sidecar files and reads in several
    /// ranges (README, "Corpus storage").
    /// </summary>
    public static async Task<byte[]> ReadAllBytesAsync(this IObjectStore store, string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        await using var stream = await store.OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
        return copy.ToArray();
    }

    /// <summary>Writes <paramref name="data"/> under <paramref name="key"/>.</summary>
    public static Task PutBytesAsync(this IObjectStore store, string key, ReadOnlyMemory<byte> data, PutOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store.PutAsync(key, new ReadOnlyMemoryStream(data), options, cancellationToken);
    }

    private sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> data) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(buffer.Length, data.Length - _position);
            data.Span.Slice(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>The bytes left in <paramref name="content"/>, when it can say (files, memory), else null.</summary>
    internal static long? RemainingLength(Stream content) =>
        content.CanSeek ? content.Length - content.Position : content is ReadOnlyMemoryStream memory ? memory.Length - memory.Position : null;

    /// <summary>Reads up to <paramref name="size"/> bytes (fewer only at the stream's end): one upload block or chunk.</summary>
    internal static async Task<byte[]> ReadUpToAsync(Stream content, int size, CancellationToken cancellationToken)
    {
        if (content.CanSeek)
        {
            // A file or memory stream says how much is left: a 4 KB sample.json needs no 8 MiB buffer.
            size = (int)Math.Clamp(content.Length - content.Position, 0, size);
        }

        var buffer = new byte[size];
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await content.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total == buffer.Length ? buffer : buffer[..total];
    }
}
