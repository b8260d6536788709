using System.Text.RegularExpressions;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Geometry;

namespace DeepSentinel.Core.Scenes;

/// <summary>
/// What to look for: the filters of Get-SentinelScene. Call <see cref="Validate"/> (the search
/// service does) to get clear errors for bad values before any request is sent.
/// </summary>
public sealed partial record SceneQuery
{
    /// <summary>Only scenes intersecting this box.</summary>
    public BoundingBox? BoundingBox { get; init; }

    /// <summary>Only scenes intersecting this geometry (WGS 84).</summary>
    public NetTopologySuite.Geometries.Geometry? Intersects { get; init; }

    /// <summary>Only scenes acquired at or after this time (UTC).</summary>
    public DateTimeOffset? Start { get; init; }

    /// <summary>Only scenes acquired at or before this time (UTC).</summary>
    public DateTimeOffset? End { get; init; }

    /// <summary>Only these missions (none: both).</summary>
    public IReadOnlyList<SentinelMission> Missions { get; init; } = [];

    /// <summary>Only these collections (none: the provider's defaults for the missions).</summary>
    public IReadOnlyList<string> Collections { get; init; } = [];

    /// <summary>Sentinel-2 scenes with at most this cloud cover, in percent.</summary>
    public double? MaxCloudCover { get; init; }

    /// <summary>Only passes in this direction.</summary>
    public OrbitState? OrbitState { get; init; }

    /// <summary>Only this relative orbit.</summary>
    public int? RelativeOrbit { get; init; }

    /// <summary>Sentinel-1 scenes that acquired all of these polarisations (e.g. VV, VH).</summary>
    public IReadOnlyList<string> Polarizations { get; init; } = [];

    /// <summary>Sentinel-2 scenes on any of these MGRS tiles (e.g. 31UDQ).</summary>
    public IReadOnlyList<string> MgrsTiles { get; init; } = [];

    /// <summary>Stop after this many scenes (null: all).</summary>
    public int? First { get; init; }

    /// <summary>Valid polarisation names.</summary>
    public static IReadOnlyList<string> KnownPolarizations { get; } = ["VV", "VH", "HH", "HV"];

    /// <summary>
    /// Checks every value and returns a normalised copy (upper-case polarisations, MGRS tiles
    /// without a leading T and with a two-digit zone).
    /// </summary>
    /// <exception cref="DeepSentinelException">With a stable id naming what is wrong.</exception>
    public SceneQuery Validate()
    {
        if (BoundingBox is { } box)
        {
            box.Validate();
        }

        if (BoundingBox is not null && Intersects is not null)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.BoundingBoxAndIntersectsConflict, "Give either a bounding box or an intersecting geometry, not both: STAC searches accept only one.");
        }

        if (Start is { } s && End is { } e && e < s)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.EndBeforeStart, $"The end of the time range ({e:u}) is before its start ({s:u}).", e);
        }

        if (MaxCloudCover is { } cloud && (double.IsNaN(cloud) || cloud < 0 || cloud > 100))
        {
            throw Invalid($"MaxCloudCover must be between 0 and 100 percent; it was {cloud}.", cloud);
        }

        if (RelativeOrbit is { } orbit && (orbit < 1 || orbit > 175))
        {
            throw Invalid($"RelativeOrbit must be between 1 and 175 (Sentinel-1 has 175 relative orbits, Sentinel-2 143); it was {orbit}.", orbit);
        }

        if (First is { } first && first < 1)
        {
            throw Invalid($"First must be at least 1; it was {first}.", first);
        }

        var polarizations = new List<string>();
        foreach (var p in Polarizations)
        {
            var upper = p?.Trim().ToUpperInvariant() ?? string.Empty;
            if (!KnownPolarizations.Contains(upper))
            {
                throw Invalid($"'{p}' is not a polarisation; use VV, VH, HH or HV.", p);
            }

            if (!polarizations.Contains(upper))
            {
                polarizations.Add(upper);
            }
        }

        var tiles = MgrsTiles.Select(NormalizeMgrsTile).Distinct().ToArray();
        var collections = Collections.Select(c => c?.Trim() ?? string.Empty).ToArray();
        if (collections.Any(string.IsNullOrEmpty))
        {
            throw Invalid("A collection id is empty.", null);
        }

        return this with { Polarizations = polarizations, MgrsTiles = tiles, Collections = collections.Distinct(StringComparer.Ordinal).ToArray(), Missions = Missions.Distinct().ToArray() };
    }

    /// <summary>Normalises an MGRS tile: "T31UDQ", "31udq" and "MGRS-31UDQ" become "31UDQ"; "6VVN" becomes "06VVN".</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.InvalidParameterValue"/> when it is not a tile.</exception>
    public static string NormalizeMgrsTile(string tile)
    {
        var t = (tile ?? string.Empty).Trim().ToUpperInvariant();
        if (t.StartsWith("MGRS-", StringComparison.Ordinal))
        {
            t = t[5..];
        }

        var match = MgrsPattern().Match(t);
        if (!match.Success)
        {
            throw Invalid($"'{tile}' is not an MGRS tile; write it as zone, latitude band and square, e.g. 31UDQ.", tile);
        }

        var zone = int.Parse(match.Groups["zone"].Value, System.Globalization.CultureInfo.InvariantCulture);
        if (zone is < 1 or > 60)
        {
            throw Invalid($"'{tile}' has UTM zone {zone}; zones run from 1 to 60.", tile);
        }

        return $"{zone:00}{match.Groups["band"].Value}{match.Groups["square"].Value}";
    }

    private static DeepSentinelException Invalid(string message, object? target) =>
        DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, message, target);

    [GeneratedRegex(@"^T?(?<zone>\d{1,2})(?<band>[C-HJ-NP-X])(?<square>[A-HJ-NP-Z][A-HJ-NP-V])$", RegexOptions.CultureInvariant)]
    private static partial Regex MgrsPattern();
}
