using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Services;
using DeepSentinel.Core.Stac;

namespace DeepSentinel.Core.Scenes;

/// <summary>
/// Searches STAC APIs and static catalogs for Sentinel-1 and Sentinel-2 scenes: the engine of
/// Get-SentinelScene. Filters go to the server as CQL2-JSON or Query-extension expressions,
/// whichever its conformance declares; what the server cannot do is filtered here.
/// Results stream: the first scene is yielded before the second page is requested.
/// </summary>
public sealed class SceneSearchService
{
    private const int ProgressActivityId = 1;
    private readonly CoreServices _services;

    /// <summary>Creates the service.</summary>
    public SceneSearchService(CoreServices services)
    {
        ArgumentNullException.ThrowIfNull(services);
        _services = services;
    }

    /// <summary>Runs the search.</summary>
    /// <exception cref="DeepSentinelException">For invalid input and for failures that end the search; failures of single items go to <paramref name="reporter"/>.</exception>
    public async IAsyncEnumerable<SentinelScene> SearchAsync(SceneSearchRequest request, IOperationReporter reporter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        reporter ??= NullReporter.Instance;
        var query = request.Query.Validate();
        if (request.PageSize is < 1 or > 10000)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, $"PageSize must be between 1 and 10000; it was {request.PageSize}.", request.PageSize);
        }

        if (request.Catalog is not null && (request.StacUrl is not null || request.Provider is not null))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, "Search either a static catalog or a STAC API, not both.");
        }

        if (request.ItemTables is { Count: > 0 } && (request.Catalog is not null || request.StacUrl is not null))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, "Search either item tables, a static catalog or a STAC API, not two of them.");
        }

        if (request.StacUrl is { } stacUrl && (!stacUrl.IsAbsoluteUri || stacUrl.Scheme is not ("http" or "https")))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue,
                $"-StacUrl must be an absolute http or https URL of a STAC API's landing page (e.g. https://earth-search.aws.element84.com/v1); it was '{stacUrl.OriginalString}'. For a catalog on disk, use -Catalog.", stacUrl.OriginalString);
        }

        var retry = request.Timeout is { } t ? _services.Retry with { AttemptTimeout = t } : null;
        var http = _services.CreateHttp(reporter, retry);
        var stream = request.ItemTables is { Count: > 0 }
            ? SearchItemTablesAsync(request, query, reporter, cancellationToken)
            : request.Catalog is not null
            ? SearchCatalogAsync(request.Catalog, query, http, reporter, cancellationToken)
            : SearchApiAsync(request, query, http, reporter, cancellationToken);

        var count = 0;
        await foreach (var scene in stream.ConfigureAwait(false))
        {
            yield return scene;
            count++;
            if (query.First is { } first && count >= first)
            {
                break;
            }
        }

        reporter.Progress(new ProgressUpdate(ProgressActivityId, "Searching scenes", $"{count} scenes", 100, 0, Completed: true));
    }

    private async IAsyncEnumerable<SentinelScene> SearchApiAsync(SceneSearchRequest request, SceneQuery query, Http.ResilientHttpClient http, IOperationReporter reporter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var profile = ProfileOf(request);
        request.RequestCounter?.CountSearch();
        var subscriptionKey = SubscriptionKeyOf(request);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (profile.SignsAssets && subscriptionKey is not null)
        {
            headers[PlanetaryComputerSigner.SubscriptionKeyHeader] = subscriptionKey;
        }

        var client = new StacApiClient(http, profile.RootUrl, headers, reporter, request.RequestCounter);
        await client.ConnectAsync(cancellationToken).ConfigureAwait(false);

        var groups = PlanGroups(query, profile);
        if (client.Conformance.Collections)
        {
            await Task.WhenAll(groups.SelectMany(g => g.Collections).Distinct().Select(c => client.CheckCollectionAsync(c, cancellationToken))).ConfigureAwait(false);
        }

        var signer = profile.SignsAssets && request.SignAssets ? _services.GetSigner(request.SasTokenEndpoint, subscriptionKey) : null;
        var criteria = SceneCriteria.Build(query, profile);
        var area = SceneCriteria.SearchArea(query);
        var yielded = 0;
        foreach (var group in groups)
        {
            var remaining = query.First is { } first ? first - yielded : (int?)null;
            var (body, clientSide) = BuildSearchBody(query, group, criteria, client.Conformance, area, Math.Min(request.PageSize, remaining ?? int.MaxValue));
            reporter.Verbose($"Searching {profile.Name} collections {string.Join(", ", group.Collections)}; on the server: {Describe(body)}; on the client: {(clientSide.Count == 0 ? "nothing" : string.Join(", ", clientSide.Select(c => c.Name)))}.");

            // Items ingested while paging can shift a page boundary and repeat an item on the next
            // page: drop ids already seen on the previous page (memory stays bounded by page size).
            var previousPage = new HashSet<string>(StringComparer.Ordinal);
            await foreach (var page in client.SearchAsync(body, cancellationToken).ConfigureAwait(false))
            {
                using (page)
                {
                    var matched = Matched(page.Document.RootElement);
                    var thisPage = new HashSet<string>(StringComparer.Ordinal);
                    foreach (var feature in page.Features)
                    {
                        var scene = ReadScene(feature, null, profile.Name, group.Collections.Length == 1 ? group.Collections[0] : null, reporter);
                        if (scene is null || !thisPage.Add(scene.Id) || previousPage.Contains(scene.Id) || !clientSide.All(c => !c.Applies(scene.Mission) || c.Matches(scene)))
                        {
                            continue;
                        }

                        if (request.KeepItemJson)
                        {
                            scene.ItemJson = feature.GetRawText();
                        }

                        if (signer is not null)
                        {
                            await signer.SignAsync(scene, cancellationToken).ConfigureAwait(false);
                        }

                        yielded++;
                        yield return scene;
                    }

                    var target = Math.Min(matched ?? int.MaxValue, query.First ?? int.MaxValue);
                    reporter.Progress(new ProgressUpdate(
                        ProgressActivityId,
                        $"Searching {profile.Name}",
                        string.Create(CultureInfo.InvariantCulture, $"{string.Join(", ", group.Collections)}: page {page.Number}, {yielded} scenes"),
                        target is > 0 and < int.MaxValue ? Math.Min(99, yielded * 100 / target) : -1));
                    previousPage = thisPage;
                }
            }
        }
    }

    /// <summary>
    /// Reads items that an earlier search of the same request returned (their JSON as the API sent
    /// it, e.g. from the scene cache) into scenes, signed as a search would sign them.
    /// </summary>
    internal async Task<List<SentinelScene>> ReadItemsAsync(SceneSearchRequest request, IEnumerable<string> itemJson, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        var profile = ProfileOf(request);
        // As the search read them: an item without "collection" belongs to the one collection searched.
        var groups = PlanGroups(request.Query, profile);
        var fallbackCollection = groups.Count == 1 && groups[0].Collections.Length == 1 ? groups[0].Collections[0] : null;
        var signer = profile.SignsAssets && request.SignAssets ? _services.GetSigner(request.SasTokenEndpoint, SubscriptionKeyOf(request)) : null;
        var scenes = new List<SentinelScene>();
        foreach (var json in itemJson)
        {
            using var document = JsonDocument.Parse(json);
            var scene = ReadScene(document.RootElement, null, profile.Name, fallbackCollection, reporter);
            if (scene is null)
            {
                continue;
            }

            scene.ItemJson = request.KeepItemJson ? json : null;
            if (signer is not null)
            {
                await signer.SignAsync(scene, cancellationToken).ConfigureAwait(false);
            }

            scenes.Add(scene);
        }

        return scenes;
    }

    private static ProviderProfile ProfileOf(SceneSearchRequest request) =>
        request.Provider is { } provider
            ? ProviderProfile.For(provider) is var known && request.StacUrl is { } overrideUrl ? known with { RootUrl = overrideUrl } : ProviderProfile.For(provider)
            : request.StacUrl is { } url ? ProviderProfile.Generic(url) : ProviderProfile.PlanetaryComputer;

    private static string? SubscriptionKeyOf(SceneSearchRequest request) =>
        request.SubscriptionKey ?? NonEmpty(Environment.GetEnvironmentVariable(PlanetaryComputerSigner.SubscriptionKeyVariable));

    private async IAsyncEnumerable<SentinelScene> SearchCatalogAsync(string catalog, SceneQuery query, Http.ResilientHttpClient http, IOperationReporter reporter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var root = StaticCatalogReader.ResolveRoot(catalog);
        var reader = new StaticCatalogReader(http, reporter);
        var criteria = SceneCriteria.Build(query, profile: null);
        var area = SceneCriteria.SearchArea(query);
        var collections = query.Collections.ToHashSet(StringComparer.Ordinal);
        var provider = SecretRedactor.Redact(root.IsFile ? root.LocalPath : root.AbsoluteUri);
        var read = 0;
        var matchedCount = 0;
        await foreach (var entry in reader.WalkAsync(root, cancellationToken).ConfigureAwait(false))
        {
            read++;
            var scene = ReadScene(entry.Item, entry.Location, provider, entry.ParentCollection, reporter);
            if (scene is null)
            {
                continue;
            }

            reader.SeenCollections.Add(scene.Collection);
            if (!Selected(scene, query, collections, area, criteria))
            {
                continue;
            }

            matchedCount++;
            yield return scene;
            if (read % 50 == 0)
            {
                reporter.Progress(new ProgressUpdate(ProgressActivityId, "Reading catalog", $"{read} items read, {matchedCount} scenes match"));
            }
        }

        var unknown = collections.Where(c => !reader.SeenCollections.Contains(c)).ToArray();
        if (unknown.Length > 0 && matchedCount == 0)
        {
            throw new DeepSentinelException(ErrorIds.UnknownCollection, ErrorKind.ObjectNotFound, $"The catalog {provider} has no collection {string.Join(", ", unknown.Select(c => $"'{c}'"))}; it has {(reader.SeenCollections.Count == 0 ? "no collections" : string.Join(", ", reader.SeenCollections.Order()))}.", unknown[0]);
        }
    }

    /// <summary>
    /// Searches STAC-GeoParquet item tables, one after the other: each row the tables' statistics and
    /// cheap columns (collection, datetime) do not rule out becomes its Item and is filtered as a
    /// static catalog's item is, so the same items and query select the same scenes. Planetary
    /// Computer hrefs are signed as a search of its API signs them.
    /// </summary>
    private async IAsyncEnumerable<SentinelScene> SearchItemTablesAsync(SceneSearchRequest request, SceneQuery query, IOperationReporter reporter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var criteria = SceneCriteria.Build(query, profile: null);
        var area = SceneCriteria.SearchArea(query);
        var collections = query.Collections.ToHashSet(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var signer = request.SignAssets && (request.Provider is null or StacProvider.PlanetaryComputer) ? _services.GetSigner(request.SasTokenEndpoint, SubscriptionKeyOf(request)) : null;
        var filter = new ItemTableFilter(query.Start, query.End, area?.EnvelopeInternal, collections);
        var names = new List<string>();
        var matchedCount = 0;
        foreach (var table in request.ItemTables!)
        {
            var read = 0;
            await using var reader = await ItemTableReader.OpenAsync(table, request.Storage, _services, reporter, cancellationToken).ConfigureAwait(false);
            names.Add(reader.DisplayName);
            await foreach (var entry in reader.ReadAsync(filter, reporter, cancellationToken).ConfigureAwait(false))
            {
                read++;
                var scene = ReadScene(entry.Item, entry.Location, reader.DisplayName, null, reporter);
                if (scene is null)
                {
                    continue;
                }

                seen.Add(scene.Collection);
                if (!Selected(scene, query, collections, area, criteria))
                {
                    continue;
                }

                if (signer is not null && scene.Assets.Values.Any(a => PlanetaryComputerSigner.NeedsSigning(a.Href)))
                {
                    await signer.SignAsync(scene, cancellationToken).ConfigureAwait(false);
                }

                matchedCount++;
                yield return scene;
                if (read % 500 == 0)
                {
                    reporter.Progress(new ProgressUpdate(ProgressActivityId, "Reading item tables", $"{reader.DisplayName}: {read} items read, {matchedCount} scenes match"));
                }
            }

            seen.UnionWith(reader.SeenCollections);
            reporter.Verbose(string.Create(CultureInfo.InvariantCulture, $"Item table {reader.DisplayName}: {reader.Rows} rows; {reader.RowGroups.Read} row groups read, {reader.RowGroups.Skipped} skipped on their statistics; {read} items read."));
        }

        var unknown = collections.Where(c => !seen.Contains(c)).ToArray();
        if (unknown.Length > 0 && matchedCount == 0)
        {
            throw new DeepSentinelException(ErrorIds.UnknownCollection, ErrorKind.ObjectNotFound, $"The item table{(names.Count > 1 ? "s" : string.Empty)} {string.Join(", ", names)} hold no collection {string.Join(", ", unknown.Select(c => $"'{c}'"))}; {(seen.Count == 0 ? "they hold no items" : "they hold " + string.Join(", ", seen.Order()))}.", unknown[0]);
        }
    }

    /// <summary>Whether a scene of a catalog or table meets the query (what a STAC API filters on the server).</summary>
    private static bool Selected(SentinelScene scene, SceneQuery query, HashSet<string> collections, NetTopologySuite.Geometries.Geometry? area, List<SceneCriterion> criteria) =>
        (collections.Count == 0 || collections.Contains(scene.Collection))
        && (query.Missions.Count == 0 || query.Missions.Contains(scene.Mission))
        && SceneCriteria.InTimeRange(query, scene)
        && (area is null || area.Intersects(scene.Footprint))
        && criteria.All(c => !c.Applies(scene.Mission) || c.Matches(scene));

    private static SentinelScene? ReadScene(JsonElement feature, Uri? location, string provider, string? fallbackCollection, IOperationReporter reporter)
    {
        try
        {
            var scene = StacItemReader.Read(feature, location, provider, fallbackCollection, out var skipReason, reporter.Warning);
            if (scene is null)
            {
                reporter.Verbose($"Skipped {skipReason}.");
            }

            return scene;
        }
        catch (DeepSentinelException ex)
        {
            reporter.Error(ex);
            return null;
        }
    }

    internal sealed record SearchGroup(SentinelMission? Mission, string[] Collections);

    internal static List<SearchGroup> PlanGroups(SceneQuery query, ProviderProfile profile)
    {
        if (query.Collections.Count > 0)
        {
            foreach (var collection in query.Collections)
            {
                if (profile.MissionOf(collection) is { } m && query.Missions.Count > 0 && !query.Missions.Contains(m))
                {
                    throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, $"Collection '{collection}' holds {m} scenes, but -Mission asks for {string.Join(", ", query.Missions)}. Drop one of the two.", collection);
                }
            }

            return query.Collections
                .GroupBy(profile.MissionOf)
                .Select(g => new SearchGroup(g.Key, g.ToArray()))
                .ToList();
        }

        var missions = query.Missions.Count > 0 ? query.Missions : [SentinelMission.S2, SentinelMission.S1];
        return missions.Select(m => new SearchGroup(m, profile.DefaultCollections[m])).ToList();
    }

    internal static (JsonObject Body, List<SceneCriterion> ClientSide) BuildSearchBody(SceneQuery query, SearchGroup group, List<SceneCriterion> criteria, StacConformance conformance, NetTopologySuite.Geometries.Geometry? area, int limit)
    {
        var body = new JsonObject
        {
            ["collections"] = new JsonArray(group.Collections.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
            ["limit"] = Math.Max(1, limit),
        };

        if (query.BoundingBox is { CrossesAntimeridian: false } box)
        {
            body["bbox"] = new JsonArray(box.ToArray().Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
        }
        else if (area is not null)
        {
            // A box across the antimeridian goes as two polygons: not every server handles west > east.
            body["intersects"] = JsonNode.Parse(GeoJson.ToJson(area));
        }

        if (query.Start is not null || query.End is not null)
        {
            body["datetime"] = $"{Rfc3339(query.Start) ?? ".."}/{Rfc3339(query.End) ?? ".."}";
        }

        var clientSide = new List<SceneCriterion>();
        var cql = new List<JsonNode>();
        var queryExtension = new JsonObject();
        var useCql2 = conformance.CanFilterCql2Json;
        foreach (var criterion in criteria)
        {
            // A criterion for one mission can only go to the server when the whole group is that
            // mission: otherwise the server would drop the other mission's scenes.
            var pushable = criterion.AppliesTo is null || criterion.AppliesTo == group.Mission;
            if (!pushable)
            {
                clientSide.Add(criterion);
            }
            else if (useCql2 && criterion.Cql2 is not null && (!criterion.Cql2NeedsArrayFunctions || conformance.ArrayFunctions))
            {
                cql.Add(criterion.Cql2.DeepClone());
            }
            else if (!useCql2 && conformance.Query && criterion.QueryProperty is not null && criterion.QueryCondition is not null)
            {
                queryExtension[criterion.QueryProperty] = criterion.QueryCondition.DeepClone();
            }
            else
            {
                clientSide.Add(criterion);
            }
        }

        if (cql.Count > 0)
        {
            body["filter-lang"] = "cql2-json";
            body["filter"] = cql.Count == 1 ? cql[0] : new JsonObject { ["op"] = "and", ["args"] = new JsonArray(cql.ToArray()) };
        }

        if (queryExtension.Count > 0)
        {
            body["query"] = queryExtension;
        }

        return (body, clientSide);
    }

    private static string? Rfc3339(DateTimeOffset? value) =>
        value?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private static int? Matched(JsonElement page)
    {
        if (StacItemReader.GetInt(page, "numberMatched") is { } n)
        {
            return n;
        }

        return page.TryGetProperty("context", out var context) ? StacItemReader.GetInt(context, "matched") : null;
    }

    private static string Describe(JsonObject body)
    {
        var parts = body.Where(p => p.Key is not "collections" and not "limit" and not "filter-lang").Select(p => p.Key + "=" + Shorten(p.Value?.ToJsonString(StacApiClient.BodyJson) ?? "null"));
        var text = string.Join("; ", parts);
        return text.Length == 0 ? "collections only" : text;
    }

    private static string Shorten(string s) => s.Length > 160 ? s[..160] + "..." : s;

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
