using System.Runtime.InteropServices;
using System.Text.Json;

namespace DeepSentinel.Core.Interop.Gdal;

/// <summary>HTTP requests GDAL sent (GET and HEAD, /vsicurl/ and the cloud file systems) and the bytes it downloaded.</summary>
/// <param name="Gets">GET requests (each one range, or a whole small file).</param>
/// <param name="Heads">HEAD requests (file size probes).</param>
/// <param name="Bytes">Bytes downloaded.</param>
public readonly record struct NetworkCounts(long Gets, long Heads, long Bytes)
{
    /// <summary>All requests.</summary>
    public long Requests => Gets + Heads;

    /// <summary>What was counted between two readings.</summary>
    public static NetworkCounts operator -(NetworkCounts later, NetworkCounts earlier) =>
        new(later.Gets - earlier.Gets, later.Heads - earlier.Heads, later.Bytes - earlier.Bytes);

    /// <summary>Two countings together.</summary>
    public static NetworkCounts operator +(NetworkCounts a, NetworkCounts b) =>
        new(a.Gets + b.Gets, a.Heads + b.Heads, a.Bytes + b.Bytes);
}

/// <summary>
/// HTTP requests and bytes of GDAL's remote reads, totalled for the process.
/// <para>Requests are counted from /vsicurl/'s own debug messages (category VSICURL, which
/// start-up enables with CPL_DEBUG=VSICURL and the error handler receives): one "Downloading
/// &lt;range&gt;" per GET and one "GetFileSize(...)" per HEAD. GDAL's network statistics
/// (VSINetworkStatsGetAsSerializedJSON, CPL_VSIL_NETWORK_STATS_ENABLED=YES) count a multi-range
/// read (the tiles of one window, fetched in parallel) as one GET however many requests it sends,
/// so only their downloaded bytes are used. GDAL keeps those per file; each reading adds them to
/// the totals here and resets GDAL's, so its table never grows with the number of files a long
/// run touches, and its per-file part, which names the URLs (signed ones too), is dropped at once.</para>
/// <para>The totals are process-wide: two runs in one process at the same time count each other's
/// requests. Bytes GDAL logs between a reading and its reset (microseconds) are lost. With
/// CPL_DEBUG set otherwise in the environment (OFF), requests are not counted.</para>
/// </summary>
public static class GdalNetworkStatistics
{
    private static readonly object Gate = new();
    private static long _gets;
    private static long _heads;
    private static long _bytes;

    /// <summary>Everything GDAL counted in this process so far.</summary>
    public static NetworkCounts Read()
    {
        Gdal.EnsureInitialized();
        lock (Gate)
        {
            var json = GdalNative.VSINetworkStatsGetAsSerializedJSON(0);
            if (json != 0)
            {
                try
                {
                    _bytes += Parse(Marshal.PtrToStringUTF8(json)).Bytes;
                }
                finally
                {
                    GdalNative.VSIFree(json);
                }

                GdalNative.VSINetworkStatsReset();
            }

            return new NetworkCounts(Interlocked.Read(ref _gets), Interlocked.Read(ref _heads), _bytes);
        }
    }

    /// <summary>GDAL's error handler (CPLErrorHandler): prints nothing, counts /vsicurl/'s requests.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(System.Runtime.CompilerServices.CallConvCdecl)])]
    internal static void OnMessage(int errorClass, int errorNumber, nint message)
    {
        // CE_Debug = 1 (CE_None 0, CE_Warning 2, CE_Failure 3, CE_Fatal 4). The failures need
        // nothing here: GDAL has recorded them as the thread's last error already.
        if (errorClass != 1 || message == 0)
        {
            return;
        }

        Count(Marshal.PtrToStringUTF8(message));
    }

    /// <summary>Counts one /vsicurl/ debug message: a GET for "Downloading", a HEAD for "GetFileSize(".</summary>
    internal static void Count(string? message)
    {
        if (message is null)
        {
            return;
        }

        // "VSICURL: Downloading 0-16383 (url)...", also with CPL_TIMESTAMP's "[time] " first.
        var at = message.IndexOf("VSICURL: ", StringComparison.Ordinal);
        if (at < 0)
        {
            return;
        }

        var text = message.AsSpan(at + 9);
        if (text.StartsWith("Downloading ", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _gets);
        }
        else if (text.StartsWith("GetFileSize(", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _heads);
        }
    }

    /// <summary>The per-method totals of GDAL's JSON (top-level "methods": GET/HEAD count, downloaded_bytes).</summary>
    internal static NetworkCounts Parse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return default;
        }

        using var document = JsonDocument.Parse(json);
        if (!document.RootElement.TryGetProperty("methods", out var methods) || methods.ValueKind != JsonValueKind.Object)
        {
            return default;
        }

        long gets = 0, heads = 0, bytes = 0;
        foreach (var method in methods.EnumerateObject())
        {
            var count = method.Value.TryGetProperty("count", out var c) && c.TryGetInt64(out var n) ? n : 0;
            bytes += method.Value.TryGetProperty("downloaded_bytes", out var b) && b.TryGetInt64(out var m) ? m : 0;
            if (method.Name.Equals("HEAD", StringComparison.OrdinalIgnoreCase))
            {
                heads += count;
            }
            else
            {
                gets += count;
            }
        }

        return new NetworkCounts(gets, heads, bytes);
    }
}
