using System.Globalization;
using System.Text.Json.Nodes;

namespace DeepSentinel.Core.Tests.TestServers;

/// <summary>
/// STAC items for the loopback API, derived from the real Planetary Computer Sentinel-2 item in
/// shared/data (its full property and asset structure kept) plus Sentinel-1 RTC items in the
/// shape Planetary Computer publishes them.
/// </summary>
public static class SampleItems
{
    /// <summary>The Planetary Computer Sentinel-2 example's asset host and container.</summary>
    public const string S2Container = "sentinel2l2a01.blob.core.windows.net/sentinel2-l2";

    /// <summary>A Sentinel-1 RTC asset container.</summary>
    public const string S1Container = "sentinel1euwestrtc.blob.core.windows.net/sentinel1-grd-rtc";

    /// <summary>A Sentinel-2 item: a copy of the real example with the given identity and footprint.</summary>
    public static JsonObject S2(int index, DateTimeOffset datetime, double cloud, string tile, double west, double south, string orbitState = "descending", int relativeOrbit = 8)
    {
        var item = TestData.StacExample("planetary-computer.sentinel-2-l2a.item.json");
        var id = string.Create(CultureInfo.InvariantCulture, $"S2B_MSIL2A_{datetime:yyyyMMdd'T'HHmmss}_R{relativeOrbit:000}_T{tile}_{index:0000}");
        item["id"] = id;
        item["collection"] = "sentinel-2-l2a";
        SetFootprint(item, west, south, 1.4, 1.0);
        var p = item["properties"]!.AsObject();
        p["datetime"] = datetime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
        p["eo:cloud_cover"] = cloud;
        p["s2:mgrs_tile"] = tile;
        p["sat:orbit_state"] = orbitState;
        p["sat:relative_orbit"] = relativeOrbit;
        item["links"] = new JsonArray();
        return item;
    }

    /// <summary>A Sentinel-1 RTC item as Planetary Computer publishes it.</summary>
    public static JsonObject S1(int index, DateTimeOffset datetime, string orbitState, int relativeOrbit, string[] polarizations, double west, double south, string collection = "sentinel-1-rtc")
    {
        var id = string.Create(CultureInfo.InvariantCulture, $"S1A_IW_GRDH_1SDV_{datetime:yyyyMMdd'T'HHmmss}_{datetime.AddSeconds(25):yyyyMMdd'T'HHmmss}_{28000 + index:000000}_0334D0_rtc");
        var assets = new JsonObject();
        foreach (var pol in polarizations)
        {
            assets[pol.ToLowerInvariant()] = new JsonObject
            {
                ["href"] = $"https://{S1Container}/GRD/2019/8/1/IW/DV/{id}/measurement/iw-{pol.ToLowerInvariant()}.rtc.tiff",
                ["type"] = "image/tiff; application=geotiff; profile=cloud-optimized",
                ["title"] = $"{pol}: {pol[0]} transmit, {pol[1]} receive",
                ["roles"] = new JsonArray("data"),
                ["raster:bands"] = new JsonArray(new JsonObject { ["nodata"] = -32768, ["data_type"] = "float32", ["spatial_resolution"] = 10.0 }),
            };
        }

        var item = new JsonObject
        {
            ["type"] = "Feature",
            ["stac_version"] = "1.0.0",
            ["id"] = id,
            ["collection"] = collection,
            ["properties"] = new JsonObject
            {
                ["datetime"] = datetime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
                ["platform"] = "SENTINEL-1A",
                ["constellation"] = "Sentinel-1",
                ["sar:polarizations"] = new JsonArray(polarizations.Select(p => (JsonNode?)JsonValue.Create(p)).ToArray()),
                ["sar:instrument_mode"] = "IW",
                ["sar:frequency_band"] = "C",
                ["sat:orbit_state"] = orbitState,
                ["sat:relative_orbit"] = relativeOrbit,
                ["proj:epsg"] = 32631,
                ["s1:processing_level"] = "1",
            },
            ["assets"] = assets,
            ["links"] = new JsonArray(),
            ["stac_extensions"] = new JsonArray("https://stac-extensions.github.io/sar/v1.0.0/schema.json", "https://stac-extensions.github.io/sat/v1.0.0/schema.json"),
        };
        SetFootprint(item, west, south, 3.5, 2.2);
        return item;
    }

    /// <summary>
    /// The standard set: 12 Sentinel-2 scenes on two tiles near Paris (31UDQ) and Lyon (31TFL)
    /// over 2019-08-01..2019-09-17 with cloud covers 0-88 %, and 8 Sentinel-1 scenes.
    /// </summary>
    public static List<JsonObject> Standard()
    {
        var items = new List<JsonObject>();
        var start = new DateTimeOffset(2019, 8, 1, 10, 56, 21, TimeSpan.Zero);
        for (var i = 0; i < 12; i++)
        {
            var paris = i % 2 == 0;
            items.Add(S2(i, start.AddDays(4 * i), cloud: (i * 8) % 96, tile: paris ? "31UDQ" : "31TFL", west: paris ? 1.6 : 4.2, south: paris ? 48.6 : 45.2, orbitState: "descending", relativeOrbit: paris ? 51 : 8));
        }

        for (var i = 0; i < 8; i++)
        {
            var ascending = i % 2 == 0;
            string[] pols = i == 7 ? ["HH", "HV"] : ["VV", "VH"];
            items.Add(S1(i, start.AddDays(5 * i).AddHours(-5), ascending ? "ascending" : "descending", ascending ? 161 : 139, pols, west: 0.5 + (i % 3), south: 47.5));
        }

        return items;
    }

    private static void SetFootprint(JsonObject item, double west, double south, double width, double height)
    {
        var east = west + width;
        var north = south + height;
        item["bbox"] = new JsonArray(west, south, east, north);
        item["geometry"] = new JsonObject
        {
            ["type"] = "Polygon",
            ["coordinates"] = new JsonArray(new JsonArray(
                new JsonArray(west, south), new JsonArray(east, south), new JsonArray(east, north), new JsonArray(west, north), new JsonArray(west, south))),
        };
    }
}
