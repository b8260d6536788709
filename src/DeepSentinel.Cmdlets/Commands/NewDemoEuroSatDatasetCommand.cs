using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Demo;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Writes a small synthetic dataset in EuroSAT's layout (one folder of 13-band GeoTIFFs or RGB JPEGs per class) for offline demos and tests.</para>
/// <para type="description">Each class has its own spectrum and texture, with per-image brightness and per-pixel noise: separable, synthetic, and no stand-in for EuroSAT's accuracy.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "DemoEuroSatDataset", SupportsShouldProcess = true)]
[OutputType(typeof(DemoEuroSatDataset))]
public sealed class NewDemoEuroSatDatasetCommand : AsyncPSCmdlet
{
    private DemoEuroSatOptions? _options;

    /// <summary>Where to write.</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "The dataset's root folder (created if missing; images of the same names are replaced).")]
    [Alias("Path")]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = string.Empty;

    /// <summary>Classes.</summary>
    [Parameter(HelpMessage = "EuroSAT class names to generate (default AnnualCrop, Forest, Residential, SeaLake; 2-10 of EuroSAT's ten).")]
    [ValidateSet("AnnualCrop", "Forest", "HerbaceousVegetation", "Highway", "Industrial", "Pasture", "PermanentCrop", "Residential", "River", "SeaLake")]
    public string[] Class { get; set; } = ["AnnualCrop", "Forest", "Residential", "SeaLake"];

    /// <summary>Images per class.</summary>
    [Parameter(HelpMessage = "Images per class (default 20).")]
    [ValidateRange(1, 10000)]
    public int ImagesPerClass { get; set; } = 20;

    /// <summary>Image size.</summary>
    [Parameter(HelpMessage = "Side of an image in pixels (default 64, as EuroSAT).")]
    [ValidateRange(8, 1024)]
    public int Size { get; set; } = 64;

    /// <summary>Format.</summary>
    [Parameter(HelpMessage = "GeoTiff (default; 13 UInt16 bands in EuroSAT MS's order), Jpeg or Png (8-bit R,G,B as EuroSAT's RGB variant).")]
    public DemoImageFormat Format { get; set; } = DemoImageFormat.GeoTiff;

    /// <summary>Describe bands.</summary>
    [Parameter(HelpMessage = "Write band descriptions (B01 ... B12) into the GeoTIFFs; EuroSAT's own files have none.")]
    public SwitchParameter DescribeBands { get; set; }

    /// <summary>Seed.</summary>
    [Parameter(HelpMessage = "Seed of the pixels (default 1).")]
    public int Seed { get; set; } = 1;

    /// <inheritdoc />
    protected override void ResolveInput()
    {
        _options = new DemoEuroSatOptions
        {
            Destination = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Destination),
            Classes = Class,
            ImagesPerClass = ImagesPerClass,
            Size = Size,
            Format = Format,
            DescribeBands = DescribeBands.IsPresent,
            Seed = Seed,
        };
        _options.Validate();
    }

    /// <inheritdoc />
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var options = _options!;
        if (!await ShouldProcessAsync(options.Destination, $"Write {options.Classes.Count * options.ImagesPerClass} synthetic EuroSAT-style {options.Format} images").ConfigureAwait(false))
        {
            return;
        }

        var reporter = Reporter;
        Emit(await Task.Run(() => DemoEuroSatGenerator.Generate(options, reporter, cancellationToken), cancellationToken).ConfigureAwait(false));
    }
}
