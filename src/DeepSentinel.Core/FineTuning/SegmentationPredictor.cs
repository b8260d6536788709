using System.Globalization;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Torch;
using DeepSentinel.Core.Labels;
using DeepSentinel.Core.Raster;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.FineTuning;

/// <summary>
/// Applies a segmentation model to patches, a batch at a time: Invoke-Segmentation and the
/// evaluation at the end of Start-SegmentationTraining both use it. Each patch's prediction is the
/// most probable class per pixel; with an output folder it is written as a label COG on the
/// patch's grid (<c>&lt;folder&gt;/&lt;sample id&gt;/segmentation.tif</c>, UInt16 class values of the
/// model card, nodata 0) and a quicklook in the legend colours (<c>segmentation.png</c>).
/// </summary>
public sealed class SegmentationPredictor : IDisposable
{
    /// <summary>The label COG's file name in a patch's folder.</summary>
    public const string LabelFile = "segmentation.tif";

    /// <summary>The quicklook's file name in a patch's folder.</summary>
    public const string QuicklookFile = "segmentation.png";

    private readonly SegmentationModel _model;
    private readonly TorchModel _unet;
    private readonly TorchSegmenter _segmenter;
    private readonly PatchBatch _batch;
    private readonly PixelLabelMap?[] _truth;
    private readonly PatchGeoreference?[] _grids;
    private readonly float[] _probabilities;
    private readonly string? _outputFolder;

    private SegmentationPredictor(SegmentationModel model, TorchModel unet, TorchSegmenter segmenter, int batchSize, string? outputFolder)
    {
        _model = model;
        _unet = unet;
        _segmenter = segmenter;
        _outputFolder = outputFolder;
        var size = model.Card.PatchSize;
        _batch = new PatchBatch(batchSize, unet.Config.S2Channels, unet.Config.S1Channels, size, size);
        _truth = new PixelLabelMap?[batchSize];
        _grids = new PatchGeoreference?[batchSize];
        _probabilities = new float[batchSize * model.Card.Classes.Count * size * size];
    }

    /// <summary>Loads the model's UNet and head into the engine; label COGs go under <paramref name="outputFolder"/> (null: none are written).</summary>
    public static SegmentationPredictor Open(SegmentationModel model, TrainingDevice device, string? outputFolder, int batchSize = 4, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        TorchNative.EnsureLoaded();
        if (threads is { } t)
        {
            TorchNative.SetThreads(t);
        }

        var unet = TorchModel.Load(model.EncoderCheckpointPath, null, device);
        try
        {
            if (unet.Channels != model.Card.Bands.Count)
            {
                throw new DeepSentinelException(ErrorIds.ModelFileCorrupt, ErrorKind.InvalidData,
                    $"The UNet checkpoint {model.EncoderCheckpointPath} takes {unet.Channels} bands; {SegmenterCard.FileName} lists {model.Card.Bands.Count}.", model.EncoderCheckpointPath);
            }

            var config = NativeSegmenterConfig.Create();
            config.Classes = model.Card.Classes.Count;
            config.FreezeEncoder = 1;
            config.HeadLearningRate = 1e-3;
            config.EncoderLearningRate = 1e-3;
            var segmenter = TorchSegmenter.Create(unet, config);
            try
            {
                segmenter.LoadHead(model.HeadCheckpointPath);
                return new SegmentationPredictor(model, unet, segmenter, batchSize, outputFolder is null ? null : Path.GetFullPath(outputFolder));
            }
            catch
            {
                segmenter.Dispose();
                throw;
            }
        }
        catch
        {
            unet.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Checks a patch against the model (sensors, size, and a grid when label COGs are written);
    /// throws <see cref="ErrorIds.TrainingInputInvalid"/> before anything is queued or written.
    /// </summary>
    public TrainingPatch Check(TrainingPatch patch)
    {
        ArgumentNullException.ThrowIfNull(patch);
        var selected = FineTuningService.SelectSensors(patch, _model.Sensors);
        if (selected is null || !_batch.CanUse(selected))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.TrainingInputInvalid,
                $"Patch '{patch.SampleId}' has {patch.Modalities} data only; the segmentation model {_model.Name} is fed {_model.Sensors}.", patch.SampleId);
        }

        if (selected.Height != _model.Card.PatchSize || selected.Width != _model.Card.PatchSize)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.TrainingInputInvalid,
                $"Patch '{patch.SampleId}' is {selected.Height} x {selected.Width} px; the segmentation model {_model.Name} was trained on {_model.Card.PatchSize} x {_model.Card.PatchSize} px patches.", patch.SampleId);
        }

        if (_outputFolder is not null && patch.Georeference is not { GeoTransform.Length: 6 })
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.TrainingInputInvalid,
                $"Patch '{patch.SampleId}' has no grid (CRS and geotransform): a label COG cannot be placed. Give corpus samples (Get-PatchSample), or leave -Path out to predict without writing.", patch.SampleId);
        }

        return selected;
    }

    /// <summary>Queues a patch (with its pixel labels, if known); returns the predictions of a batch once it is full.</summary>
    public IReadOnlyList<SegmentationPrediction> Add(TrainingPatch patch, PixelLabelMap? truth)
    {
        var selected = Check(patch);
        if (truth is not null && (truth.Width != patch.Width || truth.Height != patch.Height))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.TrainingInputInvalid, $"Patch '{patch.SampleId}': its labels are {truth.Width} x {truth.Height} px, the patch {patch.Width} x {patch.Height} px.", patch.SampleId);
        }

        _truth[_batch.Count] = truth;
        _grids[_batch.Count] = patch.Georeference;
        _batch.Add(selected);
        return _batch.IsFull ? Flush() : [];
    }

    /// <summary>The predictions of the patches still queued.</summary>
    public IReadOnlyList<SegmentationPrediction> Complete() => _batch.Count == 0 ? [] : Flush();

    /// <inheritdoc />
    public void Dispose()
    {
        _segmenter.Dispose();
        _unet.Dispose();
    }

    /// <summary>The label value the model writes for each class (CLC: the code at the model's level; OSM: 1 + index).</summary>
    internal static int[] ValuesOf(SegmentationLabelSource labels, IReadOnlyList<string> classes) =>
        classes.Select((c, i) => labels == SegmentationLabelSource.Clc && int.TryParse(c, NumberStyles.Integer, CultureInfo.InvariantCulture, out var code) ? code : i + 1).ToArray();

    /// <summary>A class's quicklook colour: CLC level 3 its legend colour, levels 1 and 2 that of their first level-3 class; other classes a fixed palette.</summary>
    internal static (byte R, byte G, byte B) ColourOf(SegmentationLabelSource labels, string key, int index)
    {
        if (labels == SegmentationLabelSource.Clc && int.TryParse(key, NumberStyles.Integer, CultureInfo.InvariantCulture, out var code))
        {
            var first = ClcLegend.Classes.FirstOrDefault(c => LabelledSample.ClcCodeAt(c.Code, key.Length) == code);
            if (first is not null)
            {
                return (first.Red, first.Green, first.Blue);
            }
        }

        (byte, byte, byte)[] palette = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (170, 110, 40)];
        return palette[index % palette.Length];
    }

    private List<SegmentationPrediction> Flush()
    {
        _segmenter.Predict(_batch, _probabilities);
        var classes = _model.Classes;
        var n = classes.Count;
        var plane = _batch.Height * _batch.Width;
        var values = ValuesOf(_model.Labels, classes);
        var results = new List<SegmentationPrediction>(_batch.Count);
        var predicted = new int[plane];
        for (var s = 0; s < _batch.Count; s++)
        {
            var probabilities = _probabilities.AsSpan(s * n * plane, n * plane);
            var pixels = new long[n];
            for (var p = 0; p < plane; p++)
            {
                var best = 0;
                var bestValue = probabilities[p];
                for (var c = 1; c < n; c++)
                {
                    var v = probabilities[(c * plane) + p];
                    if (v > bestValue)
                    {
                        best = c;
                        bestValue = v;
                    }
                }

                predicted[p] = best;
                pixels[best]++;
            }

            var id = _batch.Ids[s];
            string? label = null, quicklook = null;
            if (_outputFolder is not null)
            {
                (label, quicklook) = Write(id, _grids[s]!, predicted, values);
            }

            List<PixelCount>? confusion = null;
            double? accuracy = null;
            if (_truth[s] is { } truth)
            {
                var counts = new Dictionary<(int Actual, int Predicted), long>();
                long labelled = 0, correct = 0;
                var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
                var map = truth.Keys.Select(k => index.GetValueOrDefault(k, -1)).ToArray();
                for (var p = 0; p < plane; p++)
                {
                    var t = truth.Index[p];
                    if (t < 0)
                    {
                        continue;
                    }

                    labelled++;
                    if (map[t] == predicted[p])
                    {
                        correct++;
                    }

                    counts[(t, predicted[p])] = counts.GetValueOrDefault((t, predicted[p])) + 1;
                }

                confusion = counts.OrderBy(kv => kv.Key.Actual).ThenBy(kv => kv.Key.Predicted).Select(kv => new PixelCount(truth.Keys[kv.Key.Actual], classes[kv.Key.Predicted], kv.Value)).ToList();
                accuracy = labelled == 0 ? null : (double)correct / labelled;
            }

            var dominant = 0;
            for (var c = 1; c < n; c++)
            {
                if (pixels[c] > pixels[dominant])
                {
                    dominant = c;
                }
            }

            results.Add(new SegmentationPrediction
            {
                SampleId = id,
                Model = _model.Name,
                LabelPath = label,
                QuicklookPath = quicklook,
                Dominant = classes[dominant],
                ClassPixels = classes.Select((c, i) => (c, i)).Where(x => pixels[x.i] > 0).ToDictionary(x => x.c, x => pixels[x.i], StringComparer.Ordinal),
                Confusion = confusion,
                PixelAccuracy = accuracy,
                Modalities = _batch.ModalitiesAt(s),
            });
            _truth[s] = null;
            _grids[s] = null;
        }

        _batch.Clear();
        return results;
    }

    // The COG and PNG are written under temporary names and renamed, so a patch's folder never holds half a file.
    private (string Label, string Quicklook) Write(string id, PatchGeoreference grid, int[] predicted, int[] values)
    {
        var folder = Path.Combine(_outputFolder!, id);
        var label = Path.Combine(folder, LabelFile);
        var quicklook = Path.Combine(folder, QuicklookFile);
        var size = _batch.Width * _batch.Height;
        var codes = new ushort[size];
        var red = new byte[size];
        var green = new byte[size];
        var blue = new byte[size];
        var alpha = new byte[size];
        var colours = _model.Classes.Select((c, i) => ColourOf(_model.Labels, c, i)).ToArray();
        for (var p = 0; p < size; p++)
        {
            var c = predicted[p];
            codes[p] = (ushort)values[c];
            (red[p], green[p], blue[p], alpha[p]) = (colours[c].R, colours[c].G, colours[c].B, 255);
        }

        var metadata = new Dictionary<string, string>
        {
            ["DEEPSENTINEL_SAMPLE"] = id,
            ["DEEPSENTINEL_MODEL"] = _model.Name,
            ["LABEL_NOMENCLATURE"] = _model.Labels == SegmentationLabelSource.Clc
                ? string.Create(CultureInfo.InvariantCulture, $"CORINE Land Cover 2018 level {_model.Card.ClcLevel}")
                : "OpenStreetMap classes: " + string.Join(", ", _model.Classes.Select((c, i) => string.Create(CultureInfo.InvariantCulture, $"{values[i]}={c}"))),
        };
        try
        {
            Directory.CreateDirectory(folder);
            RasterWriter.WriteCog(label + ".partial.tif", grid.Epsg, grid.GeoTransform, _batch.Width, _batch.Height,
                [new BandData<ushort>(_model.Labels == SegmentationLabelSource.Clc ? string.Create(CultureInfo.InvariantCulture, $"CLC level-{_model.Card.ClcLevel} code") : "OSM class", codes)], noData: 0, metadata, CogLayout.Patch);
            RasterWriter.WritePng(quicklook + ".partial.png", _batch.Width, _batch.Height, red, green, blue, alpha);
            File.Delete(quicklook + ".partial.png.aux.xml");
            File.Move(label + ".partial.tif", label, overwrite: true);
            File.Move(quicklook + ".partial.png", quicklook, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            File.Delete(label + ".partial.tif");
            File.Delete(quicklook + ".partial.png");
            throw new DeepSentinelException(ErrorIds.RasterWriteFailed, ErrorKind.WriteError, $"Cannot write the label COG of patch {id} in {folder}: {ex.Message}", id, ex);
        }

        return (label, quicklook);
    }
}
