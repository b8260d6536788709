using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Interop.Gdal;
using DeepSentinel.Core.Raster;

namespace DeepSentinel.Core.Demo;

/// <summary>What New-DemoCatalog builds.</summary>
public sealed record DemoCatalogOptions
{
    /// <summary>The folder to write the catalog into.</summary>
    public required string Destination { get; init; }

    /// <summary>Longitude of the area's centre.</summary>
    public double Longitude { get; init; } = 2.35;

    /// <summary>Latitude of the area's centre.</summary>
    public double Latitude { get; init; } = 48.85;

    /// <summary>Sentinel-2 tile width and height in 10 m pixels (a multiple of 6, so 20 m and 60 m bands tile it exactly).</summary>
    public int TileSize { get; init; } = 1098;

    /// <summary>Number of side-by-side Sentinel-2 tiles (they overlap by 10 %, as real ones do).</summary>
    public int Tiles { get; init; } = 2;

    /// <summary>Sentinel-2 acquisitions per tile, every 5 days.</summary>
    public int S2ScenesPerTile { get; init; } = 4;

    /// <summary>Sentinel-1 acquisitions over the whole area, every 3 days, alternating passes.</summary>
    public int S1Scenes { get; init; } = 5;

    /// <summary>Sentinel-1 pixel size in degrees (its grid is geographic, so patches must be warped).</summary>
    public double S1PixelDegrees { get; init; } = 0.0001;

    /// <summary>The first acquisition day.</summary>
    public DateTimeOffset Start { get; init; } = new(2019, 8, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The seed of the landscape, clouds and speckle.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Rebuild even when the folder already holds this catalog.</summary>
    public bool Force { get; init; }

    /// <summary>Checks values.</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.InvalidParameterValue"/>.</exception>
    public void Validate()
    {
        static void Require(bool ok, string message, object value)
        {
            if (!ok)
            {
                throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, message, value);
            }
        }

        Require(TileSize >= 300 && TileSize % 6 == 0 && TileSize <= 10980, $"TileSize must be a multiple of 6 between 300 and 10980 pixels; it was {TileSize}.", TileSize);
        Require(Tiles is >= 1 and <= 16, $"Tiles must be 1-16; it was {Tiles}.", Tiles);
        Require(S2ScenesPerTile is >= 1 and <= 100, $"S2ScenesPerTile must be 1-100; it was {S2ScenesPerTile}.", S2ScenesPerTile);
        Require(S1Scenes is >= 1 and <= 100, $"S1Scenes must be 1-100; it was {S1Scenes}.", S1Scenes);
        Require(Longitude is >= -180 and <= 180 && Latitude is >= -80 and <= 84, "The centre must be within longitude -180..180 and latitude -80..84 (the UTM range).", $"{Longitude}, {Latitude}");
        Require(S1PixelDegrees is > 0.00002 and < 0.01, $"S1PixelDegrees must be between 0.00002 and 0.01; it was {S1PixelDegrees}.", S1PixelDegrees);
    }
}

/// <summary>The catalog New-DemoCatalog wrote.</summary>
/// <param name="CatalogPath">The catalog.json.</param>
/// <param name="S2Scenes">Sentinel-2 items written.</param>
/// <param name="S1Scenes">Sentinel-1 items written.</param>
/// <param name="Reused">True when an identical catalog was already there.</param>
/// <param name="ClcPath">A synthetic CORINE Land Cover 2018 raster of the same landscape (level-3 codes, 100 m, EPSG:3035) for Add-CorineLabel; null outside CORINE's European area.</param>
/// <param name="OsmPath">A synthetic OpenStreetMap extract (.osm) of the same landscape for Add-OsmLabel.</param>
/// <param name="ItemTablePath">The same Items as a STAC-GeoParquet item table (items.parquet, for -ItemTable).</param>
public sealed record DemoCatalog(string CatalogPath, int S2Scenes, int S1Scenes, bool Reused, string? ClcPath = null, string? OsmPath = null, string? ItemTablePath = null);

/// <summary>
/// Writes a small synthetic but realistic Sentinel-1 + Sentinel-2 static STAC catalog of COGs:
/// S2 L2A scenes on UTM tiles at 10 m with 20 m and 60 m bands and clouds marked in SCL (one
/// scene per tile only partly covered, like a swath edge); S1 VV+VH scenes in linear backscatter
/// on a geographic grid of their own, so that patches exercise warping; one single-polarisation
/// S1 scene, which the matcher must reject. The items follow Planetary Computer's layout.
/// </summary>
public sealed class DemoCatalogGenerator
{
    private const string Fingerprint = "deepsentinel:demo";

    /// <summary>The item table's file name in the demo folder.</summary>
    public const string ItemTableFile = "items.parquet";

    /// <summary>Writes the catalog, or reuses an identical one.</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.StorageWriteFailed"/> when the destination cannot be written.</exception>
    public DemoCatalog Generate(DemoCatalogOptions options, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            return GenerateCore(options, reporter, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A destination that is a file, lies below a file, or is read-only.
            throw new DeepSentinelException(ErrorIds.StorageWriteFailed, ex is UnauthorizedAccessException ? ErrorKind.PermissionDenied : ErrorKind.WriteError,
                $"Cannot write the demo catalog to {options.Destination}: {ex.Message} Choose a folder you can write to.", options.Destination, ex);
        }
    }

    private DemoCatalog GenerateCore(DemoCatalogOptions options, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        reporter ??= NullReporter.Instance;
        options.Validate();
        Gdal.EnsureInitialized();
        var root = Path.GetFullPath(options.Destination);
        var catalogPath = Path.Combine(root, "catalog.json");
        // The layout version is part of the fingerprint: a catalog written before the label
        // sources existed is rebuilt rather than reused without them.
        var fingerprint = JsonSerializer.Serialize(options with { Destination = string.Empty, Force = false }) + "|layout 3: labels, item table";
        var clcPath = DemoLabelSources.InClcArea(options.Longitude, options.Latitude) ? Path.Combine(root, DemoLabelSources.Folder, DemoLabelSources.ClcFile) : null;
        var osmPath = Path.Combine(root, DemoLabelSources.Folder, DemoLabelSources.OsmFile);
        if (!options.Force && File.Exists(catalogPath) && ReadFingerprint(catalogPath) == fingerprint)
        {
            reporter.Verbose($"The demo catalog in {root} is already complete; reusing it.");
            var existing = JsonNode.Parse(File.ReadAllText(catalogPath))![Fingerprint]!;
            return new DemoCatalog(catalogPath, (int)existing["s2"]!, (int)existing["s1"]!, Reused: true, clcPath, osmPath, Path.Combine(root, ItemTableFile));
        }

        Directory.CreateDirectory(root);
        // The catalog file is the completion marker: remove it first so a killed run is redone.
        File.Delete(catalogPath);
        var landscape = new SyntheticLandscape(options.Seed);
        var zone = (int)Math.Floor((options.Longitude + 180) / 6) + 1;
        var epsg = (options.Latitude >= 0 ? 32600 : 32700) + zone;
        using var toUtm = new CoordinateTransform(4326, epsg);
        using var toWgs = new CoordinateTransform(epsg, 4326);
        var (cx, cy) = toUtm.Transform(options.Longitude, options.Latitude);
        var tileMetres = options.TileSize * 10.0;
        var originY = Math.Round((cy + (tileMetres / 2)) / 60) * 60;
        var originX0 = Math.Round((cx - (tileMetres * (1 + (0.9 * (options.Tiles - 1))) / 2)) / 60) * 60;
        var band = LatitudeBand(options.Latitude);

        var s2Items = new List<JsonObject>();
        var totalSteps = (options.Tiles * options.S2ScenesPerTile) + options.S1Scenes;
        var step = 0;
        for (var t = 0; t < options.Tiles; t++)
        {
            var tileOriginX = originX0 + Math.Round(t * tileMetres * 0.9 / 60) * 60;
            var tileName = string.Create(CultureInfo.InvariantCulture, $"{zone:00}{band}{(char)('D' + t)}Q");
            var cover = PrecomputeCover(landscape, tileOriginX, originY, options.TileSize);
            for (var k = 0; k < options.S2ScenesPerTile; k++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                reporter.Progress(new ProgressUpdate(1, "Writing demo catalog", $"Sentinel-2 tile {tileName}, scene {k + 1} of {options.S2ScenesPerTile}", step++ * 100 / totalSteps));
                var when = options.Start.AddDays(5 * k).AddHours(10).AddMinutes(56 + t);
                var cloudTarget = new[] { 0.04, 0.55, 0.18, 0.9, 0.0, 0.3 }[(k + t) % 6];
                var partial = k == 1;
                s2Items.Add(WriteS2Scene(root, landscape, cover, epsg, tileName, tileOriginX, originY, options.TileSize, when, cloudTarget, partial, (t * 100) + k, toWgs));
            }
        }

        // Sentinel-1 covers every tile plus a margin, on its own geographic grid.
        var extent = Wgs84Extent(toWgs, originX0, originY - tileMetres, originX0 + (tileMetres * (1 + (0.9 * (options.Tiles - 1)))), originY).Expand(0.01);
        var s1Items = new List<JsonObject>();
        for (var k = 0; k < options.S1Scenes; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            reporter.Progress(new ProgressUpdate(1, "Writing demo catalog", $"Sentinel-1 scene {k + 1} of {options.S1Scenes}", step++ * 100 / totalSteps));
            var when = options.Start.AddDays(1 + (3 * k)).AddHours(k % 2 == 0 ? 17 : 5).AddMinutes(50);
            var singlePolarisation = k == options.S1Scenes - 1 && options.S1Scenes > 2;
            s1Items.Add(WriteS1Scene(root, landscape, epsg, extent, options.S1PixelDegrees, when, ascending: k % 2 == 0, singlePolarisation, k));
        }

        // Label sources over the tiles' extent, from the same landscape.
        reporter.Progress(new ProgressUpdate(1, "Writing demo catalog", "CORINE and OpenStreetMap label sources", 99));
        var eastEdge = originX0 + (tileMetres * (1 + (0.9 * (options.Tiles - 1))));
        if (clcPath is not null)
        {
            DemoLabelSources.WriteClc(root, landscape, epsg, originX0, originY - tileMetres, eastEdge, originY);
        }

        DemoLabelSources.WriteOsm(root, landscape, epsg, originX0, originY - tileMetres, eastEdge, originY);
        WriteCollection(root, "sentinel-2-l2a", "Synthetic Sentinel-2 Level-2A", s2Items);
        WriteCollection(root, "sentinel-1-rtc", "Synthetic Sentinel-1 radiometrically terrain corrected backscatter (linear)", s1Items);

        // The same Items as a STAC-GeoParquet item table (Get-SentinelScene -ItemTable), hrefs relative to it.
        var tablePath = Path.Combine(root, ItemTableFile);
        var tableItems = s2Items.Concat(s1Items).Select(item =>
        {
            var copy = item.DeepClone().AsObject();
            var folder = $"{(string)copy["collection"]!}/{(string)copy["id"]!}/";
            foreach (var (_, asset) in copy["assets"]!.AsObject())
            {
                asset!["href"] = folder + ((string)asset["href"]!).TrimStart('.', '/');
            }

            copy.Remove("links");
            return copy;
        }).ToList();
        Stac.ItemTableWriter.WriteAsync(tablePath, tableItems, cancellationToken).GetAwaiter().GetResult();
        var catalog = new JsonObject
        {
            ["type"] = "Catalog",
            ["id"] = "deepsentinel-demo",
            ["stac_version"] = "1.0.0",
            ["description"] = "Synthetic Sentinel-1 + Sentinel-2 demo catalog written by New-DemoCatalog. Not real data.",
            ["links"] = new JsonArray(
                Link("root", "./catalog.json", "application/json"),
                Link("child", "./sentinel-2-l2a/collection.json", "application/json"),
                Link("child", "./sentinel-1-rtc/collection.json", "application/json")),
            [Fingerprint] = new JsonObject { ["fingerprint"] = fingerprint, ["s2"] = s2Items.Count, ["s1"] = s1Items.Count },
        };
        WriteJsonAtomically(catalogPath, catalog);
        reporter.Progress(new ProgressUpdate(1, "Writing demo catalog", "done", 100, 0, Completed: true));
        return new DemoCatalog(catalogPath, s2Items.Count, s1Items.Count, Reused: false, clcPath, osmPath, tablePath);
    }

    private static (DemoCover[] Cover, float[] Variation) PrecomputeCover(SyntheticLandscape landscape, double originX, double originY, int size)
    {
        var cover = new DemoCover[size * size];
        var variation = new float[size * size];
        Parallel.For(0, size, row =>
        {
            var y = originY - ((row + 0.5) * 10);
            for (var col = 0; col < size; col++)
            {
                var (c, v) = landscape.At(originX + ((col + 0.5) * 10), y);
                cover[(row * size) + col] = c;
                variation[(row * size) + col] = v;
            }
        });
        return (cover, variation);
    }

    private static JsonObject WriteS2Scene(string root, SyntheticLandscape landscape, (DemoCover[] Cover, float[] Variation) surface, int epsg, string tile, double originX, double originY, int size, DateTimeOffset when, double cloudTarget, bool partial, int sceneSeed, CoordinateTransform toWgs)
    {
        var id = string.Create(CultureInfo.InvariantCulture, $"S2B_MSIL2A_{when:yyyyMMdd'T'HHmmss}_R051_T{tile}_{when:yyyyMMdd'T'HHmmss}");
        var folder = Path.Combine(root, "sentinel-2-l2a", id);
        Directory.CreateDirectory(folder);

        // Cloud and shadow at 20 m, shared by every band so bands and SCL agree.
        var n20 = size / 2;
        var opacity = new float[n20 * n20];
        var shadow = new bool[n20 * n20];
        Parallel.For(0, n20, row =>
        {
            var y = originY - ((row + 0.5) * 20);
            for (var col = 0; col < n20; col++)
            {
                var x = originX + ((col + 0.5) * 20);
                var o = landscape.Cloud(x, y, sceneSeed, cloudTarget);
                opacity[(row * n20) + col] = o;
                shadow[(row * n20) + col] = o < 0.25 && landscape.Cloud(x - 700, y + 450, sceneSeed, cloudTarget) > 0.4;
            }
        });

        bool Valid(int row10, int col10) => !partial || col10 < (size * 0.62) + (row10 * 0.2);

        var assets = new JsonObject();
        for (var b = 0; b < SyntheticLandscape.S2Bands.Length; b++)
        {
            var resolution = SyntheticLandscape.S2Resolutions[b];
            var factor = resolution / 10;
            var n = size / factor;
            var pixels = new ushort[n * n];
            var bandIndex = b;
            Parallel.For(0, n, row =>
            {
                for (var col = 0; col < n; col++)
                {
                    var r10 = (row * factor) + (factor / 2);
                    var c10 = (col * factor) + (factor / 2);
                    if (!Valid(r10, c10))
                    {
                        continue;
                    }

                    var i10 = (r10 * size) + c10;
                    var i20 = (Math.Min(r10 / 2, n20 - 1) * n20) + Math.Min(c10 / 2, n20 - 1);
                    var value = SyntheticLandscape.Reflectance(surface.Cover[i10], surface.Variation[i10], bandIndex);
                    value *= 0.97f + (0.06f * (float)landscape.Hash01(c10, r10, 1000 + sceneSeed));
                    if (shadow[i20])
                    {
                        value *= 0.45f;
                    }

                    var o = opacity[i20];
                    value = (value * (1 - o)) + ((6500 + (bandIndex * 60)) * o);
                    pixels[(row * n) + col] = (ushort)Math.Clamp(value, 1, 65535);
                }
            });
            var name = SyntheticLandscape.S2Bands[b];
            WriteSceneCog(Path.Combine(folder, name + ".tif"), epsg, originX, originY, resolution, n, pixels, name, 0);
            assets[name] = S2Asset(name, resolution, n, originX, originY, "uint16");
        }

        var scl = new byte[n20 * n20];
        var cloudy = 0;
        var valid = 0;
        for (var row = 0; row < n20; row++)
        {
            for (var col = 0; col < n20; col++)
            {
                var i = (row * n20) + col;
                if (!Valid((row * 2) + 1, (col * 2) + 1))
                {
                    continue;
                }

                valid++;
                var o = opacity[i];
                var c = surface.Cover[(((row * 2) + 1) * size) + (col * 2) + 1];
                scl[i] = o > 0.6 ? (byte)9 : o > 0.25 ? (byte)8 : shadow[i] ? (byte)3 : c switch
                {
                    DemoCover.Water => (byte)6,
                    DemoCover.Crop or DemoCover.Forest => (byte)4,
                    _ => (byte)5,
                };
                if (scl[i] is 8 or 9)
                {
                    cloudy++;
                }
            }
        }

        WriteSceneCog(Path.Combine(folder, "SCL.tif"), epsg, originX, originY, 20, n20, scl, "SCL", 0);
        assets["SCL"] = S2Asset("SCL", 20, n20, originX, originY, "uint8");

        var metres = size * 10.0;
        var dataEastTop = partial ? originX + (metres * 0.62) : originX + metres;
        var dataEastBottom = partial ? originX + (metres * (0.62 + 0.2)) : originX + metres;
        var footprint = Antimeridian.FromRing(Outline(toWgs, [(originX, originY), (dataEastTop, originY), (Math.Min(dataEastBottom, originX + metres), originY - metres), (originX, originY - metres)]));
        var box = Antimeridian.BoundingBoxOf(footprint);
        var item = new JsonObject
        {
            ["type"] = "Feature",
            ["stac_version"] = "1.0.0",
            ["stac_extensions"] = new JsonArray("https://stac-extensions.github.io/eo/v1.0.0/schema.json", "https://stac-extensions.github.io/sat/v1.0.0/schema.json", "https://stac-extensions.github.io/projection/v1.0.0/schema.json", "https://stac-extensions.github.io/raster/v1.1.0/schema.json"),
            ["id"] = id,
            ["collection"] = "sentinel-2-l2a",
            ["bbox"] = new JsonArray(box.West, box.South, box.East, box.North),
            ["geometry"] = JsonNode.Parse(GeoJson.ToJson(footprint)),
            ["properties"] = new JsonObject
            {
                ["datetime"] = when.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
                ["platform"] = "Sentinel-2B",
                ["constellation"] = "Sentinel 2",
                ["instruments"] = new JsonArray("msi"),
                ["eo:cloud_cover"] = Math.Round(valid == 0 ? 0 : 100.0 * cloudy / valid, 3),
                ["s2:mgrs_tile"] = tile,
                ["s2:processing_baseline"] = "02.14",
                ["s2:nodata_pixel_percentage"] = Math.Round(100.0 * (1 - ((double)valid / (n20 * n20))), 3),
                ["sat:orbit_state"] = "descending",
                ["sat:relative_orbit"] = 51,
                ["proj:epsg"] = epsg,
                ["deepsentinel:synthetic"] = true,
            },
            ["assets"] = assets,
        };
        return WriteItem(folder, id, item);
    }

    private static JsonObject WriteS1Scene(string root, SyntheticLandscape landscape, int epsg, Extent extent, double pixelDegrees, DateTimeOffset when, bool ascending, bool singlePolarisation, int sceneIndex)
    {
        var id = string.Create(CultureInfo.InvariantCulture, $"S1A_IW_GRDH_1S{(singlePolarisation ? "SV" : "DV")}_{when:yyyyMMdd'T'HHmmss}_{when.AddSeconds(25):yyyyMMdd'T'HHmmss}_{28400 + sceneIndex:000000}_0334D0_rtc");
        var folder = Path.Combine(root, "sentinel-1-rtc", id);
        Directory.CreateDirectory(folder);
        var width = (int)Math.Ceiling((extent.East - extent.West) / pixelDegrees);
        var height = (int)Math.Ceiling((extent.North - extent.South) / pixelDegrees);
        var vv = new float[width * height];
        var vh = new float[width * height];
        Parallel.For(
            0,
            height,
            () => new CoordinateTransform(4326, epsg),
            (row, _, toUtm) =>
            {
                var xs = new double[width];
                var ys = new double[width];
                for (var col = 0; col < width; col++)
                {
                    xs[col] = extent.West + ((col + 0.5) * pixelDegrees);
                    ys[col] = extent.North - ((row + 0.5) * pixelDegrees);
                }

                toUtm.Transform(xs, ys);
                for (var col = 0; col < width; col++)
                {
                    var (cover, variation) = landscape.At(xs[col], ys[col]);
                    var (a, b) = SyntheticLandscape.Sigma0(cover, variation, landscape.Hash01(col, row, 5000 + sceneIndex), landscape.Hash01(col, row, 7000 + sceneIndex));
                    vv[(row * width) + col] = a;
                    vh[(row * width) + col] = b;
                }

                return toUtm;
            },
            toUtm => toUtm.Dispose());

        var transform = new[] { extent.West, pixelDegrees, 0, extent.North, 0, -pixelDegrees };
        var assets = new JsonObject();
        foreach (var (name, data) in singlePolarisation ? new[] { ("vv", vv) } : [("vv", vv), ("vh", vh)])
        {
            WriteCog(Path.Combine(folder, name + ".tif"), 4326, transform, width, height, data, name.ToUpperInvariant(), float.NaN);
            assets[name] = new JsonObject
            {
                ["href"] = $"./{name}.tif",
                ["type"] = "image/tiff; application=geotiff; profile=cloud-optimized",
                ["title"] = $"{name.ToUpperInvariant()}: {char.ToUpperInvariant(name[0])} transmit, {char.ToUpperInvariant(name[1])} receive (linear gamma0)",
                ["roles"] = new JsonArray("data"),
                ["proj:shape"] = new JsonArray(height, width),
                ["proj:transform"] = new JsonArray(transform.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()),
                ["raster:bands"] = new JsonArray(new JsonObject { ["nodata"] = "nan", ["data_type"] = "float32", ["unit"] = "linear" }),
            };
        }

        // The grid's longitudes run on across 180 where the area crosses it (GDAL reads such a
        // raster as it is); the footprint is split there and the bbox crosses it (RFC 7946).
        var footprint = Antimeridian.FromRing([new(extent.West, extent.North), new(extent.West, extent.South), new(extent.East, extent.South), new(extent.East, extent.North), new(extent.West, extent.North)]);
        var box = Antimeridian.BoundingBoxOf(footprint);
        var item = new JsonObject
        {
            ["type"] = "Feature",
            ["stac_version"] = "1.0.0",
            ["stac_extensions"] = new JsonArray("https://stac-extensions.github.io/sar/v1.0.0/schema.json", "https://stac-extensions.github.io/sat/v1.0.0/schema.json", "https://stac-extensions.github.io/projection/v1.0.0/schema.json", "https://stac-extensions.github.io/raster/v1.1.0/schema.json"),
            ["id"] = id,
            ["collection"] = "sentinel-1-rtc",
            ["bbox"] = new JsonArray(box.West, box.South, box.East, box.North),
            ["geometry"] = JsonNode.Parse(GeoJson.ToJson(footprint)),
            ["properties"] = new JsonObject
            {
                ["datetime"] = when.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
                ["platform"] = "SENTINEL-1A",
                ["constellation"] = "Sentinel-1",
                ["sar:instrument_mode"] = "IW",
                ["sar:frequency_band"] = "C",
                ["sar:polarizations"] = singlePolarisation ? new JsonArray("VV") : new JsonArray("VV", "VH"),
                ["sar:product_type"] = "GRD",
                ["sat:orbit_state"] = ascending ? "ascending" : "descending",
                ["sat:relative_orbit"] = ascending ? 161 : 139,
                ["proj:epsg"] = 4326,
                ["deepsentinel:synthetic"] = true,
            },
            ["assets"] = assets,
        };
        return WriteItem(folder, id, item);
    }

    private static JsonObject S2Asset(string name, int resolution, int size, double originX, double originY, string dataType)
    {
        var asset = new JsonObject
        {
            ["href"] = $"./{name}.tif",
            ["type"] = "image/tiff; application=geotiff; profile=cloud-optimized",
            ["title"] = name == "SCL" ? "Scene classification map (SCL)" : $"Band {name} - {resolution}m",
            ["roles"] = new JsonArray("data"),
            ["gsd"] = resolution,
            ["proj:shape"] = new JsonArray(size, size),
            ["proj:transform"] = new JsonArray(resolution, 0, originX, 0, -resolution, originY),
            ["raster:bands"] = new JsonArray(new JsonObject { ["nodata"] = 0, ["data_type"] = dataType, ["spatial_resolution"] = resolution }),
        };
        if (name != "SCL")
        {
            asset["eo:bands"] = new JsonArray(new JsonObject { ["name"] = name });
        }

        return asset;
    }

    private static void WriteSceneCog<T>(string path, int epsg, double originX, double originY, int resolution, int size, T[] pixels, string description, double noData)
        where T : unmanaged =>
        WriteCog(path, epsg, [originX, resolution, 0, originY, 0, -resolution], size, size, pixels, description, noData);

    private static void WriteCog<T>(string path, int epsg, double[] transform, int width, int height, T[] pixels, string description, double noData)
        where T : unmanaged
    {
        var temp = path + ".partial";
        RasterWriter.WriteCog(temp, epsg, transform, width, height, [new BandData<T>(description, pixels)], noData, null, CogLayout.Scene);
        File.Move(temp, path, overwrite: true);
    }

    private static JsonObject WriteItem(string folder, string id, JsonObject item)
    {
        item["links"] = new JsonArray(Link("root", "../../catalog.json", "application/json"), Link("parent", "../collection.json", "application/json"), Link("collection", "../collection.json", "application/json"));
        WriteJsonAtomically(Path.Combine(folder, id + ".json"), item);
        return item;
    }

    private static void WriteCollection(string root, string id, string description, List<JsonObject> items)
    {
        var links = new JsonArray(Link("root", "../catalog.json", "application/json"), Link("parent", "../catalog.json", "application/json"));
        foreach (var item in items)
        {
            var itemId = (string)item["id"]!;
            links.Add(Link("item", $"./{itemId}/{itemId}.json", "application/geo+json"));
        }

        var union = Antimeridian.Union(items.Select(i => i["bbox"]!.AsArray().Select(v => (double)v!).ToArray()).Select(b => new BoundingBox(b[0], b[1], b[2], b[3])));
        var times = items.Select(i => (string)i["properties"]!["datetime"]!).Order(StringComparer.Ordinal).ToList();
        WriteJsonAtomically(Path.Combine(root, id, "collection.json"), new JsonObject
        {
            ["type"] = "Collection",
            ["id"] = id,
            ["stac_version"] = "1.0.0",
            ["description"] = description,
            ["license"] = "CC0-1.0",
            ["extent"] = new JsonObject
            {
                ["spatial"] = new JsonObject { ["bbox"] = new JsonArray(new JsonArray(union.West, union.South, union.East, union.North)) },
                ["temporal"] = new JsonObject { ["interval"] = new JsonArray(new JsonArray(times[0], times[^1])) },
            },
            ["links"] = links,
        });
    }

    private static void WriteJsonAtomically(string path, JsonNode node)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".partial";
        File.WriteAllText(temp, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.Move(temp, path, overwrite: true);
    }

    private static string? ReadFingerprint(string catalogPath)
    {
        try
        {
            return (string?)JsonNode.Parse(File.ReadAllText(catalogPath))?[Fingerprint]?["fingerprint"];
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static JsonObject Link(string rel, string href, string type) => new() { ["rel"] = rel, ["href"] = href, ["type"] = type };

    // The outline of a projected quadrilateral in WGS 84 (edges densified), as the projection gives
    // it: longitudes folded into -180..180, so it jumps where it crosses the antimeridian.
    private static NetTopologySuite.Geometries.Coordinate[] Outline(CoordinateTransform toWgs, (double X, double Y)[] corners)
    {
        const int PerEdge = 6;
        var xs = new List<double>();
        var ys = new List<double>();
        for (var i = 0; i < corners.Length; i++)
        {
            var (ax, ay) = corners[i];
            var (bx, by) = corners[(i + 1) % corners.Length];
            for (var s = 0; s < PerEdge; s++)
            {
                xs.Add(ax + ((bx - ax) * s / PerEdge));
                ys.Add(ay + ((by - ay) * s / PerEdge));
            }
        }

        xs.Add(xs[0]);
        ys.Add(ys[0]);
        var x = xs.ToArray();
        var y = ys.ToArray();
        toWgs.Transform(x, y);
        return x.Zip(y, (a, b) => new NetTopologySuite.Geometries.Coordinate(Math.Round(a, 7), Math.Round(b, 7))).ToArray();
    }

    private static Extent Wgs84Extent(CoordinateTransform toWgs, double minX, double minY, double maxX, double maxY)
    {
        // Continuous across the antimeridian: West may be below -180 or East above 180.
        var ring = Antimeridian.Unwrap(Outline(toWgs, [(minX, maxY), (maxX, maxY), (maxX, minY), (minX, minY)]));
        return new Extent(ring.Min(c => c.X), ring.Min(c => c.Y), ring.Max(c => c.X), ring.Max(c => c.Y));
    }

    private static char LatitudeBand(double latitude) => "CDEFGHJKLMNPQRSTUVWXX"[Math.Clamp((int)Math.Floor((latitude + 80) / 8), 0, 20)];

    private readonly record struct Extent(double West, double South, double East, double North)
    {
        public Extent Expand(double by) => new(West - by, South - by, East + by, North + by);
    }
}
