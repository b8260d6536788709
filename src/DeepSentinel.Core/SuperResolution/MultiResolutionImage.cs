using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Interop.Gdal;
using DeepSentinel.Core.Raster;
using DeepSentinel.Core.Sampling;
using DeepSentinel.Core.Scenes;

namespace DeepSentinel.Core.SuperResolution;

/// <summary>
/// A window of a Sentinel-2 scene with every band at its native resolution: the 10 m bands on
/// <see cref="Grid"/>, the 20 m bands at half and the 60 m bands at a sixth of its size. Values
/// are DN (reflectance x 10000, offset removed as <see cref="S2Radiometry"/> says); 0 is nodata.
/// </summary>
public sealed class MultiResolutionImage
{
    /// <summary>Creates an image; the planes must match the grid.</summary>
    public MultiResolutionImage(PatchGrid grid, float[][] fine, float[][] mid, float[][]? coarse)
    {
        ArgumentNullException.ThrowIfNull(grid);
        Grid = grid;
        Fine = fine;
        Mid = mid;
        Coarse = coarse;
    }

    /// <summary>The 10 m grid (width and height multiples of 6).</summary>
    public PatchGrid Grid { get; }

    /// <summary>Width at 10 m.</summary>
    public int Width => Grid.Width;

    /// <summary>Height at 10 m.</summary>
    public int Height => Grid.Height;

    /// <summary>B02, B03, B04, B08 at 10 m.</summary>
    public float[][] Fine { get; }

    /// <summary>B05, B06, B07, B8A, B11, B12 at 20 m.</summary>
    public float[][] Mid { get; }

    /// <summary>B01, B09 at 60 m, or null when not read (the 2x model does not need them).</summary>
    public float[][]? Coarse { get; }

    /// <summary>A sub-window in 10 m pixels (offsets and sizes multiples of 6).</summary>
    public MultiResolutionImage Crop(int x, int y, int width, int height)
    {
        var grid = Grid with { OriginX = Grid.OriginX + (x * Grid.PixelSize), OriginY = Grid.OriginY - (y * Grid.PixelSize), Width = width, Height = height };
        return new MultiResolutionImage(grid,
            Fine.Select(p => CropPlane(p, Width, x, y, width, height)).ToArray(),
            Mid.Select(p => CropPlane(p, Width / 2, x / 2, y / 2, width / 2, height / 2)).ToArray(),
            Coarse?.Select(p => CropPlane(p, Width / 6, x / 6, y / 6, width / 6, height / 6)).ToArray());
    }

    /// <summary>Wald's protocol: every band degraded by <paramref name="factor"/> (the grid's pixels grow by the factor).</summary>
    public MultiResolutionImage Degrade(int factor, double mtf)
    {
        var grid = Grid with { PixelSize = Grid.PixelSize * factor, Width = Width / factor, Height = Height / factor };
        return new MultiResolutionImage(grid,
            Fine.Select(p => ImageResampling.Degrade(p, Width, Height, factor, mtf)).ToArray(),
            Mid.Select(p => ImageResampling.Degrade(p, Width / 2, Height / 2, factor, mtf)).ToArray(),
            Coarse?.Select(p => ImageResampling.Degrade(p, Width / 6, Height / 6, factor, mtf)).ToArray());
    }

    /// <summary>True when any pixel of any band is 0 (nodata).</summary>
    public bool HasNoData() => Fine.Concat(Mid).Concat(Coarse ?? []).Any(p => Array.IndexOf(p, 0f) >= 0);

    internal static float[] CropPlane(float[] plane, int planeWidth, int x, int y, int width, int height)
    {
        var result = new float[width * height];
        for (var row = 0; row < height; row++)
        {
            Array.Copy(plane, ((y + row) * planeWidth) + x, result, row * width, width);
        }

        return result;
    }
}

/// <summary>
/// Reads windows of a Sentinel-2 scene's bands at their native resolutions through GDAL (local
/// files, or COGs over HTTP by ranged reads), one dataset per band kept open. Not thread-safe.
/// </summary>
public sealed class SceneBandReader : IDisposable
{
    private readonly Dictionary<string, GdalDataset> _open = new(StringComparer.Ordinal);
    private readonly Func<string, string?> _location;
    private readonly Func<string, int> _offset;

    /// <summary>Reads the bands of <paramref name="scene"/>.</summary>
    public SceneBandReader(SentinelScene scene)
        : this(scene.Id, band => scene.FindBand(band) is { } a ? PatchExtractor.DefaultResolve(a) : null,
               band => scene.FindBand(band) is { } a ? S2Radiometry.OffsetToRemove(scene, a) : 0, scene.Epsg)
    {
    }

    /// <summary>Reads bands from locations GDAL opens (e.g. a corpus sample's source assets).</summary>
    public SceneBandReader(string name, Func<string, string?> location, Func<string, int> offset, int? epsg)
    {
        Name = name;
        _location = location;
        _offset = offset;
        Epsg = epsg;
    }

    /// <summary>The scene (or sample) id, for messages.</summary>
    public string Name { get; }

    /// <summary>The CRS of the bands (from the item or the B04 raster).</summary>
    public int? Epsg { get; private set; }

    /// <summary>Checks that every band is there before anything is read.</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.SceneBandMissing"/>.</exception>
    public void RequireBands(IEnumerable<string> bands)
    {
        var missing = bands.Where(b => _location(b) is null).ToList();
        if (missing.Count > 0)
        {
            throw new DeepSentinelException(ErrorIds.SceneBandMissing, ErrorKind.InvalidData,
                $"Scene {Name} has no asset for band{(missing.Count > 1 ? "s" : string.Empty)} {string.Join(", ", missing)}, which super-resolution needs; choose a Sentinel-2 L2A scene with all 12 bands.", Name);
        }
    }

    /// <summary>The 10 m grid of the whole scene (from B04), origin on the tile grid.</summary>
    public PatchGrid SceneGrid()
    {
        var b04 = Open("B04");
        var t = b04.GeoTransform;
        var epsg = Epsg ?? CoordinateTransform.EpsgOf(b04.ProjectionWkt)
            ?? throw new DeepSentinelException(ErrorIds.SceneGeoreferenceMissing, ErrorKind.InvalidData, $"Scene {Name} has no EPSG code in its item or its B04 raster.", Name);
        Epsg = epsg;
        return new PatchGrid(epsg, t[0], t[3], t[1], b04.Width / 6 * 6, b04.Height / 6 * 6);
    }

    /// <summary>
    /// The 10 m window of the scene that covers <paramref name="box"/> (WGS 84), widened to whole
    /// 60 m pixels of the tile grid.
    /// </summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.SuperResolutionWindowOutsideScene"/> when the box is not inside the scene.</exception>
    public PatchGrid WindowFor(BoundingBox box)
    {
        var scene = SceneGrid();
        using var toUtm = new CoordinateTransform(4326, scene.Epsg);
        double[] xs = [box.West, box.East, box.West, box.East];
        double[] ys = [box.South, box.South, box.North, box.North];
        toUtm.Transform(xs, ys);
        var left = scene.OriginX + (Math.Floor((xs.Min() - scene.OriginX) / 60) * 60);
        var right = scene.OriginX + (Math.Ceiling((xs.Max() - scene.OriginX) / 60) * 60);
        var top = scene.OriginY - (Math.Floor((scene.OriginY - ys.Max()) / 60) * 60);
        var bottom = scene.OriginY - (Math.Ceiling((scene.OriginY - ys.Min()) / 60) * 60);
        if (left < scene.OriginX - 1e-6 || right > scene.MaxX + 1e-6 || top > scene.OriginY + 1e-6 || bottom < scene.MinY - 1e-6 || right - left < 60 || top - bottom < 60)
        {
            throw new DeepSentinelException(ErrorIds.SuperResolutionWindowOutsideScene, ErrorKind.InvalidArgument,
                $"The window {box} is not inside scene {Name} (EPSG:{scene.Epsg}, x {scene.OriginX}-{scene.MaxX}, y {scene.MinY}-{scene.OriginY}); choose a -BoundingBox within the scene's footprint.", box.ToString());
        }

        return new PatchGrid(scene.Epsg, left, top, 10, (int)Math.Round((right - left) / 10), (int)Math.Round((top - bottom) / 10));
    }

    /// <summary>
    /// Reads the window <paramref name="grid"/> (10 m, on the 60 m grid): the 10 m and 20 m
    /// bands, and the 60 m bands when <paramref name="withCoarse"/>.
    /// </summary>
    /// <exception cref="DeepSentinelException">SceneBandMissing, SuperResolutionWindowOutsideScene, RasterUnreadable.</exception>
    public MultiResolutionImage Read(PatchGrid grid, bool withCoarse)
    {
        ArgumentNullException.ThrowIfNull(grid);
        if (grid.Width % 6 != 0 || grid.Height % 6 != 0 || Math.Abs(grid.PixelSize - 10) > 1e-9)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, $"A super-resolution window is read at 10 m with sides that are multiples of 60 m; {grid} is not.", grid.ToString());
        }

        RequireBands(withCoarse ? SuperResolutionBands.Inputs(SuperResolutionFactor.X6) : SuperResolutionBands.Inputs(SuperResolutionFactor.X2));
        var fine = SuperResolutionBands.Fine.Select(b => ReadBand(b, grid, 10)).ToArray();
        var mid = SuperResolutionBands.Mid.Select(b => ReadBand(b, grid, 20)).ToArray();
        var coarse = withCoarse ? SuperResolutionBands.Coarse.Select(b => ReadBand(b, grid, 60)).ToArray() : null;
        return new MultiResolutionImage(grid, fine, mid, coarse);
    }

    private float[] ReadBand(string band, PatchGrid grid, int pixelSize)
    {
        var dataset = Open(band);
        var factor = pixelSize / 10;
        var bandGrid = grid with { PixelSize = pixelSize, Width = grid.Width / factor, Height = grid.Height / factor };
        var w = bandGrid.WindowIn(dataset.GeoTransform);
        if (w is not { } window || window.XOff < -1e-6 || window.YOff < -1e-6 || window.XOff + window.XSize > dataset.Width + 1e-6 || window.YOff + window.YSize > dataset.Height + 1e-6)
        {
            throw new DeepSentinelException(ErrorIds.SuperResolutionWindowOutsideScene, ErrorKind.InvalidArgument,
                $"The window {grid} is not inside band {band} of scene {Name} ({dataset.Width} x {dataset.Height} px at {pixelSize} m); choose a window within the scene.", grid.ToString());
        }

        var values = new ushort[bandGrid.Width * bandGrid.Height];
        dataset.Read<ushort>(1, window.XOff, window.YOff, window.XSize, window.YSize, values, bandGrid.Width, bandGrid.Height, Resampling.Nearest);
        S2Radiometry.Remove(values, _offset(band));
        var result = new float[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = values[i];
        }

        return result;
    }

    private GdalDataset Open(string band)
    {
        if (_open.TryGetValue(band, out var dataset))
        {
            return dataset;
        }

        var location = _location(band) ?? throw new DeepSentinelException(ErrorIds.SceneBandMissing, ErrorKind.InvalidData, $"Scene {Name} has no asset for band {band}.", Name);
        dataset = GdalDataset.Open(location);
        _open[band] = dataset;
        return dataset;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var dataset in _open.Values)
        {
            dataset.Dispose();
        }

        _open.Clear();
    }
}
