using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace DeepSentinel.Core.Tests.TestServers;

/// <summary>How the server writes next links.</summary>
public enum PagingStyle
{
    /// <summary>Planetary Computer: POST with the whole search plus a "token" in the body, merge false.</summary>
    PlanetaryComputer,
    /// <summary>Earth Search (stac-server): POST with {"next": "datetime,id,collection"}, merge true.</summary>
    EarthSearch,
    /// <summary>A GET href carrying the search parameters and a token.</summary>
    Get,
}

/// <summary>Behaviour of the loopback STAC API.</summary>
public sealed class StacApiOptions
{
    /// <summary>Conformance with query and CQL2-JSON filter (as Planetary Computer declares).</summary>
    public static readonly string[] QueryAndFilter =
    [
        "https://api.stacspec.org/v1.0.0/core",
        "https://api.stacspec.org/v1.0.0/item-search",
        "https://api.stacspec.org/v1.0.0-rc.1/item-search#query",
        "https://api.stacspec.org/v1.0.0-rc.1/item-search#filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    ];

    /// <summary>Conformance with the query extension only (as Earth Search v0 declared).</summary>
    public static readonly string[] QueryOnly =
    [
        "https://api.stacspec.org/v1.0.0/core",
        "https://api.stacspec.org/v1.0.0/item-search",
        "https://api.stacspec.org/v1.0.0/item-search#query",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    ];

    /// <summary>Bare item search: every property filter must happen on the client.</summary>
    public static readonly string[] SearchOnly =
    [
        "https://api.stacspec.org/v1.0.0/core",
        "https://api.stacspec.org/v1.0.0/item-search",
    ];

    /// <summary>The paging style.</summary>
    public PagingStyle Paging { get; set; } = PagingStyle.PlanetaryComputer;

    /// <summary>What the landing page declares.</summary>
    public string[] ConformsTo { get; set; } = QueryAndFilter;

    /// <summary>Whether /search accepts POST (405 otherwise).</summary>
    public bool AllowPost { get; set; } = true;

    /// <summary>The first N search requests get 429 with <see cref="RetryAfterSeconds"/>.</summary>
    public int TooManyRequests { get; set; }

    /// <summary>Retry-After sent with 429s (null: none).</summary>
    public int? RetryAfterSeconds { get; set; }

    /// <summary>Retry-After sent with 429s as an HTTP date this far in the future (instead of seconds).</summary>
    public TimeSpan? RetryAfterDate { get; set; }

    /// <summary>
    /// Per-request rate limiting: a search whose body this predicate accepts gets 429 (with the
    /// Retry-After above) until it has been refused <see cref="ThrottledTimes"/> times; others are served.
    /// </summary>
    public Func<JsonObject, bool>? ThrottleIf { get; set; }

    /// <summary>How often a search that <see cref="ThrottleIf"/> accepts is refused before it is served.</summary>
    public int ThrottledTimes { get; set; }

    /// <summary>Intersects and bbox filters test the item's geometry (as real APIs do), not only its bbox.</summary>
    public bool ExactGeometry { get; set; }

    /// <summary>The first N search requests get 500/503 alternately.</summary>
    public int ServerErrors { get; set; }

    /// <summary>Search pages (1-based) whose body is truncated JSON.</summary>
    public HashSet<int> MalformedPages { get; } = [];

    /// <summary>A search page (1-based) that never answers.</summary>
    public int? HangingPage { get; set; }

    /// <summary>A page whose next link repeats the previous one (a looping server).</summary>
    public bool RepeatNextLink { get; set; }

    /// <summary>How long SAS tokens live.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The clock that stamps token expiry.</summary>
    public Func<DateTimeOffset> Clock { get; set; } = () => DateTimeOffset.UtcNow;
}

/// <summary>
/// A STAC API on loopback that behaves like Planetary Computer or Earth Search: landing page,
/// conformance, collections, item search with bbox/intersects/datetime/collections/limit, the
/// query extension and a CQL2-JSON subset (and, or, =, &lt;=, &gt;=, &lt;, &gt;, a_contains),
/// paging in three styles, fault injection, and the Planetary Computer SAS token endpoint.
/// </summary>
public sealed class StacApiServer : IAsyncDisposable
{
    private readonly List<JsonObject> _items;
    private readonly StacApiOptions _options;
    private readonly Dictionary<string, int> _throttled = new(StringComparer.Ordinal);
    private int _searchRequests;
    private int _tokensIssued;
    private int _rateLimited;

    private StacApiServer(List<JsonObject> items, StacApiOptions options)
    {
        // Newest first, as Planetary Computer and Earth Search sort by default.
        _items = items.OrderByDescending(i => (string)i["properties"]!["datetime"]!, StringComparer.Ordinal).ThenBy(i => (string)i["id"]!, StringComparer.Ordinal).ToList();
        _options = options;
    }

    /// <summary>The underlying server (for its recorded requests).</summary>
    public LoopbackServer Server { get; private set; } = null!;

    /// <summary>The STAC API root.</summary>
    public Uri RootUrl => new(Server.BaseUri, "api/stac/v1/");

    /// <summary>The SAS token endpoint.</summary>
    public Uri TokenEndpoint => new(Server.BaseUri, "api/sas/v1/token/");

    /// <summary>Search requests as received.</summary>
    public List<RecordedRequest> SearchRequests => Server.Requests.Where(r => r.Path.EndsWith("/search", StringComparison.Ordinal)).ToList();

    /// <summary>Token requests as received.</summary>
    public List<RecordedRequest> TokenRequests => Server.Requests.Where(r => r.Path.StartsWith("/api/sas/", StringComparison.Ordinal)).ToList();

    /// <summary>The search bodies (POST) or query strings (GET) parsed as JSON objects.</summary>
    public List<JsonObject> SearchBodies => SearchRequests.Select(r => r.Method == "POST" ? JsonNode.Parse(r.Body)!.AsObject() : FromQuery(r.Query)).ToList();

    /// <summary>429s sent to searches that <see cref="StacApiOptions.ThrottleIf"/> accepted.</summary>
    public int RateLimited => _rateLimited;

    /// <summary>Tokens issued so far.</summary>
    public int TokensIssued => _tokensIssued;

    /// <summary>Starts the server.</summary>
    public static async Task<StacApiServer> StartAsync(IEnumerable<JsonObject>? items = null, StacApiOptions? options = null)
    {
        var server = new StacApiServer((items ?? SampleItems.Standard()).ToList(), options ?? new StacApiOptions());
        server.Server = await LoopbackServer.StartAsync(server.HandleAsync);
        return server;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Server.DisposeAsync();

    private async Task HandleAsync(HttpContext context, RecordedRequest request)
    {
        var path = request.Path.TrimEnd('/');
        if (path == "/api/stac/v1")
        {
            await Json(context, Landing());
        }
        else if (path == "/api/stac/v1/conformance")
        {
            await Json(context, new JsonObject { ["conformsTo"] = Strings(_options.ConformsTo) });
        }
        else if (path.StartsWith("/api/stac/v1/collections/", StringComparison.Ordinal))
        {
            var id = Uri.UnescapeDataString(path["/api/stac/v1/collections/".Length..]);
            if (_items.Any(i => (string?)i["collection"] == id))
            {
                await Json(context, new JsonObject { ["type"] = "Collection", ["id"] = id, ["links"] = new JsonArray() });
            }
            else
            {
                await Json(context, new JsonObject { ["code"] = "NotFoundError", ["description"] = $"No collection with id '{id}' found!" }, 404);
            }
        }
        else if (path == "/api/stac/v1/search")
        {
            await SearchAsync(context, request);
        }
        else if (path.StartsWith("/api/sas/v1/token/", StringComparison.Ordinal))
        {
            var n = Interlocked.Increment(ref _tokensIssued);
            var expiry = _options.Clock() + _options.TokenLifetime;
            await Json(context, new JsonObject
            {
                ["msft:expiry"] = expiry.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                ["token"] = $"st=2019-08-01T00%3A00%3A00Z&se={Uri.EscapeDataString(expiry.UtcDateTime.ToString("s", CultureInfo.InvariantCulture))}Z&sp=rl&sv=2021-06-08&sr=c&skoid=c85c15d6&sig=TOPSECRETSIGNATURE{n}%3D",
            });
        }
        else
        {
            await Json(context, new JsonObject { ["code"] = "NotFound", ["description"] = "No such route" }, 404);
        }
    }

    private JsonObject Landing()
    {
        var root = RootUrl.AbsoluteUri;
        return new JsonObject
        {
            ["type"] = "Catalog",
            ["id"] = "loopback-stac",
            ["stac_version"] = "1.0.0",
            ["description"] = "Loopback STAC API for DeepSentinel tests",
            ["conformsTo"] = Strings(_options.ConformsTo),
            ["links"] = new JsonArray(
                new JsonObject { ["rel"] = "self", ["href"] = root },
                new JsonObject { ["rel"] = "root", ["href"] = root },
                new JsonObject { ["rel"] = "conformance", ["href"] = root + "conformance" },
                new JsonObject { ["rel"] = "data", ["href"] = root + "collections" },
                new JsonObject { ["rel"] = "search", ["href"] = root + "search", ["method"] = "GET", ["type"] = "application/geo+json" },
                new JsonObject { ["rel"] = "search", ["href"] = root + "search", ["method"] = "POST", ["type"] = "application/geo+json" }),
        };
    }

    private async Task SearchAsync(HttpContext context, RecordedRequest request)
    {
        var n = Interlocked.Increment(ref _searchRequests);
        if (request.Method == "POST" && !_options.AllowPost)
        {
            await Json(context, new JsonObject { ["code"] = "MethodNotAllowed", ["description"] = "Use GET" }, 405);
            return;
        }

        var throttled = false;
        if (_options.ThrottleIf is { } throttle && request.Method == "POST" && throttle(JsonNode.Parse(request.Body)!.AsObject()))
        {
            var bodyKey = request.Body;
            lock (_throttled)
            {
                var refused = _throttled.GetValueOrDefault(bodyKey);
                if (refused < _options.ThrottledTimes)
                {
                    _throttled[bodyKey] = refused + 1;
                    throttled = true;
                }
            }
        }

        if (n <= _options.TooManyRequests || throttled)
        {
            if (throttled)
            {
                Interlocked.Increment(ref _rateLimited);
            }

            if (_options.RetryAfterSeconds is { } s)
            {
                context.Response.Headers.RetryAfter = s.ToString(CultureInfo.InvariantCulture);
            }
            else if (_options.RetryAfterDate is { } after)
            {
                context.Response.Headers.RetryAfter = (DateTimeOffset.UtcNow + after).ToString("R", CultureInfo.InvariantCulture);
            }

            await Json(context, new JsonObject { ["code"] = "TooManyRequests", ["description"] = "Rate limit exceeded" }, 429);
            return;
        }

        if (n <= _options.TooManyRequests + _options.ServerErrors)
        {
            await Json(context, new JsonObject { ["code"] = "InternalError", ["description"] = "Backend unavailable" }, n % 2 == 0 ? 503 : 500);
            return;
        }

        var body = request.Method == "POST" ? JsonNode.Parse(request.Body)!.AsObject() : FromQuery(request.Query);
        var limit = body["limit"] is JsonNode l ? (int)l.AsValue().GetValue<double>() : 10;
        var matching = _items.Where(i => Matches(i, body) && (!_options.ExactGeometry || MatchesGeometry(i, body))).ToList();
        var offset = Offset(body, matching);
        var page = (offset / Math.Max(1, limit)) + 1;

        if (_options.HangingPage == page)
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return;
        }

        if (_options.MalformedPages.Contains(page))
        {
            context.Response.ContentType = "application/geo+json";
            await context.Response.WriteAsync("{\"type\":\"FeatureCollection\",\"features\":[{\"id\":\"broken\",");
            return;
        }

        var features = matching.Skip(offset).Take(limit).ToList();
        var links = new JsonArray();
        var nextOffset = _options.RepeatNextLink ? offset : offset + features.Count;
        if (offset + features.Count < matching.Count)
        {
            links.Add(NextLink(body, nextOffset, matching));
        }

        await Json(context, new JsonObject
        {
            ["type"] = "FeatureCollection",
            ["features"] = new JsonArray(features.Select(f => (JsonNode?)f.DeepClone()).ToArray()),
            ["links"] = links,
            ["numberMatched"] = matching.Count,
            ["numberReturned"] = features.Count,
        });
    }

    private JsonObject NextLink(JsonObject body, int nextOffset, List<JsonObject> matching)
    {
        var search = RootUrl.AbsoluteUri + "search";
        switch (_options.Paging)
        {
            case PagingStyle.PlanetaryComputer:
                var full = (JsonObject)body.DeepClone();
                full["token"] = "next:" + nextOffset.ToString(CultureInfo.InvariantCulture);
                return new JsonObject { ["rel"] = "next", ["type"] = "application/geo+json", ["method"] = "POST", ["href"] = search, ["body"] = full, ["merge"] = false };
            case PagingStyle.EarthSearch:
                var last = matching[Math.Max(0, nextOffset - 1)];
                return new JsonObject
                {
                    ["rel"] = "next",
                    ["method"] = "POST",
                    ["href"] = search,
                    ["merge"] = true,
                    ["body"] = new JsonObject { ["next"] = $"{(string)last["properties"]!["datetime"]!},{(string)last["id"]!},{(string)last["collection"]!}" },
                };
            default:
                var query = (JsonObject)body.DeepClone();
                query["token"] = "next:" + nextOffset.ToString(CultureInfo.InvariantCulture);
                return new JsonObject { ["rel"] = "next", ["type"] = "application/geo+json", ["href"] = search + ToQuery(query) };
        }
    }

    private static int Offset(JsonObject body, List<JsonObject> matching)
    {
        if (body["token"] is JsonNode token)
        {
            var text = (string)token!;
            return int.Parse(text[(text.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
        }

        if (body["next"] is JsonNode next)
        {
            var id = ((string)next!).Split(',')[1];
            return matching.FindIndex(i => (string)i["id"]! == id) + 1;
        }

        return 0;
    }

    private static bool Matches(JsonObject item, JsonObject body)
    {
        var props = item["properties"]!.AsObject();
        if (body["collections"] is JsonArray collections && !collections.Any(c => (string)c! == (string?)item["collection"]))
        {
            return false;
        }

        var bbox = item["bbox"]!.AsArray().Select(v => (double)v!).ToArray();
        if (body["bbox"] is JsonArray b)
        {
            var q = b.Select(v => (double)v!).ToArray();
            if (q[0] > bbox[2] || q[2] < bbox[0] || q[1] > bbox[3] || q[3] < bbox[1])
            {
                return false;
            }
        }

        if (body["intersects"] is JsonObject geometry)
        {
            var coords = Flatten(geometry["coordinates"] ?? geometry).ToList();
            var (minX, maxX) = (coords.Where((_, i) => i % 2 == 0).Min(), coords.Where((_, i) => i % 2 == 0).Max());
            var (minY, maxY) = (coords.Where((_, i) => i % 2 == 1).Min(), coords.Where((_, i) => i % 2 == 1).Max());
            if (minX > bbox[2] || maxX < bbox[0] || minY > bbox[3] || maxY < bbox[1])
            {
                return false;
            }
        }

        if (body["datetime"] is JsonNode dt)
        {
            var parts = ((string)dt!).Split('/');
            var when = DateTimeOffset.Parse((string)props["datetime"]!, CultureInfo.InvariantCulture);
            if (parts[0] != ".." && when < DateTimeOffset.Parse(parts[0], CultureInfo.InvariantCulture))
            {
                return false;
            }

            if (parts.Length > 1 && parts[1] != ".." && when > DateTimeOffset.Parse(parts[1], CultureInfo.InvariantCulture))
            {
                return false;
            }
        }

        if (body["query"] is JsonObject query)
        {
            foreach (var (property, conditionNode) in query)
            {
                var value = props[property];
                foreach (var (op, operand) in conditionNode!.AsObject())
                {
                    var ok = op switch
                    {
                        "eq" => Equal(value, operand),
                        "lte" => Compare(value, operand) <= 0,
                        "gte" => Compare(value, operand) >= 0,
                        "lt" => Compare(value, operand) < 0,
                        "gt" => Compare(value, operand) > 0,
                        "in" => operand!.AsArray().Any(o => Equal(value, o)),
                        _ => throw new InvalidOperationException("Unsupported query operator " + op),
                    };
                    if (!ok)
                    {
                        return false;
                    }
                }
            }
        }

        return body["filter"] is not JsonObject filter || Evaluate(filter, props);
    }

    private static bool MatchesGeometry(JsonObject item, JsonObject body)
    {
        using var document = System.Text.Json.JsonDocument.Parse(item["geometry"]!.ToJsonString());
        var footprint = DeepSentinel.Core.Geometry.GeoJson.ReadGeometry(document.RootElement);
        if (body["intersects"] is JsonObject geometry)
        {
            using var query = System.Text.Json.JsonDocument.Parse(geometry.ToJsonString());
            return footprint.Intersects(DeepSentinel.Core.Geometry.GeoJson.ReadGeometry(query.RootElement));
        }

        if (body["bbox"] is JsonArray b)
        {
            var q = b.Select(v => (double)v!).ToArray();
            var box = DeepSentinel.Core.Geometry.GeoJson.Wgs84Factory.ToGeometry(new NetTopologySuite.Geometries.Envelope(q[0], q[2], q[1], q[3]));
            return footprint.Intersects(box);
        }

        return true;
    }

    private static bool Evaluate(JsonObject expression, JsonObject props)
    {
        var op = (string)expression["op"]!;
        var args = expression["args"]!.AsArray();
        JsonNode? Arg(int i) => args[i] is JsonObject o && o["property"] is JsonNode p ? props[(string)p!] : args[i];
        return op switch
        {
            "and" => args.All(a => Evaluate(a!.AsObject(), props)),
            "or" => args.Any(a => Evaluate(a!.AsObject(), props)),
            "not" => !Evaluate(args[0]!.AsObject(), props),
            "=" => Equal(Arg(0), Arg(1)),
            "<=" => Compare(Arg(0), Arg(1)) <= 0,
            ">=" => Compare(Arg(0), Arg(1)) >= 0,
            "<" => Compare(Arg(0), Arg(1)) < 0,
            ">" => Compare(Arg(0), Arg(1)) > 0,
            "a_contains" => Arg(0) is JsonArray have && Arg(1)!.AsArray().All(w => have.Any(h => Equal(h, w))),
            _ => throw new InvalidOperationException("Unsupported CQL2 operator " + op),
        };
    }

    private static bool Equal(JsonNode? a, JsonNode? b) => a is not null && b is not null && a.ToJsonString() == b.ToJsonString();

    private static int Compare(JsonNode? a, JsonNode? b) =>
        a is null || b is null ? int.MaxValue : ((double)a).CompareTo((double)b);

    private static IEnumerable<double> Flatten(JsonNode node) =>
        node is JsonArray array ? array.SelectMany(n => Flatten(n!)) : node is JsonValue v && v.TryGetValue<double>(out var d) ? [d] : [];

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    private static async Task Json(HttpContext context, JsonNode body, int status = 200)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), Encoding.UTF8);
    }

    private static string ToQuery(JsonObject query) =>
        "?" + string.Join('&', query.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(
            p.Value is JsonArray a && p.Key is "collections" or "bbox" ? string.Join(',', a.Select(v => v is JsonValue jv && jv.TryGetValue<string>(out var s) ? s : v!.ToJsonString()))
            : p.Value is JsonValue sv && sv.TryGetValue<string>(out var str) ? str : p.Value!.ToJsonString())));

    /// <summary>Parses GET search parameters back into a body-like object.</summary>
    public static JsonObject FromQuery(string query)
    {
        var result = new JsonObject();
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var key = Uri.UnescapeDataString(pair[..eq]);
            var value = Uri.UnescapeDataString(pair[(eq + 1)..]);
            result[key] = key switch
            {
                "collections" => new JsonArray(value.Split(',').Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()),
                "bbox" => new JsonArray(value.Split(',').Select(v => (JsonNode?)JsonValue.Create(double.Parse(v, CultureInfo.InvariantCulture))).ToArray()),
                "limit" => JsonValue.Create(double.Parse(value, CultureInfo.InvariantCulture)),
                "intersects" or "query" or "filter" => JsonNode.Parse(value),
                _ => JsonValue.Create(value),
            };
        }

        return result;
    }
}
