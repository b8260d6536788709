using System.Diagnostics;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Interop.Gdal;
using DeepSentinel.Core.Interop.Torch;
using DeepSentinel.Core.Raster;
using DeepSentinel.Core.Sampling;

namespace DeepSentinel.Core.SuperResolution;

/// <summary>What Measure-SuperResolution does.</summary>
public sealed record SuperResolutionEvaluationOptions
{
    /// <summary>The window to evaluate (WGS 84); the whole scene or sample when null.</summary>
    public BoundingBox? BoundingBox { get; init; }

    /// <summary>A folder for the reduced-scale rasters (truth, model, bicubic, bilinear; Float32 COGs), or null.</summary>
    public string? OutputFolder { get; init; }

    /// <summary>A PNG comparing bilinear, the model and the truth side by side, or null.</summary>
    public string? QuicklookPath { get; init; }

    /// <summary>Tile core side for inference.</summary>
    public int TileSize { get; init; } = SuperResolutionInference.DefaultTileSize;

    /// <summary>Intra-op threads; all cores when null.</summary>
    public int? Threads { get; init; }
}

/// <summary>The result of an evaluation at reduced scale.</summary>
/// <param name="Source">The scene or sample.</param>
/// <param name="Factor">2 or 6.</param>
/// <param name="Metrics">Per band and overall, for bilinear, bicubic and the model.</param>
/// <param name="Files">The rasters written (method to path), empty without an output folder.</param>
/// <param name="QuicklookPath">The quicklook PNG, or null.</param>
public sealed record SuperResolutionEvaluation(string Source, int Factor, IReadOnlyList<SuperResolutionMetric> Metrics, IReadOnlyDictionary<string, string> Files, string? QuicklookPath);

/// <summary>What Invoke-SuperResolution does on a scene window.</summary>
public sealed record SuperResolutionApplyOptions
{
    /// <summary>The COG to write.</summary>
    public required string OutFile { get; init; }

    /// <summary>The window (WGS 84); the whole scene when null.</summary>
    public BoundingBox? BoundingBox { get; init; }

    /// <summary>Tile core side for inference.</summary>
    public int TileSize { get; init; } = SuperResolutionInference.DefaultTileSize;

    /// <summary>Intra-op threads; all cores when null.</summary>
    public int? Threads { get; init; }

    /// <summary>Replace an existing file.</summary>
    public bool Force { get; init; }
}

/// <summary>A super-resolved 10 m COG of all 12 bands.</summary>
/// <param name="Path">The COG.</param>
/// <param name="Source">The scene or sample.</param>
/// <param name="Width">Pixels at 10 m.</param>
/// <param name="Height">Pixels at 10 m.</param>
/// <param name="Epsg">The CRS.</param>
/// <param name="BandMethods">For each band (B01 ... B12): "native", "model:&lt;folder&gt;" or "bilinear".</param>
/// <param name="Seconds">Inference seconds (reading and writing excluded).</param>
/// <param name="MegapixelsPerSecond">10 m output pixels per second of inference, in millions.</param>
public sealed record SuperResolvedImage(string Path, string Source, int Width, int Height, int Epsg, IReadOnlyDictionary<string, string> BandMethods, double Seconds, double MegapixelsPerSecond);

/// <summary>Applies and evaluates super-resolution models (Invoke-SuperResolution, Measure-SuperResolution).</summary>
public sealed class SuperResolutionService
{
    /// <summary>
    /// Evaluates <paramref name="model"/> at reduced scale (Wald's protocol), where the truth is
    /// known: the window is degraded by the model's factor, its coarse bands recovered by the
    /// model and by bilinear and bicubic interpolation, and each compared with the window's own
    /// coarse bands.
    /// </summary>
    public Task<SuperResolutionEvaluation> EvaluateAsync(SuperResolutionModel model, SuperResolutionSource source, SuperResolutionEvaluationOptions options, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        return Task.Factory.StartNew(() => Evaluate(model, source, options, reporter, cancellationToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>
    /// Writes a 10 m COG of all 12 bands of a scene window: 10 m bands as they are, the bands of
    /// each model's factor from the model, the others bilinearly. The file appears complete or
    /// not at all.
    /// </summary>
    public Task<SuperResolvedImage> ApplyAsync(IReadOnlyList<SuperResolutionModel> models, SuperResolutionSource source, SuperResolutionApplyOptions options, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        return Task.Factory.StartNew(() => Apply(models, source, options, reporter, cancellationToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Checks a set of models: at most one per factor.</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.SuperResolutionFactorMismatch"/>.</exception>
    public static void CheckModels(IReadOnlyList<SuperResolutionModel> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        if (models.Count == 0)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, "Give at least one model (-Model).");
        }

        foreach (var group in models.GroupBy(m => m.Factor).Where(g => g.Count() > 1))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.SuperResolutionFactorMismatch,
                $"{group.Count()} models of factor {(int)group.Key}x were given ({string.Join(", ", group.Select(m => m.Path))}); give at most one 2x model (20 m bands) and one 6x model (60 m bands).", group.First().Path);
        }
    }

    private static SuperResolutionEvaluation Evaluate(SuperResolutionModel model, SuperResolutionSource source, SuperResolutionEvaluationOptions options, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        var factor = (int)model.Factor;
        using var reader = source.OpenReader();
        reader.RequireBands(SuperResolutionBands.Inputs(model.Factor));
        var window = options.BoundingBox is { } box ? reader.WindowFor(box) : source.Window ?? reader.SceneGrid();
        var step = 6 * factor;
        window = window with { Width = window.Width / step * step, Height = window.Height / step * step };
        if (window.Width < step * 2 || window.Height < step * 2)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.SuperResolutionWindowOutsideScene,
                $"The window of {source.Name} is too small to evaluate a {factor}x model at reduced scale: it needs at least {step * 2} x {step * 2} px at 10 m.", source.Name);
        }

        reporter.Progress(new ProgressUpdate(16, "Evaluating super-resolution", $"{source.Name}: reading {window.Width} x {window.Height} px"));
        var image = reader.Read(window, withCoarse: factor == 6);
        var low = image.Degrade(factor, model.Card.MtfAtNyquist);
        var truth = factor == 2 ? image.Mid : image.Coarse!;
        var lowBands = factor == 2 ? low.Mid : low.Coarse!;
        var lowWidth = factor == 2 ? low.Width / 2 : low.Width / 6;
        var lowHeight = factor == 2 ? low.Height / 2 : low.Height / 6;
        var up = factor == 2 ? 2 : 6;

        TorchNative.EnsureLoaded();
        TorchNative.SetThreads(options.Threads ?? Environment.ProcessorCount);
        float[][] estimate;
        using (var network = model.Open())
        {
            reporter.Progress(new ProgressUpdate(16, "Evaluating super-resolution", $"{source.Name}: model on {low.Width} x {low.Height} px"));
            estimate = SuperResolutionInference.Predict(network, low, options.TileSize, cancellationToken);
        }

        var bilinear = lowBands.Select(p => ImageResampling.UpsampleBilinear(p, lowWidth, lowHeight, up)).ToArray();
        var bicubic = lowBands.Select(p => ImageResampling.UpsampleBicubic(p, lowWidth, lowHeight, up)).ToArray();
        // The same pixels for every method: where the model has no output (nodata inputs), none.
        foreach (var planes in new[] { bilinear, bicubic })
        {
            for (var c = 0; c < planes.Length; c++)
            {
                for (var i = 0; i < planes[c].Length; i++)
                {
                    if (float.IsNaN(estimate[c][i]))
                    {
                        planes[c][i] = float.NaN;
                    }
                }
            }
        }

        var bands = model.Card.OutputBands;
        var rows = new List<SuperResolutionMetric>();
        var bicubicRows = SuperResolutionMetrics.Compute(UpsamplingMethod.Bicubic, bands, bicubic, truth);
        foreach (var (method, planes) in new[] { (UpsamplingMethod.Bilinear, bilinear), (UpsamplingMethod.Bicubic, bicubic), (UpsamplingMethod.Model, estimate) })
        {
            var computed = method == UpsamplingMethod.Bicubic ? bicubicRows : SuperResolutionMetrics.Compute(method, bands, planes, truth);
            rows.AddRange(computed.Select((r, i) => r with { Source = source.Name, Factor = factor, RmseVsBicubic = r.Rmse / bicubicRows[i].Rmse }));
        }

        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        var truthGrid = low.Grid;
        if (options.OutputFolder is { } folder)
        {
            Directory.CreateDirectory(folder);
            foreach (var (name, planes) in new[] { ("truth", truth), ("model", estimate), ("bicubic", bicubic), ("bilinear", bilinear) })
            {
                var path = Path.Combine(folder, name + ".tif");
                WriteAtomically(path, temp => RasterWriter.WriteCog(temp, truthGrid.Epsg, truthGrid.GeoTransform, truthGrid.Width, truthGrid.Height,
                    planes.Select((p, i) => new BandData<float>(bands[i], p)).ToList(), float.NaN,
                    new Dictionary<string, string> { ["deepsentinel:superres_method"] = name, ["deepsentinel:superres_model"] = model.Path, ["deepsentinel:superres_factor"] = factor.ToString(System.Globalization.CultureInfo.InvariantCulture) }, CogLayout.Scene));
                files[name] = path;
            }
        }

        if (options.QuicklookPath is { } png)
        {
            WriteQuicklook(png, truthGrid.Width, truthGrid.Height, factor, bilinear, estimate, truth);
        }

        reporter.Progress(new ProgressUpdate(16, "Evaluating super-resolution", "Done", Completed: true));
        return new SuperResolutionEvaluation(source.Name, factor, rows, files, options.QuicklookPath is null ? null : Path.GetFullPath(options.QuicklookPath));
    }

    private static SuperResolvedImage Apply(IReadOnlyList<SuperResolutionModel> models, SuperResolutionSource source, SuperResolutionApplyOptions options, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        CheckModels(models);
        var outFile = Path.GetFullPath(options.OutFile);
        if (File.Exists(outFile) && !options.Force)
        {
            throw new DeepSentinelException(ErrorIds.RasterWriteFailed, ErrorKind.InvalidOperation, $"{outFile} exists: add -Force to replace it, or choose another -OutFile.", outFile);
        }

        var withCoarse = models.Any(m => m.Factor == SuperResolutionFactor.X6);
        using var reader = source.OpenReader();
        reader.RequireBands(PatchExtractor.S2Bands);
        var window = options.BoundingBox is { } box ? reader.WindowFor(box) : source.OutputWindow ?? reader.SceneGrid();
        var scene = reader.SceneGrid();

        // Context around the window from the scene itself, so that windows side by side join
        // without seams; clipped to the scene. The read is on the 60 m grid (a 256 px sample is
        // read as 258 px and cut).
        var context = models.Max(m => SuperResolutionBands.ContextPixels(m.Card.Blocks, m.Factor));
        var left = Math.Max(scene.OriginX, window.OriginX - (context * 10));
        var top = Math.Min(scene.OriginY, window.OriginY + (context * 10));
        var right = Math.Min(scene.MaxX, window.OriginX + (Math.Ceiling(window.Width / 6.0) * 60) + (context * 10));
        var bottom = Math.Max(scene.MinY, window.OriginY - (Math.Ceiling(window.Height / 6.0) * 60) - (context * 10));
        if (right < window.MaxX - 1e-6 || bottom > window.MinY + 1e-6 || left > window.OriginX + 1e-6 || top < window.OriginY - 1e-6)
        {
            throw new DeepSentinelException(ErrorIds.SuperResolutionWindowOutsideScene, ErrorKind.InvalidArgument,
                $"The window of {source.Name} ({window}) is not inside its scene's whole 60 m pixels ({scene}).", source.Name);
        }
        var padded = window with { OriginX = left, OriginY = top, Width = (int)Math.Round((right - left) / 10), Height = (int)Math.Round((top - bottom) / 10) };
        var dx = (int)Math.Round((window.OriginX - left) / 10);
        var dy = (int)Math.Round((top - window.OriginY) / 10);
        reporter.Progress(new ProgressUpdate(17, "Super-resolving", $"{source.Name}: reading {padded.Width} x {padded.Height} px"));
        var image = reader.Read(padded, withCoarse: true);

        TorchNative.EnsureLoaded();
        TorchNative.SetThreads(options.Threads ?? Environment.ProcessorCount);
        var recovered = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var methods = new Dictionary<string, string>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        foreach (var model in models)
        {
            using var network = model.Open();
            reporter.Progress(new ProgressUpdate(17, "Super-resolving", $"{source.Name}: {(int)model.Factor}x model"));
            var planes = SuperResolutionInference.Predict(network, image, options.TileSize, cancellationToken);
            for (var c = 0; c < planes.Length; c++)
            {
                recovered[model.Card.OutputBands[c]] = planes[c];
                methods[model.Card.OutputBands[c]] = "model:" + model.Path;
            }
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var bands = new List<BandData<ushort>>();
        foreach (var band in PatchExtractor.S2Bands)
        {
            float[] plane;
            var fineIndex = Array.IndexOf(SuperResolutionBands.Fine, band);
            var midIndex = Array.IndexOf(SuperResolutionBands.Mid, band);
            if (fineIndex >= 0)
            {
                plane = image.Fine[fineIndex];
                methods[band] = "native";
            }
            else if (recovered.TryGetValue(band, out var estimate))
            {
                plane = estimate;
            }
            else
            {
                var (source2, f) = midIndex >= 0 ? (image.Mid[midIndex], 2) : (image.Coarse![Array.IndexOf(SuperResolutionBands.Coarse, band)], 6);
                plane = ImageResampling.UpsampleBilinear(source2, image.Width / f, image.Height / f, f);
                methods[band] = "bilinear";
            }

            bands.Add(new BandData<ushort>(band, ToDn(MultiResolutionImage.CropPlane(plane, image.Width, dx, dy, window.Width, window.Height))));
        }

        // Nodata where any input of the pixel had none, in every band.
        var valid = ValidMask(image, dx, dy, window.Width, window.Height);
        foreach (var b in bands)
        {
            for (var i = 0; i < valid.Length; i++)
            {
                if (!valid[i])
                {
                    b.Pixels[i] = 0;
                }
            }
        }

        var metadata = new Dictionary<string, string>
        {
            ["deepsentinel:superres"] = "true",
            ["deepsentinel:superres_models"] = string.Join(";", models.Select(m => $"{(int)m.Factor}x {m.Architecture} {m.Path}")),
            ["deepsentinel:superres_scene"] = source.Name,
        };
        foreach (var (band, method) in methods)
        {
            metadata["deepsentinel:superres_" + band] = method;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(outFile)!);
        WriteAtomically(outFile, temp => RasterWriter.WriteCog(temp, window.Epsg, window.GeoTransform, window.Width, window.Height, bands, 0, metadata, source.Sample is null ? CogLayout.Scene : CogLayout.Patch));
        if (source.ItemPath is { } item)
        {
            SuperResolvedItem.Update(item, outFile, models, methods);
        }
        reporter.Progress(new ProgressUpdate(17, "Super-resolving", "Done", Completed: true));
        // Pixels the networks ran over (each model passes over the padded window once).
        var megapixels = (double)image.Width * image.Height * models.Count / 1e6;
        return new SuperResolvedImage(outFile, source.Name, window.Width, window.Height, window.Epsg, methods, seconds, megapixels / Math.Max(seconds, 1e-9));
    }

    private static bool[] ValidMask(MultiResolutionImage image, int dx, int dy, int width, int height)
    {
        var valid = new bool[width * height];
        var w = image.Width;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                int gx = x + dx, gy = y + dy;
                var i = (gy * w) + gx;
                valid[(y * width) + x] = image.Fine.All(p => p[i] != 0)
                    && image.Mid.All(p => p[((gy / 2) * (w / 2)) + (gx / 2)] != 0)
                    && image.Coarse!.All(p => p[((gy / 6) * (w / 6)) + (gx / 6)] != 0);
            }
        }

        return valid;
    }

    private static ushort[] ToDn(float[] plane)
    {
        var result = new ushort[plane.Length];
        for (var i = 0; i < plane.Length; i++)
        {
            var v = plane[i];
            result[i] = float.IsNaN(v) ? (ushort)0 : (ushort)Math.Clamp(MathF.Round(v), 1, 65535);
        }

        return result;
    }

    private static void WriteQuicklook(string path, int width, int height, int factor, float[][] bilinear, float[][] model, float[][] truth)
    {
        // 2x: B12, B8A, B05 as red, green, blue; 6x: B09, B01, B01.
        int[] channels = factor == 2 ? [5, 3, 0] : [1, 0, 0];
        const int Gap = 4;
        var total = (3 * width) + (2 * Gap);
        var rgb = new byte[3][];
        for (var k = 0; k < 3; k++)
        {
            rgb[k] = new byte[total * height];
            var t = truth[channels[k]];
            var sorted = t.Where(v => v > 0 && float.IsFinite(v)).Order().ToArray();
            var low = sorted.Length > 0 ? sorted[(int)(sorted.Length * 0.02)] : 0f;
            var high = sorted.Length > 0 ? sorted[(int)((sorted.Length - 1) * 0.98)] : 1f;
            high = Math.Max(high, low + 1);
            var panels = new[] { bilinear[channels[k]], model[channels[k]], t };
            for (var p = 0; p < 3; p++)
            {
                var stretched = RasterWriter.Stretch(panels[p], low, high);
                for (var y = 0; y < height; y++)
                {
                    Array.Copy(stretched, y * width, rgb[k], (y * total) + (p * (width + Gap)), width);
                }
            }

            for (var y = 0; y < height; y++)
            {
                for (var g = 0; g < Gap; g++)
                {
                    rgb[k][(y * total) + width + g] = 255;
                    rgb[k][(y * total) + (2 * width) + Gap + g] = 255;
                }
            }
        }

        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        WriteAtomically(full, temp => RasterWriter.WritePng(temp, total, height, rgb[0], rgb[1], rgb[2]));
    }

    // Written beside the target under a temporary name, then moved into place: a reader never
    // sees a half-written file, and a failure leaves nothing behind.
    private static void WriteAtomically(string path, Action<string> write)
    {
        var extension = Path.GetExtension(path);
        var temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "." + Path.GetFileNameWithoutExtension(path) + "." + Guid.NewGuid().ToString("N")[..8] + ".partial" + extension);
        try
        {
            write(temp);
            File.Move(temp, path, overwrite: true);
            File.Delete(temp + ".aux.xml");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DeepSentinelException(ErrorIds.RasterWriteFailed, ErrorKind.WriteError, $"Cannot write {path}: {ex.Message}", path, ex);
        }
        finally
        {
            File.Delete(temp);
            File.Delete(temp + ".aux.xml");
        }
    }
}
