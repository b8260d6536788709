using System.Text.Json;
using DeepSentinel.Core.Demo;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.FineTuning;
using DeepSentinel.Core.Interop.Gdal;
using DeepSentinel.Core.Tests.Training;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Tests.FineTuning;

/// <summary>
/// EuroSAT-style datasets: the band map, the reader (checked pixel by pixel against python3-gdal's
/// own mapping), bad input, split files, and fine-tuning on a generated dataset with the
/// classifier card's band check.
/// </summary>
// Runs with the other engine tests: model creation seeds libtorch's global generator.
[Collection(DeepSentinel.Core.Tests.Training.TorchCollection.Name)]
public sealed class LabelledImageTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ds-eurosat-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Generate(string name, DemoImageFormat format = DemoImageFormat.GeoTiff, int perClass = 4, IReadOnlyList<string>? classes = null, bool describe = false, int size = 64)
    {
        var root = Path.Combine(_folder, name);
        var options = new DemoEuroSatOptions { Destination = root, Format = format, ImagesPerClass = perClass, DescribeBands = describe, Size = size };
        DemoEuroSatGenerator.Generate(classes is null ? options : options with { Classes = classes }, new RecordingReporter());
        return root;
    }

    private static List<LabelledImage> Read(string root, RecordingReporter? reporter = null, Func<LabelledImageOptions, LabelledImageOptions>? change = null)
    {
        var options = new LabelledImageOptions { Root = root };
        return LabelledImageReader.Read(change is null ? options : change(options), reporter ?? new RecordingReporter()).ToList();
    }

    private static void AssertSameAsPython(LabelledImage image, string? expectedBands = null)
    {
        var python = DebianPython.RunFile(Path.Combine("FineTuning", "python", "eurosat_reader.py"), image.Path);
        var bands = python.GetProperty("bands").EnumerateArray().Select(b => b.GetString()!).ToList();
        Assert.Equal(bands, image.InputBands);
        if (expectedBands is not null)
        {
            Assert.Equal(expectedBands, string.Join(",", bands));
        }

        var patch = image.Read();
        var plane = patch.Height * patch.Width;
        for (var c = 0; c < TrainingPatch.S2BandNames.Count; c++)
        {
            var name = TrainingPatch.S2BandNames[c];
            var ours = patch.S2!.AsSpan(c * plane, plane);
            if (!python.GetProperty("data").TryGetProperty(name, out var values))
            {
                Assert.True(ours.ToArray().All(float.IsNaN), $"{name} is not measured: it must be nodata");
                continue;
            }

            var i = 0;
            foreach (var v in values.EnumerateArray())
            {
                Assert.True(Math.Abs(ours[i] - v.GetDouble()) <= 1e-3 * Math.Max(1, Math.Abs(v.GetDouble())), $"{image.Path} {name} pixel {i}: {ours[i]} vs python {v.GetDouble()}");
                i++;
            }

            Assert.Equal(plane, i);
        }
    }

    [Fact]
    public void The_band_map_drops_B10_and_renames_B08A()
    {
        Assert.Equal(13, EuroSatBands.L1CToL2A.Count);
        Assert.Equal(EuroSatBands.L1CBands, EuroSatBands.L1CToL2A.Select(m => m.Source));
        Assert.Null(EuroSatBands.L1CToL2A.Single(m => m.Source == "B10").Target);
        Assert.Equal("B8A", EuroSatBands.L1CToL2A.Single(m => m.Source == "B08A").Target);
        Assert.Equal(TrainingPatch.S2BandNames, EuroSatBands.L1CToL2A.Where(m => m.Target is not null).Select(m => m.Target!));
        Assert.Equal("B8A", EuroSatBands.Canonical("b08a"));
        Assert.Equal("B8A", EuroSatBands.Canonical("8A"));
        Assert.Equal("B01", EuroSatBands.Canonical("B1"));
        Assert.Equal("B10", EuroSatBands.Canonical("B10"));
        Assert.Null(EuroSatBands.Canonical("Band 1"));
        Assert.Null(EuroSatBands.Canonical("B13"));
        Assert.Equal(-1, EuroSatBands.CorpusChannel("B10"));
        Assert.Equal(["B02", "B03", "B04"], EuroSatBands.InCorpusOrder(["B04", "B03", "B02", "B10"]));
    }

    [Fact]
    public void Thirteen_band_GeoTIFFs_without_descriptions_map_onto_the_12_corpus_bands_as_python_gdal_reads_them()
    {
        var root = Generate("ms", classes: ["AnnualCrop", "Forest", "SeaLake"], perClass: 3);
        var images = Read(root);

        Assert.Equal(9, images.Count);
        Assert.Equal(["AnnualCrop", "Forest", "SeaLake"], images.Select(i => i.Class).Distinct());
        Assert.Equal("AnnualCrop_1", images[0].SampleId);
        Assert.All(images, i => Assert.Equal(TrainingPatch.S2BandNames, i.InputBands));
        Assert.All(images, i => Assert.Equal("L1C", i.InputLevel));
        Assert.Equal(EuroSatBands.L1CBands.Select(b => EuroSatBands.Canonical(b)), images[0].FileBands);
        Assert.Equal(1.0, images[0].ClassShares["AnnualCrop"]);
        AssertSameAsPython(images[4]);
    }

    [Fact]
    public void Band_descriptions_decide_the_order_and_Band_picks_RGB_from_the_13_bands()
    {
        // A file whose bands are described in reverse order: the descriptions win over EuroSAT's order.
        var root = Path.Combine(_folder, "described");
        var forest = Directory.CreateDirectory(Path.Combine(root, "Forest")).FullName;
        Directory.CreateDirectory(Path.Combine(root, "SeaLake"));
        File.Copy(Path.Combine(Generate("src", classes: ["Forest", "SeaLake"], perClass: 1, describe: true), "SeaLake", "SeaLake_1.tif"), Path.Combine(root, "SeaLake", "SeaLake_1.tif"));
        using (var d = GdalDataset.Create("GTiff", Path.Combine(forest, "Forest_1.tif"), 64, 64, 13, RasterDataType.UInt16))
        {
            var buffer = new ushort[64 * 64];
            for (var b = 0; b < 13; b++)
            {
                Array.Fill(buffer, (ushort)(100 * (b + 1)));
                buffer[b] = 7;
                d.Write<ushort>(b + 1, buffer);
                d.SetDescription(b + 1, EuroSatBands.L1CBands[12 - b]);
            }
        }

        var images = Read(root);
        Assert.Equal(["B12", "B11", "B10", "B09", "B8A", "B08", "B07", "B06", "B05", "B04", "B03", "B02", "B01"], images[0].FileBands);
        AssertSameAsPython(images[0]);
        var patch = images[0].Read();
        Assert.Equal(1300f, patch.S2![0]); // B01 is the 13th file band
        AssertSameAsPython(images[1]); // described in EuroSAT's order

        var rgb = Read(root, change: o => o with { Bands = ["B04", "B03", "B02"] });
        Assert.All(rgb, i => Assert.Equal(["B02", "B03", "B04"], i.InputBands));
        var p = rgb[0].Read();
        Assert.True(float.IsNaN(p.S2![0]));
        Assert.Equal(1000f, p.S2[(3 * 64 * 64) + 1]); // B04 is file band 10
        Assert.Equal(["B02", "B03", "B04"], p.InputBands);
    }

    [Fact]
    public void RGB_JPEGs_feed_B04_B03_B02_scaled_towards_reflectance_and_the_rest_is_nodata()
    {
        var root = Generate("rgb", DemoImageFormat.Jpeg, perClass: 2, classes: ["Forest", "Residential"]);
        var images = Read(root);

        Assert.Equal(4, images.Count);
        Assert.All(images, i => Assert.Equal("JPEG", i.Format));
        Assert.All(images, i => Assert.Equal("RGB", i.InputLevel));
        AssertSameAsPython(images[0], "B02,B03,B04");
        var png = Generate("png", DemoImageFormat.Png, perClass: 1, classes: ["Forest", "SeaLake"]);
        AssertSameAsPython(Read(png)[1], "B02,B03,B04");
    }

    [Fact]
    public void Bad_files_are_skipped_with_a_warning_naming_them_and_bad_folders_are_DatasetInvalid()
    {
        var root = Generate("bad", classes: ["Forest", "SeaLake"], perClass: 3);
        File.WriteAllText(Path.Combine(root, "Forest", "Forest_broken.tif"), "not a tiff");
        Directory.CreateDirectory(Path.Combine(root, "Pasture"));
        File.Copy(Path.Combine(Generate("small", classes: ["Forest", "SeaLake"], perClass: 1), "Forest", "Forest_1.tif"), Path.Combine(root, "SeaLake", "SeaLake_99.tif"));
        using (var d = GdalDataset.Create("GTiff", Path.Combine(root, "SeaLake", "SeaLake_small.tif"), 48, 40, 13, RasterDataType.UInt16))
        {
            var buffer = new ushort[48 * 40];
            Array.Fill(buffer, (ushort)500);
            for (var b = 1; b <= 13; b++)
            {
                d.Write<ushort>(b, buffer);
            }
        }

        File.Copy(Path.Combine(root, "Forest", "Forest_1.tif"), Path.Combine(root, "SeaLake", "Forest_1.tif")); // a duplicate id
        var reporter = new RecordingReporter();
        var images = Read(root, reporter);

        Assert.Equal(7, images.Count); // 3 + 3 + SeaLake_99
        Assert.Contains(reporter.Warnings, w => w.Contains("Forest_broken.tif is skipped: GDAL cannot read it", StringComparison.Ordinal));
        Assert.Contains(reporter.Warnings, w => w.Contains("SeaLake_small.tif is skipped: it is 48 x 40 px, not 64 x 64", StringComparison.Ordinal));
        Assert.Contains(reporter.Warnings, w => w.Contains("class 'Pasture' is left out", StringComparison.Ordinal));
        Assert.Contains(reporter.Warnings, w => w.Contains("its id Forest_1 is already taken", StringComparison.Ordinal));
        Assert.DoesNotContain(images, i => i.Class == "Pasture");

        // Pad keeps the 10 m pixel: the 48 x 40 image sits in the middle of nodata.
        var padded = Read(root, change: o => o with { Fit = ImageFit.Pad }).Single(i => i.SampleId == "SeaLake_small").Read();
        Assert.Equal(64, padded.Height);
        Assert.True(float.IsNaN(padded.S2![0]));
        Assert.Equal(500f, padded.S2[(32 * 64) + 32]);
        Assert.Equal(500f, padded.S2[(12 * 64) + 8]);
        Assert.True(float.IsNaN(padded.S2[(11 * 64) + 8]));
        Assert.True(float.IsNaN(padded.S2[(12 * 64) + 7]));
        var resized = Read(root, change: o => o with { Fit = ImageFit.Resize }).Single(i => i.SampleId == "SeaLake_small").Read();
        Assert.All(resized.S2!.Take(64 * 64), v => Assert.Equal(500f, v));

        // A mixed dataset: an RGB image among 13-band ones is skipped.
        File.Copy(Path.Combine(Generate("mixrgb", DemoImageFormat.Jpeg, perClass: 1, classes: ["Forest", "SeaLake"]), "Forest", "Forest_1.jpg"), Path.Combine(root, "Forest", "Forest_rgb.jpg"));
        var mixed = new RecordingReporter();
        Assert.DoesNotContain(Read(root, mixed), i => i.SampleId == "Forest_rgb");
        Assert.Contains(mixed.Warnings, w => w.Contains("Forest_rgb.jpg is skipped: it gives bands B02,B03,B04", StringComparison.Ordinal));

        Assert.Equal(ErrorIds.DatasetInvalid, Assert.Throws<DeepSentinelException>(() => Read(Path.Combine(_folder, "missing"))).ErrorId);
        var flat = Directory.CreateDirectory(Path.Combine(_folder, "flat")).FullName;
        Assert.Equal(ErrorIds.DatasetInvalid, Assert.Throws<DeepSentinelException>(() => Read(flat)).ErrorId);
        var noClass = Assert.Throws<DeepSentinelException>(() => Read(root, change: o => o with { Classes = ["Forest", "Highway"] }));
        Assert.Equal(ErrorIds.DatasetInvalid, noClass.ErrorId);
        Assert.Contains("Highway", noClass.Message, StringComparison.Ordinal);
        var empty = Assert.Throws<DeepSentinelException>(() => Read(root, change: o => o with { Classes = ["Pasture"] }));
        Assert.Equal(ErrorIds.DatasetInvalid, empty.ErrorId);
        Assert.Equal(ErrorIds.InvalidParameterValue, Assert.Throws<DeepSentinelException>(() => Read(root, change: o => o with { Bands = ["B10"] })).ErrorId);
        Assert.Equal(ErrorIds.InvalidParameterValue, Assert.Throws<DeepSentinelException>(() => Read(root, change: o => o with { PatchSize = 48 })).ErrorId);
        var order = new RecordingReporter();
        var only = Read(root, order, o => o with { Classes = ["Forest"], BandOrder = ["B04", "B03", "B02"] });
        Assert.Equal(["Forest_rgb"], only.Select(i => i.SampleId));
        Assert.Contains(order.Warnings, w => w.Contains("it has 13 bands; -BandOrder names 3", StringComparison.Ordinal));
    }

    private static string Tool(string tool, params object[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            start.ArgumentList.Add(Convert.ToString(a, System.Globalization.CultureInfo.InvariantCulture)!);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), $"{tool} did not finish.");
        Assert.True(process.ExitCode == 0, $"{tool} failed: {stderr.Result}");
        return stdout.Result;
    }

    [Fact]
    public void Georeferenced_GeoTIFFs_are_blocked_by_grid_cell_and_images_without_a_location_fall_back_with_a_warning()
    {
        // 24 images on a 3 km lattice in UTM 31N, 10 m pixels, georeferenced by gdal_translate as
        // EuroSAT MS's own files are (a UTM CRS and a geotransform per file).
        var root = Generate("located", classes: ["AnnualCrop", "Forest", "SeaLake"], perClass: 8, size: 32);
        var files = Directory.GetFiles(root, "*.tif", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        for (var i = 0; i < files.Count; i++)
        {
            double x = 400_000 + (i % 6 * 3000), y = 5_400_000 + (i / 6 * 3000);
            var temp = files[i] + ".georef.tif";
            Tool("gdal_translate", "-q", "-a_srs", "EPSG:32631", "-a_ullr", x, y, x + 320, y - 320, files[i], temp);
            File.Move(temp, files[i], overwrite: true);
        }

        var images = Read(root, change: o => o with { PatchSize = 32 });
        Assert.Equal(24, images.Count);
        Assert.All(images, i => Assert.Equal("EPSG:32631", i.Crs));
        using (var info = JsonDocument.Parse(Tool("gdalinfo", "-json", files[7])))
        {
            var centre = info.RootElement.GetProperty("cornerCoordinates").GetProperty("center");
            var image = images.Single(im => im.Path == Path.GetFullPath(files[7]));
            Assert.Equal(centre[0].GetDouble(), image.CentreX!.Value, 6);
            Assert.Equal(centre[1].GetDouble(), image.CentreY!.Value, 6);
        }

        var reporter = new RecordingReporter();
        var split = SplitService.Split(images, new CorpusSplitOptions { BlockSize = 6000, Seed = 1 }, reporter);
        (double, double) Cell(LabelledSample s) => (Math.Floor(((LabelledImage)s.Patch).CentreX!.Value / 6000), Math.Floor(((LabelledImage)s.Patch).CentreY!.Value / 6000));
        var trainCells = split.Train.Select(Cell).ToHashSet();
        Assert.DoesNotContain(split.Test.Select(Cell), trainCells.Contains);
        Assert.Equal(images.Select(i => (Math.Floor(i.CentreX!.Value / 6000), Math.Floor(i.CentreY!.Value / 6000))).Distinct().Count(), split.Blocks);
        Assert.InRange(split.Blocks, 2, 12);
        Assert.DoesNotContain(reporter.Warnings, w => w.Contains("no location", StringComparison.Ordinal));

        // JPEGs, and GeoTIFFs without a geotransform, have no location: each is a block of its own, with a warning.
        foreach (var (format, name) in new[] { (DemoImageFormat.Jpeg, "jpeg"), (DemoImageFormat.GeoTiff, "plain") })
        {
            var unplaced = new RecordingReporter();
            var fallback = SplitService.Split(Read(Generate(name, format, classes: ["Forest", "SeaLake"], perClass: 5)), new CorpusSplitOptions { Seed = 1 }, unplaced);
            Assert.Equal(10, fallback.Blocks);
            Assert.Contains(unplaced.Warnings, w => w.StartsWith("10 of 10 sample(s) have no location in a projected CRS", StringComparison.Ordinal) && w.Contains("-BlockBy Sample", StringComparison.Ordinal));
            var asked = new RecordingReporter();
            SplitService.Split(Read(Path.Combine(_folder, name)), new CorpusSplitOptions { Seed = 1, BlockBy = SplitBlocking.Sample }, asked);
            Assert.Empty(asked.Warnings);
        }
    }

    [Fact]
    public void Torchgeo_split_files_of_file_names_work_and_a_seeded_split_is_70_30_whatever_the_order()
    {
        var root = Generate("split", classes: ["AnnualCrop", "Forest", "SeaLake"], perClass: 10);
        var images = Read(root).Cast<ITrainingPatchProvider>().ToList();
        var a = SplitService.Split(images, new CorpusSplitOptions { Seed = 3 }, new RecordingReporter());
        var b = SplitService.Split(images.AsEnumerable().Reverse(), new CorpusSplitOptions { Seed = 3 }, new RecordingReporter());
        Assert.Equal(21, a.TrainCount);
        Assert.Equal(9, a.TestCount);
        Assert.Equal(a.TrainIds.Order(StringComparer.Ordinal), b.TrainIds.Order(StringComparer.Ordinal));
        Assert.Equal(["AnnualCrop", "Forest", "SeaLake"], a.ClassCounts.Select(c => c.Class));

        var train = Path.Combine(_folder, "eurosat-train.txt");
        var test = Path.Combine(_folder, "eurosat-test.txt");
        File.WriteAllLines(train, images.Take(20).Select(i => i.SampleId + ".tif"));
        File.WriteAllLines(test, images.Skip(20).Select(i => i.SampleId + ".tif"));
        var fromFiles = SplitService.FromFiles(images, train, test, 3, new RecordingReporter());
        Assert.Equal(images.Take(20).Select(i => i.SampleId), fromFiles.TrainIds);
        Assert.Equal(10, fromFiles.TestCount);

        File.AppendAllLines(test, ["Highway_1.tif"]);
        var unknown = Assert.Throws<DeepSentinelException>(() => SplitService.FromFiles(images, train, test, 3, new RecordingReporter()));
        Assert.Equal(ErrorIds.SplitIdUnknown, unknown.ErrorId);
        Assert.Contains("Highway_1", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fine_tuning_on_a_generated_dataset_is_accurate_metrics_equal_sklearn_and_the_card_refuses_other_bands()
    {
        // 32 x 32 px images (a quarter of EuroSAT's pixels) keep the test quick on a shared machine.
        var root = Generate("train", classes: ["AnnualCrop", "Forest", "Residential", "SeaLake"], perClass: 10, size: 32);
        var images = Read(root, change: o => o with { PatchSize = 32 }).Cast<ITrainingPatchProvider>().ToList();
        var split = SplitService.Split(images, new CorpusSplitOptions { Seed = 1, BlockBy = SplitBlocking.Sample }, new RecordingReporter());
        var folder = Path.Combine(_folder, "clf");
        var model = await new FineTuningService().RunAsync(split, null, new FineTuningOptions
        {
            OutputFolder = folder, Epochs = 16, BatchSize = 8, EmbeddingDimension = 16, LearningRate = 3e-3, Threads = 2, Sensors = SensorInput.S2, Seed = 1,
        }, new RecordingReporter(), CancellationToken.None);

        Assert.Equal(["AnnualCrop", "Forest", "Residential", "SeaLake"], model.Classes);
        Assert.True(model.Evaluation!.OverallAccuracy >= 0.9, $"test accuracy {model.Evaluation.OverallAccuracy}; losses:\n{File.ReadAllText(Path.Combine(folder, "fine-tuning.csv"))}");
        var card = ClassificationModel.Import(folder).Card;
        Assert.Equal(TrainingPatch.S2BandNames, card.InputBands);
        Assert.Equal("L1C", card.InputLevel);
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, ClassifierCard.FileName))))
        {
            Assert.Equal(12, json.RootElement.GetProperty("inputBands").GetArrayLength());
        }

        // The metrics, against sklearn on the predictions the model wrote.
        var rows = File.ReadAllLines(Path.Combine(folder, "test-predictions.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        var classes = model.Classes.ToList();
        var input = Path.Combine(_folder, "sk.json");
        File.WriteAllText(input, JsonSerializer.Serialize(new { task = "single", classes, actual = rows.Select(r => classes.IndexOf(r[1])), predicted = rows.Select(r => classes.IndexOf(r[2])) }));
        var sk = DebianPython.RunFile(Path.Combine("Evaluation", "python", "sklearn_metrics.py"), input);
        Assert.Equal(split.TestCount, rows.Count);
        Assert.Equal(sk.GetProperty("overall_accuracy").GetDouble(), model.Evaluation.OverallAccuracy, 12);
        Assert.Equal(sk.GetProperty("balanced_accuracy").GetDouble(), model.Evaluation.BalancedAccuracy, 12);
        Assert.Equal(sk.GetProperty("macro_f1").GetDouble(), model.Evaluation.MacroF1, 12);

        // RGB input into the 12-band classifier is refused with the card's bands in the message.
        var rgb = Read(root, change: o => o with { PatchSize = 32, Bands = ["B04", "B03", "B02"] });
        using (var predictor = ClassPredictor.Open(model, TrainingDevice.Cpu, 4, 2))
        {
            var refused = Assert.Throws<DeepSentinelException>(() => predictor.Add(rgb[0].Read(), null));
            Assert.Equal(ErrorIds.ModelBandMismatch, refused.ErrorId);
            Assert.Contains("B01,B02,B03,B04,B05,B06,B07,B08,B8A,B09,B11,B12", refused.Message, StringComparison.Ordinal);
            Assert.Single(predictor.Add(((LabelledImage)images[0]).Read(), null).Concat(predictor.Complete()));
        }

        // A split mixing RGB and 13-band images: refused before anything is written.
        var mixed = SplitService.Split(images.Take(20).Concat(rgb.Skip(20)), new CorpusSplitOptions { Seed = 1, BlockBy = SplitBlocking.Sample }, new RecordingReporter());
        var mixedFolder = Path.Combine(_folder, "mixed");
        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => new FineTuningService().RunAsync(mixed, null, new FineTuningOptions { OutputFolder = mixedFolder, Epochs = 1, Sensors = SensorInput.S2 }, new RecordingReporter(), CancellationToken.None));
        Assert.Equal(ErrorIds.ModelBandMismatch, error.ErrorId);
        Assert.False(Directory.Exists(mixedFolder));
    }
}
