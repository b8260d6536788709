using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Raster;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Storage;

namespace DeepSentinel.Core.Sampling;

/// <summary>Everything known about an accepted patch before it is written.</summary>
internal sealed record AcceptedPatch(
    SamplePoint Point,
    SentinelScene S2,
    SentinelScene S1,
    PatchGrid Grid,
    NetTopologySuite.Geometries.Geometry Footprint,
    S2Patch S2Pixels,
    S1Patch S1Pixels,
    double Cloud,
    double NoData);

/// <summary>
/// Writes one sample: three COGs, two quicklooks and the STAC Item, into a private staging folder,
/// then commits them to the corpus store with the item last (create-only), so a sample is either
/// complete or absent, whatever moment the process dies.
/// </summary>
internal static class SampleWriter
{
    public static async Task<PatchSample> WriteAsync(PatchCorpus corpus, AcceptedPatch patch, string stagingRoot, CancellationToken cancellationToken)
    {
        var id = string.Create(CultureInfo.InvariantCulture, $"ds{patch.Point.Index:D8}_{patch.S2.MgrsTile ?? "XXXXX"}_{patch.S2.Datetime:yyyyMMdd}");
        var staging = Path.Combine(stagingRoot, id + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(staging);
        try
        {
            var grid = patch.Grid;
            var metadata = new Dictionary<string, string>
            {
                ["DEEPSENTINEL_SAMPLE"] = id,
                ["SOURCE_SCENE"] = patch.S2.Id,
                ["ACQUISITION_TIME"] = patch.S2.Datetime.ToString("O", CultureInfo.InvariantCulture),
            };
            RasterWriter.WriteCog(
                Path.Combine(staging, "s2.tif"),
                grid,
                PatchExtractor.S2Bands.Select((b, i) => new BandData<ushort>(b, patch.S2Pixels.Bands[i])).ToList(),
                noData: 0,
                metadata);
            RasterWriter.WriteCog(
                Path.Combine(staging, "scl.tif"),
                grid,
                [new BandData<byte>("SCL", patch.S2Pixels.Scl)],
                noData: 0,
                metadata);
            RasterWriter.WriteCog(
                Path.Combine(staging, "s1.tif"),
                grid,
                [new BandData<float>("VV", patch.S1Pixels.Vv), new BandData<float>("VH", patch.S1Pixels.Vh)],
                noData: double.NaN,
                new Dictionary<string, string>
                {
                    ["DEEPSENTINEL_SAMPLE"] = id,
                    ["SOURCE_SCENE"] = patch.S1.Id,
                    ["ACQUISITION_TIME"] = patch.S1.Datetime.ToString("O", CultureInfo.InvariantCulture),
                    ["BACKSCATTER_UNITS"] = "linear",
                });
            WriteQuicklooks(staging, patch);

            var relative = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [PatchSample.AssetKeys.S2] = PatchCorpus.SampleKey(id, "s2.tif"),
                [PatchSample.AssetKeys.S1] = PatchCorpus.SampleKey(id, "s1.tif"),
                [PatchSample.AssetKeys.Scl] = PatchCorpus.SampleKey(id, "scl.tif"),
                [PatchSample.AssetKeys.S2Preview] = PatchCorpus.SampleKey(id, "s2.png"),
                [PatchSample.AssetKeys.S1Preview] = PatchCorpus.SampleKey(id, "s1.png"),
                [PatchSample.AssetKeys.Item] = PatchCorpus.SampleKey(id, "item.json"),
            };
            var sample = new PatchSample
            {
                Id = id,
                Index = patch.Point.Index,
                Corpus = corpus.Location,
                Longitude = patch.Point.Longitude,
                Latitude = patch.Point.Latitude,
                Epsg = grid.Epsg,
                GeoTransform = grid.GeoTransform,
                Width = grid.Width,
                Height = grid.Height,
                S2SceneId = patch.S2.Id,
                S2Datetime = patch.S2.Datetime,
                MgrsTile = patch.S2.MgrsTile,
                S2SceneCloudCover = patch.S2.CloudCover,
                S1SceneId = patch.S1.Id,
                S1Datetime = patch.S1.Datetime,
                S1OrbitState = patch.S1.OrbitState?.ToString().ToLowerInvariant(),
                DaysApart = Math.Round(Math.Abs((patch.S1.Datetime - patch.S2.Datetime).TotalDays), 4),
                CloudFraction = Math.Round(patch.Cloud, 6),
                NoDataFraction = Math.Round(patch.NoData, 6),
                Assets = relative,
                Store = corpus.Store,
            };
            await File.WriteAllTextAsync(Path.Combine(staging, "item.json"), BuildItem(sample, patch).ToJsonString(new JsonSerializerOptions { WriteIndented = true }), cancellationToken).ConfigureAwait(false);

            foreach (var file in new[] { "s2.tif", "s1.tif", "scl.tif", "s2.png", "s1.png" })
            {
                await CommitAsync(corpus.Store, Path.Combine(staging, file), PatchCorpus.SampleKey(id, file), createOnly: false, cancellationToken).ConfigureAwait(false);
            }

            try
            {
                await CommitAsync(corpus.Store, Path.Combine(staging, "item.json"), PatchCorpus.SampleKey(id, "item.json"), createOnly: true, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectExistsException)
            {
                // Finished by an earlier run that died before its journal entry: same sample.
            }

            return sample;
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    private static async Task CommitAsync(IObjectStore store, string file, string key, bool createOnly, CancellationToken cancellationToken)
    {
        if (store is LocalObjectStore local)
        {
            local.CommitFile(file, key, createOnly);
            return;
        }

        await using var stream = File.OpenRead(file);
        await store.PutAsync(key, stream, createOnly ? PutOptions.CreateOnly : PutOptions.Overwrite, cancellationToken).ConfigureAwait(false);
    }

    private static void WriteQuicklooks(string staging, AcceptedPatch patch)
    {
        var n = patch.Grid.Width * patch.Grid.Height;
        byte[] Reflectance(int band)
        {
            var values = new float[n];
            var source = patch.S2Pixels.Bands[band];
            for (var i = 0; i < n; i++)
            {
                values[i] = source[i];
            }

            return RasterWriter.Stretch(values, 0, 3000, 0);
        }

        RasterWriter.WritePng(Path.Combine(staging, "s2.png"), patch.Grid.Width, patch.Grid.Height, Reflectance(3), Reflectance(2), Reflectance(1));

        var vvDb = new float[n];
        var vhDb = new float[n];
        var ratio = new float[n];
        for (var i = 0; i < n; i++)
        {
            vvDb[i] = 10 * MathF.Log10(patch.S1Pixels.Vv[i]);
            vhDb[i] = 10 * MathF.Log10(patch.S1Pixels.Vh[i]);
            ratio[i] = vvDb[i] - vhDb[i];
        }

        RasterWriter.WritePng(Path.Combine(staging, "s1.png"), patch.Grid.Width, patch.Grid.Height, RasterWriter.Stretch(vvDb, -20, 0), RasterWriter.Stretch(vhDb, -28, -8), RasterWriter.Stretch(ratio, 0, 15));
    }

    private static JsonObject BuildItem(PatchSample sample, AcceptedPatch patch)
    {
        var box = Antimeridian.BoundingBoxOf(patch.Footprint);
        var start = patch.S1.Datetime < patch.S2.Datetime ? patch.S1.Datetime : patch.S2.Datetime;
        var end = patch.S1.Datetime > patch.S2.Datetime ? patch.S1.Datetime : patch.S2.Datetime;
        // Where the pixels came from. Remote sources by URL; local files by their name beside the
        // scene's Item (the scene is named in deepsentinel:s2_scene / s1_scene and the catalog in
        // corpus.json), never by a path of this machine: the corpus is to be read anywhere.
        static string? Source(SceneAsset? asset) => asset?.Href is not { } href ? null : href.IsFile ? Path.GetFileName(href.LocalPath) : href.AbsoluteUri;
        var sources = new JsonObject();
        foreach (var band in PatchExtractor.S2Bands.Append("SCL"))
        {
            sources[band] = Source(patch.S2.FindBand(band));
        }

        sources["VV"] = Source(patch.S1.FindBand("VV"));
        sources["VH"] = Source(patch.S1.FindBand("VH"));
        var links = new JsonArray(
            new JsonObject { ["rel"] = "collection", ["href"] = "../../collection.json", ["type"] = "application/json" },
            new JsonObject { ["rel"] = "root", ["href"] = "../../collection.json", ["type"] = "application/json" },
            new JsonObject { ["rel"] = "parent", ["href"] = "../../collection.json", ["type"] = "application/json" });
        foreach (var scene in new[] { patch.S2, patch.S1 }.Where(s => s.SelfHref is { IsFile: false }))
        {
            links.Add(new JsonObject
            {
                ["rel"] = "derived_from",
                ["href"] = scene.SelfHref!.AbsoluteUri,
                ["type"] = "application/geo+json",
                ["title"] = $"{scene.Collection}: {scene.Id}",
            });
        }

        return new JsonObject
        {
            ["type"] = "Feature",
            ["stac_version"] = "1.0.0",
            ["stac_extensions"] = new JsonArray(
                "https://stac-extensions.github.io/projection/v1.0.0/schema.json",
                "https://stac-extensions.github.io/eo/v1.0.0/schema.json",
                "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
                "https://stac-extensions.github.io/sar/v1.0.0/schema.json",
                "https://stac-extensions.github.io/sat/v1.0.0/schema.json"),
            ["id"] = sample.Id,
            ["collection"] = PatchCorpus.CollectionId,
            ["bbox"] = new JsonArray(box.West, box.South, box.East, box.North),
            ["geometry"] = JsonNode.Parse(GeoJson.ToJson(patch.Footprint)),
            ["properties"] = new JsonObject
            {
                ["datetime"] = Iso(patch.S2.Datetime),
                ["start_datetime"] = Iso(start),
                ["end_datetime"] = Iso(end),
                ["proj:epsg"] = sample.Epsg,
                ["proj:transform"] = new JsonArray(sample.GeoTransform[1], 0, sample.GeoTransform[0], 0, sample.GeoTransform[5], sample.GeoTransform[3]),
                ["proj:shape"] = new JsonArray(sample.Height, sample.Width),
                ["eo:cloud_cover"] = Math.Round(sample.CloudFraction * 100, 3),
                ["s2:mgrs_tile"] = sample.MgrsTile,
                ["sar:instrument_mode"] = patch.S1.InstrumentMode ?? "IW",
                ["sar:polarizations"] = new JsonArray("VV", "VH"),
                ["sar:frequency_band"] = "C",
                ["sar:center_frequency"] = 5.405,
                // Radiometrically terrain-corrected backscatter (Planetary Computer's and the demo's
                // sentinel-1-rtc) or ground-range detected (GRD) scenes.
                ["sar:product_type"] = patch.S1.Collection.Contains("rtc", StringComparison.OrdinalIgnoreCase) ? "RTC" : "GRD",
                ["sat:orbit_state"] = sample.S1OrbitState,
                ["deepsentinel:index"] = sample.Index,
                ["deepsentinel:point"] = new JsonArray(sample.Longitude, sample.Latitude),
                ["deepsentinel:s2_scene"] = patch.S2.Id,
                ["deepsentinel:s2_datetime"] = Iso(patch.S2.Datetime),
                ["deepsentinel:s2_scene_cloud_cover"] = patch.S2.CloudCover,
                ["deepsentinel:s1_scene"] = patch.S1.Id,
                ["deepsentinel:s1_datetime"] = Iso(patch.S1.Datetime),
                ["deepsentinel:days_apart"] = sample.DaysApart,
                ["deepsentinel:cloud_fraction"] = sample.CloudFraction,
                ["deepsentinel:nodata_fraction"] = sample.NoDataFraction,
                ["deepsentinel:s1_units"] = "linear",
                ["deepsentinel:s2_processing_baseline"] = patch.S2.ProcessingBaseline,
                ["deepsentinel:s2_offset_removed"] = patch.S2Pixels.OffsetsRemoved.Distinct().Count() == 1
                    ? (JsonNode)patch.S2Pixels.OffsetsRemoved[0]
                    : new JsonArray(patch.S2Pixels.OffsetsRemoved.Select(o => (JsonNode?)o).ToArray()),
                ["deepsentinel:read_methods"] = new JsonObject
                {
                    ["s2"] = string.Join(",", patch.S2Pixels.Methods.Distinct()),
                    ["s1"] = patch.S1Pixels.Method.ToString(),
                },
                ["deepsentinel:source_assets"] = sources,
            },
            ["assets"] = new JsonObject
            {
                ["s2"] = new JsonObject
                {
                    ["href"] = "./s2.tif",
                    ["type"] = "image/tiff; application=geotiff; profile=cloud-optimized",
                    ["title"] = "Sentinel-2 L2A surface reflectance x 10000, no offset whatever the processing baseline (B01-B12 with B8A) at 10 m",
                    ["roles"] = new JsonArray("data"),
                    ["eo:bands"] = new JsonArray(PatchExtractor.S2Bands.Select(b => (JsonNode?)new JsonObject { ["name"] = b }).ToArray()),
                    ["raster:bands"] = new JsonArray(PatchExtractor.S2Bands.Select(_ => (JsonNode?)new JsonObject { ["nodata"] = 0, ["data_type"] = "uint16", ["scale"] = S2Radiometry.Scale, ["offset"] = 0, ["spatial_resolution"] = 10 }).ToArray()),
                },
                ["s1"] = new JsonObject
                {
                    ["href"] = "./s1.tif",
                    ["type"] = "image/tiff; application=geotiff; profile=cloud-optimized",
                    ["title"] = "Sentinel-1 VV and VH backscatter, linear, at 10 m",
                    ["roles"] = new JsonArray("data"),
                    ["sar:polarizations"] = new JsonArray("VV", "VH"),
                ["sar:frequency_band"] = "C",
                ["sar:center_frequency"] = 5.405,
                // Radiometrically terrain-corrected backscatter (Planetary Computer's and the demo's
                // sentinel-1-rtc) or ground-range detected (GRD) scenes.
                ["sar:product_type"] = patch.S1.Collection.Contains("rtc", StringComparison.OrdinalIgnoreCase) ? "RTC" : "GRD",
                    ["raster:bands"] = new JsonArray(new JsonObject { ["nodata"] = "nan", ["data_type"] = "float32", ["unit"] = "linear" }, new JsonObject { ["nodata"] = "nan", ["data_type"] = "float32", ["unit"] = "linear" }),
                },
                ["scl"] = new JsonObject
                {
                    ["href"] = "./scl.tif",
                    ["type"] = "image/tiff; application=geotiff; profile=cloud-optimized",
                    ["title"] = "Sentinel-2 scene classification (SCL), nearest neighbour",
                    ["roles"] = new JsonArray("data", "cloud"),
                    ["raster:bands"] = new JsonArray(new JsonObject { ["nodata"] = 0, ["data_type"] = "uint8" }),
                },
                ["s2_preview"] = new JsonObject { ["href"] = "./s2.png", ["type"] = "image/png", ["title"] = "Sentinel-2 true colour (B04, B03, B02)", ["roles"] = new JsonArray("overview") },
                ["s1_preview"] = new JsonObject { ["href"] = "./s1.png", ["type"] = "image/png", ["title"] = "Sentinel-1 false colour (VV dB, VH dB, VV/VH)", ["roles"] = new JsonArray("overview") },
            },
            ["links"] = links,
        };
    }

    private static string Iso(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
