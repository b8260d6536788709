using System.Globalization;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Gdal;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.FineTuning;

/// <summary>How an image whose size is not the patch size is made to fit.</summary>
public enum ImageFit
{
    /// <summary>Not at all: an image of another size is skipped with a warning (default; EuroSAT's 64 x 64 px need nothing).</summary>
    None,

    /// <summary>Centred on a patch of nodata (which the engine fills with each band's mean); a larger image is centre-cropped. Keeps the 10 m pixel.</summary>
    Pad,

    /// <summary>Resampled bilinearly by GDAL to the patch size (changes the ground size of a pixel).</summary>
    Resize,
}

/// <summary>A patch whose Sentinel-2 bands are named (an EuroSAT-style image): the fine-tuning checks them against a classifier's card.</summary>
public interface IBandDescribedPatch
{
    /// <summary>The Sentinel-2 bands the patch measures, in corpus order (the other corpus channels are nodata).</summary>
    IReadOnlyList<string> InputBands { get; }

    /// <summary>What the values are, e.g. "L1C" (top-of-atmosphere), "L2A", "RGB" (8-bit display values).</summary>
    string InputLevel { get; }
}

/// <summary>
/// One image of an EuroSAT-style dataset (a class folder of GeoTIFFs, JPEGs or PNGs), as
/// Get-LabelledImage writes it: its class is its folder. It reads its pixels through GDAL when
/// fine-tuning or prediction asks for them, into the corpus's 12 Sentinel-2 channels: bands it
/// measures go to their channel (EuroSAT's 13 L1C bands by <see cref="EuroSatBands.L1CToL2A"/>,
/// RGB to B04, B03, B02), the rest are nodata. Holds no pixels and no open file.
/// </summary>
public sealed class LabelledImage : IClassLabelledPatch, IBandDescribedPatch, ILocatedPatch
{
    private readonly int[] _fileBandOf; // corpus channel -> 1-based file band, 0 when not fed

    internal LabelledImage(string path, string id, string className, string format, int width, int height, RasterDataType dataType,
        IReadOnlyList<string> fileBands, IReadOnlyList<string> inputBands, int[] fileBandOf, LabelledImageOptions options, (string Crs, double X, double Y)? location = null)
    {
        Crs = location?.Crs;
        CentreX = location?.X;
        CentreY = location?.Y;
        Path = path;
        SampleId = id;
        Class = className;
        Format = format;
        Width = width;
        Height = height;
        DataType = dataType;
        FileBands = fileBands;
        InputBands = inputBands;
        _fileBandOf = fileBandOf;
        PatchSize = options.PatchSize;
        Fit = options.Fit;
        ByteScale = options.ByteScale;
        RadiometricOffset = options.RadiometricOffset;
        ClassShares = new Dictionary<string, double>(StringComparer.Ordinal) { [className] = 1.0 };
        InputLevel = dataType == RasterDataType.Byte ? "RGB" : options.Level;
    }

    /// <summary>The file name without extension (AnnualCrop_1), as torchgeo's split files name it.</summary>
    public string SampleId { get; }

    /// <summary>The class: the name of the image's folder.</summary>
    public string Class { get; }

    /// <summary>The image file.</summary>
    public string Path { get; }

    /// <summary>GDAL's driver: GTiff, JPEG or PNG.</summary>
    public string Format { get; }

    /// <summary>The file's width in pixels.</summary>
    public int Width { get; }

    /// <summary>The file's height in pixels.</summary>
    public int Height { get; }

    /// <summary>The file's pixel type (UInt16 for EuroSAT MS, Byte for RGB).</summary>
    public RasterDataType DataType { get; }

    /// <summary>The file's bands in file order (from its band descriptions, -BandOrder or EuroSAT's order).</summary>
    public IReadOnlyList<string> FileBands { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> InputBands { get; }

    /// <inheritdoc />
    public string InputLevel { get; }

    /// <summary>Side of the square patch the image is read into.</summary>
    public int PatchSize { get; }

    /// <summary>How an image of another size fits the patch.</summary>
    public ImageFit Fit { get; }

    /// <summary>Factor applied to 8-bit values (RGB images) to bring them towards reflectance x 10000.</summary>
    public double ByteScale { get; }

    /// <summary>Added to 16-bit DNs before use (-1000 for L1C products of baseline 04.00 and later).</summary>
    public int RadiometricOffset { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> ClassShares { get; }

    /// <summary>
    /// The projected CRS (in metres) of the file's georeferencing, e.g. EPSG:32631 (EuroSAT MS's
    /// GeoTIFFs carry one); null for JPEG/PNG and for files without a geotransform or with a
    /// geographic CRS. Split-LabelledCorpus -BlockBy Grid blocks located images by their centre.
    /// </summary>
    public string? Crs { get; }

    /// <summary>Easting of the image centre in <see cref="Crs"/>, metres.</summary>
    public double? CentreX { get; }

    /// <summary>Northing of the image centre in <see cref="Crs"/>, metres.</summary>
    public double? CentreY { get; }

    /// <summary>The input bands, comma-separated (the default table shows them).</summary>
    public string DisplayBands => string.Join(",", InputBands);

    /// <inheritdoc />
    public ValueTask<TrainingPatch> LoadTrainingPatchAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read());
    }

    /// <summary>Reads the pixels: [12, PatchSize, PatchSize] reflectance x 10000 (NaN where a band is not measured, nodata, or padding).</summary>
    public TrainingPatch Read()
    {
        var n = PatchSize;
        var plane = n * n;
        var s2 = new float[TrainingPatch.S2BandNames.Count * plane];
        Array.Fill(s2, float.NaN);
        using var dataset = GdalDataset.Open(Path);
        if (dataset.Width != Width || dataset.Height != Height)
        {
            throw new DeepSentinelException(ErrorIds.RasterUnreadable, ErrorKind.InvalidData,
                string.Create(CultureInfo.InvariantCulture, $"{Path} is now {dataset.Width} x {dataset.Height} px; it was {Width} x {Height} when the dataset was read. Read the dataset again (Get-LabelledImage)."), Path);
        }

        // The window of the file that is read, and where it lands in the patch.
        var (srcX, srcY, srcW, srcH, dstX, dstY, dstW, dstH) = Fit switch
        {
            ImageFit.Resize => (0, 0, Width, Height, 0, 0, n, n),
            _ => Place(Width, Height, n),
        };
        var buffer = new float[dstW * dstH];
        for (var channel = 0; channel < _fileBandOf.Length; channel++)
        {
            var band = _fileBandOf[channel];
            if (band == 0)
            {
                continue;
            }

            dataset.Read<float>(band, srcX, srcY, srcW, srcH, buffer, dstW, dstH, Fit == ImageFit.Resize ? Resampling.Bilinear : Resampling.Nearest);
            var nodata = dataset.NoData(band);
            var scale = DataType == RasterDataType.Byte ? ByteScale : 1.0;
            var offset = DataType == RasterDataType.Byte ? 0 : RadiometricOffset;
            var target = s2.AsSpan(channel * plane, plane);
            for (var y = 0; y < dstH; y++)
            {
                for (var x = 0; x < dstW; x++)
                {
                    var v = buffer[(y * dstW) + x];
                    target[((y + dstY) * n) + x + dstX] = nodata is { } nd && v == nd ? float.NaN : (float)((v + offset) * scale);
                }
            }
        }

        return new TrainingPatch(SampleId, n, n, s2, null) { InputBands = InputBands };
    }

    /// <inheritdoc />
    public override string ToString() => $"{Class}/{SampleId}";

    // Pad (or crop) centred: the part of the file that fits, and its place in the patch.
    private static (int, int, int, int, int, int, int, int) Place(int width, int height, int n)
    {
        var (sx, dx, w) = Axis(width, n);
        var (sy, dy, h) = Axis(height, n);
        return (sx, sy, w, h, dx, dy, w, h);
    }

    private static (int Source, int Target, int Length) Axis(int size, int n) => size >= n
        ? ((size - n) / 2, 0, n)
        : (0, (n - size) / 2, size);
}
