using System.Runtime.InteropServices;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;

namespace DeepSentinel.Core.Interop.Gdal;

/// <summary>
/// A GDAL raster dataset. Not thread-safe: use one per worker. Disposing closes it (and, for a
/// dataset being written, flushes it).
/// </summary>
public sealed class GdalDataset : IDisposable
{
    private readonly DatasetHandle _handle;

    private GdalDataset(DatasetHandle handle, string name)
    {
        _handle = handle;
        Name = name;
    }

    /// <summary>What the dataset was opened or created as. May hold a signed URL: show it only through ToString.</summary>
    public string Name { get; }

    /// <summary>Width in pixels.</summary>
    public int Width => GdalNative.GDALGetRasterXSize(Handle);

    /// <summary>Height in pixels.</summary>
    public int Height => GdalNative.GDALGetRasterYSize(Handle);

    /// <summary>Number of bands.</summary>
    public int BandCount => GdalNative.GDALGetRasterCount(Handle);

    internal nint Handle => _handle.IsClosed ? throw new ObjectDisposedException(nameof(GdalDataset)) : _handle.DangerousGetHandle();

    /// <summary>Opens a raster (a path, a /vsicurl/ URL ...).</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.RasterUnreadable"/>.</exception>
    public static GdalDataset Open(string path)
    {
        var handle = Gdal.Open(path, GdalNative.OfRaster, ErrorIds.RasterUnreadable, $"Cannot open raster '{SecretRedactor.Redact(path)}'");
        return new GdalDataset(handle, path);
    }

    /// <summary>
    /// Opens a raster held in memory (e.g. a patch fetched whole from a cloud store) through
    /// GDAL's /vsimem/. The bytes stay pinned until the returned dataset is disposed.
    /// </summary>
    public static GdalDataset OpenBytes(byte[] bytes, string name)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        Gdal.EnsureInitialized();
        var path = "/vsimem/deepsentinel/" + Guid.NewGuid().ToString("N") + "/" + Path.GetFileName(name);
        var pin = System.Runtime.InteropServices.GCHandle.Alloc(bytes, System.Runtime.InteropServices.GCHandleType.Pinned);
        try
        {
            var file = GdalNative.VSIFileFromMemBuffer(path, pin.AddrOfPinnedObject(), (ulong)bytes.Length, 0);
            if (file == 0)
            {
                throw Gdal.Failure(ErrorIds.RasterUnreadable, ErrorKind.InvalidData, $"Cannot map '{name}' into memory", name);
            }

            GdalNative.VSIFCloseL(file);
            var dataset = Open(path);
            dataset._memoryFile = (path, pin);
            return dataset;
        }
        catch
        {
            GdalNative.VSIUnlink(path);
            pin.Free();
            throw;
        }
    }

    private (string Path, System.Runtime.InteropServices.GCHandle Pin)? _memoryFile;

    /// <summary>Creates an in-memory dataset.</summary>
    public static GdalDataset CreateInMemory(int width, int height, int bands, RasterDataType type)
    {
        Gdal.EnsureInitialized();
        var driver = Driver("MEM");
        Gdal.ResetError();
        var handle = new DatasetHandle(GdalNative.GDALCreate(driver, string.Empty, width, height, bands, (int)type, 0));
        if (handle.IsInvalid)
        {
            throw Gdal.Failure(ErrorIds.RasterWriteFailed, ErrorKind.WriteError, "Cannot create an in-memory raster", null);
        }

        return new GdalDataset(handle, "MEM");
    }

    /// <summary>Creates a dataset with a driver that supports Create (e.g. GTiff).</summary>
    public static GdalDataset Create(string driverName, string path, int width, int height, int bands, RasterDataType type, IEnumerable<string>? options = null)
    {
        Gdal.EnsureInitialized();
        var driver = Driver(driverName);
        using var list = new CslList(options);
        Gdal.ResetError();
        var handle = new DatasetHandle(GdalNative.GDALCreate(driver, path, width, height, bands, (int)type, list.Handle));
        if (handle.IsInvalid)
        {
            throw Gdal.Failure(ErrorIds.RasterWriteFailed, ErrorKind.WriteError, $"Cannot create '{path}' with {driverName}", path);
        }

        return new GdalDataset(handle, path);
    }

    /// <summary>Writes a copy with a create-copy driver (COG, PNG, GTiff) and closes the copy.</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.RasterWriteFailed"/>.</exception>
    public void CopyTo(string driverName, string path, IEnumerable<string>? options = null)
    {
        var driver = Driver(driverName);
        using var list = new CslList(options);
        Gdal.ResetError();
        var copy = GdalNative.GDALCreateCopy(driver, path, Handle, 0, list.Handle, 0, 0);
        if (copy == 0)
        {
            throw Gdal.Failure(ErrorIds.RasterWriteFailed, ErrorKind.WriteError, $"Cannot write '{path}' as {driverName}", path);
        }

        GdalNative.GDALClose(copy);
        // GDALClose returns void in 3.6: a failed final flush shows only as a recorded error.
        if (GdalNative.CPLGetLastErrorType() >= 3)
        {
            throw Gdal.Failure(ErrorIds.RasterWriteFailed, ErrorKind.WriteError, $"Writing '{path}' as {driverName} failed", path);
        }
    }

    /// <summary>The affine geotransform (origin x, pixel width, row rotation, origin y, column rotation, pixel height).</summary>
    public unsafe double[] GeoTransform
    {
        get
        {
            var transform = new double[6];
            fixed (double* p = transform)
            {
                if (GdalNative.GDALGetGeoTransform(Handle, p) != 0)
                {
                    throw new DeepSentinelException(ErrorIds.RasterUnreadable, ErrorKind.InvalidData, $"The raster '{this}' has no geotransform.", ToString());
                }
            }

            return transform;
        }

        set
        {
            ArgumentNullException.ThrowIfNull(value);
            fixed (double* p = value)
            {
                Check(GdalNative.GDALSetGeoTransform(Handle, p), "set the geotransform");
            }
        }
    }

    /// <summary>The coordinate reference system as WKT ("" when none).</summary>
    public string ProjectionWkt
    {
        get => Marshal.PtrToStringUTF8(GdalNative.GDALGetProjectionRef(Handle)) ?? string.Empty;
        set => Check(GdalNative.GDALSetProjection(Handle, value), "set the projection");
    }

    /// <summary>The pixel type of a band (1-based).</summary>
    public RasterDataType DataType(int band) => (RasterDataType)GdalNative.GDALGetRasterDataType(Band(band));

    /// <summary>The nodata value of a band, or null.</summary>
    public unsafe double? NoData(int band)
    {
        int success;
        var value = GdalNative.GDALGetRasterNoDataValue(Band(band), &success);
        return success != 0 ? value : null;
    }

    /// <summary>Sets the nodata value of a band.</summary>
    public void SetNoData(int band, double value) => Check(GdalNative.GDALSetRasterNoDataValue(Band(band), value), "set nodata");

    /// <summary>Sets a band's description (gdalinfo and rasterio show it as the band's name).</summary>
    public void SetDescription(int band, string description) => GdalNative.GDALSetDescription(Band(band), description);

    /// <summary>A band's description.</summary>
    public string Description(int band) => Marshal.PtrToStringUTF8(GdalNative.GDALGetDescription(Band(band))) ?? string.Empty;

    /// <summary>Sets a metadata item on the dataset (band 0) or a band.</summary>
    public void SetMetadata(string name, string value, int band = 0, string? domain = null) =>
        Check(GdalNative.GDALSetMetadataItem(band == 0 ? Handle : Band(band), name, value, domain), "set metadata");

    /// <summary>Reads a metadata item of the dataset (band 0) or a band.</summary>
    public string? Metadata(string name, int band = 0, string? domain = null) =>
        Marshal.PtrToStringUTF8(GdalNative.GDALGetMetadataItem(band == 0 ? Handle : Band(band), name, domain));

    /// <summary>
    /// Reads a window of a band into <paramref name="buffer"/> (row-major, bufferWidth x
    /// bufferHeight). The window may be fractional; when buffer and window sizes differ GDAL
    /// resamples with <paramref name="resampling"/>.
    /// </summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.RasterUnreadable"/>.</exception>
    public unsafe void Read<T>(int band, double xOff, double yOff, double xSize, double ySize, Span<T> buffer, int bufferWidth, int bufferHeight, Resampling resampling = Resampling.Nearest)
        where T : unmanaged
    {
        if (buffer.Length < (long)bufferWidth * bufferHeight)
        {
            throw new ArgumentException($"The buffer holds {buffer.Length} values; {bufferWidth} x {bufferHeight} are needed.", nameof(buffer));
        }

        const double Epsilon = 1e-6;
        var x0 = (int)Math.Floor(xOff + Epsilon);
        var y0 = (int)Math.Floor(yOff + Epsilon);
        var x1 = (int)Math.Ceiling(xOff + xSize - Epsilon);
        var y1 = (int)Math.Ceiling(yOff + ySize - Epsilon);
        if (x0 < 0 || y0 < 0 || x1 > Width || y1 > Height || x1 <= x0 || y1 <= y0)
        {
            throw new DeepSentinelException(ErrorIds.RasterUnreadable, ErrorKind.InvalidArgument, $"The window ({xOff}, {yOff}, {xSize} x {ySize}) lies outside '{this}' ({Width} x {Height}).", ToString());
        }

        var fractional = Math.Abs(xOff - x0) > Epsilon || Math.Abs(yOff - y0) > Epsilon || Math.Abs(xSize - (x1 - x0)) > Epsilon || Math.Abs(ySize - (y1 - y0)) > Epsilon;
        var extra = new GdalNative.RasterIOExtraArg
        {
            Version = 1,
            ResampleAlg = (int)resampling,
            FloatingPointWindowValidity = fractional ? 1 : 0,
            XOff = xOff,
            YOff = yOff,
            XSize = xSize,
            YSize = ySize,
        };
        var bandHandle = Band(band);
        Gdal.ResetError();
        fixed (T* p = buffer)
        {
            var status = GdalNative.GDALRasterIOEx(bandHandle, 0, x0, y0, x1 - x0, y1 - y0, p, bufferWidth, bufferHeight, (int)Gdal.TypeOf<T>(), 0, 0, &extra);
            if (status >= 3)
            {
                throw Gdal.Failure(ErrorIds.RasterUnreadable, ErrorKind.InvalidData, $"Reading band {band} of '{this}' failed", ToString());
            }
        }
    }

    /// <summary>Writes a whole band from a row-major buffer of Width x Height values.</summary>
    public unsafe void Write<T>(int band, ReadOnlySpan<T> buffer)
        where T : unmanaged
    {
        var width = Width;
        var height = Height;
        if (buffer.Length < (long)width * height)
        {
            throw new ArgumentException($"The buffer holds {buffer.Length} values; {width} x {height} are needed.", nameof(buffer));
        }

        var bandHandle = Band(band);
        var extra = new GdalNative.RasterIOExtraArg { Version = 1 };
        Gdal.ResetError();
        fixed (T* p = buffer)
        {
            if (GdalNative.GDALRasterIOEx(bandHandle, 1, 0, 0, width, height, p, width, height, (int)Gdal.TypeOf<T>(), 0, 0, &extra) >= 3)
            {
                throw Gdal.Failure(ErrorIds.RasterWriteFailed, ErrorKind.WriteError, $"Writing band {band} of '{this}' failed", ToString());
            }
        }
    }

    /// <summary>
    /// Warps <paramref name="source"/> into this dataset, whose grid and CRS must be set, with
    /// gdalwarp options such as "-r", "bilinear". Only the source blocks under this grid are read.
    /// </summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.RasterUnreadable"/>.</exception>
    public unsafe void WarpFrom(GdalDataset source, IEnumerable<string> options)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        var optionList = options.ToList();
        using var argv = new CslList(optionList);
        Gdal.ResetError();
        var warpOptions = GdalNative.GDALWarpAppOptionsNew(argv.Handle, 0);
        if (warpOptions == 0)
        {
            throw Gdal.Failure(ErrorIds.RasterUnreadable, ErrorKind.InvalidArgument, "Invalid warp options", string.Join(' ', optionList));
        }

        try
        {
            var sources = stackalloc nint[1];
            sources[0] = source.Handle;
            int usageError;
            var result = GdalNative.GDALWarp(0, Handle, 1, sources, warpOptions, &usageError);
            if (result == 0 || usageError != 0 || GdalNative.CPLGetLastErrorType() >= 3)
            {
                throw Gdal.Failure(ErrorIds.RasterUnreadable, ErrorKind.InvalidData, $"Warping '{source}' failed", source.ToString());
            }
        }
        finally
        {
            GdalNative.GDALWarpAppOptionsFree(warpOptions);
        }
    }

    /// <summary>
    /// An in-memory VRT with one band per source (gdalbuildvrt -separate), for sources on the same
    /// grid (e.g. Sentinel-1 VV and VH files), so they can be warped in one pass. The sources must
    /// stay open while the VRT is used.
    /// </summary>
    public static unsafe GdalDataset Stack(IReadOnlyList<GdalDataset> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        Gdal.EnsureInitialized();
        using var argv = new CslList(["-separate"]);
        var options = GdalNative.GDALBuildVRTOptionsNew(argv.Handle, 0);
        try
        {
            var handles = stackalloc nint[sources.Count];
            for (var i = 0; i < sources.Count; i++)
            {
                handles[i] = sources[i].Handle;
            }

            int usageError;
            Gdal.ResetError();
            var vrt = new DatasetHandle(GdalNative.GDALBuildVRT(string.Empty, sources.Count, handles, 0, options, &usageError));
            if (vrt.IsInvalid || usageError != 0)
            {
                throw Gdal.Failure(ErrorIds.RasterUnreadable, ErrorKind.InvalidData, $"Cannot stack {string.Join(", ", sources)}", sources[0].ToString());
            }

            return new GdalDataset(vrt, "VRT(" + string.Join(", ", sources.Select(s => s.Name)) + ")");
        }
        finally
        {
            GdalNative.GDALBuildVRTOptionsFree(options);
        }
    }

    /// <summary>Flushes pending writes.</summary>
    public void Flush() => GdalNative.GDALFlushCache(Handle);

    /// <inheritdoc />
    public void Dispose()
    {
        _handle.Dispose();
        if (_memoryFile is { } memory)
        {
            _memoryFile = null;
            GdalNative.VSIUnlink(memory.Path);
            memory.Pin.Free();
        }
    }

    /// <inheritdoc />
    public override string ToString() => SecretRedactor.Redact(Name);

    private nint Band(int band)
    {
        var count = BandCount;
        if (band < 1 || band > count)
        {
            throw new ArgumentOutOfRangeException(nameof(band), band, $"'{this}' has {count} band(s).");
        }

        return GdalNative.GDALGetRasterBand(Handle, band);
    }

    private static nint Driver(string name)
    {
        var driver = GdalNative.GDALGetDriverByName(name);
        return driver != 0 ? driver : throw new DeepSentinelException(ErrorIds.GdalUnavailable, ErrorKind.ResourceUnavailable, $"The GDAL driver '{name}' is not available in this GDAL build.", name);
    }

    private void Check(int status, string what)
    {
        if (status >= 3)
        {
            throw Gdal.Failure(ErrorIds.RasterWriteFailed, ErrorKind.WriteError, $"Could not {what} on '{this}'", ToString());
        }
    }
}
