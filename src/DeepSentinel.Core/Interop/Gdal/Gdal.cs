using System.Runtime.InteropServices;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;

namespace DeepSentinel.Core.Interop.Gdal;

/// <summary>GDAL pixel types (GDALDataType).</summary>
public enum RasterDataType
{
    /// <summary>Unknown.</summary>
    Unknown = 0,
    /// <summary>8-bit unsigned.</summary>
    Byte = 1,
    /// <summary>16-bit unsigned.</summary>
    UInt16 = 2,
    /// <summary>16-bit signed.</summary>
    Int16 = 3,
    /// <summary>32-bit unsigned.</summary>
    UInt32 = 4,
    /// <summary>32-bit signed.</summary>
    Int32 = 5,
    /// <summary>32-bit float.</summary>
    Float32 = 6,
    /// <summary>64-bit float.</summary>
    Float64 = 7,
}

/// <summary>Resampling for reads whose buffer differs from the window (GDALRIOResampleAlg).</summary>
public enum Resampling
{
    /// <summary>Nearest neighbour: categorical data (SCL, labels).</summary>
    Nearest = 0,
    /// <summary>Bilinear: continuous data.</summary>
    Bilinear = 1,
    /// <summary>Cubic convolution.</summary>
    Cubic = 2,
    /// <summary>Average of contributing pixels.</summary>
    Average = 5,
}

/// <summary>
/// Process-wide GDAL set-up and error handling. GDAL is loaded on first use from Debian's
/// libgdal.so.32; a missing library is a <see cref="ErrorIds.GdalUnavailable"/> error that says
/// what was tried and what to install.
/// </summary>
public static class Gdal
{
    private static readonly Lazy<string?> Initialization = new(Initialize, LazyThreadSafetyMode.ExecutionAndPublication);

    static Gdal() => NativeLibraries.Register(GdalNative.Library, "libgdal.so.32", "libgdal.so", "libgdal.dylib", "gdal.dll");

    /// <summary>The GDAL release in use, e.g. "3.6.2".</summary>
    public static string Version
    {
        get
        {
            EnsureInitialized();
            return Marshal.PtrToStringUTF8(GdalNative.GDALVersionInfo("RELEASE_NAME")) ?? "unknown";
        }
    }

    /// <summary>Loads and configures GDAL once; throws when it cannot be loaded.</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.GdalUnavailable"/>.</exception>
    public static void EnsureInitialized()
    {
        if (Initialization.Value is { } failure)
        {
            throw new DeepSentinelException(ErrorIds.GdalUnavailable, ErrorKind.ResourceUnavailable, $"GDAL could not be loaded ({failure}). On Debian/Ubuntu install it with: apt-get install libgdal32 (./build.sh does this).");
        }
    }

    private static string? Initialize()
    {
        if (NativeLibraries.TryLoad(GdalNative.Library, out var handle) is { } failure)
        {
            return failure;
        }

        GdalNative.GDALAllRegister();
        // GDAL's default handler prints to stderr; this one prints nothing (GDAL records the last
        // error before calling it, and every failing call turns that into an exception with the
        // message) and counts the HTTP requests /vsicurl/ reports in its VSICURL debug messages
        // (GdalNetworkStatistics).
        unsafe
        {
            GdalNative.CPLSetErrorHandler((nint)(delegate* unmanaged[Cdecl]<int, int, nint, void>)&GdalNetworkStatistics.OnMessage);
        }

        // Remote COGs: never list directories on open, retry transient HTTP errors, cache and
        // merge range requests. These are process-wide defaults a user may override with the
        // same variables in the environment.
        SetDefault("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR");
        SetDefault("GDAL_HTTP_MAX_RETRY", "5");
        SetDefault("GDAL_HTTP_RETRY_DELAY", "1");
        SetDefault("GDAL_HTTP_MERGE_CONSECUTIVE_RANGES", "YES");
        SetDefault("GDAL_HTTP_MULTIPLEX", "YES");
        SetDefault("GDAL_HTTP_TIMEOUT", "60");
        SetDefault("VSI_CACHE", "TRUE");
        SetDefault("CPL_VSIL_CURL_CACHE_SIZE", "134217728");
        SetDefault("GDAL_CACHEMAX", "256");
        // Count HTTP requests and bytes (GdalNetworkStatistics): GDAL's byte counters (read once,
        // so set before any read) and /vsicurl/'s debug messages, one per request (only that
        // category: CPLDebug drops the others before formatting them).
        SetDefault("CPL_VSIL_NETWORK_STATS_ENABLED", "YES");
        SetDefault("CPL_DEBUG", "VSICURL");
        return null;
    }

    private static void SetDefault(string key, string value)
    {
        if (Environment.GetEnvironmentVariable(key) is null)
        {
            GdalNative.CPLSetConfigOption(key, value);
        }
    }

    /// <summary>Sets a GDAL configuration option for the whole process (e.g. GDAL_HTTP_MAX_RETRY).</summary>
    public static void SetConfig(string key, string? value)
    {
        EnsureInitialized();
        GdalNative.CPLSetConfigOption(key, value);
    }

    /// <summary>Sets a GDAL configuration option for the calling thread only.</summary>
    public static void SetThreadConfig(string key, string? value)
    {
        EnsureInitialized();
        GdalNative.CPLSetThreadLocalConfigOption(key, value);
    }

    /// <summary>Clears the calling thread's last GDAL error.</summary>
    internal static void ResetError() => GdalNative.CPLErrorReset();

    /// <summary>The calling thread's last GDAL error message, redacted.</summary>
    internal static string LastError()
    {
        var message = Marshal.PtrToStringUTF8(GdalNative.CPLGetLastErrorMsg());
        return string.IsNullOrWhiteSpace(message) ? "no details from GDAL" : SecretRedactor.Redact(message.Trim());
    }

    /// <summary>An exception for a failed GDAL call, with GDAL's own message.</summary>
    internal static DeepSentinelException Failure(string errorId, ErrorKind kind, string what, object? target) =>
        new(errorId, kind, $"{what}: {LastError()}", target is string s ? SecretRedactor.Redact(s) : target);

    /// <summary>Opens a raster or vector dataset (<paramref name="kind"/>: OfRaster or OfVector), or throws <paramref name="errorId"/>.</summary>
    internal static DatasetHandle Open(string path, uint kind, string errorId, string what)
    {
        EnsureInitialized();
        ResetError();
        var handle = new DatasetHandle(GdalNative.GDALOpenEx(path, kind | GdalNative.OfVerboseError, 0, 0, 0));
        if (handle.IsInvalid)
        {
            handle.Dispose();
            throw Failure(errorId, ErrorKind.InvalidData, what, path);
        }

        return handle;
    }

    /// <summary>The GDALDataType for a buffer element type.</summary>
    internal static RasterDataType TypeOf<T>()
        where T : unmanaged =>
        typeof(T) == typeof(byte) ? RasterDataType.Byte
        : typeof(T) == typeof(ushort) ? RasterDataType.UInt16
        : typeof(T) == typeof(short) ? RasterDataType.Int16
        : typeof(T) == typeof(uint) ? RasterDataType.UInt32
        : typeof(T) == typeof(int) ? RasterDataType.Int32
        : typeof(T) == typeof(float) ? RasterDataType.Float32
        : typeof(T) == typeof(double) ? RasterDataType.Float64
        : throw new NotSupportedException($"No GDAL type for {typeof(T).Name}.");
}

/// <summary>A GDAL string list (char**), destroyed with CSLDestroy.</summary>
internal sealed class CslList : IDisposable
{
    public CslList(IEnumerable<string>? items = null)
    {
        foreach (var item in items ?? [])
        {
            Add(item);
        }
    }

    public nint Handle { get; private set; }

    public CslList Add(string item)
    {
        Handle = GdalNative.CSLAddString(Handle, item);
        return this;
    }

    public void Dispose()
    {
        if (Handle != 0)
        {
            GdalNative.CSLDestroy(Handle);
            Handle = 0;
        }
    }
}
