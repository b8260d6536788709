using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Hashing;

namespace DeepSentinel.Core.Training;

/// <summary>
/// Writes TensorBoard event files: TFRecord framing (length, masked CRC-32C of the length, data,
/// masked CRC-32C of the data) around tensorflow.Event protos whose Summary holds simple_value
/// scalars. The few proto fields are encoded by hand:
/// Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
/// Summary { repeated Value value = 1; }  Value { string tag = 1; float simple_value = 2; }.
/// </summary>
internal sealed class TensorBoardEventWriter : IDisposable
{
    private readonly FileStream _stream;
    private readonly TimeProvider _time;

    public TensorBoardEventWriter(string folder, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        var now = _time.GetUtcNow();
        // The name TensorBoard globs for; a counter suffix keeps two runs in one second apart.
        var baseName = string.Create(CultureInfo.InvariantCulture, $"events.out.tfevents.{now.ToUnixTimeSeconds()}.{Environment.MachineName}");
        Path = System.IO.Path.Combine(folder, baseName);
        for (var i = 1; File.Exists(Path); i++)
        {
            Path = System.IO.Path.Combine(folder, baseName + "." + i.ToString(CultureInfo.InvariantCulture));
        }

        try
        {
            _stream = new FileStream(Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        }
        catch (IOException ex)
        {
            throw new DeepSentinelException(ErrorIds.ModelWriteFailed, ErrorKind.WriteError, $"Cannot create the event file {Path}: {ex.Message}", Path, ex);
        }

        var header = new List<byte>();
        WireDouble(header, 1, WallTime());
        WireBytes(header, 3, Encoding.UTF8.GetBytes("brain.Event:2"));
        WriteRecord(header.ToArray());
    }

    /// <summary>The event file.</summary>
    public string Path { get; }

    /// <summary>Writes scalars for one step and flushes, so TensorBoard sees them live.</summary>
    public void WriteScalars(long step, IEnumerable<(string Tag, float Value)> scalars)
    {
        var summary = new List<byte>();
        Span<byte> bits = stackalloc byte[4];
        foreach (var (tag, value) in scalars)
        {
            var item = new List<byte>();
            WireBytes(item, 1, Encoding.UTF8.GetBytes(tag));
            item.Add((2 << 3) | 5);
            BinaryPrimitives.WriteSingleLittleEndian(bits, value);
            item.AddRange(bits.ToArray());
            WireBytes(summary, 1, item.ToArray());
        }

        var evt = new List<byte>();
        WireDouble(evt, 1, WallTime());
        evt.Add(2 << 3);
        WriteVarint(evt, (ulong)step);
        WireBytes(evt, 5, summary.ToArray());
        WriteRecord(evt.ToArray());
    }

    public void Dispose() => _stream.Dispose();

    private double WallTime() => _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

    private void WriteRecord(byte[] data)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Crc32C.Mask(Crc32C.HashToUInt32(header[..8])));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, Crc32C.Mask(Crc32C.HashToUInt32(data)));
        try
        {
            _stream.Write(header);
            _stream.Write(data);
            _stream.Write(footer);
            _stream.Flush();
        }
        catch (IOException ex)
        {
            throw new DeepSentinelException(ErrorIds.ModelWriteFailed, ErrorKind.WriteError, $"Cannot write the event file {Path}: {ex.Message}", Path, ex);
        }
    }

    private static void WireDouble(List<byte> target, int field, double value)
    {
        target.Add((byte)((field << 3) | 1));
        Span<byte> bits = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(bits, value);
        target.AddRange(bits.ToArray());
    }

    private static void WireBytes(List<byte> target, int field, byte[] value)
    {
        target.Add((byte)((field << 3) | 2));
        WriteVarint(target, (ulong)value.Length);
        target.AddRange(value);
    }

    private static void WriteVarint(List<byte> target, ulong value)
    {
        while (value >= 0x80)
        {
            target.Add((byte)(value | 0x80));
            value >>= 7;
        }

        target.Add((byte)value);
    }
}

/// <summary>metrics.csv: one row per logged step, appended across runs (invariant culture).</summary>
internal sealed class MetricsCsvWriter : IDisposable
{
    public const string Header = "step,epoch,loss,learning_rate,images_per_second,elapsed_seconds,utc";
    private readonly StreamWriter _writer;

    public MetricsCsvWriter(string path)
    {
        try
        {
            var isNew = !File.Exists(path) || new FileInfo(path).Length == 0;
            _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
            if (isNew)
            {
                _writer.WriteLine(Header);
            }
        }
        catch (IOException ex)
        {
            throw new DeepSentinelException(ErrorIds.ModelWriteFailed, ErrorKind.WriteError, $"Cannot write {path}: {ex.Message}", path, ex);
        }
    }

    public void Write(long step, int epoch, double loss, double learningRate, double imagesPerSecond, double elapsedSeconds, DateTimeOffset utc)
    {
        _writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{step},{epoch},{loss:R},{learningRate:R},{imagesPerSecond:0.###},{elapsedSeconds:0.###},{utc:yyyy-MM-ddTHH:mm:ss.fffZ}"));
        _writer.Flush();
    }

    public void Dispose() => _writer.Dispose();
}
