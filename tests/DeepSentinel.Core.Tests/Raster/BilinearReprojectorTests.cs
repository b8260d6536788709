using DeepSentinel.Core.Interop.Gdal;
using DeepSentinel.Core.Raster;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Raster;

/// <summary>The fast Sentinel-1 reprojection against GDAL's own warper (exact transformation, bilinear).</summary>
[Collection(DemoCatalogCollection.Name)]
public sealed class BilinearReprojectorTests(DemoCatalogFixture fixture)
{
    [Fact]
    public async Task Matches_GDAL_warp_on_the_same_grid()
    {
        var scenes = await new SceneSearchService(TestServices.Create()).SearchAllAsync(new SceneSearchRequest { Catalog = fixture.Root });
        var s1 = scenes.First(s => s.Mission == SentinelMission.S1 && s.Polarizations.Count == 2);
        var s2 = scenes.First(s => s.Mission == SentinelMission.S2);
        using var source = GdalDataset.Open(s1.FindBand("VV")!.ResolveForReading());
        var centre = s2.Footprint.Centroid;
        using var toUtm = new CoordinateTransform(4326, s2.Epsg!.Value);
        using var toSource = new CoordinateTransform(s2.Epsg!.Value, 4326);
        var (x, y) = toUtm.Transform(centre.X, centre.Y);
        var grid = PatchGrid.CenteredOn(s2.Epsg!.Value, x, y, 0, 0);

        var fast = new float[grid.Width * grid.Height];
        Assert.True(BilinearReprojector.TryReproject(source, toSource, grid, [fast], float.NaN));

        using var target = GdalDataset.CreateInMemory(grid.Width, grid.Height, 1, RasterDataType.Float32);
        target.GeoTransform = grid.GeoTransform;
        target.ProjectionWkt = CoordinateTransform.WktOf(grid.Epsg);
        target.SetNoData(1, double.NaN);
        target.WarpFrom(source, ["-r", "bilinear", "-et", "0", "-dstnodata", "nan", "-srcnodata", "nan"]);
        var reference = new float[fast.Length];
        target.Read<float>(1, 0, 0, grid.Width, grid.Height, reference, grid.Width, grid.Height);

        var relative = fast.Zip(reference).Where(p => float.IsFinite(p.First) && float.IsFinite(p.Second)).Select(p => Math.Abs(p.First - p.Second) / Math.Abs(p.Second)).ToList();
        Assert.True(relative.Count > fast.Length * 0.99, $"only {relative.Count} comparable pixels");
        Assert.True(relative.Average() < 1e-3, $"mean relative difference {relative.Average():E2}");
        Assert.True(relative.Max() < 2e-2, $"max relative difference {relative.Max():E2}");
    }
}
