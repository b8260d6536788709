using System.Text.Json;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Geometry;
using NetTopologySuite.Geometries;

namespace DeepSentinel.Core.Tests.Geometry;

public sealed class GeometryTests
{
    [Fact]
    public void A_swapped_latitude_longitude_box_gets_a_hint()
    {
        // Paris given as lat, lon: 48.8 is fine as a longitude, but 2.3 < 48.8 makes north < south? No:
        // the classic mistake is (lat, lon, lat, lon) with a latitude > 90 in longitude place.
        var error = Assert.Throws<DeepSentinelException>(() => BoundingBox.From([2.2, 148.8, 2.4, 148.9]));
        Assert.Equal(ErrorIds.InvalidBoundingBox, error.ErrorId);
        Assert.Contains("latitude outside", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new double[] { 1, 2, 3 })]
    [InlineData(new double[] { 1, 2, 3, 4, 5 })]
    [InlineData(new double[] { double.NaN, 2, 3, 4 })]
    public void Boxes_need_four_finite_numbers(double[] values)
    {
        var error = Assert.Throws<DeepSentinelException>(() => BoundingBox.From(values));
        Assert.Equal(ErrorIds.InvalidBoundingBox, error.ErrorId);
    }

    [Fact]
    public void Antimeridian_boxes_are_legal_and_intersect_both_sides()
    {
        var box = BoundingBox.From([170, -20, -170, -10]);

        Assert.True(box.CrossesAntimeridian);
        Assert.True(box.Intersects(new BoundingBox(175, -15, 176, -14)));
        Assert.True(box.Intersects(new BoundingBox(-175, -15, -174, -14)));
        Assert.False(box.Intersects(new BoundingBox(0, -15, 1, -14)));
    }

    [Fact]
    public void Parses_GeoJSON_geometry_feature_and_collection_and_WKT()
    {
        var point = GeoJson.ParseUserGeometry("""{"type":"Point","coordinates":[2.35,48.85]}""");
        var feature = GeoJson.ParseUserGeometry("""{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}""");
        var collection = GeoJson.ParseUserGeometry("""{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,1]}},{"type":"Feature","geometry":{"type":"Point","coordinates":[2,2]}}]}""");
        var wkt = GeoJson.ParseUserGeometry("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 1, 0 0)), ((5 5, 6 5, 6 6, 5 6, 5 5)))");

        Assert.IsType<Point>(point);
        Assert.Equal(1.0, feature.Area, 6);
        Assert.Equal(2, collection.NumGeometries);
        Assert.Equal(2.0, wkt.Area, 6);
        Assert.All(new[] { point, feature, wkt }, g => Assert.Equal(4326, g.SRID));
    }

    [Theory]
    [InlineData("")]
    [InlineData("POLYGON ((0 0, 1 0")]
    [InlineData("""{"type":"Polygon","coordinates":[[[0,0],[1,0]""")]
    [InlineData("""{"type":"Blob","coordinates":[]}""")]
    [InlineData("POINT (200 10)")]
    [InlineData("POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))")]
    public void Bad_geometries_are_InvalidGeometry(string text)
    {
        var error = Assert.Throws<DeepSentinelException>(() => GeoJson.ParseUserGeometry(text));
        Assert.Equal(ErrorIds.InvalidGeometry, error.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
    }

    [Fact]
    public void Writes_GeoJSON_that_reads_back_the_same()
    {
        var original = GeoJson.ParseUserGeometry("POLYGON ((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 2 1, 2 2, 1 2, 1 1))");

        var json = GeoJson.ToJson(original);
        using var doc = JsonDocument.Parse(json);
        var back = GeoJson.ReadGeometry(doc.RootElement);

        Assert.True(original.EqualsExact(back));
        Assert.Equal("Polygon", doc.RootElement.GetProperty("type").GetString());
    }
}
