using DeepSentinel.Core.Stac;

namespace DeepSentinel.Core.Scenes;

/// <summary>Where to search and what for: the whole input of <see cref="SceneSearchService"/>.</summary>
public sealed record SceneSearchRequest
{
    /// <summary>A known provider; null with no <see cref="StacUrl"/> means Planetary Computer.</summary>
    public StacProvider? Provider { get; init; }

    /// <summary>
    /// A STAC API root. With <see cref="Provider"/> it overrides that provider's URL (a mirror or a
    /// test server); alone it means any STAC API, searched with conventional collection names.
    /// </summary>
    public Uri? StacUrl { get; init; }

    /// <summary>A static catalog: a folder, a catalog.json path or an http(s) URL. Excludes the two above.</summary>
    public string? Catalog { get; init; }

    /// <summary>
    /// STAC-GeoParquet item tables (stac-geoparquet's layout, as Planetary Computer exports its
    /// collections): local .parquet files or objects in a store (az://, https blob URL, gs://),
    /// e.g. one per collection. Excludes <see cref="Catalog"/>; with <see cref="Provider"/> only
    /// to say whose hrefs to sign.
    /// </summary>
    public IReadOnlyList<string>? ItemTables { get; init; }

    /// <summary>Credentials for item tables in a store (default: the environment's).</summary>
    public Storage.StorageOptions? Storage { get; init; }

    /// <summary>The filters.</summary>
    public SceneQuery Query { get; init; } = new();

    /// <summary>A Planetary Computer subscription key (else the PC_SDK_SUBSCRIPTION_KEY variable, else none).</summary>
    public string? SubscriptionKey { get; init; }

    /// <summary>The SAS token endpoint for signing (default: Planetary Computer's).</summary>
    public Uri? SasTokenEndpoint { get; init; }

    /// <summary>Whether to sign asset hrefs for providers that need it.</summary>
    public bool SignAssets { get; init; } = true;

    /// <summary>Items per page requested from the API (1-1000).</summary>
    public int PageSize { get; init; } = 100;

    /// <summary>Request timeout per attempt; null keeps the services' default.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Counts the STAC requests this search makes (null: not counted). Not part of the query.</summary>
    public StacRequestCounter? RequestCounter { get; init; }

    /// <summary>Keep each scene's item JSON as the API sent it (for the scene cache).</summary>
    internal bool KeepItemJson { get; init; }

    /// <inheritdoc />
    public override string ToString() => Diagnostics.SecretRedactor.Redact(
        ItemTables is { Count: > 0 } tables ? $"item table{(tables.Count > 1 ? "s" : string.Empty)} {string.Join(", ", tables.Select(t => Diagnostics.SecretRedactor.Redact(t)))}"
        : Catalog is not null ? $"catalog {Catalog}" : $"{Provider?.ToString() ?? "STAC"} {StacUrl}".Trim());
}
