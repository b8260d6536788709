using System.Text.Json.Nodes;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Gdal;
using DeepSentinel.Core.Raster;

namespace DeepSentinel.Core.Labels;

/// <summary>The input of Add-OsmLabel.</summary>
public sealed record OsmLabelRequest
{
    /// <summary>OSM features: .osm.pbf or .osm (GDAL's OSM driver), GeoJSON, or any OGR vector with tag fields.</summary>
    public required string Source { get; init; }

    /// <summary>The tag-to-class mapping.</summary>
    public OsmClassMap ClassMap { get; init; } = OsmClassMap.Default;

    /// <summary>The source's name for the Item and messages (default: the file name of <see cref="Source"/>).</summary>
    public string? DisplayName { get; init; }
}

/// <summary>
/// OSM labels for one worker: a Byte mask with one band per class (1 = the class is there).
/// Areas burn the pixels whose centre they hold; lines are buffered to their width in metres in
/// the patch's UTM CRS first (a pixel whose centre is within half the width of the centreline is
/// burnt, so a 15 m road covers 15 m whatever the source CRS), plus the pixels the centreline
/// itself crosses.
/// </summary>
internal sealed class OsmLabeler : ISampleLabeler
{
    private readonly OsmLabelRequest _request;
    private readonly VectorSource _source;

    public OsmLabeler(OsmLabelRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        _request = request;
        EnsureExists(request.Source);
        _source = VectorSource.Open(request.Source);
        if (_source.Layers.Count == 0)
        {
            _source.Dispose();
            throw new DeepSentinelException(ErrorIds.LabelSourceUnreadable, ErrorKind.InvalidData, $"'{SecretRedactor.Redact(request.Source)}' holds no vector layers.", request.Source);
        }

        if (_source.Layers.FirstOrDefault(l => !l.HasCrs) is { } bare)
        {
            _source.Dispose();
            throw new DeepSentinelException(ErrorIds.LabelSourceNoCrs, ErrorKind.InvalidData, $"The layer '{bare.Name}' of '{SecretRedactor.Redact(request.Source)}' has no coordinate reference system; assign one (e.g. ogr2ogr -a_srs EPSG:4326) and retry.", request.Source);
        }
    }

    public const string Asset = "osm";

    public const string ActionText = "Add an OpenStreetMap label";

    public string AssetKey => Asset;

    public string Action => ActionText;

    public LabelResult? Label(PatchSample sample, PatchGrid grid, string staging)
    {
        var map = _request.ClassMap;
        var classes = map.Classes;
        var shapes = classes.Select(_ => new List<(VectorGeometry Geometry, double Value)>()).ToList();
        var owned = new List<VectorGeometry>();
        try
        {
            // A margin of the widest buffer: a road just outside the patch still covers its edge.
            var margin = map.Rules.Max(r => r.Width) / 2;
            foreach (var layer in _source.Layers)
            {
                var keys = map.Rules.Select(r => r.Key).Distinct(StringComparer.Ordinal).ToList();
                var fields = keys.Select(layer.FieldIndex).ToList();
                if (fields.All(f => f < 0))
                {
                    continue;
                }

                foreach (var feature in layer.Features(grid.Epsg, grid.OriginX - margin, grid.MinY - margin, grid.MaxX + margin, grid.OriginY + margin, fields))
                {
                    owned.Add(feature.Geometry);
                    var taken = new HashSet<string>(StringComparer.Ordinal);
                    foreach (var rule in map.Rules)
                    {
                        if (rule.Geometry != feature.Kind || taken.Contains(rule.Class) || !rule.Matches(feature.Values[keys.IndexOf(rule.Key)]))
                        {
                            continue;
                        }

                        taken.Add(rule.Class);
                        var band = shapes[IndexOf(classes, rule.Class)];
                        // The centreline always burns the pixels it crosses, so a road narrower
                        // than a pixel never vanishes between pixel centres.
                        band.Add((feature.Geometry, 1));
                        if (rule.Geometry == GeometryKind.Line && rule.Width > 0)
                        {
                            var surface = feature.Geometry.Buffer(rule.Width / 2);
                            owned.Add(surface);
                            band.Add((surface, 1));
                        }
                    }
                }
            }

            using var mask = GdalDataset.CreateInMemory(grid.Width, grid.Height, classes.Count, RasterDataType.Byte);
            mask.GeoTransform = grid.GeoTransform;
            mask.ProjectionWkt = CoordinateTransform.WktOf(grid.Epsg);
            var bands = new List<BandData<byte>>();
            var n = (long)grid.Width * grid.Height;
            var shares = new JsonObject();
            for (var c = 0; c < classes.Count; c++)
            {
                Rasterizer.Burn(mask, c + 1, shapes[c]);
                var pixels = new byte[n];
                mask.Read<byte>(c + 1, 0, 0, grid.Width, grid.Height, pixels, grid.Width, grid.Height);
                bands.Add(new BandData<byte>(classes[c], pixels));
                shares[classes[c]] = Math.Round((double)pixels.Count(p => p != 0) / n, 6);
            }

            var cog = Path.Combine(staging, "osm.tif");
            RasterWriter.WriteCog(cog, grid, bands, noData: null, new Dictionary<string, string>
            {
                ["DEEPSENTINEL_SAMPLE"] = sample.Id,
                ["LABEL_SOURCE"] = _request.DisplayName ?? Path.GetFileName(_request.Source),
                ["LABEL_CLASSES"] = string.Join(",", classes),
            });
            // An all-zero mask is written (a patch may hold none of the classes), but said: the
            // source may not cover the sample or hold none of the class map's tags.
            var empty = bands.All(b => b.Pixels.All(p => p == 0));
            var source = _request.DisplayName ?? Path.GetFileName(_request.Source);
            var result = new LabelResult
            {
                Description = "OpenStreetMap class masks, one band per class (osm)",
                Warning = empty ? $"the OpenStreetMap mask is all zero: '{source}' has no feature of the class map's tags under the patch (the sample may lie outside the extract, or the extract lacks those tags). The empty mask was written and the Item says so (deepsentinel:osm_empty)." : null,
            };
            result.Assets.Add(("osm", "osm.tif", cog, new JsonObject
            {
                ["href"] = "./osm.tif",
                ["type"] = "image/tiff; application=geotiff; profile=cloud-optimized",
                ["title"] = "OpenStreetMap class masks (1 = present), one band per class",
                ["roles"] = new JsonArray("labels", "labels-raster"),
                ["raster:bands"] = new JsonArray(classes.Select(c => (JsonNode?)new JsonObject { ["name"] = c, ["data_type"] = "uint8" }).ToArray()),
            }));
            result.Properties["deepsentinel:osm_source"] = _request.DisplayName ?? Path.GetFileName(_request.Source);
            result.Properties["deepsentinel:osm_shares"] = shares;
            result.Properties["deepsentinel:osm_empty"] = empty;
            result.Classes.Add(new JsonObject { ["name"] = "osm", ["classes"] = new JsonArray(classes.Select(c => (JsonNode?)c).ToArray()) });
            result.Overviews.Add(new JsonObject
            {
                ["property_key"] = "osm",
                ["statistics"] = new JsonArray(classes.Select(c => (JsonNode?)new JsonObject { ["name"] = c, ["value"] = shares[c]!.DeepClone() }).ToArray()),
            });
            return result;
        }
        finally
        {
            foreach (var geometry in owned)
            {
                geometry.Dispose();
            }
        }
    }

    public void Dispose() => _source.Dispose();

    /// <summary>
    /// For an .osm or .osm.pbf extract: copies its lines and multipolygons into a temporary
    /// GeoPackage and returns its path (the caller deletes it); null for other sources.
    /// </summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.LabelSourceUnreadable"/> for a missing or corrupt extract.</exception>
    public static string? PrepareSource(string source, IOperationReporter reporter)
    {
        EnsureExists(source);
        var name = source.ToLowerInvariant();
        if (!name.EndsWith(".osm", StringComparison.Ordinal) && !name.EndsWith(".pbf", StringComparison.Ordinal))
        {
            return null;
        }

        var copy = Path.Combine(Path.GetTempPath(), "deepsentinel-osm-" + Guid.NewGuid().ToString("N") + ".gpkg");
        try
        {
            using var extract = VectorSource.Open(source);
            reporter.Verbose($"Indexing the OSM extract {Path.GetFileName(source)} into {copy}.");
            // points first: the driver parses the file from its start for the first layer read,
            // which is where a corrupt extract reports its parsing errors (read after the other
            // layers, a broken block may pass silently as an empty layer).
            extract.CopyToGeoPackage(copy, ["points", "lines", "multipolygons"]);
            return copy;
        }
        catch
        {
            File.Delete(copy);
            throw;
        }
    }

    public static void EnsureExists(string source)
    {
        if (!source.StartsWith("/vsi", StringComparison.Ordinal) && !File.Exists(source))
        {
            throw new DeepSentinelException(ErrorIds.LabelSourceUnreadable, ErrorKind.ObjectNotFound, $"The OSM source '{SecretRedactor.Redact(source)}' does not exist. Give an .osm.pbf or .osm extract or a GeoJSON file.", source);
        }
    }

    private static int IndexOf(IReadOnlyList<string> classes, string name)
    {
        for (var i = 0; i < classes.Count; i++)
        {
            if (classes[i] == name)
            {
                return i;
            }
        }

        return -1;
    }
}
