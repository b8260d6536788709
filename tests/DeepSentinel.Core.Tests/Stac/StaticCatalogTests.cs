using System.Text.Json.Nodes;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Tests.TestServers;
using Microsoft.AspNetCore.Http;

namespace DeepSentinel.Core.Tests.Stac;

/// <summary>A static catalog written to disk in the test, read from disk and over HTTP.</summary>
public sealed class StaticCatalogTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ds-catalog-" + Guid.NewGuid().ToString("N"));

    public StaticCatalogTests() => WriteCatalog(_root, SampleItems.Standard());

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>
    /// Writes catalog.json -> one collection per mission -> items in sub-folders, all links
    /// relative, assets relative to their item (as a self-contained catalog).
    /// </summary>
    internal static void WriteCatalog(string root, List<JsonObject> items)
    {
        Directory.CreateDirectory(root);
        var catalogLinks = new JsonArray(new JsonObject { ["rel"] = "root", ["href"] = "./catalog.json" });
        foreach (var group in items.GroupBy(i => (string)i["collection"]!))
        {
            var collectionDir = Path.Combine(root, group.Key);
            Directory.CreateDirectory(collectionDir);
            var links = new JsonArray(new JsonObject { ["rel"] = "root", ["href"] = "../catalog.json" }, new JsonObject { ["rel"] = "parent", ["href"] = "../catalog.json" });
            foreach (var item in group)
            {
                var id = (string)item["id"]!;
                var copy = (JsonObject)item.DeepClone();
                foreach (var (key, asset) in copy["assets"]!.AsObject())
                {
                    asset!["href"] = $"./{key}.tif";
                }

                copy["links"] = new JsonArray(new JsonObject { ["rel"] = "collection", ["href"] = "../collection.json" });
                Directory.CreateDirectory(Path.Combine(collectionDir, id));
                File.WriteAllText(Path.Combine(collectionDir, id, id + ".json"), copy.ToJsonString());
                links.Add(new JsonObject { ["rel"] = "item", ["href"] = $"./{id}/{id}.json" });
            }

            File.WriteAllText(Path.Combine(collectionDir, "collection.json"), new JsonObject
            {
                ["type"] = "Collection",
                ["id"] = group.Key,
                ["stac_version"] = "1.0.0",
                ["description"] = group.Key,
                ["license"] = "proprietary",
                ["extent"] = new JsonObject(),
                ["links"] = links,
            }.ToJsonString());
            catalogLinks.Add(new JsonObject { ["rel"] = "child", ["href"] = $"./{group.Key}/collection.json" });
        }

        File.WriteAllText(Path.Combine(root, "catalog.json"), new JsonObject
        {
            ["type"] = "Catalog",
            ["id"] = "test-catalog",
            ["stac_version"] = "1.0.0",
            ["description"] = "test",
            ["links"] = catalogLinks,
        }.ToJsonString());
    }

    [Fact]
    public async Task Walks_children_and_items_on_disk_and_resolves_relative_asset_hrefs()
    {
        var service = new SceneSearchService(TestServices.Create());

        var scenes = await service.SearchAllAsync(new SceneSearchRequest { Catalog = _root });

        Assert.Equal(20, scenes.Count);
        var s2 = scenes.First(s => s.Mission == SentinelMission.S2);
        var b04 = s2.FindBand("B04")!;
        Assert.True(b04.Href.IsFile);
        Assert.Equal(Path.Combine(_root, "sentinel-2-l2a", s2.Id, "B04.tif"), b04.Href.LocalPath);
        Assert.Equal(b04.Href.LocalPath, b04.ResolveForReading());
        Assert.Null(b04.SignedHref);
        Assert.Equal("sentinel-2-l2a", s2.Collection);
    }

    [Fact]
    public async Task Filters_run_on_the_client()
    {
        var service = new SceneSearchService(TestServices.Create());
        var query = new SceneQuery
        {
            BoundingBox = new BoundingBox(1.0, 48.0, 4.0, 50.0),
            Start = new DateTimeOffset(2019, 8, 5, 0, 0, 0, TimeSpan.Zero),
            MaxCloudCover = 50,
        };

        var scenes = await service.SearchAllAsync(new SceneSearchRequest { Catalog = Path.Combine(_root, "catalog.json"), Query = query });

        Assert.NotEmpty(scenes);
        Assert.All(scenes, s =>
        {
            Assert.True(s.Datetime >= query.Start);
            Assert.True(s.BoundingBox.Intersects(query.BoundingBox!.Value));
            if (s.Mission == SentinelMission.S2)
            {
                Assert.True(s.CloudCover <= 50);
                Assert.Equal("31UDQ", s.MgrsTile);
            }
        });
        Assert.Contains(scenes, s => s.Mission == SentinelMission.S1);
    }

    [Fact]
    public async Task The_same_catalog_over_HTTP_gives_the_same_scenes()
    {
        await using var server = await LoopbackServer.StartAsync(async (context, request) =>
        {
            var path = Path.GetFullPath(Path.Combine(_root, Uri.UnescapeDataString(request.Path.TrimStart('/'))));
            if (!path.StartsWith(_root, StringComparison.Ordinal) || !File.Exists(path))
            {
                context.Response.StatusCode = 404;
                return;
            }

            context.Response.ContentType = "application/json";
            await context.Response.SendFileAsync(path);
        });
        var service = new SceneSearchService(TestServices.Create());

        var overHttp = await service.SearchAllAsync(new SceneSearchRequest { Catalog = new Uri(server.BaseUri, "catalog.json").AbsoluteUri, Query = new SceneQuery { Missions = [SentinelMission.S2] } });
        var onDisk = await service.SearchAllAsync(new SceneSearchRequest { Catalog = _root, Query = new SceneQuery { Missions = [SentinelMission.S2] } });

        Assert.Equal(onDisk.Select(s => s.Id), overHttp.Select(s => s.Id));
        Assert.Equal(new Uri(server.BaseUri, $"sentinel-2-l2a/{overHttp[0].Id}/B04.tif"), overHttp[0].FindBand("B04")!.Href);
    }

    [Fact]
    public async Task A_broken_item_link_is_an_error_record_and_the_walk_goes_on()
    {
        var collection = Path.Combine(_root, "sentinel-2-l2a", "collection.json");
        var doc = JsonNode.Parse(File.ReadAllText(collection))!;
        doc["links"]!.AsArray().Add(new JsonObject { ["rel"] = "item", ["href"] = "./missing/missing.json" });
        File.WriteAllText(collection, doc.ToJsonString());
        var firstItem = Directory.GetFiles(Path.Combine(_root, "sentinel-2-l2a"), "*.json", SearchOption.AllDirectories).First(f => !f.EndsWith("collection.json", StringComparison.Ordinal));
        File.WriteAllText(firstItem, "{ \"type\": \"Feature\", \"id\": ");
        var service = new SceneSearchService(TestServices.Create());
        var reporter = new RecordingReporter();

        var scenes = await service.SearchAllAsync(new SceneSearchRequest { Catalog = _root }, reporter);

        Assert.Equal(19, scenes.Count);
        Assert.Equal(2, reporter.Errors.Count);
        Assert.Contains(reporter.Errors, e => e.ErrorId == ErrorIds.CatalogUnreadable && e.Message.Contains("missing.json", StringComparison.Ordinal));
        Assert.Contains(reporter.Errors, e => e.ErrorId == ErrorIds.StacResponseMalformed);
    }

    [Fact]
    public async Task An_item_without_a_datetime_is_reported_and_skipped()
    {
        var items = SampleItems.Standard();
        items[0]["properties"]!.AsObject().Remove("datetime");
        var root = _root + "-bad";
        WriteCatalog(root, items);
        try
        {
            var reporter = new RecordingReporter();
            var scenes = await new SceneSearchService(TestServices.Create()).SearchAllAsync(new SceneSearchRequest { Catalog = root }, reporter);

            Assert.Equal(19, scenes.Count);
            var error = Assert.Single(reporter.Errors);
            Assert.Equal(ErrorIds.SceneItemInvalid, error.ErrorId);
            Assert.Contains((string)items[0]["id"]!, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public async Task An_unknown_collection_or_a_missing_catalog_is_a_clear_error()
    {
        var service = new SceneSearchService(TestServices.Create());

        var unknown = await Assert.ThrowsAsync<DeepSentinelException>(() => service.SearchAllAsync(new SceneSearchRequest { Catalog = _root, Query = new SceneQuery { Collections = ["landsat-c2-l2"] } }));
        var missing = await Assert.ThrowsAsync<DeepSentinelException>(() => service.SearchAllAsync(new SceneSearchRequest { Catalog = Path.Combine(_root, "nope") }));
        var notCatalog = Path.Combine(_root, "plain.json");
        File.WriteAllText(notCatalog, "{\"hello\": 1}");
        var wrongType = await Assert.ThrowsAsync<DeepSentinelException>(() => service.SearchAllAsync(new SceneSearchRequest { Catalog = notCatalog }));

        Assert.Equal(ErrorIds.UnknownCollection, unknown.ErrorId);
        Assert.Contains("sentinel-2-l2a", unknown.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorIds.CatalogUnreadable, missing.ErrorId);
        Assert.Equal(ErrorIds.NotAStacEndpoint, wrongType.ErrorId);
    }

    [Fact]
    public async Task A_catalog_and_a_provider_together_are_rejected()
    {
        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => new SceneSearchService(TestServices.Create()).SearchAllAsync(new SceneSearchRequest { Catalog = _root, Provider = Core.Stac.StacProvider.EarthSearch }));
        Assert.Equal(ErrorIds.InvalidParameterValue, error.ErrorId);
    }
}
