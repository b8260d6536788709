using DeepSentinel.Core.Storage;

namespace DeepSentinel.Core.Tests.Storage;

/// <summary>Deterministic test bytes and small helpers shared by the store tests.</summary>
public static class StoreTestData
{
    public static byte[] Bytes(int length, int seed = 1)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    public static Task<byte[]> ReadAllAsync(this IObjectStore store, string key) => store.ReadAllBytesAsync(key, CancellationToken.None);

    public static Task PutBytesAsync(this IObjectStore store, string key, byte[] data, bool createOnly = false) =>
        store.PutBytesAsync(key, data, createOnly ? PutOptions.CreateOnly : PutOptions.Overwrite, CancellationToken.None);

    public static async Task<List<ObjectInfo>> ListAllAsync(this IObjectStore store, string prefix = "")
    {
        var result = new List<ObjectInfo>();
        await foreach (var info in store.ListAsync(prefix, CancellationToken.None))
        {
            result.Add(info);
        }

        return result;
    }

    /// <summary>A stream that yields its data in small reads, as network and pipeline streams do.</summary>
    public sealed class TrickleStream(byte[] data, int maxRead) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, maxRead));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, maxRead)], cancellationToken);
    }
}
