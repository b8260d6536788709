using System.IO.Compression;
using System.Text.Json;
using DeepSentinel.Core.Geometry;
using NetTopologySuite.Algorithm.Locate;
using NetTopologySuite.Geometries;
using NetTopologySuite.Index.Strtree;

namespace DeepSentinel.Core.Sampling;

/// <summary>
/// The world's land surface from Natural Earth's 1:50m land polygons (embedded), without
/// Antarctica (everything south of 60 degrees S). Point-in-land tests use a spatial index and
/// prepared polygons, so millions of tests are cheap. Thread-safe.
/// </summary>
public sealed class LandMask
{
    /// <summary>Land south of this latitude (Antarctica) is excluded.</summary>
    public const double SouthernLimit = -60.0;

    private static readonly Lazy<LandMask> LazyWorld = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly STRtree<(Polygon Polygon, IndexedPointInAreaLocator Locator)> _index = new();

    private LandMask(IEnumerable<Polygon> polygons)
    {
        var count = 0;
        foreach (var polygon in polygons)
        {
            if (polygon.EnvelopeInternal.MaxY <= SouthernLimit)
            {
                continue;
            }

            _index.Insert(polygon.EnvelopeInternal, (polygon, new IndexedPointInAreaLocator(polygon)));
            count++;
        }

        _index.Build();
        PolygonCount = count;
    }

    /// <summary>The embedded world land mask.</summary>
    public static LandMask World => LazyWorld.Value;

    /// <summary>Number of land polygons.</summary>
    public int PolygonCount { get; }

    /// <summary>True when (lon, lat) is on land north of 60 degrees S.</summary>
    public bool IsLand(double longitude, double latitude)
    {
        if (latitude < SouthernLimit)
        {
            return false;
        }

        var point = new Coordinate(longitude, latitude);
        foreach (var (_, locator) in _index.Query(new Envelope(point)))
        {
            if (locator.Locate(point) != Location.Exterior)
            {
                return true;
            }
        }

        return false;
    }

    private static LandMask Load()
    {
        using var resource = typeof(LandMask).Assembly.GetManifestResourceStream("DeepSentinel.LandMask.geojson.gz")
            ?? throw new InvalidOperationException("The embedded land mask is missing from the assembly.");
        using var gzip = new GZipStream(resource, CompressionMode.Decompress);
        using var document = JsonDocument.Parse(gzip);
        var polygons = new List<Polygon>();
        foreach (var feature in document.RootElement.GetProperty("features").EnumerateArray())
        {
            switch (GeoJson.ReadGeometry(feature.GetProperty("geometry")))
            {
                case Polygon p:
                    polygons.Add(p);
                    break;
                case MultiPolygon mp:
                    polygons.AddRange(mp.Geometries.Cast<Polygon>());
                    break;
            }
        }

        return new LandMask(polygons);
    }
}
