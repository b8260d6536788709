using System.Globalization;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Interop.Gdal;

namespace DeepSentinel.Core.Raster;

/// <summary>
/// A north-up pixel grid in a projected CRS: where a patch's pixels are. The patch corpus uses
/// 256 x 256 px at 10 m in the Sentinel-2 tile's UTM zone, with its origin on the tile's 60 m
/// grid, so that the 10 m and 20 m bands are read as whole-pixel windows.
/// </summary>
public sealed record PatchGrid(int Epsg, double OriginX, double OriginY, double PixelSize, int Width, int Height)
{
    /// <summary>The patch size of the corpus, in pixels.</summary>
    public const int DefaultSize = 256;

    /// <summary>The corpus resolution in metres.</summary>
    public const double DefaultPixelSize = 10.0;

    /// <summary>The snapping step for patch origins: a common multiple of the 10, 20 and 60 m S2 grids.</summary>
    public const double SnapStep = 60.0;

    /// <summary>GDAL's geotransform for the grid.</summary>
    public double[] GeoTransform => [OriginX, PixelSize, 0, OriginY, 0, -PixelSize];

    /// <summary>Right edge (max x).</summary>
    public double MaxX => OriginX + (Width * PixelSize);

    /// <summary>Bottom edge (min y).</summary>
    public double MinY => OriginY - (Height * PixelSize);

    /// <summary>
    /// The grid of <paramref name="width"/> x <paramref name="height"/> px centred as nearly as
    /// possible on (x, y), with its origin snapped to <see cref="SnapStep"/> relative to the
    /// reference grid origin (the S2 tile's).
    /// </summary>
    public static PatchGrid CenteredOn(int epsg, double x, double y, double referenceOriginX, double referenceOriginY, int width = DefaultSize, int height = DefaultSize, double pixelSize = DefaultPixelSize)
    {
        var left = x - (width * pixelSize / 2);
        var top = y + (height * pixelSize / 2);
        var snappedX = referenceOriginX + (Math.Round((left - referenceOriginX) / SnapStep) * SnapStep);
        var snappedY = referenceOriginY + (Math.Round((top - referenceOriginY) / SnapStep) * SnapStep);
        return new PatchGrid(epsg, snappedX, snappedY, pixelSize, width, height);
    }

    /// <summary>
    /// The pixel window of this grid inside a north-up source grid of the same CRS, or null when
    /// the source is rotated. Coordinates may be fractional.
    /// </summary>
    public (double XOff, double YOff, double XSize, double YSize)? WindowIn(double[] sourceTransform)
    {
        ArgumentNullException.ThrowIfNull(sourceTransform);
        if (sourceTransform[2] != 0 || sourceTransform[4] != 0 || sourceTransform[1] <= 0 || sourceTransform[5] >= 0)
        {
            return null;
        }

        return (
            (OriginX - sourceTransform[0]) / sourceTransform[1],
            (OriginY - sourceTransform[3]) / sourceTransform[5],
            Width * PixelSize / sourceTransform[1],
            Height * PixelSize / -sourceTransform[5]);
    }

    /// <summary>
    /// The grid's outline in WGS 84 (edges densified so the polygon follows the projection): a
    /// polygon with a counterclockwise ring, or a MultiPolygon split at the antimeridian (RFC 7946).
    /// </summary>
    public NetTopologySuite.Geometries.Geometry FootprintWgs84(CoordinateTransform toWgs84)
    {
        ArgumentNullException.ThrowIfNull(toWgs84);
        const int PerEdge = 8;
        var xs = new double[(4 * PerEdge) + 1];
        var ys = new double[xs.Length];
        for (var i = 0; i < PerEdge; i++)
        {
            var t = (double)i / PerEdge;
            (xs[i], ys[i]) = (OriginX + (t * (MaxX - OriginX)), OriginY);
            (xs[PerEdge + i], ys[PerEdge + i]) = (MaxX, OriginY - (t * (OriginY - MinY)));
            (xs[(2 * PerEdge) + i], ys[(2 * PerEdge) + i]) = (MaxX - (t * (MaxX - OriginX)), MinY);
            (xs[(3 * PerEdge) + i], ys[(3 * PerEdge) + i]) = (OriginX, MinY + (t * (OriginY - MinY)));
        }

        xs[^1] = xs[0];
        ys[^1] = ys[0];
        toWgs84.Transform(xs, ys);
        var coordinates = xs.Zip(ys, (x, y) => new NetTopologySuite.Geometries.Coordinate(Math.Round(x, 7), Math.Round(y, 7))).ToArray();
        return Antimeridian.FromRing(coordinates);
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"EPSG:{Epsg} {Width}x{Height} @ {PixelSize} m, origin ({OriginX}, {OriginY})");
}
