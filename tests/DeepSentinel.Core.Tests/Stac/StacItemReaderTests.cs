using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Stac;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Stac;

/// <summary>Reading the real items of shared/data and the other providers' conventions.</summary>
public sealed class StacItemReaderTests
{
    private static SentinelScene Read(JsonNode item, Uri? location = null)
    {
        using var doc = JsonDocument.Parse(item.ToJsonString());
        return StacItemReader.Read(doc.RootElement, location, "test", null, out _)!;
    }

    [Fact]
    public void Reads_the_real_Planetary_Computer_Sentinel2_item()
    {
        var scene = Read(TestData.StacExample("planetary-computer.sentinel-2-l2a.item.json"));

        Assert.Equal("S2B_MSIL2A_20190629T212529_R043_T06VVN_20201006T080531", scene.Id);
        Assert.Equal("sentinel-2-l2a", scene.Collection);
        Assert.Equal(SentinelMission.S2, scene.Mission);
        Assert.Equal("Sentinel-2B", scene.Platform);
        Assert.Equal(new DateTimeOffset(2019, 6, 29, 21, 25, 29, 24, TimeSpan.Zero), scene.Datetime);
        Assert.Equal(32606, scene.Epsg);
        Assert.Equal(0.314306, scene.CloudCover);
        Assert.Equal(OrbitState.Descending, scene.OrbitState);
        Assert.Equal(43, scene.RelativeOrbit);
        Assert.Equal("06VVN", scene.MgrsTile);
        Assert.Equal("02.12", scene.ProcessingBaseline);
        var b01 = scene.FindBand("B01")!;
        Assert.Equal(60, b01.ResolutionM);
        Assert.Equal(new[] { 1830, 1830 }, b01.ProjShape);
        Assert.Equal(10, scene.FindBand("B04")!.ResolutionM);
        Assert.Equal(20, scene.FindBand("B8A")!.ResolutionM);
        Assert.Equal(20, scene.FindBand("SCL")!.ResolutionM);
        Assert.True(b01.IsGeoTiff);
        Assert.Contains("B12", scene.Bands);
        Assert.Equal("test", scene.Provider);
        Assert.True(scene.Footprint.Area > 0);
        Assert.Equal("desc 43", scene.DisplayOrbit);
    }

    [Fact]
    public void Reads_the_real_Earth_Search_v0_item()
    {
        var scene = Read(TestData.StacExample("earth-search-v0.sentinel-2-l2a.item.json"));

        Assert.Equal(SentinelMission.S2, scene.Mission);
        Assert.Equal("28QCH", scene.MgrsTile);
        Assert.Equal("02.14", scene.ProcessingBaseline);
        Assert.Equal(2.36, scene.CloudCover);
        Assert.Equal(32628, scene.Epsg);
        Assert.NotNull(scene.FindBand("B04"));
        Assert.Equal(10, scene.FindBand("B04")!.ResolutionM);
    }

    [Fact]
    public void Earth_Search_v1_common_name_keys_map_to_band_names()
    {
        var item = TestData.StacExample("planetary-computer.sentinel-2-l2a.item.json");
        var props = item["properties"]!.AsObject();
        props.Remove("s2:mgrs_tile");
        props["grid:code"] = "MGRS-6VVN";
        var assets = new JsonObject
        {
            ["red"] = new JsonObject { ["href"] = "https://example.com/red.tif", ["type"] = "image/tiff; application=geotiff; profile=cloud-optimized", ["gsd"] = 10 },
            ["red-jp2"] = new JsonObject { ["href"] = "s3://bucket/red.jp2", ["type"] = "image/jp2" },
            ["nir08"] = new JsonObject { ["href"] = "https://example.com/nir08.tif", ["type"] = "image/tiff; application=geotiff", ["proj:transform"] = new JsonArray(20, 0, 399960, 0, -20, 5300040) },
        };
        item["assets"] = assets;

        var scene = Read(item);

        Assert.Equal("06VVN", scene.MgrsTile);
        Assert.Equal("red", scene.FindBand("B04")!.Key);
        Assert.Equal(20, scene.FindBand("B8A")!.ResolutionM);
        Assert.Null(scene.Assets["red-jp2"].BandName);
    }

    [Fact]
    public void Copernicus_style_keys_pick_the_finest_resolution()
    {
        var item = TestData.StacExample("planetary-computer.sentinel-2-l2a.item.json");
        item["assets"] = new JsonObject
        {
            ["B02_60m"] = new JsonObject { ["href"] = "https://example.com/B02_60m.jp2" },
            ["B02_10m"] = new JsonObject { ["href"] = "https://example.com/B02_10m.jp2" },
            ["B02_20m"] = new JsonObject { ["href"] = "https://example.com/B02_20m.jp2" },
        };
        item["properties"]!["proj:code"] = "EPSG:32606";
        item["properties"]!.AsObject().Remove("proj:epsg");

        var scene = Read(item);

        Assert.Equal("B02_10m", scene.FindBand("B02")!.Key);
        Assert.Equal(32606, scene.Epsg);
    }

    [Fact]
    public void Reads_a_Sentinel1_item()
    {
        var scene = Read(SampleItems.S1(1, new DateTimeOffset(2019, 8, 3, 5, 53, 26, TimeSpan.Zero), "ascending", 161, ["VV", "VH"], 1, 47));

        Assert.Equal(SentinelMission.S1, scene.Mission);
        Assert.Equal(new[] { "VV", "VH" }, scene.Polarizations);
        Assert.Equal("IW", scene.InstrumentMode);
        Assert.Equal(OrbitState.Ascending, scene.OrbitState);
        Assert.Equal(161, scene.RelativeOrbit);
        Assert.Null(scene.CloudCover);
        Assert.Null(scene.MgrsTile);
        Assert.Equal("float32", scene.FindBand("VV")!.DataType);
        Assert.Equal(-32768, scene.FindBand("vh")!.NoData);
        Assert.Equal("asc 161", scene.DisplayOrbit);
    }

    [Fact]
    public void A_non_Sentinel_item_is_skipped_with_a_reason()
    {
        var item = TestData.StacExample("planetary-computer.sentinel-2-l2a.item.json");
        item["collection"] = "landsat-c2-l2";
        item["properties"]!["platform"] = "landsat-8";
        item["properties"]!["constellation"] = "landsat";
        using var doc = JsonDocument.Parse(item.ToJsonString());

        var scene = StacItemReader.Read(doc.RootElement, null, "test", null, out var reason);

        Assert.Null(scene);
        Assert.Contains("landsat-c2-l2", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("id")]
    [InlineData("properties")]
    [InlineData("geometry")]
    public void An_item_missing_required_members_is_SceneItemInvalid(string member)
    {
        var item = TestData.StacExample("planetary-computer.sentinel-2-l2a.item.json");
        item.Remove(member);

        var error = Assert.Throws<DeepSentinelException>(() => Read(item));

        Assert.Equal(ErrorIds.SceneItemInvalid, error.ErrorId);
        Assert.Equal(ErrorKind.InvalidData, error.Kind);
    }
}
