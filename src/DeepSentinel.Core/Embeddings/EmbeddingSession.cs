using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Torch;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Embeddings;

/// <summary>Options of an embedding run.</summary>
public sealed record EmbeddingOptions
{
    /// <summary>Patches per native call.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Intra-op threads; all cores when null.</summary>
    public int? Threads { get; init; }

    /// <summary>Where to run.</summary>
    public TrainingDevice Device { get; init; } = TrainingDevice.Cpu;

    /// <summary>An .npy file for all embeddings ([N, D] float32); sample ids go to OutFile + ".ids.txt".</summary>
    public string? OutFile { get; init; }

    /// <summary>With a UNet model and OutFile: write per-pixel embeddings ([N, D, H, W]) instead.</summary>
    public bool PerPixel { get; init; }

    /// <summary>
    /// With a UNet model: write each patch's per-pixel embeddings as a Float32 GeoTIFF (one band per
    /// dimension) on the patch's grid, as &lt;folder&gt;/&lt;sample id&gt;.tif. Needs patches from a corpus.
    /// </summary>
    public string? GeoTiffFolder { get; init; }
}

/// <summary>
/// Computes embeddings with one loaded model: patches are added one at a time and embedded a batch
/// at a time (eval mode, no augmentation, so the result is deterministic for a model and input).
/// Dispose finishes the output files.
/// </summary>
public sealed class EmbeddingSession : IDisposable
{
    private readonly EmbeddingModel _model;
    private readonly EmbeddingOptions _options;
    private readonly TorchModel _native;
    private readonly string _partialSuffix = "." + Guid.NewGuid().ToString("N")[..8] + ".partial";
    private StreamWriter? _ids;
    private NpyWriter? _npy;
    private bool _completed;
    private PatchBatch? _batch;
    private float[] _output = [];

    private EmbeddingSession(EmbeddingModel model, EmbeddingOptions options, TorchModel native)
    {
        _model = model;
        _options = options;
        _native = native;
    }

    /// <summary>Embeddings computed so far.</summary>
    public long Count { get; private set; }

    /// <summary>Loads the model's weights and opens the output files.</summary>
    public static EmbeddingSession Open(EmbeddingModel model, EmbeddingOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        if (options.BatchSize is < 1 or > 4096)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, $"BatchSize must be 1-4096, got {options.BatchSize}.");
        }

        if (options.GeoTiffFolder is not null)
        {
            options = options with { PerPixel = true };
        }

        if (options.PerPixel && (!model.HasPixelEmbeddings || (options.OutFile is null && options.GeoTiffFolder is null)))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue,
                model.HasPixelEmbeddings ? "Per-pixel embeddings are written to files: give -OutFile or -GeoTiffFolder." : $"Model {model.Name} is a {model.Encoder}: per-pixel embeddings need a UNet model.");
        }

        if (options.OutFile is { } outFile)
        {
            CheckOutFile(outFile);
        }

        TorchNative.EnsureLoaded();
        TorchNative.SetThreads(options.Threads ?? Environment.ProcessorCount);
        var native = model.Open(options.Device);
        return new EmbeddingSession(model, options, native);
    }

    // The .npy file and its .ids.txt are written under temporary names and renamed by Complete,
    // so a stopped or failed run never leaves a valid-looking partial file under the final name.
    private static void CheckOutFile(string file)
    {
        if (Directory.Exists(file))
        {
            throw new DeepSentinelException(ErrorIds.ModelWriteFailed, ErrorKind.InvalidArgument, $"-OutFile {file} is a folder: give a file name, e.g. {Path.Combine(file, "embeddings.npy")}.", file);
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(file));
        if (folder is not null && !Directory.Exists(folder))
        {
            throw new DeepSentinelException(ErrorIds.ModelWriteFailed, ErrorKind.ObjectNotFound, $"The folder of -OutFile {file} does not exist: create {folder} first.", file);
        }
    }

    /// <summary>Adds a patch; returns the embeddings of a batch when one completes, else nothing.</summary>
    public IReadOnlyList<PatchEmbedding> Add(TrainingPatch patch)
    {
        ArgumentNullException.ThrowIfNull(patch);
        var done = new List<PatchEmbedding>();
        if (_batch is not null && !_batch.Fits(patch))
        {
            done.AddRange(Flush());
        }

        if (_batch is null || !_batch.Fits(patch))
        {
            _batch = new PatchBatch(_options.BatchSize, _native.Config.S2Channels, _native.Config.S1Channels, patch.Height, patch.Width);
        }

        _batch.Add(patch);
        if (_batch.IsFull)
        {
            done.AddRange(Flush());
        }

        return done;
    }

    /// <summary>Embeds whatever is buffered.</summary>
    public IReadOnlyList<PatchEmbedding> Flush()
    {
        if (_batch is null || _batch.Count == 0)
        {
            return [];
        }

        var batch = _batch;
        var dim = _native.Config.EmbeddingDim;
        var needed = batch.Count * dim * (_options.PerPixel ? batch.Height * batch.Width : 1);
        if (_output.Length < needed)
        {
            _output = new float[needed];
        }

        var results = new List<PatchEmbedding>(batch.Count);
        if (_options.PerPixel)
        {
            _native.EmbedPixels(batch, _output);
            Write(_output.AsSpan(0, needed), dim, batch.Height, batch.Width);
            var plane = batch.Height * batch.Width;
            if (_options.GeoTiffFolder is { } folder)
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    WritePixelGeoTiff(folder, batch.Ids[i], batch.GeoreferenceAt(i), _output.AsSpan(i * dim * plane, dim * plane), dim, batch.Height, batch.Width);
                }
            }

            for (var i = 0; i < batch.Count; i++)
            {
                var vector = new float[dim];
                for (var d = 0; d < dim; d++)
                {
                    double sum = 0;
                    foreach (var v in _output.AsSpan(((i * dim) + d) * plane, plane))
                    {
                        sum += v;
                    }

                    vector[d] = (float)(sum / plane);
                }

                results.Add(new PatchEmbedding(batch.Ids[i], batch.ModalitiesAt(i), vector, _model.Name));
            }
        }
        else
        {
            _native.Embed(batch, _output);
            Write(_output.AsSpan(0, needed), dim);
            for (var i = 0; i < batch.Count; i++)
            {
                results.Add(new PatchEmbedding(batch.Ids[i], batch.ModalitiesAt(i), _output.AsSpan(i * dim, dim).ToArray(), _model.Name));
            }
        }

        if (_options.OutFile is { } outFile)
        {
            _ids ??= OpenIds(outFile + ".ids.txt" + _partialSuffix);
            foreach (var id in batch.Ids)
            {
                _ids.WriteLine(id);
            }
        }

        Count += batch.Count;
        batch.Clear();
        return results;
    }

    // One band per embedding dimension, on the patch's own grid: the map a user overlays on the
    // imagery. Written under a temporary name and renamed, like every other file of the project.
    private static void WritePixelGeoTiff(string folder, string id, PatchGeoreference? georeference, ReadOnlySpan<float> values, int dim, int height, int width)
    {
        if (georeference is not { GeoTransform.Length: 6 } geo)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.TrainingInputInvalid, $"Patch '{id}' has no grid (it did not come from a corpus): per-pixel GeoTIFFs need PatchSample input.", id);
        }

        Directory.CreateDirectory(folder);
        var grid = new Raster.PatchGrid(geo.Epsg, geo.GeoTransform[0], geo.GeoTransform[3], geo.GeoTransform[1], width, height);
        var plane = height * width;
        var bands = new List<Raster.BandData<float>>(dim);
        for (var d = 0; d < dim; d++)
        {
            bands.Add(new Raster.BandData<float>(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"embedding_{d:000}"), values.Slice(d * plane, plane).ToArray()));
        }

        var path = Path.Combine(folder, id + ".tif");
        var temp = path + "." + Guid.NewGuid().ToString("N")[..8] + ".partial";
        try
        {
            Raster.RasterWriter.WriteCog(temp, grid, bands, noData: null);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>The .npy file written so far, or null (no -OutFile, or nothing embedded yet).</summary>
    public string? OutFile => _options.OutFile;

    /// <summary>
    /// Embeds what is buffered, then moves the .npy file and its .ids.txt to their final names.
    /// Without a call to Complete (a stopped or failed run), Dispose deletes the partial files.
    /// </summary>
    /// <returns>The embeddings of the last, partial batch.</returns>
    public IReadOnlyList<PatchEmbedding> Complete()
    {
        var last = Flush();
        _completed = true;
        if (_options.OutFile is { } file && _npy is not null && _ids is not null)
        {
            var npy = _npy.Path;
            _npy.Dispose();
            _ids.Dispose();
            _npy = null;
            _ids = null;
            try
            {
                File.Move(file + ".ids.txt" + _partialSuffix, file + ".ids.txt", overwrite: true);
                File.Move(npy, file, overwrite: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new DeepSentinelException(ErrorIds.ModelWriteFailed, ErrorKind.WriteError, $"Cannot write {file}: {ex.Message}", file, ex);
            }
        }

        return last;
    }

    /// <summary>Frees the model; the files of a session that was not completed are deleted.</summary>
    public void Dispose()
    {
        _npy?.Dispose();
        _ids?.Dispose();
        if (!_completed && _options.OutFile is { } file)
        {
            File.Delete(file + _partialSuffix);
            File.Delete(file + ".ids.txt" + _partialSuffix);
        }

        _native.Dispose();
    }

    private static StreamWriter OpenIds(string path)
    {
        try
        {
            return new StreamWriter(path, append: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DeepSentinelException(ErrorIds.ModelWriteFailed, ErrorKind.WriteError, $"Cannot write {path}: {ex.Message}", path, ex);
        }
    }

    private void Write(ReadOnlySpan<float> values, params int[] rowShape)
    {
        if (_options.OutFile is null)
        {
            return;
        }

        _npy ??= new NpyWriter(_options.OutFile + _partialSuffix, rowShape);
        if (_options.PerPixel && (rowShape[1] != PixelShape(_npy, 1) || rowShape[2] != PixelShape(_npy, 2)))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.TrainingInputInvalid,
                "Per-pixel embeddings of patches of different sizes cannot share one .npy file: embed each size separately.");
        }

        _npy.WriteRows(values);
    }

    private static int PixelShape(NpyWriter writer, int axis) => writer.RowShape[axis];
}
