using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Http;

namespace DeepSentinel.Core.Stac;

/// <summary>One page of search results: the item features and the page's location.</summary>
internal sealed record StacPage(JsonDocument Document, IReadOnlyList<JsonElement> Features, Uri Url, int Number) : IDisposable
{
    public void Dispose() => Document.Dispose();
}

/// <summary>
/// Talks to one STAC API: reads its landing page and conformance, checks collections, and runs
/// an item search that follows next links (GET, or POST with a body, merged where the link says
/// so) page by page.
/// </summary>
internal sealed class StacApiClient
{
    private const string JsonMediaType = "application/json";

    // Request bodies are JSON over HTTP, never embedded in HTML: keep CQL2's "<=" readable.
    internal static readonly JsonSerializerOptions BodyJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly ResilientHttpClient _http;
    private readonly IReadOnlyDictionary<string, string> _headers;
    private readonly IOperationReporter _reporter;

    private readonly StacRequestCounter? _counter;

    public StacApiClient(ResilientHttpClient http, Uri root, IReadOnlyDictionary<string, string> headers, IOperationReporter reporter, StacRequestCounter? counter = null)
    {
        _counter = counter;
        _http = http;
        Root = WithTrailingSlash(root);
        _headers = headers;
        _reporter = reporter;
    }

    public Uri Root { get; }

    // The root's path gets the trailing slash that relative links resolve against; a query string
    // stays as it is (appending to AbsoluteUri would add the slash to its last value).
    internal static Uri WithTrailingSlash(Uri root)
    {
        if (root.AbsolutePath.EndsWith('/'))
        {
            return root;
        }

        var builder = new UriBuilder(root);
        builder.Path += "/";
        return builder.Uri;
    }

    public StacConformance Conformance { get; private set; } = new([]);

    public Uri SearchUrl { get; private set; } = null!;

    public bool SearchSupportsPost { get; private set; } = true;

    /// <summary>Reads the landing page (and /conformance when the landing page lacks conformsTo).</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        using var landing = await StacJson.SendAsync(_http, Count(() => Get(Root)), "the STAC landing page", cancellationToken).ConfigureAwait(false);
        var root = landing.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("links", out var links) || links.ValueKind != JsonValueKind.Array)
        {
            throw new DeepSentinelException(ErrorIds.NotAStacEndpoint, ErrorKind.ProtocolError, $"{SecretRedactor.Redact(Root)} is not a STAC API: its landing page has no \"links\". Give the API's root URL (e.g. https://planetarycomputer.microsoft.com/api/stac/v1).", Root.AbsoluteUri);
        }

        var conformsTo = StacItemReader.GetStrings(root, "conformsTo");
        if (conformsTo.Length == 0 && FindLink(links, "conformance") is { } conformanceUrl)
        {
            using var conformance = await StacJson.SendAsync(_http, Count(() => Get(conformanceUrl)), "the conformance declaration", cancellationToken).ConfigureAwait(false);
            conformsTo = StacItemReader.GetStrings(conformance.RootElement, "conformsTo");
        }

        Conformance = new StacConformance(conformsTo);
        var searchLinks = links.EnumerateArray().Where(l => StacItemReader.GetString(l, "rel") == "search").ToArray();
        if (searchLinks.Length == 0 && !Conformance.ItemSearch)
        {
            throw new DeepSentinelException(ErrorIds.NotAStacEndpoint, ErrorKind.ProtocolError, $"{SecretRedactor.Redact(Root)} does not offer STAC item search (no \"search\" link, no item-search conformance). For a static catalog, use -Catalog.", Root.AbsoluteUri);
        }

        SearchUrl = searchLinks.Select(l => StacItemReader.GetString(l, "href")).Where(h => h is not null).Select(h => StacItemReader.Resolve(h!, Root)).FirstOrDefault(u => u is not null) ?? new Uri(Root, "search");
        var methods = searchLinks.Select(l => StacItemReader.GetString(l, "method")?.ToUpperInvariant()).ToArray();
        SearchSupportsPost = methods.Length == 0 || methods.Contains(null) || methods.Contains("POST");
        _reporter.Verbose($"STAC API {SecretRedactor.Redact(Root)}: search at {SecretRedactor.Redact(SearchUrl)}; query extension {(Conformance.Query ? "yes" : "no")}, CQL2-JSON filter {(Conformance.CanFilterCql2Json ? "yes" : "no")}.");
    }

    /// <summary>Throws <see cref="ErrorIds.UnknownCollection"/> when the API says it has no such collection.</summary>
    public async Task CheckCollectionAsync(string collection, CancellationToken cancellationToken)
    {
        var url = new Uri(Root, "collections/" + Uri.EscapeDataString(collection));
        using var response = await _http.SendAsync(Count(() => Get(url)), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new DeepSentinelException(ErrorIds.UnknownCollection, ErrorKind.ObjectNotFound, $"The STAC API {SecretRedactor.Redact(Root)} has no collection '{collection}'. List its collections at {SecretRedactor.Redact(new Uri(Root, "collections"))}.", collection);
        }

        if (!response.IsSuccessStatusCode)
        {
            _reporter.Verbose($"Could not check collection '{collection}' (HTTP {(int)response.StatusCode}); searching anyway.");
        }
    }

    /// <summary>Runs a search and yields its pages until there is no next link.</summary>
    public async IAsyncEnumerable<StacPage> SearchAsync(JsonObject body, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Func<HttpRequestMessage> next = SearchSupportsPost ? () => Post(SearchUrl, body) : () => Get(WithQuery(SearchUrl, body));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var usePost = SearchSupportsPost;
        for (var number = 1; ; number++)
        {
            JsonDocument document;
            Uri pageUrl;
            try
            {
                (document, pageUrl) = await FetchPageAsync(next, number, cancellationToken).ConfigureAwait(false);
            }
            catch (DeepSentinelException ex) when (number == 1 && usePost && ex.Data.Contains(MethodNotAllowedKey))
            {
                // Some APIs only implement GET search: fall back once, on the first page.
                _reporter.Verbose("The STAC API does not accept POST searches; using GET.");
                usePost = false;
                next = () => Get(WithQuery(SearchUrl, body));
                (document, pageUrl) = await FetchPageAsync(next, number, cancellationToken).ConfigureAwait(false);
            }

            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("features", out var features) || features.ValueKind != JsonValueKind.Array)
            {
                document.Dispose();
                throw new DeepSentinelException(ErrorIds.StacResponseMalformed, ErrorKind.InvalidData, $"Search page {number} from {SecretRedactor.Redact(pageUrl)} is not a GeoJSON FeatureCollection (no \"features\" array).", pageUrl.AbsoluteUri);
            }

            var nextLink = root.TryGetProperty("links", out var links) && links.ValueKind == JsonValueKind.Array
                ? links.EnumerateArray().FirstOrDefault(l => StacItemReader.GetString(l, "rel") == "next")
                : default;
            var nextRequest = nextLink.ValueKind == JsonValueKind.Object ? BuildNext(nextLink, body, pageUrl) : null;

            yield return new StacPage(document, features.EnumerateArray().ToArray(), pageUrl, number);

            if (nextRequest is null)
            {
                yield break;
            }

            // A server that hands out the same next link twice would page forever.
            if (!seen.Add(nextRequest.Value.Signature))
            {
                _reporter.Warning($"The STAC API returned the same next link twice after page {number}; stopping the search there.");
                yield break;
            }

            next = nextRequest.Value.Factory;
        }
    }

    private Func<HttpRequestMessage> Count(Func<HttpRequestMessage> factory) => _counter is null ? factory : _counter.Counting(factory);

    private const string MethodNotAllowedKey = "DeepSentinel.MethodNotAllowed";

    private async Task<(JsonDocument, Uri)> FetchPageAsync(Func<HttpRequestMessage> request, int number, CancellationToken cancellationToken)
    {
        using var response = await _http.SendAsync(Count(request), cancellationToken).ConfigureAwait(false);
        var url = response.RequestMessage?.RequestUri ?? SearchUrl;
        if (response.StatusCode == HttpStatusCode.MethodNotAllowed)
        {
            var ex = new DeepSentinelException(ErrorIds.StacRequestFailed, ErrorKind.ProtocolError, $"{SecretRedactor.Redact(url)} does not allow this search method.", url.AbsoluteUri);
            ex.Data[MethodNotAllowedKey] = true;
            throw ex;
        }

        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw StacJson.StatusError(response.StatusCode, SecretRedactor.Redact(url), $"search page {number}", bytes);
        }

        _counter?.CountPage();
        _reporter.Verbose($"Search page {number}: {bytes.Length:N0} bytes from {SecretRedactor.Redact(url)}.");
        return (StacJson.Parse(bytes, SecretRedactor.Redact(url), $"search page {number}"), url);
    }

    private (Func<HttpRequestMessage> Factory, string Signature)? BuildNext(JsonElement link, JsonObject originalBody, Uri pageUrl)
    {
        var href = StacItemReader.GetString(link, "href");
        var url = href is null ? null : StacItemReader.Resolve(href, pageUrl);
        if (url is null)
        {
            return null;
        }

        var method = StacItemReader.GetString(link, "method")?.ToUpperInvariant() ?? "GET";
        var headers = link.TryGetProperty("headers", out var h) && h.ValueKind == JsonValueKind.Object
            ? h.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String).ToDictionary(p => p.Name, p => p.Value.GetString()!)
            : [];
        if (method == "POST")
        {
            var linkBody = link.TryGetProperty("body", out var b) && b.ValueKind == JsonValueKind.Object ? JsonNode.Parse(b.GetRawText())!.AsObject() : new JsonObject();
            var merge = link.TryGetProperty("merge", out var m) && m.ValueKind == JsonValueKind.True;
            JsonObject body;
            if (merge)
            {
                body = (JsonObject)originalBody.DeepClone();
                foreach (var (key, value) in linkBody)
                {
                    body[key] = value?.DeepClone();
                }
            }
            else
            {
                body = linkBody;
            }

            var json = body.ToJsonString(BodyJson);
            return (() => Post(url, body, headers), "POST " + url.AbsoluteUri + " " + json);
        }

        return (() => Get(url, headers), "GET " + url.AbsoluteUri);
    }

    private HttpRequestMessage Get(Uri url, IReadOnlyDictionary<string, string>? extraHeaders = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        AddHeaders(request, extraHeaders);
        return request;
    }

    private HttpRequestMessage Post(Uri url, JsonObject body, IReadOnlyDictionary<string, string>? extraHeaders = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(body.ToJsonString(BodyJson), Encoding.UTF8, JsonMediaType),
        };
        AddHeaders(request, extraHeaders);
        return request;
    }

    private void AddHeaders(HttpRequestMessage request, IReadOnlyDictionary<string, string>? extraHeaders)
    {
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(JsonMediaType));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/geo+json"));
        foreach (var (name, value) in _headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        if (extraHeaders is not null)
        {
            foreach (var (name, value) in extraHeaders)
            {
                request.Headers.Remove(name);
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }
    }

    /// <summary>Encodes a search body as GET parameters (STAC API item search, GET binding).</summary>
    internal static Uri WithQuery(Uri url, JsonObject body)
    {
        var parts = new List<string>();
        foreach (var (key, value) in body)
        {
            if (value is null)
            {
                continue;
            }

            string text = key switch
            {
                "collections" or "bbox" or "ids" when value is JsonArray array => string.Join(',', array.Select(v => v is JsonValue jv && jv.TryGetValue<string>(out var s) ? s : v!.ToJsonString())),
                _ when value is JsonValue v && v.TryGetValue<string>(out var s) => s,
                _ => value.ToJsonString(BodyJson),
            };
            parts.Add(Uri.EscapeDataString(key) + "=" + Uri.EscapeDataString(text));
        }

        var builder = new UriBuilder(url) { Query = string.Join('&', parts) };
        return builder.Uri;
    }

    private Uri? FindLink(JsonElement links, string rel) =>
        links.EnumerateArray()
            .Where(l => StacItemReader.GetString(l, "rel") == rel)
            .Select(l => StacItemReader.GetString(l, "href"))
            .Where(h => h is not null)
            .Select(h => StacItemReader.Resolve(h!, Root))
            .FirstOrDefault(u => u is not null);
}
