using System.Globalization;
using DeepSentinel.Core.Errors;

namespace DeepSentinel.Core.Geometry;

/// <summary>
/// A longitude/latitude box in WGS 84 degrees, in STAC order: west, south, east, north.
/// A box whose west edge lies east of its east edge crosses the antimeridian.
/// </summary>
public readonly record struct BoundingBox(double West, double South, double East, double North)
{
    /// <summary>True when the box spans the 180th meridian (west &gt; east).</summary>
    public bool CrossesAntimeridian => West > East;

    /// <summary>
    /// Creates a validated box from four numbers (west, south, east, north).
    /// </summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.InvalidBoundingBox"/> with what is wrong and how to fix it.</exception>
    public static BoundingBox From(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count != 4)
        {
            throw Invalid($"A bounding box needs exactly 4 numbers (west, south, east, north); {values.Count} were given.", values);
        }

        var box = new BoundingBox(values[0], values[1], values[2], values[3]);
        box.Validate();
        return box;
    }

    /// <summary>Checks ranges and corner order.</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.InvalidBoundingBox"/>.</exception>
    public void Validate()
    {
        double[] all = [West, South, East, North];
        if (all.Any(v => double.IsNaN(v) || double.IsInfinity(v)))
        {
            throw Invalid($"The bounding box {this} contains a value that is not a finite number.", all);
        }

        if (South < -90 || South > 90 || North < -90 || North > 90)
        {
            var hint = (West is >= -90 and <= 90 && East is >= -90 and <= 90) ? " It looks like latitude and longitude were swapped: the order is west, south, east, north (longitude first)." : string.Empty;
            throw Invalid($"The bounding box {this} has a latitude outside -90..90.{hint}", all);
        }

        if (West < -180 || West > 180 || East < -180 || East > 180)
        {
            throw Invalid($"The bounding box {this} has a longitude outside -180..180.", all);
        }

        if (South > North)
        {
            throw Invalid($"The bounding box {this} has its south edge ({South}) north of its north edge ({North}): the order is west, south, east, north.", all);
        }

        // West > East is legal only for a box that crosses the antimeridian: its west edge lies in
        // the eastern hemisphere and its east edge in the western one (e.g. 170, -20, -170, -10).
        // Anything else is a swapped pair, which is by far the more common mistake.
        if (West > East && !(West > 0 && East < 0))
        {
            throw Invalid($"The bounding box {this} has its west edge ({West}) east of its east edge ({East}): the order is west, south, east, north.", all);
        }
    }

    /// <summary>True when the two boxes overlap (edges touching counts).</summary>
    public bool Intersects(BoundingBox other)
    {
        if (South > other.North || other.South > North)
        {
            return false;
        }

        foreach (var (aw, ae) in LongitudeSpans())
        {
            foreach (var (bw, be) in other.LongitudeSpans())
            {
                if (aw <= be && bw <= ae)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>The longitude spans of the box, split in two where it crosses the antimeridian.</summary>
    public IEnumerable<(double West, double East)> LongitudeSpans()
    {
        if (CrossesAntimeridian)
        {
            yield return (West, 180);
            yield return (-180, East);
        }
        else
        {
            yield return (West, East);
        }
    }

    /// <summary>The box as four numbers in STAC order.</summary>
    public double[] ToArray() => [West, South, East, North];

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"[{West}, {South}, {East}, {North}]");

    private static DeepSentinelException Invalid(string message, object target) =>
        DeepSentinelException.InvalidArgument(ErrorIds.InvalidBoundingBox, message, target);
}
