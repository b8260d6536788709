using NetTopologySuite.Algorithm;
using NetTopologySuite.Geometries;

namespace DeepSentinel.Core.Geometry;

/// <summary>
/// Longitude/latitude geometries near the 180th meridian, as RFC 7946 (GeoJSON) and STAC want
/// them: a polygon that crosses the antimeridian is split into a MultiPolygon at +/-180 degrees
/// (section 3.1.9), and its bbox has its west edge east of its east edge (section 5.2), e.g.
/// [179.9, 65.4, -179.9, 65.6]. Exterior rings are counterclockwise, holes clockwise (3.1.6).
/// </summary>
public static class Antimeridian
{
    /// <summary>
    /// Turns a ring traced in longitude/latitude (as a projection returns it: longitudes folded into
    /// -180..180, so a ring that crosses 180 jumps by about 360 degrees) into a valid polygon, or a
    /// MultiPolygon split at the antimeridian, with counterclockwise exterior rings.
    /// </summary>
    public static NetTopologySuite.Geometries.Geometry FromRing(IReadOnlyList<Coordinate> ring)
    {
        ArgumentNullException.ThrowIfNull(ring);
        var unwrapped = Unwrap(ring);
        var factory = GeoJson.Wgs84Factory;
        var polygon = factory.CreatePolygon(unwrapped);
        var envelope = polygon.EnvelopeInternal;
        if (envelope.MinX >= -180 && envelope.MaxX <= 180)
        {
            return Oriented(polygon);
        }

        // The unwrapped ring runs past +180 (or -180): cut it at the meridian and fold the part
        // beyond back by 360 degrees.
        var shift = envelope.MaxX > 180 ? 360.0 : -360.0;
        var inside = factory.ToGeometry(new Envelope(-180, 180, -90, 90));
        var beyond = factory.ToGeometry(shift > 0 ? new Envelope(180, 540, -90, 90) : new Envelope(-540, -180, -90, 90));
        var parts = new List<Polygon>();
        foreach (var (piece, by) in new[] { (polygon.Intersection(inside), 0.0), (polygon.Intersection(beyond), -shift) })
        {
            for (var i = 0; i < piece.NumGeometries; i++)
            {
                if (piece.GetGeometryN(i) is Polygon p && !p.IsEmpty && p.Area > 0)
                {
                    parts.Add(Oriented(Shift(p, by)));
                }
            }
        }

        return parts.Count == 1 ? parts[0] : factory.CreateMultiPolygon([.. parts]);
    }

    /// <summary>
    /// The STAC/RFC 7946 bbox (west, south, east, north) of a geometry: where its parts lie on both
    /// sides of the antimeridian and the box across it is narrower, west &gt; east.
    /// </summary>
    public static BoundingBox BoundingBoxOf(NetTopologySuite.Geometries.Geometry geometry)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        var spans = Enumerable.Range(0, geometry.NumGeometries).Select(i => geometry.GetGeometryN(i).EnvelopeInternal).Select(e => (e.MinX, e.MaxX));
        var (west, east) = LongitudeRange(spans);
        var envelope = geometry.EnvelopeInternal;
        return new BoundingBox(west, envelope.MinY, east, envelope.MaxY);
    }

    /// <summary>The smallest box holding all the boxes (boxes that cross the antimeridian taken as such).</summary>
    public static BoundingBox Union(IEnumerable<BoundingBox> boxes)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        var list = boxes.ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("No boxes to unite.", nameof(boxes));
        }

        var (west, east) = LongitudeRange(list.SelectMany(b => b.LongitudeSpans()));
        return new BoundingBox(west, list.Min(b => b.South), east, list.Max(b => b.North));
    }

    /// <summary>
    /// The longitude interval to sample a geometry in: [west, west + width], where west + width may
    /// pass 180 for an area that crosses the antimeridian (then fold longitudes with <see cref="Normalize"/>).
    /// </summary>
    public static (double West, double Width) SamplingRange(NetTopologySuite.Geometries.Geometry geometry)
    {
        var box = BoundingBoxOf(geometry);
        return (box.West, box.CrossesAntimeridian ? box.East + 360 - box.West : box.East - box.West);
    }

    /// <summary>A longitude folded into [-180, 180).</summary>
    public static double Normalize(double longitude)
    {
        var folded = ((longitude + 180) % 360 + 360) % 360 - 180;
        // 180 itself is kept (a point on the meridian is on the eastern edge of the world).
        return longitude == 180 ? 180 : folded;
    }

    /// <summary>
    /// A ring whose consecutive longitudes never jump by more than 180 degrees: longitudes may then
    /// pass +/-180, so the ring is continuous across the antimeridian.
    /// </summary>
    public static Coordinate[] Unwrap(IReadOnlyList<Coordinate> ring)
    {
        ArgumentNullException.ThrowIfNull(ring);
        var result = new Coordinate[ring.Count];
        var offset = 0.0;
        for (var i = 0; i < ring.Count; i++)
        {
            if (i > 0)
            {
                var step = ring[i].X - ring[i - 1].X;
                if (step > 180)
                {
                    offset -= 360;
                }
                else if (step < -180)
                {
                    offset += 360;
                }
            }

            result[i] = new Coordinate(ring[i].X + offset, ring[i].Y);
        }

        // Keep the ring mostly within -180..180: shift the whole ring when its centre lies beyond.
        var mean = result.Average(c => c.X);
        var whole = mean > 180 ? -360 : mean < -180 ? 360 : 0;
        if (whole != 0)
        {
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = new Coordinate(result[i].X + whole, result[i].Y);
            }
        }

        // Close exactly (the last point may have picked up an offset of its own).
        result[^1] = result[0].Copy();
        return result;
    }

    /// <summary>The polygon with a counterclockwise exterior ring and clockwise holes (RFC 7946 3.1.6).</summary>
    public static Polygon Oriented(Polygon polygon)
    {
        ArgumentNullException.ThrowIfNull(polygon);
        var factory = polygon.Factory;
        LinearRing Ring(LinearRing ring, bool counterClockwise) =>
            Orientation.IsCCW(ring.CoordinateSequence) == counterClockwise ? ring : (LinearRing)ring.Reverse();
        var shell = Ring(polygon.Shell, counterClockwise: true);
        var holes = polygon.Holes.Select(h => Ring(h, counterClockwise: false)).ToArray();
        return factory.CreatePolygon(shell, holes);
    }

    /// <summary>The geometry with every polygon oriented as RFC 7946 wants.</summary>
    public static NetTopologySuite.Geometries.Geometry Oriented(NetTopologySuite.Geometries.Geometry geometry) => geometry switch
    {
        Polygon p => Oriented(p),
        MultiPolygon mp => mp.Factory.CreateMultiPolygon(mp.Geometries.Cast<Polygon>().Select(Oriented).ToArray()),
        _ => geometry,
    };

    // The shortest arc of the circle of longitudes that covers every span (each west <= east, within
    // -180..180): the complement of the widest gap between them. West > east when it crosses 180.
    private static (double West, double East) LongitudeRange(IEnumerable<(double West, double East)> spans)
    {
        var merged = new List<(double West, double East)>();
        foreach (var (w, e) in spans.OrderBy(s => s.West))
        {
            if (merged.Count > 0 && w <= merged[^1].East)
            {
                merged[^1] = (merged[^1].West, Math.Max(merged[^1].East, e));
            }
            else
            {
                merged.Add((w, e));
            }
        }

        if (merged.Count == 0)
        {
            throw new ArgumentException("No longitudes.", nameof(spans));
        }

        // The gap across the antimeridian, from the last span's east edge round to the first's west edge.
        var bestGap = merged[0].West + 360 - merged[^1].East;
        var result = (merged[0].West, merged[^1].East);
        for (var k = 0; k + 1 < merged.Count; k++)
        {
            var gap = merged[k + 1].West - merged[k].East;
            if (gap > bestGap)
            {
                bestGap = gap;
                result = (merged[k + 1].West, merged[k].East);
            }
        }

        return result;
    }

    private static Polygon Shift(Polygon polygon, double by)
    {
        if (by == 0)
        {
            return polygon;
        }

        var copy = (Polygon)polygon.Copy();
        copy.Apply(new ShiftFilter(by));
        copy.GeometryChanged();
        return copy;
    }

    private sealed class ShiftFilter(double by) : ICoordinateSequenceFilter
    {
        public bool Done => false;

        public bool GeometryChanged => true;

        public void Filter(CoordinateSequence seq, int i)
        {
            // Exactly +/-180 on the cut, never 180.0000000001.
            var x = seq.GetX(i) + by;
            seq.SetX(i, Math.Round(x, 9));
        }
    }
}
