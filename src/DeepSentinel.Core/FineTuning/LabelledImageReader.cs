using System.Globalization;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Gdal;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.FineTuning;

/// <summary>How to read an EuroSAT-style dataset (Get-LabelledImage).</summary>
public sealed record LabelledImageOptions
{
    /// <summary>The dataset's root folder: one sub-folder per class.</summary>
    public required string Root { get; init; }

    /// <summary>Only these classes (folder names); null or empty: every class folder.</summary>
    public IReadOnlyList<string>? Classes { get; init; }

    /// <summary>The files' bands in file order, for files without band descriptions (null: 13 bands are EuroSAT's order, 12 the corpus's, 3 R,G,B).</summary>
    public IReadOnlyList<string>? BandOrder { get; init; }

    /// <summary>The bands to feed (null: every file band that has a corpus band; B10 never).</summary>
    public IReadOnlyList<string>? Bands { get; init; }

    /// <summary>Side of the square patch the images are read into; a multiple of 32 (the encoders' stride).</summary>
    public int PatchSize { get; init; } = 64;

    /// <summary>How an image of another size is fitted.</summary>
    public ImageFit Fit { get; init; } = ImageFit.None;

    /// <summary>8-bit values (RGB images) times this give reflectance x 10000 (default 3000/255: 255 is reflectance 0.30, an assumed display stretch).</summary>
    public double ByteScale { get; init; } = 3000.0 / 255.0;

    /// <summary>Added to 16-bit DNs (0 for EuroSAT; -1000 for L1C products of processing baseline 04.00 and later).</summary>
    public int RadiometricOffset { get; init; }

    /// <summary>The processing level of 16-bit images, for the classifier card: L1C (EuroSAT) or L2A.</summary>
    public string Level { get; init; } = "L1C";

    /// <summary>Checks the options.</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(Root);
        if (PatchSize is < 32 or > 4096 || PatchSize % 32 != 0)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, string.Create(CultureInfo.InvariantCulture, $"PatchSize must be a multiple of 32 from 32 to 4096 (the encoders halve a patch five times), got {PatchSize}."), PatchSize);
        }

        if (!(ByteScale > 0) || double.IsInfinity(ByteScale))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, string.Create(CultureInfo.InvariantCulture, $"ByteScale must be a positive number, got {ByteScale}."), ByteScale);
        }

        if (Level is not ("L1C" or "L2A"))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, $"Level must be L1C or L2A, got {Level}.", Level);
        }

        foreach (var (list, what) in new[] { (BandOrder, "BandOrder"), (Bands, "Band") })
        {
            if (list is null)
            {
                continue;
            }

            var bad = list.Where(b => EuroSatBands.Canonical(b) is null).ToList();
            if (bad.Count > 0)
            {
                throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue,
                    $"-{what} names {string.Join(", ", bad)}, which {(bad.Count == 1 ? "is" : "are")} not a Sentinel-2 band (B01-B12, B8A or B08A).", bad[0]);
            }
        }

        if (Bands is { } bands)
        {
            var dropped = bands.Select(EuroSatBands.Canonical).Where(b => EuroSatBands.CorpusChannel(b!) < 0).ToList();
            if (dropped.Count > 0)
            {
                throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, "-Band B10: the corpus's L2A bands have no B10 (cirrus), so no encoder takes it.", "B10");
            }
        }
    }
}

/// <summary>
/// Reads a dataset in EuroSAT's layout: a root folder with one sub-folder per class, each
/// holding images (GeoTIFF, JPEG or PNG) named with a unique id (AnnualCrop/AnnualCrop_1.tif).
/// Each image's header is read with GDAL to resolve its bands and check its size; the pixels are
/// read later, when a patch is trained on or predicted. Unusable images (unreadable, another
/// size, other bands than the rest, a duplicate id) are skipped with a warning naming the file;
/// an empty class folder is a warning; no usable image at all is a DatasetInvalid error.
/// </summary>
public static class LabelledImageReader
{
    /// <summary>File extensions read (case-insensitive).</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".tif", ".tiff", ".jpg", ".jpeg", ".png"];

    /// <summary>The images, class by class (folder names in ordinal order), files in ordinal order.</summary>
    public static IEnumerable<LabelledImage> Read(LabelledImageOptions options, IOperationReporter reporter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        reporter ??= NullReporter.Instance;
        var root = Path.GetFullPath(options.Root);
        var classes = ClassFolders(root, options);
        Gdal.EnsureInitialized();
        return ReadImages(root, classes, options, reporter, cancellationToken);
    }

    private static List<string> ClassFolders(string root, LabelledImageOptions options)
    {
        if (!Directory.Exists(root))
        {
            throw new DeepSentinelException(ErrorIds.DatasetInvalid, ErrorKind.ObjectNotFound,
                File.Exists(root) ? $"{root} is a file; a dataset is a folder with one sub-folder of images per class (EuroSAT: AnnualCrop/AnnualCrop_1.tif ...)." : $"The dataset folder {root} does not exist.", root);
        }

        var folders = Directory.EnumerateDirectories(root).Select(Path.GetFileName).Where(n => !string.IsNullOrEmpty(n) && !n.StartsWith('.')).Select(n => n!).Order(StringComparer.Ordinal).ToList();
        if (folders.Count == 0)
        {
            throw new DeepSentinelException(ErrorIds.DatasetInvalid, ErrorKind.InvalidData,
                $"{root} has no class folders: a dataset in EuroSAT's layout has one sub-folder per class holding its images (AnnualCrop/AnnualCrop_1.tif ...). For the EuroSAT MS download, point at the folder that holds AnnualCrop, Forest, ... (ds/images/remote_sensing/otherDatasets/sentinel_2/tif in the archive).", root);
        }

        if (options.Classes is { Count: > 0 } wanted)
        {
            var missing = wanted.Where(c => !folders.Contains(c, StringComparer.Ordinal)).ToList();
            if (missing.Count > 0)
            {
                throw new DeepSentinelException(ErrorIds.DatasetInvalid, ErrorKind.ObjectNotFound,
                    $"{root} has no class folder {string.Join(", ", missing)}. Its classes: {string.Join(", ", folders)}.", missing[0]);
            }

            folders = wanted.Distinct(StringComparer.Ordinal).ToList();
        }

        return folders;
    }

    private static IEnumerable<LabelledImage> ReadImages(string root, List<string> classes, LabelledImageOptions options, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        IReadOnlyList<string>? datasetBands = null;
        string? firstFile = null;
        var count = 0;
        var skipped = 0;
        foreach (var name in classes)
        {
            var folder = Path.Combine(root, name);
            var files = Directory.EnumerateFiles(folder)
                .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase) && !Path.GetFileName(f).StartsWith('.'))
                .Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0)
            {
                reporter.Warning($"The class folder {folder} holds no images ({string.Join(", ", Extensions)}): class '{name}' is left out.");
                continue;
            }

            foreach (var file in files)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var image = Describe(file, name, options, out var problem);
                if (image is null)
                {
                    reporter.Warning($"{file} is skipped: {problem}");
                    skipped++;
                    continue;
                }

                if (!ids.Add(image.SampleId))
                {
                    reporter.Warning($"{file} is skipped: its id {image.SampleId} is already taken by another image (ids are file names without extension, as split files list them).");
                    skipped++;
                    continue;
                }

                if (datasetBands is null)
                {
                    datasetBands = image.InputBands;
                    firstFile = file;
                }
                else if (!datasetBands.SequenceEqual(image.InputBands, StringComparer.Ordinal))
                {
                    reporter.Warning($"{file} is skipped: it gives bands {string.Join(",", image.InputBands)}, and {firstFile} gave {string.Join(",", datasetBands)}; one dataset feeds one set of bands (use -Band to choose them).");
                    ids.Remove(image.SampleId);
                    skipped++;
                    continue;
                }

                count++;
                yield return image;
            }
        }

        if (count == 0)
        {
            throw new DeepSentinelException(ErrorIds.DatasetInvalid, ErrorKind.InvalidData,
                $"{root} holds no usable image in its class folders ({string.Join(", ", classes)}){(skipped > 0 ? string.Create(CultureInfo.InvariantCulture, $"; {skipped} were skipped (see the warnings)") : string.Empty)}.", root);
        }

        reporter.Verbose(string.Create(CultureInfo.InvariantCulture, $"{count} images in {classes.Count} class folders of {root}; {skipped} skipped."));
    }

    /// <summary>The image of <paramref name="file"/> (its header only), or null with the reason it cannot be used.</summary>
    internal static LabelledImage? Describe(string file, string className, LabelledImageOptions options, out string problem)
    {
        problem = string.Empty;
        GdalDataset dataset;
        try
        {
            dataset = GdalDataset.Open(file);
        }
        catch (DeepSentinelException ex) when (ex.ErrorId == ErrorIds.RasterUnreadable)
        {
            problem = $"GDAL cannot read it ({ex.Message}).";
            return null;
        }

        using (dataset)
        {
            var width = dataset.Width;
            var height = dataset.Height;
            var bandCount = dataset.BandCount;
            if (bandCount == 0)
            {
                problem = "it has no raster bands.";
                return null;
            }

            if (options.Fit == ImageFit.None && (width != options.PatchSize || height != options.PatchSize))
            {
                problem = string.Create(CultureInfo.InvariantCulture, $"it is {width} x {height} px, not {options.PatchSize} x {options.PatchSize} (give -PatchSize, or -Fit Pad or Resize to fit it).");
                return null;
            }

            var type = dataset.DataType(1);
            if (type is not (RasterDataType.Byte or RasterDataType.UInt16 or RasterDataType.Int16 or RasterDataType.Float32))
            {
                problem = $"its pixels are {type}; EuroSAT-style images are UInt16 (MS) or Byte (RGB).";
                return null;
            }

            var driver = Path.GetExtension(file).ToLowerInvariant() switch
            {
                ".jpg" or ".jpeg" => "JPEG",
                ".png" => "PNG",
                _ => "GTiff",
            };

            // Band names: the file's descriptions when every band has one, else -BandOrder, else by count.
            var described = Enumerable.Range(1, bandCount).Select(b => EuroSatBands.Canonical(dataset.Description(b))).ToList();
            List<string> fileBands;
            if (described.All(d => d is not null))
            {
                fileBands = described.Select(d => d!).ToList();
            }
            else if (options.BandOrder is { } order)
            {
                if (order.Count != bandCount)
                {
                    problem = string.Create(CultureInfo.InvariantCulture, $"it has {bandCount} bands; -BandOrder names {order.Count}.");
                    return null;
                }

                fileBands = order.Select(b => EuroSatBands.Canonical(b)!).ToList();
            }
            else
            {
                var byCount = bandCount switch
                {
                    13 => EuroSatBands.L1CBands,
                    12 => TrainingPatch.S2BandNames,
                    3 or 4 when type == RasterDataType.Byte => EuroSatBands.RgbBands, // a 4th band of a PNG is alpha
                    _ => null,
                };
                if (byCount is null)
                {
                    problem = string.Create(CultureInfo.InvariantCulture, $"its {bandCount} bands have no band descriptions, and {bandCount} bands are neither EuroSAT's 13, the corpus's 12 nor R,G,B: give -BandOrder.");
                    return null;
                }

                fileBands = byCount.Select(b => EuroSatBands.Canonical(b)!).ToList();
            }

            if (fileBands.Distinct(StringComparer.Ordinal).Count() != fileBands.Count)
            {
                problem = $"its bands name a band twice ({string.Join(",", fileBands)}).";
                return null;
            }

            var wanted = options.Bands is { } bands ? EuroSatBands.InCorpusOrder(bands.Select(b => EuroSatBands.Canonical(b)!)) : EuroSatBands.InCorpusOrder(fileBands);
            var missing = wanted.Where(b => !fileBands.Contains(b)).ToList();
            if (missing.Count > 0)
            {
                problem = $"it has no band {string.Join(", ", missing)} (its bands: {string.Join(",", fileBands)}).";
                return null;
            }

            if (wanted.Count == 0)
            {
                problem = $"none of its bands ({string.Join(",", fileBands)}) is a corpus band.";
                return null;
            }

            var fileBandOf = new int[TrainingPatch.S2BandNames.Count];
            foreach (var b in wanted)
            {
                fileBandOf[EuroSatBands.CorpusChannel(b)] = fileBands.IndexOf(b) + 1;
            }

            var id = Path.GetFileNameWithoutExtension(file);
            return new LabelledImage(Path.GetFullPath(file), id, className, driver, width, height, type, fileBands, wanted, fileBandOf, options, Locate(dataset, width, height));
        }
    }

    // The image centre in a projected CRS in metres, or null: JPEG/PNG without a world file, a
    // GeoTIFF without a geotransform (GDAL's default 0,1,0,0,0,1) or with a geographic CRS, whose
    // degrees would make -BlockSize meaningless.
    private static (string Crs, double X, double Y)? Locate(GdalDataset dataset, int width, int height)
    {
        double[] gt;
        try
        {
            gt = dataset.GeoTransform;
        }
        catch (DeepSentinelException ex) when (ex.ErrorId == ErrorIds.RasterUnreadable)
        {
            return null;
        }

        var wkt = dataset.ProjectionWkt;
        if (gt is [0, 1, 0, 0, 0, 1] || !CoordinateTransform.IsProjectedInMetres(wkt))
        {
            return null;
        }

        var crs = CoordinateTransform.EpsgOf(wkt) is { } epsg ? string.Create(CultureInfo.InvariantCulture, $"EPSG:{epsg}") : wkt;
        return (crs, gt[0] + (width / 2.0 * gt[1]) + (height / 2.0 * gt[2]), gt[3] + (width / 2.0 * gt[4]) + (height / 2.0 * gt[5]));
    }
}
