using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Demo;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Writes a small synthetic Sentinel-1 + Sentinel-2 STAC catalog of COGs for offline demos and tests.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "DemoCatalog", SupportsShouldProcess = true)]
[OutputType(typeof(DemoCatalog))]
public sealed class NewDemoCatalogCommand : AsyncPSCmdlet
{
    private DemoCatalogOptions? _options;

    /// <summary>Where to write.</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "The folder to write the catalog into (created if missing).")]
    [Alias("Path")]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = string.Empty;

    /// <summary>Tile size.</summary>
    [Parameter(HelpMessage = "Sentinel-2 tile width and height in 10 m pixels; a multiple of 6 (default 1098, a tenth of a real tile).")]
    [ValidateRange(300, 10980)]
    public int TileSize { get; set; } = 1098;

    /// <summary>Tiles.</summary>
    [Parameter(HelpMessage = "Number of side-by-side Sentinel-2 tiles, overlapping by 10 % (default 2).")]
    [ValidateRange(1, 16)]
    public int Tiles { get; set; } = 2;

    /// <summary>S2 scenes per tile.</summary>
    [Parameter(HelpMessage = "Sentinel-2 acquisitions per tile, 5 days apart (default 4).")]
    [ValidateRange(1, 100)]
    public int S2ScenesPerTile { get; set; } = 4;

    /// <summary>S1 scenes.</summary>
    [Parameter(HelpMessage = "Sentinel-1 acquisitions over the area, 3 days apart, alternating passes (default 5).")]
    [ValidateRange(1, 100)]
    public int S1Scenes { get; set; } = 5;

    /// <summary>Centre longitude.</summary>
    [Parameter(HelpMessage = "Longitude of the area's centre in degrees (default 2.35, Paris).")]
    [ValidateRange(-180.0, 180.0)]
    public double Longitude { get; set; } = 2.35;

    /// <summary>Centre latitude.</summary>
    [Parameter(HelpMessage = "Latitude of the area's centre in degrees (default 48.85, Paris).")]
    [ValidateRange(-80.0, 84.0)]
    public double Latitude { get; set; } = 48.85;

    /// <summary>First day.</summary>
    [Parameter(HelpMessage = "The first acquisition day (default 2019-08-01); later scenes follow it.")]
    public DateTime? Start { get; set; }

    /// <summary>Seed.</summary>
    [Parameter(HelpMessage = "Seed of the synthetic landscape, clouds and speckle (default 42).")]
    public int Seed { get; set; } = 42;

    /// <summary>Rebuild.</summary>
    [Parameter(HelpMessage = "Rebuild the catalog even when the folder already holds one made with the same options.")]
    public SwitchParameter Force { get; set; }

    /// <inheritdoc />
    protected override void ResolveInput()
    {
        var options = new DemoCatalogOptions
        {
            Destination = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Destination),
            TileSize = TileSize,
            Tiles = Tiles,
            S2ScenesPerTile = S2ScenesPerTile,
            S1Scenes = S1Scenes,
            Longitude = Longitude,
            Latitude = Latitude,
            Seed = Seed,
            Force = Force.IsPresent,
        };
        _options = Start is { } start ? options with { Start = new DateTimeOffset(DateTime.SpecifyKind(start.Date, DateTimeKind.Utc)) } : options;
        _options.Validate();
    }

    /// <inheritdoc />
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var options = _options!;
        if (!await ShouldProcessAsync(options.Destination, $"Write a synthetic catalog of {options.Tiles * options.S2ScenesPerTile} Sentinel-2 and {options.S1Scenes} Sentinel-1 scenes").ConfigureAwait(false))
        {
            return;
        }

        var reporter = Reporter;
        Emit(await Task.Run(() => new DemoCatalogGenerator().Generate(options, reporter, cancellationToken), cancellationToken).ConfigureAwait(false));
    }
}
