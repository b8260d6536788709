using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Sampling;
using NetTopologySuite.Algorithm;
using NetTopologySuite.Geometries;

namespace DeepSentinel.Core.Tests.Geometry;

/// <summary>Footprints, bboxes and sampling across the 180th meridian (RFC 7946 3.1.9 and 5.2).</summary>
public sealed class AntimeridianTests
{
    // A square of 0.2 degrees centred on 180, as a projection returns it (longitudes folded).
    private static readonly Coordinate[] Crossing = [new(179.9, 65.6), new(179.9, 65.4), new(-179.9, 65.4), new(-179.9, 65.6), new(179.9, 65.6)];

    [Fact]
    public void A_ring_across_180_becomes_two_counterclockwise_polygons_split_there()
    {
        var geometry = Antimeridian.FromRing(Crossing);
        var multi = Assert.IsType<MultiPolygon>(geometry);
        Assert.Equal(2, multi.NumGeometries);
        Assert.True(multi.IsValid);
        foreach (var part in multi.Geometries.Cast<Polygon>())
        {
            Assert.True(Orientation.IsCCW(part.Shell.CoordinateSequence));
            Assert.True(part.EnvelopeInternal.Width < 0.11);
        }

        Assert.Equal(0.2 * 0.2, multi.Area, 9);
        Assert.Contains(multi.Geometries, g => g.EnvelopeInternal.MaxX == 180);
        Assert.Contains(multi.Geometries, g => g.EnvelopeInternal.MinX == -180);
    }

    [Fact]
    public void The_bbox_of_a_split_footprint_crosses_the_antimeridian()
    {
        var box = Antimeridian.BoundingBoxOf(Antimeridian.FromRing(Crossing));
        Assert.Equal(new BoundingBox(179.9, 65.4, -179.9, 65.6), box with { West = Math.Round(box.West, 9), East = Math.Round(box.East, 9) });
        Assert.True(box.CrossesAntimeridian);
    }

    [Fact]
    public void A_ring_away_from_180_is_one_counterclockwise_polygon_with_its_plain_bbox()
    {
        // Clockwise on input.
        Coordinate[] ring = [new(2, 49), new(3, 49), new(3, 48), new(2, 48), new(2, 49)];
        var polygon = Assert.IsType<Polygon>(Antimeridian.FromRing(ring));
        Assert.True(Orientation.IsCCW(polygon.Shell.CoordinateSequence));
        Assert.Equal(new BoundingBox(2, 48, 3, 49), Antimeridian.BoundingBoxOf(polygon));
    }

    [Fact]
    public void Unions_of_boxes_take_the_short_way_round()
    {
        Assert.Equal(new BoundingBox(179.8, 0, -179.8, 2), Antimeridian.Union([new(179.8, 0, 179.9, 1), new(-179.9, 1, -179.8, 2)]));
        Assert.Equal(new BoundingBox(179.8, 0, -179.7, 1), Antimeridian.Union([new(179.8, 0, -179.9, 1), new(-179.8, 0, -179.7, 1)]));
        // A wide box that does not cross stays as it is (its inside is covered, not a gap).
        Assert.Equal(new BoundingBox(-170, 0, 170, 1), Antimeridian.Union([new(-170, 0, 170, 1)]));
        Assert.Equal(new BoundingBox(-10, 0, 10, 1), Antimeridian.Union([new(-10, 0, -5, 1), new(5, 0, 10, 1)]));
    }

    [Fact]
    public void Points_sampled_in_an_area_across_180_fall_on_both_sides_inside_it()
    {
        var area = Antimeridian.FromRing(Crossing);
        var points = new PointSequence(3, DateTimeOffset.Parse("2019-08-01"), DateTimeOffset.Parse("2019-08-20"), area, landOnly: false);
        var sample = Enumerable.Range(0, 200).Select(i => points[i]).ToList();
        Assert.All(sample, p => Assert.True(area.Covers(GeoJson.Wgs84Factory.CreatePoint(new Coordinate(p.Longitude, p.Latitude)))));
        Assert.Contains(sample, p => p.Longitude > 179.9);
        Assert.Contains(sample, p => p.Longitude < -179.9);
        // All 200 were accepted at the first try or close: the sampling range is the 0.2 degrees, not 360.
        Assert.All(sample, p => Assert.InRange(Math.Abs(p.Longitude), 179.9, 180));
    }
}
