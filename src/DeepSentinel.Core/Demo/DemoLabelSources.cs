using System.Globalization;
using System.Text;
using System.Xml;
using DeepSentinel.Core.Interop.Gdal;
using DeepSentinel.Core.Raster;

namespace DeepSentinel.Core.Demo;

/// <summary>
/// Label sources for the demo catalog, drawn from the same synthetic landscape as its imagery, so
/// that labelling a demo corpus gives labels that agree with its pixels: a CORINE Land Cover 2018
/// raster (level-3 codes, 100 m, EPSG:3035, each cell the majority of 4 x 4 samples, as CLC
/// generalises to its mapping unit) and an OpenStreetMap extract (.osm XML: water, forest,
/// farmland and residential areas traced on a 100 m grid, buildings in the built-up cells, roads
/// along parcel boundaries). Synthetic, like the imagery: not real CORINE or OSM data.
/// </summary>
internal static class DemoLabelSources
{
    /// <summary>The folder below the catalog root that holds the label sources.</summary>
    public const string Folder = "labels";

    /// <summary>The CLC raster's file name.</summary>
    public const string ClcFile = "clc2018.tif";

    /// <summary>The OSM extract's file name.</summary>
    public const string OsmFile = "osm.osm";

    private const int ClcPixel = 100;
    private const int ClcEpsg = 3035;
    private const int OsmCell = 100;

    /// <summary>True when CORINE covers the point (its 39 countries lie within this box).</summary>
    public static bool InClcArea(double longitude, double latitude) => longitude is >= -32 and <= 45 && latitude is >= 27 and <= 72;

    /// <summary>The CLC level-3 code of a landscape point: what CLC's legend calls that cover.</summary>
    public static int ClcCode(DemoCover cover, float variation) => cover switch
    {
        DemoCover.Water => 512, // water bodies
        DemoCover.Crop => 211, // non-irrigated arable land
        DemoCover.Forest => variation < 0.5 ? 311 : 313, // broad-leaved or mixed forest
        DemoCover.Urban => 112, // discontinuous urban fabric
        _ => 333, // sparsely vegetated areas
    };

    /// <summary>Writes the CLC raster over a UTM extent (metres) of the landscape.</summary>
    public static string WriteClc(string root, SyntheticLandscape landscape, int utmEpsg, double minX, double minY, double maxX, double maxY)
    {
        var path = Path.Combine(root, Folder, ClcFile);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);

        // The extent's corners in EPSG:3035, snapped outwards to the 100 m grid.
        using var toLaea = new CoordinateTransform(utmEpsg, ClcEpsg);
        double[] xs = [minX, maxX, maxX, minX];
        double[] ys = [maxY, maxY, minY, minY];
        toLaea.Transform(xs, ys);
        var west = Math.Floor(xs.Min() / ClcPixel) * ClcPixel;
        var east = Math.Ceiling(xs.Max() / ClcPixel) * ClcPixel;
        var south = Math.Floor(ys.Min() / ClcPixel) * ClcPixel;
        var north = Math.Ceiling(ys.Max() / ClcPixel) * ClcPixel;
        var width = (int)((east - west) / ClcPixel);
        var height = (int)((north - south) / ClcPixel);
        var codes = new ushort[width * height];
        const int sub = 4;
        Parallel.For(0, height, () => new CoordinateTransform(ClcEpsg, utmEpsg), (row, _, transform) =>
        {
            var px = new double[width * sub * sub];
            var py = new double[width * sub * sub];
            for (var col = 0; col < width; col++)
            {
                for (var k = 0; k < sub * sub; k++)
                {
                    px[(col * sub * sub) + k] = west + (col * ClcPixel) + (((k % sub) + 0.5) * ClcPixel / sub);
                    py[(col * sub * sub) + k] = north - (row * ClcPixel) - (((k / sub) + 0.5) * ClcPixel / sub);
                }
            }

            transform.Transform(px, py);
            var votes = new Dictionary<int, int>();
            for (var col = 0; col < width; col++)
            {
                votes.Clear();
                for (var k = 0; k < sub * sub; k++)
                {
                    var (cover, variation) = landscape.At(px[(col * sub * sub) + k], py[(col * sub * sub) + k]);
                    var code = ClcCode(cover, variation);
                    votes[code] = votes.GetValueOrDefault(code) + 1;
                }

                codes[(row * width) + col] = (ushort)votes.MaxBy(v => (v.Value, -v.Key)).Key;
            }

            return transform;
        }, transform => transform.Dispose());

        var temp = path + ".partial";
        RasterWriter.WriteCog(temp, ClcEpsg, [west, ClcPixel, 0, north, 0, -ClcPixel], width, height, [new BandData<ushort>("CLC2018 level-3 code (synthetic)", codes)], noData: 999,
            new Dictionary<string, string> { ["DEEPSENTINEL_SYNTHETIC"] = "demo CLC raster drawn from the demo catalog's synthetic landscape; not CORINE data" }, CogLayout.Scene);
        File.Move(temp, path, overwrite: true);
        return path;
    }

    /// <summary>Writes the OSM extract over a UTM extent (metres) of the landscape.</summary>
    public static string WriteOsm(string root, SyntheticLandscape landscape, int utmEpsg, double minX, double minY, double maxX, double maxY)
    {
        var path = Path.Combine(root, Folder, OsmFile);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var columns = (int)Math.Floor((maxX - minX) / OsmCell);
        var rows = (int)Math.Floor((maxY - minY) / OsmCell);
        var cover = new DemoCover[rows * columns];
        Parallel.For(0, rows, row =>
        {
            for (var col = 0; col < columns; col++)
            {
                cover[(row * columns) + col] = landscape.At(minX + ((col + 0.5) * OsmCell), maxY - ((row + 0.5) * OsmCell)).Cover;
            }
        });

        var osm = new OsmXml(utmEpsg);
        // Areas: runs of equal cover along each row of the 100 m grid, one closed way each.
        for (var row = 0; row < rows; row++)
        {
            var top = maxY - (row * OsmCell);
            for (var col = 0; col < columns;)
            {
                var c = cover[(row * columns) + col];
                var end = col;
                while (end + 1 < columns && cover[(row * columns) + end + 1] == c)
                {
                    end++;
                }

                var tag = c switch
                {
                    DemoCover.Water => ("natural", "water"),
                    DemoCover.Forest => ("landuse", "forest"),
                    DemoCover.Crop => ("landuse", "farmland"),
                    DemoCover.Urban => ("landuse", "residential"),
                    _ => ((string, string)?)null,
                };
                if (tag is { } t)
                {
                    osm.Rectangle(minX + (col * OsmCell), top - OsmCell, minX + ((end + 1) * OsmCell), top, t);
                }

                if (c == DemoCover.Urban)
                {
                    // A house of 14 x 12 m in each built-up cell.
                    for (var k = col; k <= end; k++)
                    {
                        var x = minX + (k * OsmCell) + 40;
                        osm.Rectangle(x, top - 60, x + 14, top - 48, ("building", "house"));
                    }
                }

                col = end + 1;
            }
        }

        // Roads along parcel boundaries (the landscape's parcels are 420 x 310 m): a secondary
        // road every 8 parcels east-west, a tertiary one every 10 parcels north-south.
        for (var x = Math.Ceiling(minX / 3360) * 3360; x < maxX; x += 3360)
        {
            osm.Line([(x, minY), (x, maxY)], ("highway", "secondary"));
        }

        for (var y = Math.Ceiling(minY / 3100) * 3100; y < maxY; y += 3100)
        {
            osm.Line([(minX, y), (maxX, y)], ("highway", "tertiary"));
        }

        var temp = path + ".partial";
        osm.Save(temp);
        File.Move(temp, path, overwrite: true);
        return path;
    }

    /// <summary>A minimal OSM XML (API 0.6) writer: nodes in WGS 84, ways over them.</summary>
    private sealed class OsmXml(int utmEpsg)
    {
        private readonly List<(long Id, double Lon, double Lat)> _nodes = [];
        private readonly List<(long Id, long[] Nodes, (string Key, string Value) Tag)> _ways = [];
        private readonly Dictionary<(long, long), long> _nodeAt = [];

        public void Rectangle(double x0, double y0, double x1, double y1, (string, string) tag)
        {
            var a = Node(x0, y1);
            _ways.Add((_ways.Count + 1, [a, Node(x1, y1), Node(x1, y0), Node(x0, y0), a], tag));
        }

        public void Line(IReadOnlyList<(double X, double Y)> points, (string, string) tag) =>
            _ways.Add((_ways.Count + 1, points.Select(p => Node(p.X, p.Y)).ToArray(), tag));

        public void Save(string path)
        {
            using var transform = new CoordinateTransform(utmEpsg, 4326);
            var xs = _nodes.Select(n => n.Lon).ToArray();
            var ys = _nodes.Select(n => n.Lat).ToArray();
            transform.Transform(xs, ys);
            var settings = new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false) };
            using var xml = XmlWriter.Create(path, settings);
            xml.WriteStartElement("osm");
            xml.WriteAttributeString("version", "0.6");
            xml.WriteAttributeString("generator", "DeepSentinel New-DemoCatalog (synthetic)");
            xml.WriteStartElement("bounds");
            xml.WriteAttributeString("minlat", Invariant(ys.Min()));
            xml.WriteAttributeString("minlon", Invariant(xs.Min()));
            xml.WriteAttributeString("maxlat", Invariant(ys.Max()));
            xml.WriteAttributeString("maxlon", Invariant(xs.Max()));
            xml.WriteEndElement();
            for (var i = 0; i < _nodes.Count; i++)
            {
                xml.WriteStartElement("node");
                xml.WriteAttributeString("id", _nodes[i].Id.ToString(CultureInfo.InvariantCulture));
                xml.WriteAttributeString("version", "1");
                xml.WriteAttributeString("lat", Invariant(ys[i]));
                xml.WriteAttributeString("lon", Invariant(xs[i]));
                xml.WriteEndElement();
            }

            foreach (var (id, nodes, (key, value)) in _ways)
            {
                xml.WriteStartElement("way");
                xml.WriteAttributeString("id", id.ToString(CultureInfo.InvariantCulture));
                xml.WriteAttributeString("version", "1");
                foreach (var node in nodes)
                {
                    xml.WriteStartElement("nd");
                    xml.WriteAttributeString("ref", node.ToString(CultureInfo.InvariantCulture));
                    xml.WriteEndElement();
                }

                xml.WriteStartElement("tag");
                xml.WriteAttributeString("k", key);
                xml.WriteAttributeString("v", value);
                xml.WriteEndElement();
                xml.WriteEndElement();
            }

            xml.WriteEndElement();
        }

        // Shared corners share a node (at centimetre precision), as in real OSM data.
        private long Node(double x, double y)
        {
            var key = ((long)Math.Round(x * 100), (long)Math.Round(y * 100));
            if (!_nodeAt.TryGetValue(key, out var id))
            {
                id = _nodes.Count + 1;
                _nodes.Add((id, x, y));
                _nodeAt[key] = id;
            }

            return id;
        }

        private static string Invariant(double value) => value.ToString("0.0000000", CultureInfo.InvariantCulture);
    }
}
