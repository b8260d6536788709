using System.Globalization;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.FineTuning;
using DeepSentinel.Core.Interop.Gdal;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Demo;

/// <summary>The file format of a generated EuroSAT-style dataset.</summary>
public enum DemoImageFormat
{
    /// <summary>13-band UInt16 GeoTIFFs, as EuroSAT MS (B01-B12 with B08A and B10).</summary>
    GeoTiff,

    /// <summary>3-band 8-bit JPEGs (R, G, B = B04, B03, B02), as EuroSAT's RGB variant.</summary>
    Jpeg,

    /// <summary>3-band 8-bit PNGs.</summary>
    Png,
}

/// <summary>What New-DemoEuroSatDataset writes.</summary>
public sealed record DemoEuroSatOptions
{
    /// <summary>EuroSAT's ten class names (Helber et al.), in its order.</summary>
    public static IReadOnlyList<string> EuroSatClasses { get; } = ["AnnualCrop", "Forest", "HerbaceousVegetation", "Highway", "Industrial", "Pasture", "PermanentCrop", "Residential", "River", "SeaLake"];

    /// <summary>The dataset's root folder.</summary>
    public required string Destination { get; init; }

    /// <summary>The classes (folder names); default four of EuroSAT's, with distinct spectra.</summary>
    public IReadOnlyList<string> Classes { get; init; } = ["AnnualCrop", "Forest", "Residential", "SeaLake"];

    /// <summary>Images per class.</summary>
    public int ImagesPerClass { get; init; } = 20;

    /// <summary>Side of an image, pixels (EuroSAT: 64).</summary>
    public int Size { get; init; } = 64;

    /// <summary>GeoTIFF (13 bands) or JPEG/PNG (RGB).</summary>
    public DemoImageFormat Format { get; init; } = DemoImageFormat.GeoTiff;

    /// <summary>Write band descriptions (B01 ... B12) into the GeoTIFFs; EuroSAT's own files have none.</summary>
    public bool DescribeBands { get; init; }

    /// <summary>The seed of the pixels.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Checks values.</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(Destination);
        if (Classes.Count is < 2 or > 10 || Classes.Any(c => !EuroSatClasses.Contains(c, StringComparer.Ordinal)) || Classes.Distinct(StringComparer.Ordinal).Count() != Classes.Count)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, $"Classes must be 2-10 distinct EuroSAT class names ({string.Join(", ", EuroSatClasses)}); got {string.Join(", ", Classes)}.", Classes);
        }

        if (ImagesPerClass is < 1 or > 10_000 || Size is < 8 or > 1024)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, string.Create(CultureInfo.InvariantCulture, $"ImagesPerClass must be 1-10000 and Size 8-1024; got {ImagesPerClass} and {Size}."), ImagesPerClass);
        }
    }
}

/// <summary>A generated EuroSAT-style dataset.</summary>
/// <param name="Path">The root folder (one sub-folder per class).</param>
/// <param name="Format">GeoTIFF (13 L1C-like bands) or JPEG/PNG (RGB).</param>
/// <param name="Classes">The class folders.</param>
/// <param name="ImagesPerClass">Images in each.</param>
/// <param name="Size">Side of an image, pixels.</param>
/// <param name="Seed">The seed.</param>
public sealed record DemoEuroSatDataset(string Path, DemoImageFormat Format, IReadOnlyList<string> Classes, int ImagesPerClass, int Size, int Seed)
{
    /// <summary>Images written.</summary>
    public int Images => Classes.Count * ImagesPerClass;

    /// <summary>The classes, comma-separated.</summary>
    public string DisplayClasses => string.Join(", ", Classes);
}

/// <summary>
/// Writes a small synthetic dataset in EuroSAT's layout (root/Class/Class_N.tif), for tests, help
/// examples and examples/06 without a download. Each class has its own spectrum (typical
/// reflectances x 10000, 13 bands in EuroSAT's order with a low B10) and texture (parcels,
/// canopy blobs, a street grid, calm water) with per-image brightness and per-pixel noise, so the
/// classes are separable but not identical from image to image. Synthetic: it says nothing about
/// accuracy on real EuroSAT.
/// </summary>
public static class DemoEuroSatGenerator
{
    // Reflectance x 10000 per class, EuroSAT's 13 bands (B01..B08, B08A, B09, B10, B11, B12).
    private static readonly Dictionary<string, float[]> Spectra = new(StringComparer.Ordinal)
    {
        ["AnnualCrop"] = [1300, 1100, 1050, 1000, 1400, 2300, 2700, 2800, 3000, 900, 20, 2300, 1500],
        ["Forest"] = [1250, 950, 850, 600, 950, 2000, 2500, 2600, 2800, 850, 15, 1300, 600],
        ["HerbaceousVegetation"] = [1280, 1000, 950, 850, 1250, 2200, 2600, 2700, 2900, 880, 18, 2000, 1200],
        ["Highway"] = [1400, 1200, 1150, 1200, 1400, 1700, 1850, 1900, 2000, 700, 20, 2200, 1800],
        ["Industrial"] = [1600, 1500, 1500, 1550, 1650, 1800, 1900, 1950, 2000, 650, 22, 2400, 2100],
        ["Pasture"] = [1270, 1000, 1000, 850, 1300, 2400, 2900, 3000, 3200, 900, 16, 2100, 1200],
        ["PermanentCrop"] = [1300, 1050, 1000, 950, 1350, 2100, 2450, 2550, 2700, 850, 18, 2200, 1500],
        ["Residential"] = [1500, 1350, 1300, 1300, 1500, 1900, 2100, 2200, 2300, 750, 20, 2300, 1900],
        ["River"] = [1250, 1000, 900, 700, 700, 800, 850, 850, 850, 300, 10, 600, 400],
        ["SeaLake"] = [1200, 950, 750, 500, 400, 350, 330, 300, 280, 100, 8, 120, 80],
    };

    /// <summary>Writes the dataset; an existing root folder is written into (files of the same names are replaced).</summary>
    public static DemoEuroSatDataset Generate(DemoEuroSatOptions options, IOperationReporter reporter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        reporter ??= NullReporter.Instance;
        Gdal.EnsureInitialized();
        var root = Path.GetFullPath(options.Destination);
        var n = options.Size;
        var rgb = options.Format != DemoImageFormat.GeoTiff;
        var extension = options.Format switch { DemoImageFormat.Jpeg => ".jpg", DemoImageFormat.Png => ".png", _ => ".tif" };
        foreach (var (name, classIndex) in options.Classes.Select((c, i) => (c, i)))
        {
            var folder = Path.Combine(root, name);
            Directory.CreateDirectory(folder);
            for (var i = 1; i <= options.ImagesPerClass; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var random = new Random(StableSeed.Mix(StableSeed.Mix(options.Seed, classIndex + 1), i));
                var bands = Render(name, n, random);
                var path = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"{name}_{i}{extension}"));
                if (rgb)
                {
                    WriteRgb(path, n, bands, options.Format);
                }
                else
                {
                    WriteTiff(path, n, bands, options.DescribeBands);
                }
            }

            reporter.Verbose(string.Create(CultureInfo.InvariantCulture, $"Wrote {options.ImagesPerClass} {name} images into {folder}."));
        }

        return new DemoEuroSatDataset(root, options.Format, options.Classes.ToList(), options.ImagesPerClass, n, options.Seed);
    }

    // 13 bands x n x n reflectance x 10000.
    private static float[][] Render(string name, int n, Random random)
    {
        var spectrum = Spectra[name];
        var brightness = 0.85f + (0.3f * random.NextSingle());
        var phaseX = random.Next(n);
        var phaseY = random.Next(n);
        var period = 6 + random.Next(10);
        var bands = new float[13][];
        var texture = new float[n * n];
        for (var y = 0; y < n; y++)
        {
            for (var x = 0; x < n; x++)
            {
                var xx = x + phaseX;
                var yy = y + phaseY;
                texture[(y * n) + x] = name switch
                {
                    "AnnualCrop" or "PermanentCrop" => ((xx / period) + (yy / (period * 2))) % 2 == 0 ? 1.12f : 0.88f, // parcels
                    "Forest" or "HerbaceousVegetation" or "Pasture" => 1f + (0.12f * MathF.Sin(xx * 0.7f) * MathF.Cos(yy * 0.6f)), // canopy blobs
                    "Residential" or "Industrial" => (xx % period < 2 || yy % period < 2) ? 0.8f : 1.1f, // street grid
                    "Highway" or "River" => Math.Abs(((xx + yy) % (n / 2)) - (n / 4)) < 3 ? 0.7f : 1.05f, // a line across
                    _ => 1f, // calm water
                };
            }
        }

        for (var b = 0; b < 13; b++)
        {
            var plane = new float[n * n];
            for (var p = 0; p < plane.Length; p++)
            {
                var noise = 1f + (0.06f * ((random.NextSingle() * 2) - 1));
                plane[p] = Math.Clamp(spectrum[b] * brightness * texture[p] * noise, 1, 65535);
            }

            bands[b] = plane;
        }

        return bands;
    }

    private static void WriteTiff(string path, int n, float[][] bands, bool describe)
    {
        using var dataset = GdalDataset.Create("GTiff", path, n, n, bands.Length, RasterDataType.UInt16, ["COMPRESS=DEFLATE", "PREDICTOR=2"]);
        var buffer = new ushort[n * n];
        for (var b = 0; b < bands.Length; b++)
        {
            for (var p = 0; p < buffer.Length; p++)
            {
                buffer[p] = (ushort)MathF.Round(bands[b][p]);
            }

            dataset.Write<ushort>(b + 1, buffer);
            if (describe)
            {
                dataset.SetDescription(b + 1, EuroSatBands.L1CBands[b]);
            }
        }

        dataset.Flush();
    }

    private static void WriteRgb(string path, int n, float[][] bands, DemoImageFormat format)
    {
        // R, G, B = B04, B03, B02 (indices 3, 2, 1), 0-255 for reflectance 0-0.30 (what -ByteScale assumes by default).
        using var memory = GdalDataset.CreateInMemory(n, n, 3, RasterDataType.Byte);
        var buffer = new byte[n * n];
        int[] source = [3, 2, 1];
        for (var b = 0; b < 3; b++)
        {
            for (var p = 0; p < buffer.Length; p++)
            {
                buffer[p] = (byte)Math.Clamp(MathF.Round(bands[source[b]][p] * 255f / 3000f), 0, 255);
            }

            memory.Write<byte>(b + 1, buffer);
        }

        memory.CopyTo(format == DemoImageFormat.Png ? "PNG" : "JPEG", path, format == DemoImageFormat.Png ? null : ["QUALITY=95"]);
    }
}
