using DeepSentinel.Core.Demo;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Raster;

[Collection(DemoCatalogCollection.Name)]
public sealed class DemoCatalogTests(DemoCatalogFixture fixture)
{
    [Fact]
    public async Task The_catalog_searches_like_a_real_one()
    {
        var scenes = await new SceneSearchService(TestServices.Create()).SearchAllAsync(new SceneSearchRequest { Catalog = fixture.Root });

        Assert.Equal(6, scenes.Count(s => s.Mission == SentinelMission.S2));
        Assert.Equal(3, scenes.Count(s => s.Mission == SentinelMission.S1));
        Assert.Contains(scenes, s => s.Mission == SentinelMission.S1 && s.Polarizations.SequenceEqual(["VV"]));
        var s2 = scenes.First(s => s.Mission == SentinelMission.S2);
        Assert.Equal(32631, s2.Epsg);
        Assert.Matches("^31U[DE]Q$", s2.MgrsTile);
        foreach (var band in SyntheticLandscape.S2Bands.Append("SCL"))
        {
            Assert.True(File.Exists(s2.FindBand(band)!.ResolveForReading()), band);
        }

        Assert.Contains(scenes, s => s.CloudCover < 10);
        Assert.Contains(scenes, s => s.CloudCover > 40);
    }

    [Fact]
    public void Sentinel2_bands_are_COGs_at_native_resolution_on_the_tile_grid()
    {
        var folder = Directory.GetDirectories(Path.Combine(fixture.Root, "sentinel-2-l2a"))[0];

        var b04 = Independent.GdalInfo(Path.Combine(folder, "B04.tif"));
        var b11 = Independent.GdalInfo(Path.Combine(folder, "B11.tif"));
        var b01 = Independent.GdalInfo(Path.Combine(folder, "B01.tif"));
        var scl = Independent.GdalInfo(Path.Combine(folder, "SCL.tif"));

        Assert.Equal("COG", (string)b04["metadata"]!["IMAGE_STRUCTURE"]!["LAYOUT"]!);
        Assert.Equal(new[] { 600, 600 }, b04["size"]!.AsArray().Select(v => (int)v!));
        Assert.Equal(new[] { 300, 300 }, b11["size"]!.AsArray().Select(v => (int)v!));
        Assert.Equal(new[] { 100, 100 }, b01["size"]!.AsArray().Select(v => (int)v!));
        Assert.Equal(10.0, (double)b04["geoTransform"]![1]!);
        Assert.Equal((double)b04["geoTransform"]![0]!, (double)b11["geoTransform"]![0]!);
        Assert.Contains("32631", b04["coordinateSystem"]!["wkt"]!.ToString(), StringComparison.Ordinal);
        Assert.Equal("UInt16", (string)b04["bands"]![0]!["type"]!);
        Assert.Equal(0.0, (double)b04["bands"]![0]!["noDataValue"]!);
        Assert.Equal("Byte", (string)scl["bands"]![0]!["type"]!);
    }

    [Fact]
    public void Sentinel1_is_float_backscatter_on_a_geographic_grid()
    {
        var folder = Directory.GetDirectories(Path.Combine(fixture.Root, "sentinel-1-rtc")).First(d => d.Contains("1SDV", StringComparison.Ordinal));

        var vv = Independent.GdalInfo(Path.Combine(folder, "vv.tif"), stats: true);

        Assert.Equal("Float32", (string)vv["bands"]![0]!["type"]!);
        Assert.Contains("4326", vv["coordinateSystem"]!["wkt"]!.ToString(), StringComparison.Ordinal);
        var mean = (double)vv["bands"]![0]!["mean"]!;
        // Linear gamma0 of land: between -25 dB and 0 dB on average.
        Assert.InRange(mean, 0.003, 1.0);
        Assert.Equal("COG", (string)vv["metadata"]!["IMAGE_STRUCTURE"]!["LAYOUT"]!);
    }

    [Fact]
    public void A_second_run_with_the_same_options_reuses_the_catalog()
    {
        var again = new DemoCatalogGenerator().Generate(fixture.Options, NullReporter.Instance, CancellationToken.None);

        Assert.True(again.Reused);
        Assert.Equal(fixture.Catalog.S2Scenes, again.S2Scenes);
    }

    [Theory]
    [InlineData(601, 1)]
    [InlineData(600, 0)]
    public void Bad_options_are_rejected(int tileSize, int tiles)
    {
        var error = Assert.Throws<DeepSentinelException>(() => new DemoCatalogGenerator().Generate(new DemoCatalogOptions { Destination = "/tmp/x", TileSize = tileSize, Tiles = tiles }, NullReporter.Instance, CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidParameterValue, error.ErrorId);
    }
}
