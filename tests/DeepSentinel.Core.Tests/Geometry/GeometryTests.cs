using System.Text.Json;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Tests.TestServers;
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

    [Fact]
    public void A_FeatureCollection_of_the_world_reads_with_the_areas_OGR_reads()
    {
        // Natural Earth's 1:50m land polygons, the same file Sampling's land mask embeds.
        var folder = Directory.CreateTempSubdirectory("ds-geojson-").FullName;
        try
        {
            var path = Path.Combine(folder, "land.geojson");
            using (var gz = new System.IO.Compression.GZipStream(File.OpenRead(Path.Combine(SolutionFolder(), "src/DeepSentinel.Core/Sampling/Data/ne_50m_land.geojson.gz")), System.IO.Compression.CompressionMode.Decompress))
            using (var file = File.Create(path))
            {
                gz.CopyTo(file);
            }

            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var areas = doc.RootElement.GetProperty("features").EnumerateArray().Select(f => GeoJson.ReadGeometry(f.GetProperty("geometry")).Area).ToList();
            var ogr = Independent.Python("import sys; from osgeo import ogr; ds = ogr.Open(sys.argv[1]); print('\\n'.join(repr(f.GetGeometryRef().GetArea()) for f in ds.GetLayer(0)))", path)
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToList();

            Assert.True(areas.Count > 1000, $"{areas.Count} features");
            Assert.Equal(ogr.Count, areas.Count);
            Assert.All(areas.Zip(ogr), pair => Assert.Equal(pair.Second, pair.First, 9));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string SolutionFolder()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DeepSentinel.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("DeepSentinel.sln not found.");
    }
}
