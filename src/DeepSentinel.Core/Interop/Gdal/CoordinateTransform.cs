using System.Runtime.InteropServices;
using DeepSentinel.Core.Errors;

namespace DeepSentinel.Core.Interop.Gdal;

/// <summary>
/// Coordinate transformation between EPSG codes through GDAL/PROJ, in traditional GIS order
/// (x = longitude/easting, y = latitude/northing). Not thread-safe: one per worker.
/// </summary>
public sealed class CoordinateTransform : IDisposable
{
    private nint _transform;

    /// <summary>Creates a transformation from <paramref name="sourceEpsg"/> to <paramref name="targetEpsg"/>.</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.InvalidParameterValue"/> for an unknown EPSG code.</exception>
    public CoordinateTransform(int sourceEpsg, int targetEpsg)
    {
        Gdal.EnsureInitialized();
        var source = Srs(sourceEpsg);
        var target = Srs(targetEpsg);
        try
        {
            Gdal.ResetError();
            _transform = GdalNative.OCTNewCoordinateTransformation(source, target);
            if (_transform == 0)
            {
                throw Gdal.Failure(ErrorIds.InvalidParameterValue, ErrorKind.InvalidArgument, $"No transformation from EPSG:{sourceEpsg} to EPSG:{targetEpsg}", targetEpsg);
            }
        }
        finally
        {
            GdalNative.OSRDestroySpatialReference(source);
            GdalNative.OSRDestroySpatialReference(target);
        }

        SourceEpsg = sourceEpsg;
        TargetEpsg = targetEpsg;
    }

    /// <summary>The source EPSG code.</summary>
    public int SourceEpsg { get; }

    /// <summary>The target EPSG code.</summary>
    public int TargetEpsg { get; }

    /// <summary>Transforms points in place.</summary>
    /// <exception cref="DeepSentinelException">When a point cannot be transformed.</exception>
    public unsafe void Transform(Span<double> x, Span<double> y)
    {
        ObjectDisposedException.ThrowIf(_transform == 0, this);
        if (x.Length != y.Length)
        {
            throw new ArgumentException("x and y must have the same length.", nameof(y));
        }

        Gdal.ResetError();
        fixed (double* px = x)
        fixed (double* py = y)
        {
            if (GdalNative.OCTTransform(_transform, x.Length, px, py, null) == 0)
            {
                throw Gdal.Failure(ErrorIds.InvalidParameterValue, ErrorKind.InvalidArgument, $"Transforming points from EPSG:{SourceEpsg} to EPSG:{TargetEpsg} failed", null);
            }
        }
    }

    /// <summary>Transforms one point.</summary>
    public (double X, double Y) Transform(double x, double y)
    {
        Span<double> xs = [x];
        Span<double> ys = [y];
        Transform(xs, ys);
        return (xs[0], ys[0]);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_transform != 0)
        {
            GdalNative.OCTDestroyCoordinateTransformation(_transform);
            _transform = 0;
        }
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> WktCache = new();

    /// <summary>
    /// The WKT of an EPSG code (for setting a dataset's projection). Cached: every patch writes
    /// three COGs, and each lookup would otherwise query PROJ's database again.
    /// </summary>
    public static string WktOf(int epsg) => WktCache.TryGetValue(epsg, out var wkt) ? wkt : WktCache.GetOrAdd(epsg, LookUpWkt(epsg));

    /// <summary>True when the EPSG code names a geographic (longitude/latitude) CRS.</summary>
    public static bool IsGeographic(int epsg) => epsg > 0 && WktOf(epsg).TrimStart().StartsWith("GEOG", StringComparison.OrdinalIgnoreCase);

    private static unsafe string LookUpWkt(int epsg)
    {
        Gdal.EnsureInitialized();
        var srs = Srs(epsg);
        try
        {
            nint wkt;
            if (GdalNative.OSRExportToWkt(srs, &wkt) != 0)
            {
                throw Gdal.Failure(ErrorIds.InvalidParameterValue, ErrorKind.InvalidArgument, $"Cannot export EPSG:{epsg} as WKT", epsg);
            }

            try
            {
                return Marshal.PtrToStringUTF8(wkt) ?? string.Empty;
            }
            finally
            {
                GdalNative.VSIFree(wkt);
            }
        }
        finally
        {
            GdalNative.OSRDestroySpatialReference(srs);
        }
    }

    /// <summary>The EPSG code of a WKT, or null when it has none.</summary>
    public static int? EpsgOf(string wkt)
    {
        if (string.IsNullOrWhiteSpace(wkt))
        {
            return null;
        }

        Gdal.EnsureInitialized();
        var srs = GdalNative.OSRNewSpatialReference(wkt);
        if (srs == 0)
        {
            return null;
        }

        try
        {
            GdalNative.OSRAutoIdentifyEPSG(srs);
            var code = Marshal.PtrToStringUTF8(GdalNative.OSRGetAuthorityCode(srs, null));
            return int.TryParse(code, out var epsg) ? epsg : null;
        }
        finally
        {
            GdalNative.OSRDestroySpatialReference(srs);
        }
    }

    /// <summary>True when a WKT is a projected CRS whose unit is the metre (UTM, for example): distances on its grid are metres.</summary>
    public static unsafe bool IsProjectedInMetres(string wkt)
    {
        if (string.IsNullOrWhiteSpace(wkt))
        {
            return false;
        }

        Gdal.EnsureInitialized();
        var srs = GdalNative.OSRNewSpatialReference(wkt);
        if (srs == 0)
        {
            return false;
        }

        try
        {
            return GdalNative.OSRIsProjected(srs) != 0 && Math.Abs(GdalNative.OSRGetLinearUnits(srs, null) - 1.0) < 1e-9;
        }
        finally
        {
            GdalNative.OSRDestroySpatialReference(srs);
        }
    }

    internal static nint Srs(int epsg)
    {
        var srs = GdalNative.OSRNewSpatialReference(null);
        Gdal.ResetError();
        if (GdalNative.OSRImportFromEPSG(srs, epsg) != 0)
        {
            GdalNative.OSRDestroySpatialReference(srs);
            throw Gdal.Failure(ErrorIds.InvalidParameterValue, ErrorKind.InvalidArgument, $"EPSG:{epsg} is not a known coordinate reference system", epsg);
        }

        GdalNative.OSRSetAxisMappingStrategy(srs, GdalNative.OaisTraditionalGisOrder);
        return srs;
    }
}
