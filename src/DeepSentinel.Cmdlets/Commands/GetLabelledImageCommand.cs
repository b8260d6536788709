using System.Management.Automation;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.FineTuning;

namespace DeepSentinel.Cmdlets.Commands;

/// <summary>
/// <para type="synopsis">Reads a dataset in EuroSAT's layout (one folder of GeoTIFF, JPEG or PNG images per class) as labelled images for Split-LabelledCorpus, Start-FineTuning and Invoke-ClassPrediction.</para>
/// <para type="description">Writes one LabelledImage per usable image: its class is its folder, its id its file name. Bands come from the files' band descriptions, else -BandOrder, else EuroSAT's 13-band order; EuroSAT's L1C bands map onto the corpus's 12 L2A bands (B10 dropped). Unusable images are skipped with a warning.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "LabelledImage")]
[OutputType(typeof(LabelledImage))]
public sealed class GetLabelledImageCommand : AsyncPSCmdlet
{
    /// <summary>Dataset roots.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, HelpMessage = "The dataset's root folder: one sub-folder per class holding its images (EuroSAT: AnnualCrop/AnnualCrop_1.tif ...).")]
    [Alias("PSPath", "FullName")]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    /// <summary>Classes.</summary>
    [Parameter(HelpMessage = "Only these classes (class folder names); default every class folder. A name without a folder is a DatasetInvalid error.")]
    [ValidateNotNullOrEmpty]
    public string[] Class { get; set; } = [];

    /// <summary>Bands to feed.</summary>
    [Parameter(HelpMessage = "The Sentinel-2 bands to feed (e.g. B04,B03,B02 for RGB from the 13-band files); default every file band that has a corpus band (B10 never). The other corpus channels are nodata.")]
    [ValidateNotNullOrEmpty]
    public string[] Band { get; set; } = [];

    /// <summary>File band order.</summary>
    [Parameter(HelpMessage = "The files' bands in file order, for files without band descriptions; default: 13 bands are EuroSAT's order (B01-B08, B08A, B09, B10, B11, B12), 12 the corpus's, 3 are R,G,B (B04,B03,B02).")]
    [ValidateNotNullOrEmpty]
    public string[] BandOrder { get; set; } = [];

    /// <summary>Patch size.</summary>
    [Parameter(HelpMessage = "Side of the square patch the images are read into, a multiple of 32 (default 64, EuroSAT's size).")]
    [ValidateRange(32, 4096)]
    public int PatchSize { get; set; } = 64;

    /// <summary>Fit.</summary>
    [Parameter(HelpMessage = "What to do with an image whose size is not -PatchSize: None (default; skip it with a warning), Pad (centre it on nodata, crop a larger one; keeps the 10 m pixel) or Resize (bilinear, changes the pixel size).")]
    public ImageFit Fit { get; set; } = ImageFit.None;

    /// <summary>Byte scale.</summary>
    [Parameter(HelpMessage = "Factor from 8-bit values (RGB images) to reflectance x 10000 (default 3000/255, about 11.76: 255 is reflectance 0.30, an assumed display stretch).")]
    [ValidateRange(1e-6, 1e6)]
    public double ByteScale { get; set; } = 3000.0 / 255.0;

    /// <summary>DN offset.</summary>
    [Parameter(HelpMessage = "Added to 16-bit DNs (default 0, as EuroSAT; -1000 for L1C products of processing baseline 04.00 and later).")]
    [ValidateRange(-10000, 10000)]
    public int RadiometricOffset { get; set; }

    /// <summary>Level.</summary>
    [Parameter(HelpMessage = "The processing level of 16-bit images, recorded on the classifier card: L1C (default; EuroSAT MS, top-of-atmosphere) or L2A (surface reflectance).")]
    [ValidateSet("L1C", "L2A")]
    public string Level { get; set; } = "L1C";

    /// <inheritdoc />
    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (var path in Path)
        {
            var options = new LabelledImageOptions
            {
                Root = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path),
                Classes = Class.Length > 0 ? Class : null,
                Bands = Band.Length > 0 ? Band : null,
                BandOrder = BandOrder.Length > 0 ? BandOrder : null,
                PatchSize = PatchSize,
                Fit = Fit,
                ByteScale = ByteScale,
                RadiometricOffset = RadiometricOffset,
                Level = Level,
            };
            try
            {
                foreach (var image in LabelledImageReader.Read(options, Reporter, cancellationToken))
                {
                    Emit(image);
                }
            }
            catch (DeepSentinelException ex) when (ex.ErrorId == ErrorIds.DatasetInvalid)
            {
                // One unusable dataset is its error; the other paths are read.
                EmitError(ex);
            }
        }

        return Task.CompletedTask;
    }
}
