using System.Runtime.CompilerServices;
using System.Text.Json;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Http;

namespace DeepSentinel.Core.Stac;

/// <summary>An item found in a static catalog, with where it was read from and its parent collection.</summary>
internal sealed record CatalogItem(JsonElement Item, Uri Location, string? ParentCollection);

/// <summary>
/// Walks a static STAC catalog, on disk or over HTTP: follows child and item links depth-first
/// and yields items as they are read, so the first scene arrives before the walk ends.
/// </summary>
internal sealed class StaticCatalogReader
{
    private const int ItemReadConcurrency = 8;
    private readonly ResilientHttpClient _http;
    private readonly IOperationReporter _reporter;

    public StaticCatalogReader(ResilientHttpClient http, IOperationReporter reporter)
    {
        _http = http;
        _reporter = reporter;
    }

    /// <summary>Collection ids met during the walk (catalog nodes of type Collection, and items' collection).</summary>
    public HashSet<string> SeenCollections { get; } = new(StringComparer.Ordinal);

    /// <summary>Turns a user's -Catalog value (directory, file or URL) into the root document's URI.</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.CatalogUnreadable"/>.</exception>
    public static Uri ResolveRoot(string catalog)
    {
        if (Uri.TryCreate(catalog, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
        {
            return uri;
        }

        var path = catalog.StartsWith("file:", StringComparison.OrdinalIgnoreCase) ? new Uri(catalog).LocalPath : Path.GetFullPath(catalog);
        if (Directory.Exists(path))
        {
            var candidate = new[] { "catalog.json", "collection.json" }.Select(n => Path.Combine(path, n)).FirstOrDefault(File.Exists);
            if (candidate is null)
            {
                throw new DeepSentinelException(ErrorIds.CatalogUnreadable, ErrorKind.ObjectNotFound, $"The folder '{path}' has no catalog.json or collection.json. Give the catalog's root file or folder.", catalog);
            }

            path = candidate;
        }

        if (!File.Exists(path))
        {
            throw new DeepSentinelException(ErrorIds.CatalogUnreadable, ErrorKind.ObjectNotFound, $"The catalog '{path}' does not exist.", catalog);
        }

        return new Uri(path);
    }

    /// <summary>Yields every item reachable from <paramref name="root"/>.</summary>
    public async IAsyncEnumerable<CatalogItem> WalkAsync(Uri root, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<(Uri Url, string? Collection, bool IsRoot)>();
        stack.Push((root, null, true));
        while (stack.Count > 0)
        {
            var (url, parentCollection, isRoot) = stack.Pop();
            if (!visited.Add(url.AbsoluteUri))
            {
                continue;
            }

            JsonDocument document;
            try
            {
                document = await ReadAsync(url, cancellationToken).ConfigureAwait(false);
            }
            catch (DeepSentinelException ex) when (!isRoot)
            {
                _reporter.Error(ex);
                continue;
            }

            using (document)
            {
                var node = document.RootElement;
                var type = StacItemReader.GetString(node, "type");
                switch (type)
                {
                    case "Feature":
                        yield return new CatalogItem(node.Clone(), url, parentCollection);
                        break;
                    case "FeatureCollection":
                        if (node.TryGetProperty("features", out var features) && features.ValueKind == JsonValueKind.Array)
                        {
                            foreach (var feature in features.EnumerateArray())
                            {
                                yield return new CatalogItem(feature.Clone(), url, parentCollection);
                            }
                        }

                        break;
                    case "Catalog" or "Collection":
                        var collection = type == "Collection" ? StacItemReader.GetString(node, "id") : parentCollection;
                        if (type == "Collection" && collection is not null)
                        {
                            SeenCollections.Add(collection);
                        }

                        var links = node.TryGetProperty("links", out var l) && l.ValueKind == JsonValueKind.Array ? l.EnumerateArray().ToArray() : [];
                        var items = Links(links, "item", url).ToArray();
                        // Items of one catalog node are read a few at a time, in order.
                        for (var i = 0; i < items.Length; i += ItemReadConcurrency)
                        {
                            var batch = items.Skip(i).Take(ItemReadConcurrency).Where(u => visited.Add(u.AbsoluteUri)).ToArray();
                            var reads = batch.Select(u => TryReadAsync(u, cancellationToken)).ToArray();
                            for (var j = 0; j < reads.Length; j++)
                            {
                                using var itemDocument = await reads[j].ConfigureAwait(false);
                                if (itemDocument is not null)
                                {
                                    yield return new CatalogItem(itemDocument.RootElement.Clone(), batch[j], collection);
                                }
                            }
                        }

                        // Push children in reverse so they are visited in document order.
                        foreach (var child in Links(links, "child", url).Reverse())
                        {
                            stack.Push((child, collection, false));
                        }

                        break;
                    default:
                        var problem = $"'{SecretRedactor.Redact(url)}' is not a STAC catalog, collection or item (its \"type\" is '{type ?? "missing"}').";
                        if (isRoot)
                        {
                            throw new DeepSentinelException(ErrorIds.NotAStacEndpoint, ErrorKind.InvalidData, problem + " Give the catalog's root catalog.json.", url.AbsoluteUri);
                        }

                        _reporter.Error(new DeepSentinelException(ErrorIds.CatalogUnreadable, ErrorKind.InvalidData, problem, url.AbsoluteUri));
                        break;
                }
            }
        }
    }

    private async Task<JsonDocument?> TryReadAsync(Uri url, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadAsync(url, cancellationToken).ConfigureAwait(false);
        }
        catch (DeepSentinelException ex)
        {
            _reporter.Error(ex);
            return null;
        }
    }

    private async Task<JsonDocument> ReadAsync(Uri url, CancellationToken cancellationToken)
    {
        if (url.IsFile)
        {
            byte[] bytes;
            try
            {
                bytes = await File.ReadAllBytesAsync(url.LocalPath, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new DeepSentinelException(ErrorIds.CatalogUnreadable, ex is UnauthorizedAccessException ? ErrorKind.PermissionDenied : ErrorKind.ObjectNotFound, $"Could not read '{url.LocalPath}': {ex.Message}", url.LocalPath, ex);
            }

            return StacJson.Parse(bytes, url.LocalPath, "catalog document");
        }

        try
        {
            return await StacJson.SendAsync(_http, () => new HttpRequestMessage(HttpMethod.Get, url), "catalog document", cancellationToken).ConfigureAwait(false);
        }
        catch (DeepSentinelException ex) when (ex.ErrorId is ErrorIds.NotAStacEndpoint or ErrorIds.StacRequestFailed && ex.Kind is ErrorKind.ObjectNotFound or ErrorKind.PermissionDenied)
        {
            throw new DeepSentinelException(ErrorIds.CatalogUnreadable, ex.Kind, ex.Message, ex.Target, ex);
        }
    }

    private static IEnumerable<Uri> Links(JsonElement[] links, string rel, Uri baseUri)
    {
        foreach (var link in links)
        {
            if (StacItemReader.GetString(link, "rel") == rel && StacItemReader.GetString(link, "href") is { } href && StacItemReader.Resolve(href, baseUri) is { } uri)
            {
                yield return uri;
            }
        }
    }
}
