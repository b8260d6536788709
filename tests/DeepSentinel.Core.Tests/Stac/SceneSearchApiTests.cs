using System.Text.Json.Nodes;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Stac;
using DeepSentinel.Core.Tests.TestServers;

namespace DeepSentinel.Core.Tests.Stac;

/// <summary>Searches against the loopback STAC API: paging, filters and what the server saw.</summary>
public sealed class SceneSearchApiTests
{
    private static SceneSearchRequest Pc(StacApiServer server, SceneQuery query, int pageSize = 100) => new()
    {
        Provider = StacProvider.PlanetaryComputer,
        StacUrl = server.RootUrl,
        SasTokenEndpoint = server.TokenEndpoint,
        Query = query,
        PageSize = pageSize,
    };

    [Theory]
    [InlineData(PagingStyle.PlanetaryComputer)]
    [InlineData(PagingStyle.EarthSearch)]
    [InlineData(PagingStyle.Get)]
    public async Task Follows_next_links_in_every_paging_style(PagingStyle style)
    {
        await using var server = await StacApiServer.StartAsync(options: new StacApiOptions { Paging = style });
        var service = new SceneSearchService(TestServices.Create());

        var scenes = await service.SearchAllAsync(Pc(server, new SceneQuery { Missions = [SentinelMission.S2] }, pageSize: 5));

        Assert.Equal(12, scenes.Count);
        Assert.Equal(12, scenes.Select(s => s.Id).Distinct().Count());
        Assert.All(scenes, s => Assert.Equal(SentinelMission.S2, s.Mission));
        var bodies = server.SearchBodies;
        Assert.Equal(3, bodies.Count);
        Assert.All(bodies, b => Assert.Equal("sentinel-2-l2a", (string)b["collections"]![0]!));
        switch (style)
        {
            case PagingStyle.PlanetaryComputer:
                Assert.Equal("next:5", (string)bodies[1]["token"]!);
                Assert.Equal("next:10", (string)bodies[2]["token"]!);
                break;
            case PagingStyle.EarthSearch:
                // merge: true, so the original search travels with the "next" key.
                Assert.NotNull(bodies[1]["next"]);
                Assert.Equal(5, (int)(double)bodies[1]["limit"]!);
                Assert.Equal(scenes[4].Id, ((string)bodies[1]["next"]!).Split(',')[1]);
                break;
            case PagingStyle.Get:
                Assert.Equal("GET", server.SearchRequests[1].Method);
                Assert.Equal("next:5", (string)bodies[1]["token"]!);
                break;
        }
    }

    [Fact]
    public async Task Falls_back_to_GET_when_POST_is_not_allowed()
    {
        await using var server = await StacApiServer.StartAsync(options: new StacApiOptions { AllowPost = false, Paging = PagingStyle.Get });
        var service = new SceneSearchService(TestServices.Create());

        var scenes = await service.SearchAllAsync(Pc(server, new SceneQuery { Missions = [SentinelMission.S2], MaxCloudCover = 40 }, pageSize: 4));

        Assert.Equal(scenes.Count, scenes.Count(s => s.CloudCover <= 40));
        Assert.NotEmpty(scenes);
        var requests = server.SearchRequests;
        Assert.Equal("POST", requests[0].Method);
        Assert.All(requests.Skip(1), r => Assert.Equal("GET", r.Method));
        var get = StacApiServer.FromQuery(requests[1].Query);
        Assert.Equal("cql2-json", (string)get["filter-lang"]!);
    }

    [Fact]
    public async Task Streams_the_first_scene_before_the_second_page_is_requested()
    {
        await using var server = await StacApiServer.StartAsync();
        var service = new SceneSearchService(TestServices.Create());

        await using var e = service.SearchAsync(Pc(server, new SceneQuery { Missions = [SentinelMission.S2] }, pageSize: 3), new RecordingReporter(), CancellationToken.None).GetAsyncEnumerator();
        Assert.True(await e.MoveNextAsync());
        Assert.Single(server.SearchRequests);
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await e.MoveNextAsync());
        }

        Assert.Equal(2, server.SearchRequests.Count);
    }

    [Fact]
    public async Task First_limits_the_page_and_stops_paging()
    {
        await using var server = await StacApiServer.StartAsync();
        var service = new SceneSearchService(TestServices.Create());

        var scenes = await service.SearchAllAsync(Pc(server, new SceneQuery { Missions = [SentinelMission.S2], First = 3 }));

        Assert.Equal(3, scenes.Count);
        var body = Assert.Single(server.SearchBodies);
        Assert.Equal(3, (int)(double)body["limit"]!);
    }

    [Fact]
    public async Task Filters_go_to_the_server_as_CQL2_JSON_when_it_conforms()
    {
        await using var server = await StacApiServer.StartAsync();
        var service = new SceneSearchService(TestServices.Create());
        var query = new SceneQuery
        {
            Missions = [SentinelMission.S2],
            BoundingBox = new BoundingBox(1.0, 48.0, 4.0, 50.0),
            Start = new DateTimeOffset(2019, 8, 1, 0, 0, 0, TimeSpan.Zero),
            End = new DateTimeOffset(2019, 9, 17, 0, 0, 0, TimeSpan.Zero),
            MaxCloudCover = 50,
            OrbitState = OrbitState.Descending,
            RelativeOrbit = 51,
            MgrsTiles = ["T31UDQ"],
        };

        var scenes = await service.SearchAllAsync(Pc(server, query));

        var body = Assert.Single(server.SearchBodies);
        Assert.Equal(new[] { 1.0, 48.0, 4.0, 50.0 }, body["bbox"]!.AsArray().Select(v => (double)v!));
        Assert.Equal("2019-08-01T00:00:00Z/2019-09-17T00:00:00Z", (string)body["datetime"]!);
        Assert.Equal("cql2-json", (string)body["filter-lang"]!);
        Assert.Null(body["query"]);
        var filter = body["filter"]!.AsObject();
        Assert.Equal("and", (string)filter["op"]!);
        var terms = filter["args"]!.AsArray().Select(a => a!.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping })).ToList();
        Assert.Contains("""{"op":"<=","args":[{"property":"eo:cloud_cover"},50]}""", terms);
        Assert.Contains("""{"op":"=","args":[{"property":"sat:orbit_state"},"descending"]}""", terms);
        Assert.Contains("""{"op":"=","args":[{"property":"sat:relative_orbit"},51]}""", terms);
        Assert.Contains("""{"op":"=","args":[{"property":"s2:mgrs_tile"},"31UDQ"]}""", terms);

        var expected = SampleItems.Standard().Count(i => (string?)i["collection"] == "sentinel-2-l2a" && (string)i["properties"]!["s2:mgrs_tile"]! == "31UDQ" && (double)i["properties"]!["eo:cloud_cover"]! <= 50);
        Assert.True(expected > 0);
        Assert.Equal(expected, scenes.Count);
        Assert.All(scenes, s => Assert.Equal("31UDQ", s.MgrsTile));
    }

    [Fact]
    public async Task Filters_use_the_query_extension_when_that_is_all_the_server_has()
    {
        // Earth Search names the tile grid:code ("MGRS-31UDQ"): give the loopback items that too.
        var items = SampleItems.Standard();
        foreach (var item in items)
        {
            if (item["properties"]!["s2:mgrs_tile"] is JsonNode tile)
            {
                item["properties"]!["grid:code"] = "MGRS-" + (string)tile!;
            }
        }

        await using var esServer = await StacApiServer.StartAsync(items, new StacApiOptions { ConformsTo = StacApiOptions.QueryOnly, Paging = PagingStyle.EarthSearch });
        var service = new SceneSearchService(TestServices.Create());

        var scenes = await service.SearchAllAsync(new SceneSearchRequest
        {
            Provider = StacProvider.EarthSearch,
            StacUrl = esServer.RootUrl,
            Query = new SceneQuery { Missions = [SentinelMission.S2], MaxCloudCover = 30, MgrsTiles = ["31TFL", "31UDQ"] },
        });

        var body = Assert.Single(esServer.SearchBodies);
        Assert.Null(body["filter"]);
        Assert.Equal("""{"lte":30}""", body["query"]!["eo:cloud_cover"]!.ToJsonString());
        Assert.Equal("""{"in":["MGRS-31TFL","MGRS-31UDQ"]}""", body["query"]!["grid:code"]!.ToJsonString());
        Assert.NotEmpty(scenes);
        Assert.All(scenes, s => Assert.True(s.CloudCover <= 30));
    }

    [Fact]
    public async Task Filters_run_on_the_client_when_the_server_declares_neither()
    {
        await using var server = await StacApiServer.StartAsync(options: new StacApiOptions { ConformsTo = StacApiOptions.SearchOnly });
        var service = new SceneSearchService(TestServices.Create());

        var scenes = await service.SearchAllAsync(new SceneSearchRequest
        {
            StacUrl = server.RootUrl,
            Query = new SceneQuery { Missions = [SentinelMission.S2], MaxCloudCover = 30, MgrsTiles = ["31UDQ"] },
        });

        var body = Assert.Single(server.SearchBodies);
        Assert.Null(body["filter"]);
        Assert.Null(body["query"]);
        var expected = SampleItems.Standard().Count(i => (string?)i["collection"] == "sentinel-2-l2a" && (string)i["properties"]!["s2:mgrs_tile"]! == "31UDQ" && (double)i["properties"]!["eo:cloud_cover"]! <= 30);
        Assert.Equal(expected, scenes.Count);
        Assert.All(scenes, s => Assert.Equal("31UDQ", s.MgrsTile));
    }

    [Fact]
    public async Task Polarization_is_pushed_only_with_array_functions()
    {
        await using var plain = await StacApiServer.StartAsync();
        await using var withArrays = await StacApiServer.StartAsync(options: new StacApiOptions { ConformsTo = [.. StacApiOptions.QueryAndFilter, "http://www.opengis.net/spec/cql2/1.0/conf/array-functions"] });
        var service = new SceneSearchService(TestServices.Create());
        var query = new SceneQuery { Missions = [SentinelMission.S1], Polarizations = ["vv", "VH"] };

        var clientSide = await service.SearchAllAsync(Pc(plain, query));
        var serverSide = await service.SearchAllAsync(Pc(withArrays, query));

        Assert.Null(Assert.Single(plain.SearchBodies)["filter"]);
        Assert.Equal("""{"op":"a_contains","args":[{"property":"sar:polarizations"},["VV","VH"]]}""", Assert.Single(withArrays.SearchBodies)["filter"]!.ToJsonString());
        Assert.Equal(7, clientSide.Count);
        Assert.Equal(clientSide.Select(s => s.Id), serverSide.Select(s => s.Id));
        Assert.All(clientSide, s => Assert.Equal(new[] { "VV", "VH" }, s.Polarizations));
        Assert.All(clientSide, s => Assert.Equal("sentinel-1-rtc", s.Collection));
    }

    [Fact]
    public async Task Both_missions_are_separate_searches_with_mission_specific_filters()
    {
        await using var server = await StacApiServer.StartAsync();
        var service = new SceneSearchService(TestServices.Create());

        var scenes = await service.SearchAllAsync(Pc(server, new SceneQuery { MaxCloudCover = 20, OrbitState = OrbitState.Descending }));

        var bodies = server.SearchBodies;
        Assert.Equal(2, bodies.Count);
        Assert.Equal("sentinel-2-l2a", (string)bodies[0]["collections"]![0]!);
        Assert.Contains("eo:cloud_cover", bodies[0]["filter"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal("sentinel-1-rtc", (string)bodies[1]["collections"]![0]!);
        Assert.DoesNotContain("eo:cloud_cover", bodies[1]["filter"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains(scenes, s => s.Mission == SentinelMission.S1);
        Assert.Contains(scenes, s => s.Mission == SentinelMission.S2);
        Assert.All(scenes, s => Assert.Equal(OrbitState.Descending, s.OrbitState));
    }

    [Fact]
    public async Task Intersects_accepts_WKT_and_sends_GeoJSON()
    {
        await using var server = await StacApiServer.StartAsync();
        var service = new SceneSearchService(TestServices.Create());
        var area = GeoJson.ParseUserGeometry("POLYGON ((4.5 45.5, 5 45.5, 5 46, 4.5 46, 4.5 45.5))");

        var scenes = await service.SearchAllAsync(Pc(server, new SceneQuery { Missions = [SentinelMission.S2], Intersects = area }));

        var body = Assert.Single(server.SearchBodies);
        Assert.Null(body["bbox"]);
        Assert.Equal("Polygon", (string)body["intersects"]!["type"]!);
        Assert.NotEmpty(scenes);
        Assert.All(scenes, s => Assert.Equal("31TFL", s.MgrsTile));
    }

    [Fact]
    public async Task A_box_across_the_antimeridian_goes_as_two_polygons()
    {
        await using var server = await StacApiServer.StartAsync();
        var service = new SceneSearchService(TestServices.Create());

        await service.SearchAllAsync(Pc(server, new SceneQuery { Missions = [SentinelMission.S2], BoundingBox = new BoundingBox(170, -20, -170, -10) }));

        var body = Assert.Single(server.SearchBodies);
        Assert.Null(body["bbox"]);
        Assert.Equal("MultiPolygon", (string)body["intersects"]!["type"]!);
        Assert.Equal(2, body["intersects"]!["coordinates"]!.AsArray().Count);
    }

    [Fact]
    public async Task An_explicit_collection_is_searched_and_an_unknown_one_is_an_error()
    {
        var items = SampleItems.Standard();
        items.Add(SampleItems.S1(99, new DateTimeOffset(2019, 8, 20, 5, 0, 0, TimeSpan.Zero), "ascending", 161, ["VV", "VH"], 1, 47, collection: "sentinel-1-grd"));
        await using var server = await StacApiServer.StartAsync(items);
        var service = new SceneSearchService(TestServices.Create());

        var grd = await service.SearchAllAsync(Pc(server, new SceneQuery { Collections = ["sentinel-1-grd"] }));
        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => service.SearchAllAsync(Pc(server, new SceneQuery { Collections = ["sentinel-3-olci"] })));

        Assert.Equal("sentinel-1-grd", Assert.Single(grd).Collection);
        Assert.Equal(ErrorIds.UnknownCollection, error.ErrorId);
        Assert.Equal(ErrorKind.ObjectNotFound, error.Kind);
        Assert.Contains("sentinel-3-olci", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_collection_of_the_other_mission_is_rejected_before_any_request()
    {
        await using var server = await StacApiServer.StartAsync();
        var service = new SceneSearchService(TestServices.Create());

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => service.SearchAllAsync(Pc(server, new SceneQuery { Missions = [SentinelMission.S1], Collections = ["sentinel-2-l2a"] })));

        Assert.Equal(ErrorIds.InvalidParameterValue, error.ErrorId);
        Assert.Empty(server.SearchRequests);
    }

    [Theory]
    [InlineData(10, 40, 20, 45, null)]
    [InlineData(48.8, 2.3, 48.9, 2.4, null)]
    [InlineData(2.3, 95, 2.4, 96, ErrorIds.InvalidBoundingBox)]
    [InlineData(20, 40, 10, 45, ErrorIds.InvalidBoundingBox)]
    [InlineData(10, 45, 20, 40, ErrorIds.InvalidBoundingBox)]
    [InlineData(-190, 40, 20, 45, ErrorIds.InvalidBoundingBox)]
    public async Task Bounding_boxes_are_validated_before_any_request(double w, double s, double e, double n, string? errorId)
    {
        await using var server = await StacApiServer.StartAsync();
        var service = new SceneSearchService(TestServices.Create());
        var request = Pc(server, new SceneQuery { Missions = [SentinelMission.S2], BoundingBox = new BoundingBox(w, s, e, n) });

        if (errorId is null)
        {
            await service.SearchAllAsync(request);
            Assert.Single(server.SearchRequests);
        }
        else
        {
            var error = await Assert.ThrowsAsync<DeepSentinelException>(() => service.SearchAllAsync(request));
            Assert.Equal(errorId, error.ErrorId);
            Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
            Assert.Empty(server.Server.Requests);
        }
    }

    [Fact]
    public async Task End_before_start_is_an_error_before_any_request()
    {
        await using var server = await StacApiServer.StartAsync();
        var service = new SceneSearchService(TestServices.Create());

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => service.SearchAllAsync(Pc(server, new SceneQuery
        {
            Start = new DateTimeOffset(2019, 9, 1, 0, 0, 0, TimeSpan.Zero),
            End = new DateTimeOffset(2019, 8, 1, 0, 0, 0, TimeSpan.Zero),
        })));

        Assert.Equal(ErrorIds.EndBeforeStart, error.ErrorId);
        Assert.Empty(server.Server.Requests);
    }

    [Fact]
    public async Task Open_ended_time_ranges_use_double_dots()
    {
        await using var server = await StacApiServer.StartAsync();
        var service = new SceneSearchService(TestServices.Create());

        await service.SearchAllAsync(Pc(server, new SceneQuery { Missions = [SentinelMission.S2], Start = new DateTimeOffset(2019, 9, 1, 0, 0, 0, TimeSpan.Zero) }));

        Assert.Equal("2019-09-01T00:00:00Z/..", (string)Assert.Single(server.SearchBodies)["datetime"]!);
    }

    [Fact]
    public async Task Progress_is_reported_per_page_and_completed_at_the_end()
    {
        await using var server = await StacApiServer.StartAsync();
        var service = new SceneSearchService(TestServices.Create());
        var reporter = new RecordingReporter();

        await service.SearchAllAsync(Pc(server, new SceneQuery { Missions = [SentinelMission.S2] }, pageSize: 4), reporter);

        var updates = reporter.ProgressUpdates.ToList();
        Assert.Equal(4, updates.Count);
        Assert.Equal(new[] { 33, 66, 99 }, updates.Take(3).Select(u => u.PercentComplete));
        Assert.True(updates[^1].Completed);
    }
}
