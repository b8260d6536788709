using System.Globalization;
using System.Text.Json.Nodes;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Gdal;
using DeepSentinel.Core.Raster;

namespace DeepSentinel.Core.Labels;

/// <summary>The input of Add-CorineLabel.</summary>
public sealed record CorineLabelRequest
{
    /// <summary>The CLC 2018 source: the 100 m GeoTIFF (codes or raster index) or the vector product (GeoPackage, Shapefile).</summary>
    public required string Source { get; init; }

    /// <summary>The attribute that holds the level-3 code in a vector source.</summary>
    public string Attribute { get; init; } = "CODE_18";
}

/// <summary>
/// CLC labels for one worker: the level-3 code per patch pixel, read from the raster with
/// nearest-neighbour warping (exact transformation, no approximation) or from the vector
/// product by rasterising polygons transformed into the patch's CRS (a pixel takes the class of
/// the polygon holding its centre). Both rules sample the source at the pixel centre, so a raster
/// and its polygonised vector give the same label.
/// </summary>
internal sealed class CorineLabeler : ISampleLabeler
{
    private readonly CorineLabelRequest _request;
    private readonly GdalDataset? _raster;
    private readonly VectorSource? _vector;
    private readonly VectorLayer? _layer;
    private readonly int _field = -1;

    public CorineLabeler(CorineLabelRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        _request = request;
        var path = request.Source;
        if (!path.StartsWith("/vsi", StringComparison.Ordinal) && !File.Exists(path))
        {
            throw new DeepSentinelException(ErrorIds.LabelSourceUnreadable, ErrorKind.ObjectNotFound, $"The CLC source '{SecretRedactor.Redact(path)}' does not exist. Give the CLC 2018 100 m GeoTIFF or the vector product (GeoPackage or Shapefile).", path);
        }

        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is ".tif" or ".tiff" or ".vrt" or ".img")
        {
            _raster = OpenRaster(path);
            if (string.IsNullOrWhiteSpace(_raster.ProjectionWkt))
            {
                _raster.Dispose();
                throw new DeepSentinelException(ErrorIds.LabelSourceNoCrs, ErrorKind.InvalidData, $"The CLC raster '{SecretRedactor.Redact(path)}' has no coordinate reference system (the product is in EPSG:3035); assign one, e.g. gdal_edit.py -a_srs EPSG:3035.", path);
            }

            return;
        }

        _vector = VectorSource.Open(path);
        _layer = _vector.Layers.FirstOrDefault(l => l.FieldIndex(request.Attribute) >= 0);
        if (_layer is null)
        {
            var layers = string.Join(", ", _vector.Layers.Select(l => l.Name));
            _vector.Dispose();
            throw new DeepSentinelException(ErrorIds.LabelAttributeMissing, ErrorKind.InvalidArgument, $"No layer of '{SecretRedactor.Redact(path)}' ({layers}) has the attribute '{request.Attribute}'. Name the attribute that holds the level-3 code with -Attribute.", request.Attribute);
        }

        if (!_layer.HasCrs)
        {
            var name = _layer.Name;
            _vector.Dispose();
            throw new DeepSentinelException(ErrorIds.LabelSourceNoCrs, ErrorKind.InvalidData, $"The layer '{name}' of '{SecretRedactor.Redact(path)}' has no coordinate reference system; assign one (e.g. ogr2ogr -a_srs EPSG:3035) and retry.", path);
        }

        try
        {
            _layer.Probe();
        }
        catch
        {
            _vector.Dispose();
            throw;
        }

        _field = _layer.FieldIndex(request.Attribute);
    }

    public string AssetKey => "clc";

    public string Action => "Add a CORINE Land Cover label";

    public LabelResult? Label(PatchSample sample, PatchGrid grid, string staging)
    {
        var codes = _raster is not null ? FromRaster(grid) : FromVector(grid);
        var counts = new Dictionary<int, long>();
        long valid = 0;
        foreach (var code in codes)
        {
            if (code != 0)
            {
                valid++;
                counts[code] = counts.GetValueOrDefault(code) + 1;
            }
        }

        if (valid == 0)
        {
            return null;
        }

        var metadata = new Dictionary<string, string>
        {
            ["DEEPSENTINEL_SAMPLE"] = sample.Id,
            ["LABEL_SOURCE"] = Path.GetFileName(_request.Source),
            ["LABEL_NOMENCLATURE"] = "CORINE Land Cover 2018 level 3",
        };
        var cog = Path.Combine(staging, "clc.tif");
        RasterWriter.WriteCog(cog, grid, [new BandData<ushort>("CLC2018 level-3 code", codes)], noData: 0, metadata);
        var png = Path.Combine(staging, "clc.png");
        WriteQuicklook(png, grid, codes);

        var n = (long)grid.Width * grid.Height;
        var level3 = counts;
        var level2 = counts.GroupBy(c => c.Key / 10).ToDictionary(g => g.Key, g => g.Sum(c => c.Value));
        var level1 = counts.GroupBy(c => c.Key / 100).ToDictionary(g => g.Key, g => g.Sum(c => c.Value));
        var result = new LabelResult { Description = "CORINE Land Cover 2018 level-3 code per pixel (clc)" };
        result.Assets.Add(("clc", "clc.tif", cog, new JsonObject
        {
            ["href"] = "./clc.tif",
            ["type"] = "image/tiff; application=geotiff; profile=cloud-optimized",
            ["title"] = "CORINE Land Cover 2018 level-3 code per pixel",
            ["roles"] = new JsonArray("labels", "labels-raster"),
            ["raster:bands"] = new JsonArray(new JsonObject { ["nodata"] = 0, ["data_type"] = "uint16" }),
        }));
        result.Assets.Add(("clc_preview", "clc.png", png, new JsonObject
        {
            ["href"] = "./clc.png",
            ["type"] = "image/png",
            ["title"] = "CORINE Land Cover in the official CLC colours",
            ["roles"] = new JsonArray("overview"),
        }));
        result.Properties["deepsentinel:clc_source"] = Path.GetFileName(_request.Source);
        result.Properties["deepsentinel:clc_nodata_fraction"] = Math.Round(1 - ((double)valid / n), 6);
        result.Properties["deepsentinel:clc_shares"] = new JsonObject
        {
            ["level1"] = LabelRunner.Shares(level1, valid),
            ["level2"] = LabelRunner.Shares(level2, valid),
            ["level3"] = LabelRunner.Shares(level3, valid),
        };
        result.Classes.Add(new JsonObject
        {
            ["name"] = "clc",
            ["classes"] = new JsonArray(ClcLegend.Classes.Select(c => (JsonNode?)c.Code).ToArray()),
        });
        foreach (var (name, level) in new[] { ("clc_level1", level1), ("clc_level2", level2), ("clc_level3", level3) })
        {
            result.Overviews.Add(new JsonObject
            {
                ["property_key"] = name,
                ["statistics"] = new JsonArray(level.OrderBy(c => c.Key).Select(c => (JsonNode?)new JsonObject
                {
                    ["name"] = c.Key.ToString(CultureInfo.InvariantCulture),
                    ["value"] = Math.Round((double)c.Value / valid, 6),
                }).ToArray()),
            });
        }

        return result;
    }

    public void Dispose()
    {
        _raster?.Dispose();
        _vector?.Dispose();
    }

    private static GdalDataset OpenRaster(string path)
    {
        try
        {
            return GdalDataset.Open(path);
        }
        catch (DeepSentinelException ex) when (ex.ErrorId == ErrorIds.RasterUnreadable)
        {
            throw new DeepSentinelException(ErrorIds.LabelSourceUnreadable, ErrorKind.InvalidData, ex.Message, path, ex);
        }
    }

    private ushort[] FromRaster(PatchGrid grid)
    {
        const int Missing = -1;
        using var target = GdalDataset.CreateInMemory(grid.Width, grid.Height, 1, RasterDataType.Int32);
        target.GeoTransform = grid.GeoTransform;
        target.ProjectionWkt = CoordinateTransform.WktOf(grid.Epsg);
        target.SetNoData(1, Missing);
        // Nearest neighbour with an exact transformation (-et 0): each pixel takes the CLC cell
        // under its centre. Pixels outside the source stay nodata.
        target.WarpFrom(_raster!, ["-r", "near", "-et", "0", "-dstnodata", "-1", "-wo", "INIT_DEST=NO_DATA"]);
        var values = new int[grid.Width * grid.Height];
        target.Read<int>(1, 0, 0, grid.Width, grid.Height, values, grid.Width, grid.Height);
        var codes = new ushort[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] == Missing)
            {
                continue;
            }

            var code = ClcLegend.CodeOf(values[i]);
            codes[i] = code >= 0 ? (ushort)code : throw UnknownCode(values[i].ToString(CultureInfo.InvariantCulture));
        }

        return codes;
    }

    private ushort[] FromVector(PatchGrid grid)
    {
        using var target = GdalDataset.CreateInMemory(grid.Width, grid.Height, 1, RasterDataType.Int32);
        target.GeoTransform = grid.GeoTransform;
        target.ProjectionWkt = CoordinateTransform.WktOf(grid.Epsg);
        var shapes = new List<(VectorGeometry Geometry, double Value)>();
        try
        {
            foreach (var feature in _layer!.Features(grid.Epsg, grid.OriginX, grid.MinY, grid.MaxX, grid.OriginY, [_field]))
            {
                var text = feature.Values[0];
                if (feature.Kind != GeometryKind.Area || text is null)
                {
                    feature.Geometry.Dispose();
                    continue;
                }

                shapes.Add((feature.Geometry, 0));
                // One rule for raster and vector sources (ClcLegend.CodeOf): 999 and the other
                // "no data" values leave the pixels unlabelled, anything else unknown is an error.
                if (!int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || ClcLegend.CodeOf(value) is var code && code < 0)
                {
                    throw UnknownCode(text);
                }

                if (code == 0)
                {
                    // Burnt as 0: a later (overlapping) polygon with a code still labels its pixels.
                    continue;
                }

                shapes[^1] = (feature.Geometry, code);
            }

            Rasterizer.Burn(target, 1, shapes);
        }
        finally
        {
            foreach (var (geometry, _) in shapes)
            {
                geometry.Dispose();
            }
        }

        var values = new int[grid.Width * grid.Height];
        target.Read<int>(1, 0, 0, grid.Width, grid.Height, values, grid.Width, grid.Height);
        return values.Select(v => (ushort)v).ToArray();
    }

    private DeepSentinelException UnknownCode(string value) =>
        new(ErrorIds.ClcCodeUnknown, ErrorKind.InvalidData, $"The CLC source '{SecretRedactor.Redact(_request.Source)}' holds the value '{value}' under the patch, which is neither a CLC level-3 code (111..523) nor a raster index (1..44).", value);

    private static void WriteQuicklook(string path, PatchGrid grid, ushort[] codes)
    {
        var red = new byte[codes.Length];
        var green = new byte[codes.Length];
        var blue = new byte[codes.Length];
        // Nodata is transparent: black is the official colour of 334 Burnt areas.
        var alpha = new byte[codes.Length];
        for (var i = 0; i < codes.Length; i++)
        {
            if (ClcLegend.Find(codes[i]) is { } c)
            {
                (red[i], green[i], blue[i], alpha[i]) = (c.Red, c.Green, c.Blue, 255);
            }
        }

        RasterWriter.WritePng(path, grid.Width, grid.Height, red, green, blue, alpha);
    }
}
