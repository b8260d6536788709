using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Security;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Services;
using DeepSentinel.Core.Stac;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Searches STAC APIs, static catalogs and STAC-GeoParquet item tables for Sentinel-1 and Sentinel-2 scenes.</para>
/// <para type="description">Writes one SentinelScene per scene, as results arrive. Filters go to the server where it supports them.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "SentinelScene", DefaultParameterSetName = ProviderSet)]
[OutputType(typeof(SentinelScene))]
public sealed class GetSentinelSceneCommand : AsyncPSCmdlet
{
    /// <summary>Search a STAC API (a known provider, or any API by URL).</summary>
    public const string ProviderSet = "Provider";

    /// <summary>Search a static STAC catalog.</summary>
    public const string CatalogSet = "Catalog";

    /// <summary>Search STAC-GeoParquet item tables.</summary>
    public const string ItemTableSet = "ItemTable";

    /// <summary>The STAC API to search.</summary>
    [Parameter(ParameterSetName = ProviderSet, HelpMessage = "The STAC API to search: PlanetaryComputer (default), EarthSearch or CopernicusDataSpace.")]
    public StacProvider Provider { get; set; } = StacProvider.PlanetaryComputer;

    /// <summary>A STAC API root URL.</summary>
    [Parameter(ParameterSetName = ProviderSet, HelpMessage = "The root URL of a STAC API. Alone: any STAC API. With -Provider: that provider's API at another address (a mirror).")]
    [ValidateNotNull]
    public Uri? StacUrl { get; set; }

    /// <summary>A static catalog.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CatalogSet, HelpMessage = "A static STAC catalog: a folder holding catalog.json, the path of a catalog.json, or its http(s) URL. Child and item links are followed.")]
    [ValidateNotNullOrEmpty]
    public string Catalog { get; set; } = string.Empty;

    /// <summary>STAC-GeoParquet item tables.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ItemTableSet, HelpMessage = "STAC-GeoParquet item tables (stac-geoparquet's layout, as Planetary Computer exports its collections), e.g. one per collection: local .parquet files, or objects at az://, https://<account>.blob.core.windows.net/ (a SAS query is allowed) or gs:// URLs, read in ranged requests.")]
    [ValidateNotNullOrEmpty]
    public string[] ItemTable { get; set; } = [];

    /// <summary>The area as a box.</summary>
    [Parameter(Position = 0, HelpMessage = "Only scenes intersecting this box: west, south, east, north in WGS 84 degrees (longitude first).")]
    [ValidateCount(4, 4)]
    [Alias("Bbox")]
    public double[]? BoundingBox { get; set; }

    /// <summary>The area as a geometry.</summary>
    [Parameter(HelpMessage = "Only scenes intersecting this geometry: GeoJSON (a Geometry, Feature or FeatureCollection) or WKT, in WGS 84 longitude/latitude.")]
    [ValidateNotNullOrEmpty]
    public string? Intersects { get; set; }

    /// <summary>Earliest acquisition time.</summary>
    [Parameter(HelpMessage = "Only scenes acquired at or after this time. A time without a zone is taken as UTC.")]
    public DateTime? Start { get; set; }

    /// <summary>Latest acquisition time.</summary>
    [Parameter(HelpMessage = "Only scenes acquired at or before this time. A time without a zone is taken as UTC; a bare date means its midnight.")]
    public DateTime? End { get; set; }

    /// <summary>Missions to search.</summary>
    [Parameter(HelpMessage = "S1, S2 or both (the default): searches the provider's default collection for each.")]
    public SentinelMission[]? Mission { get; set; }

    /// <summary>Collections to search.</summary>
    [Parameter(HelpMessage = "STAC collection ids to search instead of the provider's defaults, e.g. sentinel-1-grd.")]
    [ArgumentCompleter(typeof(CollectionCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Collection { get; set; }

    /// <summary>Maximum scene cloud cover.</summary>
    [Parameter(HelpMessage = "Only Sentinel-2 scenes with at most this cloud cover, in percent (0-100).")]
    [ValidateRange(0.0, 100.0)]
    public double? MaxCloudCover { get; set; }

    /// <summary>Orbit direction.</summary>
    [Parameter(HelpMessage = "Only passes in this direction: Ascending or Descending.")]
    public OrbitState? OrbitState { get; set; }

    /// <summary>Relative orbit.</summary>
    [Parameter(HelpMessage = "Only scenes of this relative orbit (1-175).")]
    [ValidateRange(1, 175)]
    public int? RelativeOrbit { get; set; }

    /// <summary>Polarisations required.</summary>
    [Parameter(HelpMessage = "Only Sentinel-1 scenes that acquired all of these polarisations, e.g. VV, VH.")]
    [ValidateSet("VV", "VH", "HH", "HV", IgnoreCase = true)]
    public string[]? Polarization { get; set; }

    /// <summary>MGRS tiles.</summary>
    [Parameter(HelpMessage = "Only Sentinel-2 scenes on these MGRS tiles, e.g. 31UDQ (a leading T is allowed).")]
    [ValidateNotNullOrEmpty]
    public string[]? MgrsTile { get; set; }

    /// <summary>Stop after N scenes.</summary>
    [Parameter(HelpMessage = "Stop after this many scenes; no further pages are requested.")]
    [ValidateRange(1, int.MaxValue)]
    public int? First { get; set; }

    /// <summary>Planetary Computer subscription key.</summary>
    [Parameter(ParameterSetName = ProviderSet, HelpMessage = "A Planetary Computer subscription key, as a SecureString. Without it, the PC_SDK_SUBSCRIPTION_KEY environment variable is used if set. Never written anywhere.")]
    [Parameter(ParameterSetName = ItemTableSet, HelpMessage = "A Planetary Computer subscription key, as a SecureString. Without it, the PC_SDK_SUBSCRIPTION_KEY environment variable is used if set. Never written anywhere.")]
    public SecureString? SubscriptionKey { get; set; }

    /// <summary>SAS token endpoint.</summary>
    [Parameter(ParameterSetName = ProviderSet, HelpMessage = "The SAS token endpoint used to sign Planetary Computer asset URLs (default: Planetary Computer's public endpoint).")]
    [Parameter(ParameterSetName = ItemTableSet, HelpMessage = "The SAS token endpoint used to sign Planetary Computer asset URLs (default: Planetary Computer's public endpoint).")]
    [ValidateNotNull]
    public Uri? SasTokenEndpoint { get; set; }

    /// <summary>Skip signing.</summary>
    [Parameter(ParameterSetName = ProviderSet, HelpMessage = "Do not sign asset URLs (the scenes' SignedHref stays empty). Use it when only metadata is needed.")]
    [Parameter(ParameterSetName = ItemTableSet, HelpMessage = "Do not sign asset URLs (the scenes' SignedHref stays empty). Use it when only metadata is needed.")]
    public SwitchParameter NoSign { get; set; }

    /// <summary>Page size.</summary>
    [Parameter(HelpMessage = "Items per page requested from the STAC API (1-1000, default 100).")]
    [ValidateRange(1, 1000)]
    public int PageSize { get; set; } = 100;

    /// <summary>Per-request timeout.</summary>
    [Parameter(HelpMessage = "Seconds one HTTP request may take before it is retried (default 30).")]
    [ValidateRange(1, 3600)]
    public int? TimeoutSec { get; set; }

    private SceneSearchRequest? _request;

    /// <inheritdoc />
    protected override void ResolveInput() => _request = BuildRequest();

    /// <inheritdoc />
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var service = new SceneSearchService(CoreServices.Default);
        await foreach (var scene in service.SearchAsync(_request!, Reporter, cancellationToken).ConfigureAwait(false))
        {
            Emit(scene);
        }
    }

    private SceneSearchRequest BuildRequest()
    {
        var query = new SceneQuery
        {
            BoundingBox = BoundingBox is null ? null : Core.Geometry.BoundingBox.From(BoundingBox),
            Intersects = Intersects is null ? null : GeoJson.ParseUserGeometry(Intersects),
            Start = Start is { } s ? AsUtc(s) : null,
            End = End is { } e ? AsUtc(e) : null,
            Missions = Mission ?? [],
            Collections = Collection ?? [],
            MaxCloudCover = MaxCloudCover,
            OrbitState = OrbitState,
            RelativeOrbit = RelativeOrbit,
            Polarizations = Polarization ?? [],
            MgrsTiles = MgrsTile ?? [],
            First = First,
        };

        if (ParameterSetName == ItemTableSet)
        {
            return new SceneSearchRequest
            {
                ItemTables = ItemTable.Select(ResolveTable).ToArray(),
                Query = query,
                SubscriptionKey = SubscriptionKey is null ? null : Reveal(SubscriptionKey),
                SasTokenEndpoint = SasTokenEndpoint,
                SignAssets = !NoSign.IsPresent,
                Timeout = TimeoutSec is { } tableTimeout ? TimeSpan.FromSeconds(tableTimeout) : null,
            };
        }

        if (ParameterSetName == CatalogSet)
        {
            var isUrl = Uri.TryCreate(Catalog, UriKind.Absolute, out var url) && url.Scheme is "http" or "https";
            return new SceneSearchRequest
            {
                Catalog = isUrl ? Catalog : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Catalog),
                Query = query,
                PageSize = PageSize,
                Timeout = TimeoutSec is { } t ? TimeSpan.FromSeconds(t) : null,
            };
        }

        return new SceneSearchRequest
        {
            Provider = MyInvocation.BoundParameters.ContainsKey(nameof(Provider)) || StacUrl is null ? Provider : null,
            StacUrl = StacUrl,
            Query = query,
            SubscriptionKey = SubscriptionKey is null ? null : Reveal(SubscriptionKey),
            SasTokenEndpoint = SasTokenEndpoint,
            SignAssets = !NoSign.IsPresent,
            PageSize = PageSize,
            Timeout = TimeoutSec is { } timeout ? TimeSpan.FromSeconds(timeout) : null,
        };
    }

    private string ResolveTable(string table) =>
        Uri.TryCreate(table, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" or "az" or "gs" ? table : SessionState.Path.GetUnresolvedProviderPathFromPSPath(table);

    // PowerShell's [datetime] from a string has Kind Unspecified: DeepSentinel reads that as UTC,
    // so a script gives the same results on every machine.
    private static DateTimeOffset AsUtc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Local => new DateTimeOffset(value).ToUniversalTime(),
        _ => new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc)),
    };

    private static string Reveal(SecureString secure)
    {
        var pointer = Marshal.SecureStringToGlobalAllocUnicode(secure);
        try
        {
            return Marshal.PtrToStringUni(pointer) ?? string.Empty;
        }
        finally
        {
            Marshal.ZeroFreeGlobalAllocUnicode(pointer);
        }
    }
}
