using System.Globalization;
using DeepSentinel.Core.Interop.Gdal;

namespace DeepSentinel.Core.Raster;

/// <summary>How a COG is tiled.</summary>
/// <param name="BlockSize">Tile width and height in pixels.</param>
/// <param name="Overviews">Whether to build overviews.</param>
/// <param name="AllCores">Compress with all cores (large rasters) or one (patches, written by parallel workers).</param>
public sealed record CogLayout(int BlockSize, bool Overviews, bool AllCores)
{
    /// <summary>A 256 px patch: one tile, no overviews, one thread.</summary>
    public static CogLayout Patch { get; } = new(256, false, false);

    /// <summary>A whole scene: 512 px tiles, overviews, all cores.</summary>
    public static CogLayout Scene { get; } = new(512, true, true);
}

/// <summary>A band to write: its pixels, description and nodata.</summary>
public sealed record BandData<T>(string Description, T[] Pixels)
    where T : unmanaged;

/// <summary>
/// Writes patches as Cloud-Optimized GeoTIFFs and quicklook PNGs: the project's one GeoTIFF
/// writer. Files are written to the given path; callers write to a temporary name and rename.
/// </summary>
public static class RasterWriter
{
    /// <summary>
    /// Writes a COG: DEFLATE level 1 with a predictor, 256 px tiles, band descriptions, nodata,
    /// metadata. Level 1 writes a 12-band patch about 3.5x faster than the default level 6 for
    /// about 7 % more bytes (measured on the benchmark catalog), and stays plain DEFLATE, which
    /// every GeoTIFF reader decodes.
    /// </summary>
    public static void WriteCog<T>(string path, PatchGrid grid, IReadOnlyList<BandData<T>> bands, double? noData, IReadOnlyDictionary<string, string>? metadata = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(grid);
        WriteCog(path, grid.Epsg, grid.GeoTransform, grid.Width, grid.Height, bands, noData, metadata, CogLayout.Patch);
    }

    /// <summary>
    /// Writes a COG on any north-up grid with a given tiling: patches use <see cref="CogLayout.Patch"/>
    /// (one 256 px tile, no overviews), whole scenes <see cref="CogLayout.Scene"/> (512 px tiles,
    /// overviews, all cores).
    /// </summary>
    public static void WriteCog<T>(string path, int epsg, double[] geoTransform, int width, int height, IReadOnlyList<BandData<T>> bands, double? noData, IReadOnlyDictionary<string, string>? metadata, CogLayout layout)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(bands);
        ArgumentNullException.ThrowIfNull(layout);
        var type = Gdal.TypeOf<T>();
        using var memory = GdalDataset.CreateInMemory(width, height, bands.Count, type);
        memory.GeoTransform = geoTransform;
        memory.ProjectionWkt = CoordinateTransform.WktOf(epsg);
        for (var i = 0; i < bands.Count; i++)
        {
            memory.Write<T>(i + 1, bands[i].Pixels);
            memory.SetDescription(i + 1, bands[i].Description);
            if (noData is { } nd)
            {
                memory.SetNoData(i + 1, nd);
            }
        }

        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            memory.SetMetadata(key, value);
        }

        var predictor = type is RasterDataType.Float32 or RasterDataType.Float64 ? "3" : "2";
        memory.CopyTo("COG", path, ["COMPRESS=DEFLATE", "LEVEL=1", "PREDICTOR=" + predictor, "BLOCKSIZE=" + layout.BlockSize.ToString(CultureInfo.InvariantCulture), "OVERVIEWS=" + (layout.Overviews ? "AUTO" : "NONE"), "NUM_THREADS=" + (layout.AllCores ? "ALL_CPUS" : "1")]);
    }

    /// <summary>Writes an 8-bit RGB PNG (three row-major planes of width x height).</summary>
    public static void WritePng(string path, int width, int height, byte[] red, byte[] green, byte[] blue, byte[]? alpha = null)
    {
        // With alpha, an RGBA PNG: 0 is transparent (nodata), 255 opaque.
        using var memory = GdalDataset.CreateInMemory(width, height, alpha is null ? 3 : 4, RasterDataType.Byte);
        memory.Write<byte>(1, red);
        memory.Write<byte>(2, green);
        memory.Write<byte>(3, blue);
        if (alpha is not null)
        {
            memory.Write<byte>(4, alpha);
        }

        memory.CopyTo("PNG", path, ["ZLEVEL=1"]);
    }

    /// <summary>Linearly stretches values to 0-255 between <paramref name="low"/> and <paramref name="high"/>; NaN and nodata become 0.</summary>
    public static byte[] Stretch(ReadOnlySpan<float> values, float low, float high, float? noData = null)
    {
        var result = new byte[values.Length];
        var scale = 255f / (high - low);
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            if (float.IsNaN(v) || (noData is { } nd && v == nd))
            {
                continue;
            }

            result[i] = (byte)Math.Clamp((v - low) * scale, 0f, 255f);
        }

        return result;
    }

    /// <summary>Formats a number for GDAL metadata and STAC (invariant culture).</summary>
    public static string Invariant(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
