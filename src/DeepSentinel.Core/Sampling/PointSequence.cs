using DeepSentinel.Core.Errors;
using NetTopologySuite.Algorithm.Locate;
using NetTopologySuite.Geometries;

namespace DeepSentinel.Core.Sampling;

/// <summary>A sampling point: its position in the sequence, where it is, and the acquisition window it was given.</summary>
/// <param name="Index">Position in the point sequence (0-based); the same seed gives the same point for the same index.</param>
/// <param name="Longitude">WGS 84 longitude.</param>
/// <param name="Latitude">WGS 84 latitude.</param>
/// <param name="WindowStart">Start of the 12-day cycle the point's Sentinel-2 scene must fall in.</param>
/// <param name="WindowEnd">End of that cycle.</param>
public sealed record SamplePoint(long Index, double Longitude, double Latitude, DateTimeOffset WindowStart, DateTimeOffset WindowEnd);

/// <summary>
/// The deterministic sequence of sampling points: point i depends only on the seed and i (not
/// on shards, workers or earlier points), so -Seed reproduces a corpus and -Shard i -ShardCount n
/// can take every n-th point without coordination. Points are uniform over the sphere's surface
/// (not over longitude/latitude) within the sampling area and on land. Each point is assigned a
/// 12-day cycle of the date range (Sentinel-1's repeat cycle), spreading samples over time as the
/// original DeepSentinel did.
/// </summary>
public sealed class PointSequence
{
    /// <summary>Sentinel-1's repeat cycle, in days.</summary>
    public const int CycleDays = 12;

    private const int MaxTriesPerPoint = 1_000_000;
    private readonly ulong _seed;
    private readonly Func<double, double, bool> _accept;
    private readonly Envelope _envelope;
    private readonly double _zMin;
    private readonly double _zMax;
    private readonly DateTimeOffset _start;
    private readonly DateTimeOffset _end;
    private readonly int _cycles;

    /// <summary>Creates the sequence.</summary>
    /// <param name="seed">The seed.</param>
    /// <param name="start">Start of the date range.</param>
    /// <param name="end">End of the date range.</param>
    /// <param name="area">Where points may fall (WGS 84); null for the whole world.</param>
    /// <param name="landOnly">Keep only points on land (Natural Earth, Antarctica excluded).</param>
    public PointSequence(long seed, DateTimeOffset start, DateTimeOffset end, NetTopologySuite.Geometries.Geometry? area, bool landOnly = true)
    {
        if (end <= start)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.EndBeforeStart, $"The end of the date range ({end:u}) must be after its start ({start:u}).", end);
        }

        _seed = unchecked((ulong)seed);
        _start = start;
        _end = end;
        _cycles = Math.Max(1, (int)Math.Ceiling((end - start).TotalDays / CycleDays));
        var land = landOnly ? LandMask.World : null;
        if (area is null)
        {
            _envelope = new Envelope(-180, 180, LandMask.SouthernLimit, 90);
            _accept = land is null ? (_, _) => true : land.IsLand;
        }
        else
        {
            if (area.IsEmpty || area.Dimension < Dimension.Surface)
            {
                throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidGeometry, "The sampling area must be a polygon or multipolygon.", area.GeometryType);
            }

            // Across the antimeridian the longitudes run on past 180 and are folded back per point.
            var (west, width) = Geometry.Antimeridian.SamplingRange(area);
            _envelope = new Envelope(west, west + width, area.EnvelopeInternal.MinY, area.EnvelopeInternal.MaxY);
            var locator = new IndexedPointInAreaLocator(area);
            _accept = land is null
                ? (lon, lat) => locator.Locate(new Coordinate(lon, lat)) != Location.Exterior
                : (lon, lat) => locator.Locate(new Coordinate(lon, lat)) != Location.Exterior && land.IsLand(lon, lat);
        }

        _zMin = Math.Sin(DegreesToRadians(Math.Max(_envelope.MinY, -90)));
        _zMax = Math.Sin(DegreesToRadians(Math.Min(_envelope.MaxY, 90)));
    }

    /// <summary>Number of 12-day cycles in the date range.</summary>
    public int Cycles => _cycles;

    /// <summary>The point at <paramref name="index"/>.</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.InvalidGeometry"/> when the area holds (almost) no land.</exception>
    public SamplePoint this[long index]
    {
        get
        {
            for (var attempt = 0; attempt < MaxTriesPerPoint; attempt++)
            {
                var u = Uniform(index, attempt, 0);
                var v = Uniform(index, attempt, 1);
                var lon = _envelope.MinX + (u * _envelope.Width);
                if (lon > 180)
                {
                    lon -= 360;
                }

                // Uniform in sin(latitude) is uniform in area on the sphere.
                var lat = RadiansToDegrees(Math.Asin(_zMin + (v * (_zMax - _zMin))));
                if (_accept(lon, lat))
                {
                    var cycle = (int)(Uniform(index, -1, 2) * _cycles);
                    var windowStart = _start.AddDays(cycle * CycleDays);
                    var windowEnd = windowStart.AddDays(CycleDays) < _end ? windowStart.AddDays(CycleDays) : _end;
                    return new SamplePoint(index, Math.Round(lon, 7), Math.Round(lat, 7), windowStart, windowEnd);
                }
            }

            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidGeometry, $"No land found in the sampling area after {MaxTriesPerPoint:N0} tries: the area is (almost) all sea.", index);
        }
    }

    // SplitMix64 over (seed, index, attempt, stream): stable across .NET versions and platforms.
    private double Uniform(long index, int attempt, int stream)
    {
        unchecked
        {
            var z = _seed + (0x9E3779B97F4A7C15UL * (ulong)(index + 1)) + (0xBF58476D1CE4E5B9UL * (ulong)(attempt + 2)) + (0x94D049BB133111EBUL * (ulong)(stream + 3));
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return (z >> 11) * (1.0 / (1UL << 53));
        }
    }

    private static double DegreesToRadians(double d) => d * Math.PI / 180;

    private static double RadiansToDegrees(double r) => r * 180 / Math.PI;
}
