using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Gdal;
using DeepSentinel.Core.Raster;
using DeepSentinel.Core.Scenes;

namespace DeepSentinel.Core.Sampling;

/// <summary>The Sentinel-2 view of a patch.</summary>
/// <param name="Bands">12 bands (B01-B12 with B8A) of Width x Height reflectance x 10000 without offset (<see cref="S2Radiometry"/>); 0 is nodata.</param>
/// <param name="Scl">Scene classification, nearest-neighbour; 0 is nodata.</param>
/// <param name="Methods">How each band was read (for diagnostics and the benchmark).</param>
/// <param name="OffsetsRemoved">The DN offset removed from each band (1000 for baseline 04.00+ scenes, else 0).</param>
public sealed record S2Patch(ushort[][] Bands, byte[] Scl, ReadMethod[] Methods, int[] OffsetsRemoved);

/// <summary>The Sentinel-1 view of a patch: VV and VH linear backscatter; NaN is nodata.</summary>
public sealed record S1Patch(float[] Vv, float[] Vh, ReadMethod Method);

/// <summary>
/// Reads the S2 and S1 views of patches for one worker. Holds that worker's GDAL datasets (GDAL
/// handles are not thread-safe) in a small LRU cache, since neighbouring points reuse scenes, so a
/// scene's COG headers are read once per worker, not once per sample. With more than one I/O lane
/// the 13 Sentinel-2 files of a patch (and VV and VH) are read at the same time, each on a lane
/// with its own dataset: one worker then waits for one round trip per wave of reads instead of one
/// per file.
/// </summary>
public sealed class PatchExtractor : IDisposable
{
    /// <summary>Sentinel-2 L2A bands in corpus order.</summary>
    public static readonly string[] S2Bands = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12"];

    private const int CacheSize = 40;
    private readonly LinkedList<(string Key, GdalDataset Dataset)> _lru = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, GdalDataset Dataset)>> _byKey = new(StringComparer.Ordinal);
    private readonly Dictionary<(int, int, int), CoordinateTransform> _transforms = [];
    private readonly object _gate = new();
    private readonly Func<SceneAsset, string> _resolve;
    private readonly ReadLanes _lanes;
    private int _datasetsOpened;

    /// <summary>Creates an extractor; <paramref name="resolve"/> turns an asset into what GDAL opens (a path, /vsicurl/ + signed URL).</summary>
    /// <param name="resolve">What GDAL opens for an asset (default <see cref="DefaultResolve"/>).</param>
    /// <param name="ioConcurrency">Files of one patch read at the same time (1: one after another on the calling thread).</param>
    public PatchExtractor(Func<SceneAsset, string>? resolve = null, int ioConcurrency = 1)
    {
        _resolve = resolve ?? DefaultResolve;
        _lanes = new ReadLanes(Math.Clamp(ioConcurrency, 1, 64), "DeepSentinel read lane");
    }

    /// <summary>Datasets opened so far (cache misses).</summary>
    public int DatasetsOpened => Volatile.Read(ref _datasetsOpened);

    /// <summary>Files of one patch read at the same time.</summary>
    public int IoConcurrency => _lanes.Lanes;

    /// <summary>What GDAL opens for an asset: local paths as they are, URLs through /vsicurl/.</summary>
    public static string DefaultResolve(SceneAsset asset)
    {
        ArgumentNullException.ThrowIfNull(asset);
        var location = asset.ResolveForReading();
        return location.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || location.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            ? "/vsicurl/" + location
            : location;
    }

    /// <summary>
    /// The 256 x 256 px, 10 m grid around (lon, lat) in the S2 scene's CRS, aligned to its tile's
    /// grid; null when the patch would cross the edge of the tile.
    /// </summary>
    public PatchGrid? GridFor(SentinelScene s2, double longitude, double latitude)
    {
        ArgumentNullException.ThrowIfNull(s2);
        var reference = s2.FindBand("B04") ?? s2.FindBand("B02") ?? throw MissingBand(s2, "B04");
        var dataset = Open(reference);
        var transform = dataset.GeoTransform;
        var epsg = s2.Epsg ?? CoordinateTransform.EpsgOf(dataset.ProjectionWkt)
            ?? throw new DeepSentinelException(ErrorIds.RasterUnreadable, ErrorKind.InvalidData, $"Scene {s2.Id} has no EPSG code in its item or its B04 raster.", s2.Id);
        var (x, y) = Transform(4326, epsg).Transform(longitude, latitude);
        var grid = PatchGrid.CenteredOn(epsg, x, y, transform[0], transform[3]);
        var window = grid.WindowIn(transform);
        if (window is not { } w || w.XOff < 0 || w.YOff < 0 || w.XOff + w.XSize > dataset.Width + 1e-6 || w.YOff + w.YSize > dataset.Height + 1e-6)
        {
            return null;
        }

        return grid;
    }

    /// <summary>The patch's outline in WGS 84.</summary>
    public NetTopologySuite.Geometries.Geometry Footprint(PatchGrid grid) => grid.FootprintWgs84(Transform(grid.Epsg, 4326));

    /// <summary>Reads the 12 S2 bands (bilinear where coarser) and SCL (nearest) onto the grid, in the corpus's one radiometric convention (<see cref="S2Radiometry"/>).</summary>
    /// <exception cref="DeepSentinelException">SceneBandMissing, RasterUnreadable.</exception>
    public S2Patch ReadS2(SentinelScene s2, PatchGrid grid)
    {
        ArgumentNullException.ThrowIfNull(s2);
        ArgumentNullException.ThrowIfNull(grid);
        var size = grid.Width * grid.Height;
        var epsg = s2.Epsg ?? grid.Epsg;
        var bands = new ushort[S2Bands.Length][];
        var methods = new ReadMethod[S2Bands.Length + 1];
        var offsets = new int[S2Bands.Length];
        // Every asset first, so that a scene missing a band fails before any read.
        var assets = S2Bands.Select(b => s2.FindBand(b) ?? throw MissingBand(s2, b)).ToArray();
        var sclAsset = s2.FindBand("SCL") ?? throw MissingBand(s2, "SCL");
        var scl = new byte[size];
        _lanes.Run(S2Bands.Length + 1, b =>
        {
            if (b == S2Bands.Length)
            {
                methods[b] = GridReader.Read<byte>(Open(sclAsset), epsg, 1, grid, scl, Resampling.Nearest, 0);
                return;
            }

            bands[b] = new ushort[size];
            methods[b] = GridReader.Read<ushort>(Open(assets[b]), epsg, 1, grid, bands[b], Resampling.Bilinear, 0);
            offsets[b] = S2Radiometry.OffsetToRemove(s2, assets[b]);
            S2Radiometry.Remove(bands[b], offsets[b]);
        });
        return new S2Patch(bands, scl, methods, offsets);
    }

    /// <summary>Reads VV and VH (bilinear) onto the grid, warping from the scene's own grid.</summary>
    /// <exception cref="DeepSentinelException">SceneBandMissing, RasterUnreadable.</exception>
    public S1Patch ReadS1(SentinelScene s1, PatchGrid grid)
    {
        ArgumentNullException.ThrowIfNull(s1);
        ArgumentNullException.ThrowIfNull(grid);
        var size = grid.Width * grid.Height;
        var vv = new float[size];
        var vh = new float[size];
        var vvAsset = s1.FindBand("VV") ?? throw MissingBand(s1, "VV");
        var vhAsset = s1.FindBand("VH") ?? throw MissingBand(s1, "VH");
        GdalDataset vvSet = null!, vhSet = null!;
        _lanes.Run(2, k =>
        {
            if (k == 0)
            {
                vvSet = Open(vvAsset);
            }
            else
            {
                vhSet = Open(vhAsset);
            }
        });
        var epsg = s1.Epsg ?? CoordinateTransform.EpsgOf(vvSet.ProjectionWkt) ?? 0;
        if (epsg == 0)
        {
            // Without a CRS the pixels cannot be placed: reading on would give a patch of zeros
            // that looks valid. The scene is unusable, not the point.
            throw new DeepSentinelException(ErrorIds.SceneGeoreferenceMissing, ErrorKind.InvalidData,
                $"Sentinel-1 scene {s1.Id} has no coordinate reference system: neither its STAC item (proj:epsg, proj:code) nor its GeoTIFF ({Path.GetFileName(vvAsset.Href.AbsolutePath)}) names one, so its pixels cannot be placed on the patch grid.", s1.Id);
        }

        var sameGrid = vvSet.Width == vhSet.Width && vvSet.Height == vhSet.Height && vvSet.GeoTransform.SequenceEqual(vhSet.GeoTransform);
        if (!sameGrid)
        {
            var method = ReadMethod.Warp;
            _lanes.Run(2, k =>
            {
                if (k == 0)
                {
                    method = GridReader.Read<float>(vvSet, epsg, 1, grid, vv, Resampling.Bilinear, double.NaN);
                }
                else
                {
                    GridReader.Read<float>(vhSet, epsg, 1, grid, vh, Resampling.Bilinear, double.NaN);
                }
            });
            return new S1Patch(vv, vh, method);
        }

        // VV and VH share a grid: one reprojection of both, with this worker's cached PROJ
        // transformation (GDAL's warper would rebuild one per call); GDAL's warp where the source
        // is not north-up.
        if (epsg != grid.Epsg && epsg != 0)
        {
            // One PROJ transformation per lane: they are not thread-safe.
            var done = new bool[2];
            _lanes.Run(2, k => done[k] = BilinearReprojector.TryReproject(k == 0 ? vvSet : vhSet, Transform(grid.Epsg, epsg, k), grid, [k == 0 ? vv : vh], float.NaN));
            if (done[0] && done[1])
            {
                return new S1Patch(vv, vh, ReadMethod.Warp);
            }
        }

        using var stack = GdalDataset.Stack([vvSet, vhSet]);
        var stacked = GridReader.ReadAll<float>(stack, epsg, grid, [vv, vh], Resampling.Bilinear, double.NaN);
        return new S1Patch(vv, vh, stacked);
    }

    /// <summary>Cloud (SCL 3, 8, 9, 10) and nodata fractions of a patch.</summary>
    public static (double Cloud, double NoData) Statistics(S2Patch s2, S1Patch? s1)
    {
        ArgumentNullException.ThrowIfNull(s2);
        var n = s2.Scl.Length;
        int cloud = 0, noData = 0;
        for (var i = 0; i < n; i++)
        {
            var c = s2.Scl[i];
            var missing = c == 0 || s2.Bands[1][i] == 0 || s2.Bands[3][i] == 0 || (s1 is not null && (float.IsNaN(s1.Vv[i]) || float.IsNaN(s1.Vh[i])));
            if (missing)
            {
                noData++;
            }
            else if (c is 3 or 8 or 9 or 10)
            {
                cloud++;
            }
        }

        return ((double)cloud / n, (double)noData / n);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _lanes.Dispose();
        foreach (var (_, dataset) in _lru)
        {
            dataset.Dispose();
        }

        _lru.Clear();
        _byKey.Clear();
        foreach (var transform in _transforms.Values)
        {
            transform.Dispose();
        }

        _transforms.Clear();
    }

    // Lanes open the files of one patch at the same time: the cache's bookkeeping is locked, the
    // opening (an HTTP round trip for a remote COG) is not. A patch uses at most 15 files, far
    // fewer than the cache holds, so the file evicted is never one a lane is reading.
    private GdalDataset Open(SceneAsset asset)
    {
        var key = _resolve(asset);
        lock (_gate)
        {
            if (_byKey.TryGetValue(key, out var node))
            {
                _lru.Remove(node);
                _lru.AddFirst(node);
                return node.Value.Dataset;
            }
        }

        var dataset = GdalDataset.Open(key);
        Interlocked.Increment(ref _datasetsOpened);
        lock (_gate)
        {
            if (_byKey.TryGetValue(key, out var raced))
            {
                dataset.Dispose();
                return raced.Value.Dataset;
            }

            _byKey[key] = _lru.AddFirst((key, dataset));
            if (_lru.Count > CacheSize)
            {
                var last = _lru.Last!;
                _lru.RemoveLast();
                _byKey.Remove(last.Value.Key);
                last.Value.Dataset.Dispose();
            }
        }

        return dataset;
    }

    private CoordinateTransform Transform(int from, int to, int lane = 0)
    {
        lock (_gate)
        {
            if (!_transforms.TryGetValue((from, to, lane), out var transform))
            {
                transform = new CoordinateTransform(from, to);
                _transforms[(from, to, lane)] = transform;
            }

            return transform;
        }
    }

    private static DeepSentinelException MissingBand(SentinelScene scene, string band) =>
        new(ErrorIds.SceneBandMissing, ErrorKind.InvalidData, $"Scene {scene.Id} has no asset for band {band}; it cannot be used for patches.", scene.Id);
}
