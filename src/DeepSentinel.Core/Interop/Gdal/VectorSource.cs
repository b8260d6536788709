using System.Runtime.InteropServices;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using Microsoft.Win32.SafeHandles;

namespace DeepSentinel.Core.Interop.Gdal;

/// <summary>The shape of a vector feature, as label rules distinguish it.</summary>
public enum GeometryKind
{
    /// <summary>Points, or nothing usable.</summary>
    Other,
    /// <summary>Lines and multilines.</summary>
    Line,
    /// <summary>Polygons and multipolygons.</summary>
    Area,
}

/// <summary>
/// A vector dataset read through OGR (GeoPackage, Shapefile, GeoJSON, OSM XML/PBF). Not
/// thread-safe: open one per worker.
/// </summary>
public sealed class VectorSource : IDisposable
{
    private readonly DatasetHandle _handle;

    private VectorSource(DatasetHandle handle, string name)
    {
        _handle = handle;
        Name = name;
        var count = GdalNative.GDALDatasetGetLayerCount(handle.DangerousGetHandle());
        Layers = Enumerable.Range(0, count).Select(i => new VectorLayer(this, GdalNative.GDALDatasetGetLayer(handle.DangerousGetHandle(), i))).ToList();
    }

    /// <summary>The path it was opened from.</summary>
    public string Name { get; }

    /// <summary>Its layers (an OSM extract has points, lines, multilinestrings, multipolygons, other_relations).</summary>
    public IReadOnlyList<VectorLayer> Layers { get; }

    internal bool IsClosed => _handle.IsClosed;

    /// <summary>Opens a vector dataset.</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.LabelSourceUnreadable"/>.</exception>
    public static VectorSource Open(string path)
    {
        var handle = Gdal.Open(path, GdalNative.OfVector, ErrorIds.LabelSourceUnreadable, $"Cannot open '{SecretRedactor.Redact(path)}' as vector data");
        return new VectorSource(handle, path);
    }

    /// <summary>
    /// Copies layers of this source into a new GeoPackage (ogr2ogr -f GPKG), with spatial
    /// indexes. OSM extracts need this: the OSM driver reads the file sequentially (resetting one
    /// layer disturbs the others) and its spatial filter tests nodes, not ways, so a road crossing
    /// a patch without a node inside it would be missed.
    /// </summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.LabelSourceUnreadable"/>.</exception>
    public unsafe void CopyToGeoPackage(string destination, IEnumerable<string> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        using var argv = new CslList(["-f", "GPKG", .. layers]);
        Gdal.ResetError();
        var options = GdalNative.GDALVectorTranslateOptionsNew(argv.Handle, 0);
        if (options == 0)
        {
            throw Gdal.Failure(ErrorIds.LabelSourceUnreadable, ErrorKind.InvalidArgument, "Invalid vector translate options", destination);
        }

        try
        {
            var sources = stackalloc nint[1];
            sources[0] = _handle.DangerousGetHandle();
            int usageError;
            // ogr2ogr carries on past a parse error and later calls reset the last error, so
            // failures are counted while it runs by a handler on this thread.
            _firstFailure = null;
            GdalNative.CPLPushErrorHandler((nint)(delegate* unmanaged[Cdecl]<int, int, nint, void>)&RecordFailure);
            nint result;
            try
            {
                result = GdalNative.GDALVectorTranslate(destination, 0, 1, sources, options, &usageError);
            }
            finally
            {
                GdalNative.CPLPopErrorHandler();
            }

            var failed = result == 0 || usageError != 0 || _firstFailure is not null;
            var message = failed
                ? new DeepSentinelException(ErrorIds.LabelSourceUnreadable, ErrorKind.InvalidData, $"Reading '{this}' failed: {SecretRedactor.Redact(_firstFailure ?? Gdal.LastError())}. The file is corrupt or not an OSM extract.", ToString())
                : null;
            if (result != 0)
            {
                GdalNative.GDALClose(result);
            }

            if (message is not null)
            {
                throw message;
            }
        }
        finally
        {
            GdalNative.GDALVectorTranslateOptionsFree(options);
        }
    }

    [ThreadStatic]
    private static string? _firstFailure;

    [System.Runtime.InteropServices.UnmanagedCallersOnly(CallConvs = [typeof(System.Runtime.CompilerServices.CallConvCdecl)])]
    private static void RecordFailure(int errorClass, int errorNumber, nint message)
    {
        // Called by GDAL: must never throw.
        if (errorClass >= 3 && _firstFailure is null)
        {
            try
            {
                _firstFailure = Marshal.PtrToStringUTF8(message) ?? "unknown error";
            }
            catch (OutOfMemoryException)
            {
                _firstFailure = "unknown error";
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var layer in Layers)
        {
            layer.Release();
        }

        _handle.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() => SecretRedactor.Redact(Name);
}

/// <summary>One layer of a <see cref="VectorSource"/>; valid while its source is open.</summary>
public sealed class VectorLayer
{
    private readonly VectorSource _source;
    private readonly nint _layer;
    private nint _srs;
    private readonly Dictionary<int, (nint ToLayer, nint FromLayer)> _transforms = [];

    internal VectorLayer(VectorSource source, nint layer)
    {
        _source = source;
        _layer = layer;
        Name = Marshal.PtrToStringUTF8(GdalNative.OGR_L_GetName(layer)) ?? string.Empty;
        var srs = GdalNative.OGR_L_GetSpatialRef(layer);
        // A GeoPackage layer with srs_id 0 or -1 (what ogr2ogr writes from a Shapefile without a
        // .prj) has GDAL's "Undefined geographic SRS" / "Undefined Cartesian SRS": no CRS at all.
        if (srs != 0 && Marshal.PtrToStringUTF8(GdalNative.OSRGetName(srs)) is { } name && name.StartsWith("Undefined ", StringComparison.Ordinal) && name.EndsWith(" SRS", StringComparison.Ordinal))
        {
            srs = 0;
        }

        if (srs != 0)
        {
            // A private copy in x = easting/longitude order: every format read here stores
            // coordinates that way, whatever the CRS definition's axis order says.
            _srs = GdalNative.OSRClone(srs);
            GdalNative.OSRSetAxisMappingStrategy(_srs, GdalNative.OaisTraditionalGisOrder);
        }
    }

    /// <summary>The layer's name.</summary>
    public string Name { get; }

    /// <summary>False when the layer has no coordinate reference system.</summary>
    public bool HasCrs => _srs != 0;

    /// <summary>The index of a field, or -1 when the layer has none of that name.</summary>
    public int FieldIndex(string name) => GdalNative.OGR_FD_GetFieldIndex(GdalNative.OGR_L_GetLayerDefn(Handle), name);

    private nint Handle => _source.IsClosed ? throw new ObjectDisposedException(nameof(VectorSource)) : _layer;

    /// <summary>
    /// The features that may intersect a rectangle of the target CRS, with the asked fields as
    /// strings (null when unset) and geometries transformed into the target CRS. The caller owns
    /// (and disposes) each geometry.
    /// </summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.LabelSourceNoCrs"/>, <see cref="ErrorIds.LabelSourceUnreadable"/>.</exception>
    public IEnumerable<VectorFeature> Features(int targetEpsg, double minX, double minY, double maxX, double maxY, IReadOnlyList<int> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (!HasCrs)
        {
            throw new DeepSentinelException(ErrorIds.LabelSourceNoCrs, ErrorKind.InvalidData, $"The layer '{Name}' of '{_source}' has no coordinate reference system; assign one (e.g. ogr2ogr -a_srs EPSG:3035) and retry.", _source.ToString());
        }

        var (toLayer, fromLayer) = TransformsFor(targetEpsg);
        SetFilter(toLayer, minX, minY, maxX, maxY);
        var layer = Handle;
        GdalNative.OGR_L_ResetReading(layer);
        while (true)
        {
            Gdal.ResetError();
            var feature = GdalNative.OGR_L_GetNextFeature(layer);
            if (feature == 0)
            {
                // The end, or a read error (a corrupt extract): only the error type tells them apart.
                if (GdalNative.CPLGetLastErrorType() >= 3)
                {
                    throw Gdal.Failure(ErrorIds.LabelSourceUnreadable, ErrorKind.InvalidData, $"Reading layer '{Name}' of '{_source}' failed", _source.ToString());
                }

                yield break;
            }

            VectorFeature? result;
            try
            {
                result = Convert(feature, fields, fromLayer);
            }
            finally
            {
                GdalNative.OGR_F_Destroy(feature);
            }

            if (result is not null)
            {
                yield return result;
            }
        }
    }

    /// <summary>
    /// Reads a few features, once without and once with a spatial filter (the spatial index), so a
    /// damaged file that still opens fails here, once, instead of at every sample.
    /// </summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.LabelSourceUnreadable"/>.</exception>
    public unsafe void Probe()
    {
        var layer = Handle;
        var envelope = stackalloc double[4];
        var hasExtent = GdalNative.OGR_L_GetExtent(layer, envelope, 0) == 0;
        var filters = new List<(double, double, double, double)?> { null };
        if (hasExtent)
        {
            var (cx, cy) = ((envelope[0] + envelope[1]) / 2, (envelope[2] + envelope[3]) / 2);
            var (dx, dy) = (Math.Max((envelope[1] - envelope[0]) / 50, 1e-6), Math.Max((envelope[3] - envelope[2]) / 50, 1e-6));
            filters.Add((cx - dx, cy - dy, cx + dx, cy + dy));
        }

        try
        {
            foreach (var filter in filters)
            {
                if (filter is var (x0, y0, x1, y1))
                {
                    GdalNative.OGR_L_SetSpatialFilterRect(layer, x0, y0, x1, y1);
                }
                else
                {
                    GdalNative.OGR_L_SetSpatialFilter(layer, 0);
                }

                GdalNative.OGR_L_ResetReading(layer);
                for (var i = 0; i < 16; i++)
                {
                    Gdal.ResetError();
                    var feature = GdalNative.OGR_L_GetNextFeature(layer);
                    if (feature == 0)
                    {
                        if (GdalNative.CPLGetLastErrorType() >= 3)
                        {
                            throw Gdal.Failure(ErrorIds.LabelSourceUnreadable, ErrorKind.InvalidData, $"The layer '{Name}' of '{_source}' opens but cannot be read (a damaged or truncated file?); check it with ogrinfo, fetch or convert it again", _source.ToString());
                        }

                        break;
                    }

                    GdalNative.OGR_F_Destroy(feature);
                }
            }
        }
        finally
        {
            GdalNative.OGR_L_SetSpatialFilter(layer, 0);
            GdalNative.OGR_L_ResetReading(layer);
        }
    }

    internal void Release()
    {
        foreach (var (toLayer, fromLayer) in _transforms.Values)
        {
            GdalNative.OCTDestroyCoordinateTransformation(toLayer);
            GdalNative.OCTDestroyCoordinateTransformation(fromLayer);
        }

        _transforms.Clear();
        if (_srs != 0)
        {
            GdalNative.OSRDestroySpatialReference(_srs);
            _srs = 0;
        }
    }

    private static VectorFeature? Convert(nint feature, IReadOnlyList<int> fields, nint fromLayer)
    {
        var reference = GdalNative.OGR_F_GetGeometryRef(feature);
        if (reference == 0)
        {
            return null;
        }

        var values = new string?[fields.Count];
        for (var i = 0; i < fields.Count; i++)
        {
            if (fields[i] >= 0 && GdalNative.OGR_F_IsFieldSetAndNotNull(feature, fields[i]) != 0)
            {
                values[i] = Marshal.PtrToStringUTF8(GdalNative.OGR_F_GetFieldAsString(feature, fields[i]));
            }
        }

        var kind = GdalNative.OGR_GT_Flatten(GdalNative.OGR_G_GetGeometryType(reference)) switch
        {
            2 or 5 => GeometryKind.Line,
            3 or 6 => GeometryKind.Area,
            _ => GeometryKind.Other,
        };
        var geometry = new VectorGeometry(GdalNative.OGR_G_Clone(reference));
        if (GdalNative.OGR_G_Transform(geometry.Handle, fromLayer) != 0)
        {
            // Outside the target projection's domain: it cannot touch the patch.
            geometry.Dispose();
            return null;
        }

        return new VectorFeature(values, kind, geometry);
    }

    private (nint ToLayer, nint FromLayer) TransformsFor(int epsg)
    {
        if (_transforms.TryGetValue(epsg, out var pair))
        {
            return pair;
        }

        var target = CoordinateTransform.Srs(epsg);
        try
        {
            Gdal.ResetError();
            var toLayer = GdalNative.OCTNewCoordinateTransformation(target, _srs);
            var fromLayer = GdalNative.OCTNewCoordinateTransformation(_srs, target);
            if (toLayer == 0 || fromLayer == 0)
            {
                throw Gdal.Failure(ErrorIds.LabelSourceNoCrs, ErrorKind.InvalidData, $"No transformation between the CRS of layer '{Name}' of '{_source}' and EPSG:{epsg}", _source.ToString());
            }

            pair = (toLayer, fromLayer);
            _transforms[epsg] = pair;
            return pair;
        }
        finally
        {
            GdalNative.OSRDestroySpatialReference(target);
        }
    }

    private unsafe void SetFilter(nint toLayer, double minX, double minY, double maxX, double maxY)
    {
        // The rectangle's outline, densified, in the layer's CRS: a projected rectangle is not a
        // rectangle there, and its corners alone could miss a bulging edge.
        const int PerEdge = 16;
        var xs = new double[4 * PerEdge];
        var ys = new double[4 * PerEdge];
        for (var i = 0; i < PerEdge; i++)
        {
            var t = (double)i / PerEdge;
            (xs[i], ys[i]) = (minX + (t * (maxX - minX)), maxY);
            (xs[PerEdge + i], ys[PerEdge + i]) = (maxX, maxY - (t * (maxY - minY)));
            (xs[(2 * PerEdge) + i], ys[(2 * PerEdge) + i]) = (maxX - (t * (maxX - minX)), minY);
            (xs[(3 * PerEdge) + i], ys[(3 * PerEdge) + i]) = (minX, minY + (t * (maxY - minY)));
        }

        fixed (double* px = xs)
        fixed (double* py = ys)
        {
            if (GdalNative.OCTTransform(toLayer, xs.Length, px, py, null) == 0)
            {
                // No rectangle in the layer's CRS: read everything and let the rasteriser clip.
                GdalNative.OGR_L_SetSpatialFilterRect(Handle, double.MinValue, double.MinValue, double.MaxValue, double.MaxValue);
                return;
            }
        }

        GdalNative.OGR_L_SetSpatialFilterRect(Handle, xs.Min(), ys.Min(), xs.Max(), ys.Max());
    }
}

/// <summary>A feature read for labelling.</summary>
/// <param name="Values">The asked fields, as strings (null when unset).</param>
/// <param name="Kind">Line, area or other.</param>
/// <param name="Geometry">The geometry in the target CRS; the receiver disposes it.</param>
public sealed record VectorFeature(string?[] Values, GeometryKind Kind, VectorGeometry Geometry);

/// <summary>An OGR geometry this process owns.</summary>
public sealed class VectorGeometry : SafeHandleZeroOrMinusOneIsInvalid
{
    internal VectorGeometry(nint handle)
        : base(ownsHandle: true) => SetHandle(handle);

    internal nint Handle => IsClosed ? throw new ObjectDisposedException(nameof(VectorGeometry)) : handle;

    /// <summary>
    /// A new geometry: this one buffered by <paramref name="distance"/> in its CRS units (a road
    /// centreline becomes the road's surface).
    /// </summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.GdalUnavailable"/> when GDAL was built without GEOS.</exception>
    public VectorGeometry Buffer(double distance)
    {
        Gdal.ResetError();
        var buffered = GdalNative.OGR_G_Buffer(Handle, distance, 8);
        return buffered != 0 ? new VectorGeometry(buffered) : throw Gdal.Failure(ErrorIds.GdalUnavailable, ErrorKind.ResourceUnavailable, "Buffering a line failed (GDAL needs GEOS for this)", null);
    }

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        GdalNative.OGR_G_DestroyGeometry(handle);
        return true;
    }
}

/// <summary>Burns geometries into a raster band of a dataset whose grid and CRS are set.</summary>
public static class Rasterizer
{
    /// <summary>
    /// Burns each geometry (in the dataset's CRS) with its value into a band; a pixel is burnt
    /// when its centre is inside an area, or when a line passes through it.
    /// </summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.RasterWriteFailed"/>.</exception>
    public static unsafe void Burn(GdalDataset target, int band, IReadOnlyList<(VectorGeometry Geometry, double Value)> shapes)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(shapes);
        if (shapes.Count == 0)
        {
            return;
        }

        var handles = new nint[shapes.Count];
        var values = new double[shapes.Count];
        for (var i = 0; i < shapes.Count; i++)
        {
            handles[i] = shapes[i].Geometry.Handle;
            values[i] = shapes[i].Value;
        }

        var bands = stackalloc int[1];
        bands[0] = band;
        Gdal.ResetError();
        fixed (nint* g = handles)
        fixed (double* v = values)
        {
            // No transformer: GDAL builds one from the dataset's geotransform (geometries are in
            // its CRS already, so nothing is reprojected here).
            if (GdalNative.GDALRasterizeGeometries(target.Handle, 1, bands, handles.Length, g, 0, 0, v, 0, 0, 0) >= 3)
            {
                throw Gdal.Failure(ErrorIds.RasterWriteFailed, ErrorKind.WriteError, $"Rasterising {shapes.Count} shapes into '{target}' failed", target.ToString());
            }
        }

        GC.KeepAlive(shapes);
    }
}
