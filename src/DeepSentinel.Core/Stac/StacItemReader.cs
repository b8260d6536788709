using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Scenes;

namespace DeepSentinel.Core.Stac;

/// <summary>
/// Reads a STAC Item (as Planetary Computer, Earth Search v0/v1, Copernicus Data Space or a
/// static catalog publishes it) into a <see cref="SentinelScene"/>, normalising the different
/// property names for tile, baseline and band keys.
/// </summary>
public static partial class StacItemReader
{
    // Earth Search v1 names S2 assets by common name; DeepSentinel speaks in band names.
    private static readonly Dictionary<string, string> S2CommonNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["coastal"] = "B01", ["blue"] = "B02", ["green"] = "B03", ["red"] = "B04",
        ["rededge1"] = "B05", ["rededge2"] = "B06", ["rededge3"] = "B07", ["nir"] = "B08",
        ["nir08"] = "B8A", ["nir09"] = "B09", ["cirrus"] = "B10", ["swir16"] = "B11", ["swir22"] = "B12",
        ["scl"] = "SCL", ["aot"] = "AOT", ["wvp"] = "WVP",
    };

    /// <summary>
    /// Reads an item. Returns null (with the reason) when the item is valid STAC but not a
    /// Sentinel-1/2 scene; throws when it is not a readable STAC item.
    /// </summary>
    /// <param name="item">The Feature object.</param>
    /// <param name="location">Where the item was read from, to resolve relative hrefs; may be null.</param>
    /// <param name="provider">The provider name to record.</param>
    /// <param name="fallbackCollection">The collection to assume when the item names none.</param>
    /// <param name="skipReason">Why a null was returned.</param>
    /// <param name="warn">Told of what is readable but doubtful (no assets, a cloud cover that is not a number).</param>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.SceneItemInvalid"/>.</exception>
    public static SentinelScene? Read(JsonElement item, Uri? location, string provider, string? fallbackCollection, out string? skipReason, Action<string>? warn = null)
    {
        skipReason = null;
        var id = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : null;
        if (string.IsNullOrEmpty(id))
        {
            throw Invalid("A STAC item has no \"id\".", null);
        }

        if (!item.TryGetProperty("properties", out var props) || props.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"The STAC item '{id}' has no \"properties\" object.", id);
        }

        var collection = GetString(item, "collection") ?? fallbackCollection ?? string.Empty;
        var platform = GetString(props, "platform");
        var mission = ProviderProfile.InferMission(collection) ?? ProviderProfile.InferMission(platform) ?? ProviderProfile.InferMission(GetString(props, "constellation"));
        if (mission is null)
        {
            skipReason = $"item '{id}' in collection '{collection}' is not a Sentinel-1 or Sentinel-2 scene";
            return null;
        }

        var datetime = ReadDatetime(props, id);
        var footprint = ReadFootprint(item, id);
        var bbox = ReadBbox(item, footprint);
        var self = ResolveSelf(item, location);
        var assetBase = self ?? location;
        var assets = ReadAssets(item, assetBase, mission.Value, id);
        if (assets.Count == 0)
        {
            warn?.Invoke($"The STAC item '{id}' has no assets with an href: no pixels can be read from it.");
        }

        string? tile = null;
        string? baseline = null;
        double? cloud = null;
        if (mission == SentinelMission.S2)
        {
            tile = ReadMgrsTile(props, id);
            baseline = GetString(props, "s2:processing_baseline") ?? GetString(props, "processing:version") ?? BaselineFromProductId(props, id);
            cloud = GetDouble(props, "eo:cloud_cover");
            if (cloud is null && props.TryGetProperty("eo:cloud_cover", out var given) && given.ValueKind != JsonValueKind.Null)
            {
                warn?.Invoke($"The STAC item '{id}' has an eo:cloud_cover that is not a number ({given.GetRawText()}): its cloud cover is unknown, so -MaxCloudCover does not filter it.");
            }
        }

        return new SentinelScene(id, collection, mission.Value, datetime, footprint, bbox, assets)
        {
            Platform = platform,
            Epsg = GetInt(props, "proj:epsg") ?? EpsgFromCode(GetString(props, "proj:code")),
            CloudCover = cloud,
            OrbitState = GetString(props, "sat:orbit_state")?.ToLowerInvariant() switch
            {
                "ascending" => OrbitState.Ascending,
                "descending" => OrbitState.Descending,
                _ => null,
            },
            RelativeOrbit = GetInt(props, "sat:relative_orbit"),
            Polarizations = mission == SentinelMission.S1 ? GetStrings(props, "sar:polarizations").Select(p => p.ToUpperInvariant()).ToArray() : [],
            InstrumentMode = mission == SentinelMission.S1 ? GetString(props, "sar:instrument_mode") : null,
            MgrsTile = tile,
            ProcessingBaseline = baseline,
            BoaOffsetApplied = mission == SentinelMission.S2 ? GetBool(props, "earthsearch:boa_offset_applied") ?? GetBool(props, "sentinel:boa_offset_applied") : null,
            Provider = provider,
            SelfHref = self ?? location,
        };
    }

    private static DateTimeOffset ReadDatetime(JsonElement props, string id)
    {
        var text = GetString(props, "datetime") ?? GetString(props, "start_datetime");
        if (text is null || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value))
        {
            throw Invalid($"The STAC item '{id}' has no valid \"datetime\" (found '{text}').", id);
        }

        return value;
    }

    private static NetTopologySuite.Geometries.Geometry ReadFootprint(JsonElement item, string id)
    {
        if (!item.TryGetProperty("geometry", out var geometry) || geometry.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"The STAC item '{id}' has no footprint geometry.", id);
        }

        try
        {
            var footprint = GeoJson.ReadGeometry(geometry);
            // A polygon traced across the antimeridian without being split (its longitudes jump
            // by about 360 degrees) is split, as RFC 7946 wants, so that point tests hold.
            return footprint is NetTopologySuite.Geometries.Polygon { NumInteriorRings: 0 } p && p.EnvelopeInternal.Width > 180
                ? Antimeridian.FromRing(p.Shell.Coordinates)
                : footprint;
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or ArgumentException or KeyNotFoundException)
        {
            throw Invalid($"The STAC item '{id}' has an unreadable geometry: {ex.Message}", id);
        }
    }

    private static BoundingBox ReadBbox(JsonElement item, NetTopologySuite.Geometries.Geometry footprint)
    {
        if (item.TryGetProperty("bbox", out var bbox) && bbox.ValueKind == JsonValueKind.Array && bbox.GetArrayLength() is 4 or 6)
        {
            var v = bbox.EnumerateArray().Select(e => e.GetDouble()).ToArray();
            return v.Length == 4 ? new BoundingBox(v[0], v[1], v[2], v[3]) : new BoundingBox(v[0], v[1], v[3], v[4]);
        }

        return Antimeridian.BoundingBoxOf(footprint);
    }

    private static Uri? ResolveSelf(JsonElement item, Uri? location)
    {
        if (!item.TryGetProperty("links", out var links) || links.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var link in links.EnumerateArray())
        {
            if (GetString(link, "rel") == "self" && GetString(link, "href") is { } href)
            {
                var resolved = Resolve(href, location);
                // An s3:// or relative self link that cannot be fetched is no better than the location.
                return resolved is { Scheme: "http" or "https" or "file" } ? resolved : null;
            }
        }

        return null;
    }

    private static List<SceneAsset> ReadAssets(JsonElement item, Uri? baseUri, SentinelMission mission, string id)
    {
        var result = new List<SceneAsset>();
        if (!item.TryGetProperty("assets", out var assets) || assets.ValueKind != JsonValueKind.Object)
        {
            return result;
        }

        foreach (var property in assets.EnumerateObject())
        {
            var asset = property.Value;
            if (asset.ValueKind != JsonValueKind.Object || GetString(asset, "href") is not { } href)
            {
                continue;
            }

            var uri = Resolve(href, baseUri);
            if (uri is null)
            {
                continue;
            }

            var mediaType = GetString(asset, "type");
            var rasterBand = asset.TryGetProperty("raster:bands", out var rb) && rb.ValueKind == JsonValueKind.Array && rb.GetArrayLength() > 0 ? rb[0] : default;
            var transform = GetDoubles(asset, "proj:transform");
            var shape = GetDoubles(asset, "proj:shape").Select(v => (int)v).ToArray();
            var resolution = GetDouble(asset, "gsd")
                ?? (rasterBand.ValueKind == JsonValueKind.Object ? GetDouble(rasterBand, "spatial_resolution") : null)
                ?? (transform.Length >= 6 ? Math.Abs(transform[0]) : (double?)null)
                ?? ResolutionFromKey(property.Name);

            result.Add(new SceneAsset(property.Name, uri)
            {
                BandName = BandNameOf(property.Name, asset, mission, mediaType),
                Title = GetString(asset, "title"),
                MediaType = mediaType,
                Roles = GetStrings(asset, "roles"),
                ResolutionM = resolution,
                DataType = rasterBand.ValueKind == JsonValueKind.Object ? GetString(rasterBand, "data_type") : null,
                NoData = rasterBand.ValueKind == JsonValueKind.Object ? GetDouble(rasterBand, "nodata") : null,
                Scale = rasterBand.ValueKind == JsonValueKind.Object ? GetDouble(rasterBand, "scale") : null,
                Offset = rasterBand.ValueKind == JsonValueKind.Object ? GetDouble(rasterBand, "offset") : null,
                ProjShape = shape.Length == 2 ? shape : null,
                ProjTransform = transform.Length >= 6 ? transform[..6] : null,
            });
        }

        return result;
    }

    private static string? BandNameOf(string key, JsonElement asset, SentinelMission mission, string? mediaType)
    {
        // JPEG 2000 duplicates (Earth Search's "red-jp2") must not shadow the COGs.
        if (mediaType is not null && mediaType.Contains("jp2", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (mission == SentinelMission.S1)
        {
            var upper = key.ToUpperInvariant();
            return SceneQuery.KnownPolarizations.Contains(upper) ? upper : null;
        }

        var bandKey = S2BandKey().Match(key);
        if (bandKey.Success)
        {
            return bandKey.Groups["band"].Value.ToUpperInvariant();
        }

        if (S2CommonNames.TryGetValue(key, out var fromCommon))
        {
            return fromCommon;
        }

        if (asset.TryGetProperty("eo:bands", out var bands) && bands.ValueKind == JsonValueKind.Array && bands.GetArrayLength() == 1)
        {
            var name = GetString(bands[0], "name");
            if (name is not null && S2BandKey().IsMatch(name))
            {
                return name.ToUpperInvariant();
            }

            if (name is not null && S2CommonNames.TryGetValue(name, out var common))
            {
                return common;
            }
        }

        return null;
    }

    private static double? ResolutionFromKey(string key)
    {
        var m = S2BandKey().Match(key);
        return m.Success && m.Groups["res"].Success ? double.Parse(m.Groups["res"].Value, CultureInfo.InvariantCulture) : null;
    }

    private static string? ReadMgrsTile(JsonElement props, string id)
    {
        var tile = GetString(props, "s2:mgrs_tile") ?? GetString(props, "grid:code");
        if (tile is null && GetInt(props, "mgrs:utm_zone") is { } zone && GetString(props, "mgrs:latitude_band") is { } band && GetString(props, "mgrs:grid_square") is { } square)
        {
            tile = $"{zone}{band}{square}";
        }

        if (tile is null && GetInt(props, "sentinel:utm_zone") is { } z0 && GetString(props, "sentinel:latitude_band") is { } b0 && GetString(props, "sentinel:grid_square") is { } s0)
        {
            tile = $"{z0}{b0}{s0}";
        }

        if (tile is null)
        {
            var m = TileInName().Match(GetString(props, "sentinel:product_id") ?? GetString(props, "s2:product_uri") ?? id);
            tile = m.Success ? m.Groups["tile"].Value : null;
        }

        if (tile is null)
        {
            return null;
        }

        try
        {
            return SceneQuery.NormalizeMgrsTile(tile);
        }
        catch (DeepSentinelException)
        {
            return null;
        }
    }

    private static string? BaselineFromProductId(JsonElement props, string id)
    {
        var m = BaselineInName().Match(GetString(props, "sentinel:product_id") ?? GetString(props, "s2:product_uri") ?? id);
        return m.Success ? $"{m.Groups["major"].Value}.{m.Groups["minor"].Value}" : null;
    }

    private static int? EpsgFromCode(string? code) =>
        code is not null && code.StartsWith("EPSG:", StringComparison.OrdinalIgnoreCase) && int.TryParse(code.AsSpan(5), NumberStyles.Integer, CultureInfo.InvariantCulture, out var epsg) ? epsg : null;

    /// <summary>Resolves an href against the document it came from; null when it cannot be.</summary>
    internal static Uri? Resolve(string href, Uri? baseUri)
    {
        if (Uri.TryCreate(href, UriKind.Absolute, out var absolute) && !(absolute.IsFile && !Path.IsPathRooted(href) && !href.StartsWith("file:", StringComparison.OrdinalIgnoreCase)))
        {
            return absolute;
        }

        if (baseUri is not null && Uri.TryCreate(baseUri, href, out var relative))
        {
            return relative;
        }

        return null;
    }

    internal static string? GetString(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    internal static double? GetDouble(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    internal static bool? GetBool(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;

    internal static int? GetInt(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var i) ? i : null;

    internal static string[] GetStrings(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToArray()
            : [];

    private static double[] GetDoubles(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.Number).Select(v => v.GetDouble()).ToArray()
            : [];

    private static DeepSentinelException Invalid(string message, object? target) =>
        new(ErrorIds.SceneItemInvalid, ErrorKind.InvalidData, message, target);

    [GeneratedRegex(@"^(?<band>B\d{2}|B8A|SCL|AOT|WVP|TCI)(_(?<res>\d{2})m)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex S2BandKey();

    [GeneratedRegex(@"_T(?<tile>\d{2}[C-X][A-Z]{2})(_|$)", RegexOptions.CultureInvariant)]
    private static partial Regex TileInName();

    [GeneratedRegex(@"_N(?<major>\d{2})(?<minor>\d{2})_", RegexOptions.CultureInvariant)]
    private static partial Regex BaselineInName();
}
