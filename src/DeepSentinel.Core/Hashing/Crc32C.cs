using System.Buffers.Binary;
using System.Runtime.Intrinsics.X86;

namespace DeepSentinel.Core.Hashing;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as Google Cloud Storage and TFRecord
/// framing use it. System.IO.Hashing is not available here. Uses the SSE4.2 CRC32 instruction
/// where the CPU has it, a slicing-by-8 table otherwise.
/// </summary>
public sealed class Crc32C
{
    private const uint Polynomial = 0x82F63B78u;
    private static readonly uint[] Table = BuildTable();
    private uint _state = ~0u;

    /// <summary>Adds data to the running checksum.</summary>
    public void Append(ReadOnlySpan<byte> data) => _state = Update(_state, data);

    /// <summary>The checksum of everything appended so far.</summary>
    public uint GetCurrentHashAsUInt32() => ~_state;

    /// <summary>The checksum in big-endian byte order (GCS's x-goog-hash crc32c is its base64).</summary>
    public byte[] GetCurrentHash()
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, GetCurrentHashAsUInt32());
        return bytes;
    }

    /// <summary>Starts again.</summary>
    public void Reset() => _state = ~0u;

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint HashToUInt32(ReadOnlySpan<byte> data) => ~Update(~0u, data);

    /// <summary>TFRecord's masked CRC: rotate right by 15 and add 0xa282ead8.</summary>
    public static uint Mask(uint crc) => unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);

    private static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        if (Sse42.X64.IsSupported)
        {
            ulong c = crc;
            while (data.Length >= 8)
            {
                c = Sse42.X64.Crc32(c, BinaryPrimitives.ReadUInt64LittleEndian(data));
                data = data[8..];
            }

            crc = (uint)c;
            foreach (var b in data)
            {
                crc = Sse42.Crc32(crc, b);
            }

            return crc;
        }

        while (data.Length >= 8)
        {
            var one = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ crc;
            var two = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            crc = Table[(7 * 256) + (one & 0xFF)] ^ Table[(6 * 256) + ((one >> 8) & 0xFF)] ^ Table[(5 * 256) + ((one >> 16) & 0xFF)] ^ Table[(4 * 256) + (one >> 24)]
                ^ Table[(3 * 256) + (two & 0xFF)] ^ Table[(2 * 256) + ((two >> 8) & 0xFF)] ^ Table[256 + ((two >> 16) & 0xFF)] ^ Table[two >> 24];
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            }

            table[i] = c;
        }

        for (var i = 0; i < 256; i++)
        {
            for (var slice = 1; slice < 8; slice++)
            {
                var previous = table[((slice - 1) * 256) + i];
                table[(slice * 256) + i] = (previous >> 8) ^ table[previous & 0xFF];
            }
        }

        return table;
    }

    /// <summary>The table-driven path, for tests that compare it with the hardware path.</summary>
    internal static uint HashWithTable(ReadOnlySpan<byte> data)
    {
        var crc = ~0u;
        foreach (var b in data)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }
}
