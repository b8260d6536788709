using System.Globalization;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Embeddings;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Tests.Training;

/// <summary>Pretraining end to end on a synthetic corpus, checked by independent readers.</summary>
[Collection(TorchCollection.Name)]
public sealed class PretrainingTests(TrainedModelFixture trained)
{
    [Fact]
    public void The_loss_falls_while_training()
    {
        var losses = Tiny.Losses(trained.Folder);

        Assert.Equal(24, losses.Count);
        Assert.All(losses, l => Assert.True(double.IsFinite(l)));
        Assert.True(losses.Take(4).Average() > losses.TakeLast(4).Average(), $"SimCLR loss did not fall: {string.Join(", ", losses.Select(l => l.ToString("0.000", CultureInfo.InvariantCulture)))}");
    }

    [Fact]
    public void The_model_folder_has_a_card_checkpoints_metrics_and_progress()
    {
        var card = trained.Model.Card;

        Assert.Equal(24, trained.Model.Steps);
        Assert.Equal(8, trained.Model.Epochs);
        Assert.Equal(PretrainingMethod.SimClr, card.Method);
        Assert.Equal(TrainingPatch.S2BandNames.Concat(TrainingPatch.S1BandNames), card.Bands.Select(b => b.Name));
        Assert.Equal(32, card.PatchSize);
        Assert.Equal(24, card.Corpus!.Patches);
        Assert.NotNull(card.FinalMetrics);
        Assert.InRange(Directory.GetFiles(Path.Combine(trained.Folder, "checkpoints"), "step-*.pt").Length, 1, 3);
        Assert.Single(Directory.GetFiles(trained.Folder, "events.out.tfevents.*"));
        Assert.Contains(trained.Reporter.Progress, p => p.Status.Contains("step 24", StringComparison.Ordinal) && p.Status.Contains("images/s", StringComparison.Ordinal));
        Assert.Contains(trained.Reporter.Progress, p => p.PercentComplete == 100);
        // Band statistics are those of the corpus (B01 of the synthetic spectra is 300-1400).
        Assert.InRange(card.Bands[0].Mean, 300, 1500);
        Assert.InRange(card.Bands[12].Mean, -25, -5);
    }

    [Fact]
    public void A_checkpoint_loads_in_python_torch()
    {
        var result = DebianPython.RunScript("read_checkpoint.py", trained.Model.CheckpointPath);

        Assert.Equal("deepsentinel-checkpoint", result.GetProperty("format").GetString());
        Assert.Equal(24, result.GetProperty("step").GetInt64());
        Assert.Equal(new[] { 64, 14, 7, 7 }, result.GetProperty("conv1").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(12, result.GetProperty("config").GetProperty("s2_channels").GetInt32());
        Assert.True(result.GetProperty("finite").GetBoolean());
        Assert.True(result.GetProperty("parameters").GetInt64() > 11_000_000, "ResNet-18 has about 11 M parameters.");
        var means = result.GetProperty("input_mean").EnumerateArray().Select(e => e.GetDouble()).ToList();
        Assert.Equal(trained.Model.Card.Bands.Select(b => (double)(float)b.Mean), means);
    }

    [Fact]
    public void TensorBoard_events_parse_independently_and_match_the_metrics()
    {
        var file = Directory.GetFiles(trained.Folder, "events.out.tfevents.*").Single();
        var result = DebianPython.RunScript("read_tfevents.py", file);
        var events = result.GetProperty("events").EnumerateArray().ToList();
        var losses = Tiny.Losses(trained.Folder);

        Assert.Equal("brain.Event:2", result.GetProperty("file_version").GetString());
        Assert.Equal(Enumerable.Range(1, 24), events.Select(e => e.GetProperty("step").GetInt32()));
        Assert.All(events, e =>
        {
            var scalars = e.GetProperty("scalars");
            Assert.True(scalars.GetProperty("images_per_second").GetDouble() > 0);
            Assert.Equal(1e-3, scalars.GetProperty("learning_rate").GetDouble(), 6);
            Assert.True(e.GetProperty("wall_time").GetDouble() > 1.6e9);
        });
        Assert.Equal(losses.Select(l => (float)l), events.Select(e => (float)e.GetProperty("scalars").GetProperty("loss").GetDouble()));
    }

    [Fact]
    public void Embeddings_are_deterministic_and_identical_after_import()
    {
        var first = Embed(trained.Model, Tiny.Corpus());
        var second = Embed(EmbeddingModel.Import(trained.Folder), Tiny.Corpus());

        Assert.Equal(24, first.Count);
        Assert.Equal(first.Select(e => e.SampleId), second.Select(e => e.SampleId));
        for (var i = 0; i < first.Count; i++)
        {
            Assert.Equal(first[i].Vector, second[i].Vector);
            Assert.Equal(16, first[i].Dimension);
            Assert.All(first[i].Vector, v => Assert.True(float.IsFinite(v)));
        }
    }

    [Fact]
    public void S1_only_and_S2_only_patches_embed_with_the_fused_model()
    {
        var source = Tiny.Corpus();
        var full = source.Create(0);
        var s2Only = new TrainingPatch("s2-only", 32, 32, full.S2, null);
        var s1Only = new TrainingPatch("s1-only", 32, 32, null, full.S1);

        var embeddings = EmbedPatches(trained.Model, [full, s2Only, s1Only]);

        Assert.Equal(new[] { "S2+S1", "S2", "S1" }, embeddings.Select(e => e.Modalities));
        Assert.All(embeddings, e => Assert.All(e.Vector, v => Assert.True(float.IsFinite(v))));
        Assert.NotEqual(embeddings[0].Vector, embeddings[1].Vector);
        Assert.NotEqual(embeddings[1].Vector, embeddings[2].Vector);
    }

    [Theory]
    [InlineData(SensorInput.S1)]
    [InlineData(SensorInput.S2)]
    public async Task Single_sensor_models_train_and_embed(SensorInput sensors)
    {
        using var temp = new TempFolder();
        var options = Tiny.Options(temp["m"]) with { Sensors = sensors, MaxSteps = 2 };

        var model = await new PretrainingService().RunAsync(Tiny.Corpus(), options, NullReporter.Instance, CancellationToken.None);
        // The corpus has patches missing the other sensor, and patches missing this one: only the usable ones count.
        var usable = Enumerable.Range(0, 24).Select(Tiny.Corpus().Create).Where(p => sensors == SensorInput.S1 ? p.S1 is not null : p.S2 is not null).ToList();
        var embeddings = EmbedPatches(model, usable);

        Assert.Equal(2, model.Steps);
        Assert.Equal(sensors == SensorInput.S1 ? 2 : 12, model.Bands.Count);
        Assert.Equal(usable.Count, embeddings.Count);
    }

    [Fact]
    public async Task Resume_continues_the_step_count_and_the_metrics()
    {
        using var temp = new TempFolder();
        var options = Tiny.Options(temp["m"]) with { MaxSteps = 3, CheckpointInterval = 100 };
        var service = new PretrainingService();

        var first = await service.RunAsync(Tiny.Corpus(), options, NullReporter.Instance, CancellationToken.None);
        var again = await Assert.ThrowsAsync<DeepSentinelException>(() => service.RunAsync(Tiny.Corpus(), options, NullReporter.Instance, CancellationToken.None));
        var resumed = await service.RunAsync(Tiny.Corpus(), options with { MaxSteps = 5, Resume = true }, NullReporter.Instance, CancellationToken.None);

        Assert.Equal(3, first.Steps);
        Assert.Equal(ErrorIds.ModelFolderNotEmpty, again.ErrorId);
        Assert.Equal(5, resumed.Steps);
        Assert.Equal(5, DebianPython.RunScript("read_checkpoint.py", resumed.CheckpointPath).GetProperty("step").GetInt64());
        var steps = File.ReadAllLines(Path.Combine(temp["m"], "metrics.csv")).Skip(1).Select(l => int.Parse(l.Split(',')[0], CultureInfo.InvariantCulture));
        Assert.Equal(Enumerable.Range(1, 5), steps);
        Assert.Equal(2, Directory.GetFiles(temp["m"], "events.out.tfevents.*").Length);
    }

    [Fact]
    public async Task Cancellation_saves_a_checkpoint_that_resume_continues_from()
    {
        using var temp = new TempFolder();
        using var cancel = new CancellationTokenSource();
        var reporter = new RecordingReporter
        {
            OnProgress = p =>
            {
                if (p.Status.Contains("step 2,", StringComparison.Ordinal))
                {
                    cancel.Cancel();
                }
            },
        };
        var options = Tiny.Options(temp["m"]) with { CheckpointInterval = 100 };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new PretrainingService().RunAsync(Tiny.Corpus(), options, reporter, cancel.Token));
        var interrupted = EmbeddingModel.Import(temp["m"]);
        var resumed = await new PretrainingService().RunAsync(Tiny.Corpus(), options with { Resume = true, MaxSteps = interrupted.Steps + 2 }, NullReporter.Instance, CancellationToken.None);

        Assert.InRange(interrupted.Steps, 2, 3);
        Assert.Contains(reporter.Warnings, w => w.Contains("-Resume", StringComparison.Ordinal));
        Assert.Equal(interrupted.Steps + 2, resumed.Steps);
    }

    [Fact]
    public async Task Tile2Vec_trains_on_spatial_triplets()
    {
        using var temp = new TempFolder();
        var options = Tiny.Options(temp["m"], PretrainingMethod.Tile2Vec) with { BatchSize = 4, Epochs = 2 };

        var model = await new PretrainingService().RunAsync(Tiny.Corpus(), options, NullReporter.Instance, CancellationToken.None);

        Assert.Equal(PretrainingMethod.Tile2Vec, model.Method);
        Assert.True(model.Steps >= 4);
        Assert.All(Tiny.Losses(temp["m"]), l => Assert.True(double.IsFinite(l) && l >= 0));
    }

    [Fact]
    public async Task A_UNet_autoencoder_learns_and_writes_per_pixel_embeddings_numpy_reads()
    {
        using var temp = new TempFolder();
        var options = Tiny.Options(temp["m"], PretrainingMethod.Autoencoder, EncoderKind.UNet) with { Epochs = 5, LearningRate = 3e-3 };

        var model = await new PretrainingService().RunAsync(Tiny.Corpus(), options, NullReporter.Instance, CancellationToken.None);
        var losses = Tiny.Losses(temp["m"]);
        var file = temp["pixels.npy"];
        List<PatchEmbedding> pooled;
        using (var session = EmbeddingSession.Open(model, new EmbeddingOptions { Threads = 2, OutFile = file, PerPixel = true, BatchSize = 4 }))
        {
            pooled = Enumerable.Range(0, 6).Select(Tiny.Corpus().Create).SelectMany(session.Add).ToList();
            pooled.AddRange(session.Complete());
        }

        var npy = DebianPython.RunScript("read_npy.py", file);
        var values = npy.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();

        Assert.True(losses.Take(3).Average() > losses.TakeLast(3).Average(), "Autoencoder loss did not fall.");
        Assert.Equal("float32", npy.GetProperty("dtype").GetString());
        Assert.Equal(new[] { 6, 16, 32, 32 }, npy.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        // The patch embedding is the mean of that patch's per-pixel embeddings.
        var mean = values.Skip(3 * 16 * 1024).Take(1024).Average();
        Assert.Equal(pooled[3].Vector[0], mean, 4);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"synthetic-{i:D5}"), File.ReadAllLines(file + ".ids.txt"));
    }

    [Fact]
    public void Embeddings_written_to_npy_are_what_numpy_reads()
    {
        using var temp = new TempFolder();
        var file = temp["e.npy"];
        List<PatchEmbedding> objects;
        using (var session = EmbeddingSession.Open(trained.Model, new EmbeddingOptions { Threads = 2, OutFile = file, BatchSize = 5 }))
        {
            objects = Enumerable.Range(0, 12).Select(Tiny.Corpus().Create).SelectMany(session.Add).ToList();
            objects.AddRange(session.Complete());
        }

        var npy = DebianPython.RunScript("read_npy.py", file);

        Assert.Equal(new[] { 12, 16 }, npy.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(objects.SelectMany(o => o.Vector), npy.GetProperty("values").EnumerateArray().Select(v => (float)v.GetDouble()));
    }

    [Fact]
    public void A_session_that_is_not_completed_leaves_no_npy_file()
    {
        using var temp = new TempFolder();
        var file = temp["stopped.npy"];
        using (var session = EmbeddingSession.Open(trained.Model, new EmbeddingOptions { Threads = 2, OutFile = file, BatchSize = 5 }))
        {
            Assert.NotEmpty(Enumerable.Range(0, 7).Select(Tiny.Corpus().Create).SelectMany(session.Add).ToList());
        }

        // Stopped after a batch had been written: neither the file nor its ids, nor a partial file.
        Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(file)!, "stopped*"));
    }

    [Fact]
    public void An_out_file_in_a_missing_folder_or_that_is_a_folder_is_a_clear_error()
    {
        using var temp = new TempFolder();
        var missing = Assert.Throws<DeepSentinelException>(() => EmbeddingSession.Open(trained.Model, new EmbeddingOptions { OutFile = Path.Combine(temp["nope"], "e.npy") }));
        Assert.Equal(ErrorIds.ModelWriteFailed, missing.ErrorId);
        Assert.Contains("does not exist", missing.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(".ids.txt", missing.Message, StringComparison.Ordinal);

        Directory.CreateDirectory(temp["dir.npy"]);
        var folder = Assert.Throws<DeepSentinelException>(() => EmbeddingSession.Open(trained.Model, new EmbeddingOptions { OutFile = temp["dir.npy"] }));
        Assert.Contains("is a folder", folder.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_corpus_is_a_clear_error()
    {
        using var temp = new TempFolder();

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => new PretrainingService().RunAsync(new SyntheticPatchSource(0, 32), Tiny.Options(temp["m"]), NullReporter.Instance, CancellationToken.None));

        Assert.Equal(ErrorIds.CorpusEmpty, error.ErrorId);
        Assert.Contains("no patches", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Patches_with_the_wrong_band_count_are_a_clear_error()
    {
        using var temp = new TempFolder();
        var source = new SyntheticPatchSource(8, 32) { S2Bands = 3 };

        var error = await Assert.ThrowsAsync<DeepSentinelException>(() => new PretrainingService().RunAsync(source, Tiny.Options(temp["m"]), NullReporter.Instance, CancellationToken.None));

        Assert.Equal(ErrorIds.TrainingInputInvalid, error.ErrorId);
        Assert.Contains("has 3 Sentinel-2 bands; the model takes 12", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Patches_of_a_size_that_is_not_a_multiple_of_32_are_a_clear_error()
    {
        var patch = new TrainingPatch("odd", 40, 40, new float[12 * 40 * 40], new float[2 * 40 * 40]);

        using var session = EmbeddingSession.Open(trained.Model, new EmbeddingOptions { Threads = 2 });
        var error = Assert.Throws<DeepSentinelException>(() => session.Add(patch));
        var next = session.Add(Tiny.Corpus().Create(0));

        Assert.Equal(ErrorIds.TrainingInputInvalid, error.ErrorId);
        Assert.Contains("multiple of 32", error.Message, StringComparison.Ordinal);
        Assert.Empty(next);
        Assert.Single(session.Flush());
    }

    [Fact]
    public void Missing_and_corrupt_model_files_are_clear_errors()
    {
        using var temp = new TempFolder();
        var missing = Assert.Throws<DeepSentinelException>(() => EmbeddingModel.Import(temp["nothing-here"]));
        var notAModel = Assert.Throws<DeepSentinelException>(() => EmbeddingModel.Import(temp.Path));

        CopyFolder(trained.Folder, temp["copy"]);
        var copy = EmbeddingModel.Import(temp["copy"]);
        File.WriteAllBytes(copy.CheckpointPath, [.. "this is not a checkpoint"u8]);
        var corrupt = Assert.Throws<DeepSentinelException>(() => EmbeddingSession.Open(copy, new EmbeddingOptions()));
        var bytes = File.ReadAllBytes(trained.Model.CheckpointPath);
        File.WriteAllBytes(copy.CheckpointPath, bytes[..(bytes.Length / 2)]);
        var truncated = Assert.Throws<DeepSentinelException>(() => EmbeddingSession.Open(copy, new EmbeddingOptions()));
        File.Delete(copy.CheckpointPath);
        var deleted = Assert.Throws<DeepSentinelException>(() => EmbeddingSession.Open(copy, new EmbeddingOptions()));
        File.WriteAllText(Path.Combine(temp["copy"], ModelCard.FileName), "{ not json");
        var badCard = Assert.Throws<DeepSentinelException>(() => EmbeddingModel.Import(temp["copy"]));

        Assert.Equal(ErrorIds.ModelNotFound, missing.ErrorId);
        Assert.Equal(ErrorIds.ModelNotFound, notAModel.ErrorId);
        Assert.Equal(ErrorIds.ModelFileCorrupt, corrupt.ErrorId);
        Assert.Contains("not a readable checkpoint", corrupt.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("frame #", corrupt.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorIds.ModelFileCorrupt, truncated.ErrorId);
        Assert.Equal(ErrorIds.ModelNotFound, deleted.ErrorId);
        Assert.Equal(ErrorIds.ModelFileCorrupt, badCard.ErrorId);
    }

    internal static List<PatchEmbedding> Embed(EmbeddingModel model, SyntheticPatchSource source) =>
        EmbedPatches(model, Enumerable.Range(0, 24).Select(source.Create).ToList());

    internal static List<PatchEmbedding> EmbedPatches(EmbeddingModel model, IReadOnlyList<TrainingPatch> patches)
    {
        using var session = EmbeddingSession.Open(model, new EmbeddingOptions { Threads = 2, BatchSize = 7 });
        // Flush only after every Add has run (Concat would call it first).
        var embeddings = patches.SelectMany(session.Add).ToList();
        embeddings.AddRange(session.Flush());
        return embeddings;
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(dir.Replace(from, to, StringComparison.Ordinal));
        }

        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
        }
    }
}
