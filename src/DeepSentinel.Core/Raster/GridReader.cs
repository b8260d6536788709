using System.Globalization;
using DeepSentinel.Core.Interop.Gdal;

namespace DeepSentinel.Core.Raster;

/// <summary>How a band was brought onto the patch grid.</summary>
public enum ReadMethod
{
    /// <summary>A whole-pixel window at the source resolution: no resampling.</summary>
    Window,
    /// <summary>A window read resampled to the patch resolution (coarser bands, fractional windows).</summary>
    ResampledWindow,
    /// <summary>A reprojection (different CRS or a rotated source).</summary>
    Warp,
}

/// <summary>
/// Reads one band of a source raster onto a <see cref="PatchGrid"/>. Where the source is
/// north-up in the grid's CRS (Sentinel-2 on its own tile grid), it reads a window, which costs a
/// fraction of a warp; otherwise (Sentinel-1 on its own grid) it warps only the part under the
/// patch.
/// </summary>
public static class GridReader
{
    /// <summary>Reads <paramref name="band"/> of <paramref name="source"/> onto <paramref name="grid"/>.</summary>
    /// <param name="source">The open source raster.</param>
    /// <param name="sourceEpsg">The source CRS (from the dataset or the STAC item).</param>
    /// <param name="band">1-based band.</param>
    /// <param name="grid">The patch grid.</param>
    /// <param name="buffer">Width x Height values, row-major.</param>
    /// <param name="resampling">Nearest for categories, bilinear for measurements.</param>
    /// <param name="noData">Value for pixels outside the source (warps only).</param>
    /// <returns>How the band was read.</returns>
    /// <exception cref="Errors.DeepSentinelException">RasterUnreadable when the patch is not inside the source or a read fails.</exception>
    public static ReadMethod Read<T>(GdalDataset source, int sourceEpsg, int band, PatchGrid grid, Span<T> buffer, Resampling resampling, double noData)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(grid);
        if (sourceEpsg == grid.Epsg && grid.WindowIn(source.GeoTransform) is { } w)
        {
            var whole = IsWhole(w.XOff) && IsWhole(w.YOff) && IsWhole(w.XSize) && IsWhole(w.YSize);
            var sameResolution = Math.Abs(w.XSize - grid.Width) < 1e-6 && Math.Abs(w.YSize - grid.Height) < 1e-6;
            source.Read(band, w.XOff, w.YOff, w.XSize, w.YSize, buffer, grid.Width, grid.Height, resampling);
            return whole && sameResolution ? ReadMethod.Window : ReadMethod.ResampledWindow;
        }

        Warp(source, band, grid, buffer, resampling, noData);
        return ReadMethod.Warp;
    }

    /// <summary>
    /// Reads every band of <paramref name="source"/> onto the grid into <paramref name="buffers"/>
    /// (one per band): one warp for all bands where a warp is needed.
    /// </summary>
    public static ReadMethod ReadAll<T>(GdalDataset source, int sourceEpsg, PatchGrid grid, T[][] buffers, Resampling resampling, double noData)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentNullException.ThrowIfNull(buffers);
        if (buffers.Length != source.BandCount)
        {
            throw new ArgumentException($"{buffers.Length} buffers for {source.BandCount} bands.", nameof(buffers));
        }

        if (sourceEpsg == grid.Epsg && grid.WindowIn(source.GeoTransform) is not null)
        {
            var method = ReadMethod.Window;
            for (var b = 0; b < buffers.Length; b++)
            {
                method = Read<T>(source, sourceEpsg, b + 1, grid, buffers[b], resampling, noData);
            }

            return method;
        }

        using var target = WarpToGrid<T>(source, grid, resampling, noData);
        for (var b = 0; b < buffers.Length; b++)
        {
            target.Read<T>(b + 1, 0, 0, grid.Width, grid.Height, buffers[b], grid.Width, grid.Height);
        }

        return ReadMethod.Warp;
    }

    private static void Warp<T>(GdalDataset source, int band, PatchGrid grid, Span<T> buffer, Resampling resampling, double noData)
        where T : unmanaged
    {
        using var target = WarpToGrid<T>(source, grid, resampling, noData);
        target.Read(band, 0, 0, grid.Width, grid.Height, buffer, grid.Width, grid.Height);
    }

    private static GdalDataset WarpToGrid<T>(GdalDataset source, PatchGrid grid, Resampling resampling, double noData)
        where T : unmanaged
    {
        // GDAL 3.6's warper has no band selection (-b came in 3.7): a multi-band source is warped
        // whole and the band picked afterwards. Sentinel assets are single-band files.
        var bands = source.BandCount;
        var target = GdalDataset.CreateInMemory(grid.Width, grid.Height, bands, Gdal.TypeOf<T>());
        target.GeoTransform = grid.GeoTransform;
        target.ProjectionWkt = CoordinateTransform.WktOf(grid.Epsg);
        for (var b = 1; b <= bands; b++)
        {
            target.SetNoData(b, noData);
        }

        var options = new List<string>
        {
            "-r", resampling switch { Resampling.Nearest => "near", Resampling.Bilinear => "bilinear", Resampling.Cubic => "cubic", _ => "average" },
            "-dstnodata", Format(noData),
            "-wo", "INIT_DEST=NO_DATA",
        };
        if (source.NoData(1) is { } sourceNoData)
        {
            options.AddRange(["-srcnodata", Format(sourceNoData)]);
        }

        try
        {
            target.WarpFrom(source, options);
            return target;
        }
        catch
        {
            target.Dispose();
            throw;
        }
    }

    private static string Format(double value) => double.IsNaN(value) ? "nan" : value.ToString("R", CultureInfo.InvariantCulture);

    private static bool IsWhole(double v) => Math.Abs(v - Math.Round(v)) < 1e-6;
}
