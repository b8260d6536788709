using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using DeepSentinel.Core.Errors;

namespace DeepSentinel.Core.Embeddings;

/// <summary>
/// Streams float32 rows into a NumPy .npy file (format 1.0, little-endian, C order). The row
/// count is unknown until the end, so the header has a fixed 128-byte slot rewritten on Dispose.
/// </summary>
internal sealed class NpyWriter : IDisposable
{
    private const int HeaderBytes = 128;
    private readonly FileStream _stream;
    private readonly int[] _rowShape;
    private readonly long _rowLength;
    private long _rows;

    public NpyWriter(string path, params int[] rowShape)
    {
        Path = path;
        _rowShape = rowShape;
        _rowLength = rowShape.Aggregate(1L, (a, b) => a * b);
        try
        {
            _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DeepSentinelException(ErrorIds.ModelWriteFailed, ErrorKind.WriteError, $"Cannot create {path}: {ex.Message}", path, ex);
        }

        WriteHeader();
    }

    public string Path { get; }

    public long Rows => _rows;

    public IReadOnlyList<int> RowShape => _rowShape;

    public void WriteRows(ReadOnlySpan<float> values)
    {
        if (values.Length % _rowLength != 0)
        {
            throw new ArgumentException("Values are not a whole number of rows.", nameof(values));
        }

        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("NPY output is written little-endian only.");
        }

        _stream.Write(MemoryMarshal.AsBytes(values));
        _rows += values.Length / _rowLength;
    }

    public void Dispose()
    {
        _stream.Seek(0, SeekOrigin.Begin);
        WriteHeader();
        _stream.Dispose();
    }

    private void WriteHeader()
    {
        var shape = string.Join(", ", new[] { _rows }.Concat(_rowShape.Select(d => (long)d)).Select(d => d.ToString(CultureInfo.InvariantCulture)));
        var dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({shape}), }}";
        var header = new byte[HeaderBytes];
        header[0] = 0x93;
        "NUMPY"u8.CopyTo(header.AsSpan(1));
        header[6] = 1;
        header[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), HeaderBytes - 10);
        var text = Encoding.ASCII.GetBytes(dict.PadRight(HeaderBytes - 10 - 1) + "\n");
        text.CopyTo(header, 10);
        _stream.Write(header);
    }
}
