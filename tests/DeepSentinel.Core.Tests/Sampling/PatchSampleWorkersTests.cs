using DeepSentinel.Core.Sampling;
using DeepSentinel.Core.Scenes;

namespace DeepSentinel.Core.Tests.Sampling;

/// <summary>
/// How many workers a corpus build runs when -ThrottleLimit is not given: one a core for COGs on
/// disk, four a core (at most 32) for COGs read over HTTP, where workers mostly wait on the network.
/// </summary>
public sealed class PatchSampleWorkersTests
{
    private static PatchSampleRequest Request(SceneSearchRequest source, int? throttle = null) => new()
    {
        Destination = "/tmp/never-written",
        Count = 1,
        Start = DateTimeOffset.Parse("2019-08-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
        End = DateTimeOffset.Parse("2019-08-12T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
        ThrottleLimit = throttle,
        Source = source,
    };

    private static readonly int OverHttp = Math.Min(32, 4 * Environment.ProcessorCount);

    [Theory]
    [InlineData("/data/demo/catalog.json", false)]
    [InlineData("./demo", false)]
    [InlineData("http://127.0.0.1:8080/catalog.json", true)]
    [InlineData("HTTPS://example.org/stac/catalog.json", true)]
    [InlineData("/vsicurl/https://example.org/stac/catalog.json", true)]
    public void A_catalog_gets_one_worker_a_core_on_disk_and_more_over_HTTP(string catalog, bool overHttp)
    {
        var request = Request(new SceneSearchRequest { Catalog = catalog });

        Assert.Equal(overHttp, request.ReadsOverHttp());
        Assert.Equal(overHttp ? OverHttp : Environment.ProcessorCount, request.Workers);
    }

    [Theory]
    [InlineData("/data/items.parquet", false)]
    [InlineData("az://account/tables/sentinel-2-l2a.parquet", true)]
    [InlineData("https://account.blob.core.windows.net/tables/s2.parquet", true)]
    public void An_item_table_gets_one_worker_a_core_on_disk_and_more_at_a_URL(string table, bool overHttp)
    {
        var request = Request(new SceneSearchRequest { ItemTables = [table] });

        Assert.Equal(overHttp, request.ReadsOverHttp());
        Assert.Equal(overHttp ? OverHttp : Environment.ProcessorCount, request.Workers);
    }

    [Fact]
    public void A_STAC_API_reads_over_HTTP()
    {
        var request = Request(new SceneSearchRequest { StacUrl = new Uri("https://stac.example.org/api/stac/v1") });

        Assert.True(request.ReadsOverHttp());
        Assert.Equal(OverHttp, request.Workers);
        Assert.InRange(request.Workers, 1, 32);
    }

    [Fact]
    public void A_given_ThrottleLimit_wins_and_is_checked()
    {
        Assert.Equal(3, Request(new SceneSearchRequest { Catalog = "http://127.0.0.1/catalog.json" }, throttle: 3).Workers);
        var error = Assert.Throws<DeepSentinel.Core.Errors.DeepSentinelException>(() => Request(new SceneSearchRequest { Catalog = "./demo" }, throttle: 0).Validate());
        Assert.Contains("ThrottleLimit must be between 1 and 64", error.Message, StringComparison.Ordinal);
    }
}
