using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Scenes;

namespace DeepSentinel.Core.Tests.Scenes;

public sealed class SceneQueryTests
{
    [Theory]
    [InlineData("31UDQ", "31UDQ")]
    [InlineData("T31UDQ", "31UDQ")]
    [InlineData("t31udq", "31UDQ")]
    [InlineData("MGRS-6VVN", "06VVN")]
    [InlineData(" 06VVN ", "06VVN")]
    public void Normalises_MGRS_tiles(string input, string expected) =>
        Assert.Equal(expected, SceneQuery.NormalizeMgrsTile(input));

    [Theory]
    [InlineData("31UD")]
    [InlineData("61UDQ")]
    [InlineData("31IDQ")]
    [InlineData("XYZ")]
    public void Rejects_what_is_not_a_tile(string input)
    {
        var error = Assert.Throws<DeepSentinelException>(() => SceneQuery.NormalizeMgrsTile(input));
        Assert.Equal(ErrorIds.InvalidParameterValue, error.ErrorId);
    }

    [Fact]
    public void Validate_normalises_and_deduplicates()
    {
        var q = new SceneQuery { Polarizations = ["vv", "VH", "VV"], MgrsTiles = ["T31UDQ", "31udq"], Missions = [SentinelMission.S1, SentinelMission.S1] }.Validate();

        Assert.Equal(new[] { "VV", "VH" }, q.Polarizations);
        Assert.Equal(new[] { "31UDQ" }, q.MgrsTiles);
        Assert.Single(q.Missions);
    }

    [Theory]
    [InlineData(-1.0, null, null, null)]
    [InlineData(101.0, null, null, null)]
    [InlineData(null, 0, null, null)]
    [InlineData(null, 176, null, null)]
    [InlineData(null, null, 0, null)]
    [InlineData(null, null, null, "XX")]
    public void Rejects_out_of_range_values(double? cloud, int? orbit, int? first, string? polarization)
    {
        var query = new SceneQuery { MaxCloudCover = cloud, RelativeOrbit = orbit, First = first, Polarizations = polarization is null ? [] : [polarization] };

        var error = Assert.Throws<DeepSentinelException>(() => query.Validate());

        Assert.Equal(ErrorIds.InvalidParameterValue, error.ErrorId);
    }

    [Fact]
    public void Rejects_a_box_and_a_geometry_together()
    {
        var query = new SceneQuery { BoundingBox = new Core.Geometry.BoundingBox(0, 0, 1, 1), Intersects = Core.Geometry.GeoJson.ParseUserGeometry("POINT (0.5 0.5)") };

        Assert.Equal(ErrorIds.BoundingBoxAndIntersectsConflict, Assert.Throws<DeepSentinelException>(() => query.Validate()).ErrorId);
    }
}
