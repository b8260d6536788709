using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Sampling;

namespace DeepSentinel.Core.SuperResolution;

/// <summary>
/// Records a super-resolved s2 COG in a corpus sample's STAC Item: an "s2_sr" asset (all 12 bands
/// at 10 m) and a "deepsentinel:super_resolution" property naming the models and how each band
/// was made. The Item is rewritten atomically.
/// </summary>
internal static class SuperResolvedItem
{
    public const string AssetKey = "s2_sr";

    public static void Update(string itemPath, string cogPath, IReadOnlyList<SuperResolutionModel> models, IReadOnlyDictionary<string, string> methods)
    {
        JsonObject item;
        try
        {
            item = JsonNode.Parse(File.ReadAllText(itemPath))?.AsObject() ?? throw new JsonException("empty item");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException)
        {
            throw new DeepSentinelException(ErrorIds.CorpusEntryInvalid, ErrorKind.InvalidData, $"The STAC Item {itemPath} is unreadable: {ex.Message}", itemPath, ex);
        }

        var assets = item["assets"] as JsonObject ?? new JsonObject();
        item["assets"] = assets;
        assets[AssetKey] = new JsonObject
        {
            ["href"] = "./" + Path.GetFileName(cogPath),
            ["type"] = "image/tiff; application=geotiff; profile=cloud-optimized",
            ["title"] = "Sentinel-2 L2A, every band at 10 m: 20 m and 60 m bands super-resolved (DSen2), reflectance x 10000 (B01-B12 with B8A)",
            ["roles"] = new JsonArray("data"),
            ["eo:bands"] = new JsonArray(PatchExtractor.S2Bands.Select(b => (JsonNode?)new JsonObject { ["name"] = b }).ToArray()),
            ["raster:bands"] = new JsonArray(PatchExtractor.S2Bands.Select(_ => (JsonNode?)new JsonObject { ["nodata"] = 0, ["data_type"] = "uint16", ["scale"] = S2Radiometry.Scale, ["offset"] = 0, ["spatial_resolution"] = 10 }).ToArray()),
        };
        var properties = item["properties"] as JsonObject ?? new JsonObject();
        item["properties"] = properties;
        var bandMethods = new JsonObject();
        foreach (var band in PatchExtractor.S2Bands)
        {
            bandMethods[band] = methods.TryGetValue(band, out var m) ? m : "native";
        }

        properties["deepsentinel:super_resolution"] = new JsonObject
        {
            ["asset"] = AssetKey,
            ["models"] = new JsonArray(models.Select(m => (JsonNode?)new JsonObject
            {
                ["path"] = m.Path,
                ["factor"] = (int)m.Factor,
                ["architecture"] = m.Architecture.ToString(),
                ["blocks"] = m.Card.Blocks,
                ["features"] = m.Card.Features,
                ["steps"] = m.Steps,
                ["checkpoint"] = m.Card.Checkpoint,
            }).ToArray()),
            ["bands"] = bandMethods,
        };
        var temp = itemPath + ".partial";
        try
        {
            File.WriteAllText(temp, item.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            File.Move(temp, itemPath, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            File.Delete(temp);
            throw new DeepSentinelException(ErrorIds.StorageWriteFailed, ErrorKind.WriteError, $"Cannot update the STAC Item {itemPath}: {ex.Message}", itemPath, ex);
        }
    }
}
