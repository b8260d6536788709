using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Torch;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Tests.Training;

/// <summary>The native boundary: every bad input is a typed error, never a crash.</summary>
[Collection(TorchCollection.Name)]
public sealed class NativeEngineTests
{
    private static NativeModelConfig Config(EncoderKind encoder = EncoderKind.ResNet18, int s2 = 12, int s1 = 2)
    {
        var config = NativeConfigs.Small(encoder, s2, s1);
        config.ChannelsLast = 1;  // the NHWC path stays covered though Auto picks NCHW on the CPU
        return config;
    }

    private static PatchBatch Batch(int count, int s2 = 12, int s1 = 2, int size = 32)
    {
        var source = new SyntheticPatchSource(count, size) { S2Bands = s2 };
        var batch = new PatchBatch(count, s2, s1, size, size);
        for (var i = 0; i < count; i++)
        {
            batch.Add(source.Create(i));
        }

        return batch;
    }

    [Fact]
    public void The_engine_reports_its_versions_and_takes_a_thread_count()
    {
        TorchNative.SetThreads(2);

        Assert.Contains("libtorch 1.", TorchNative.Version, StringComparison.Ordinal);
        Assert.Equal(2, TorchNative.GetThreads());
        Assert.Equal(ErrorIds.TrainingInputInvalid, Assert.Throws<DeepSentinelException>(() => TorchNative.SetThreads(0)).ErrorId);
    }

    [Fact]
    public void Save_then_load_gives_identical_embeddings()
    {
        using var temp = new TempFolder();
        TorchNative.SetThreads(2);
        var batch = Batch(4);
        var before = new float[4 * 8];
        var after = new float[4 * 8];
        using (var model = TorchModel.Create(Config()))
        {
            model.TrainStep(batch);
            model.TrainStep(batch);
            model.Embed(batch, before);
            model.Save(temp["m.pt"], temp["m.optim"]);
        }

        using var loaded = TorchModel.Load(temp["m.pt"], temp["m.optim"], TrainingDevice.Cpu);
        loaded.Embed(batch, after);

        Assert.Equal(2, loaded.Step);
        Assert.Equal(before, after);
        Assert.Contains(before, v => v != 0);
    }

    [Fact]
    public void A_freed_handle_is_an_error_not_a_crash()
    {
        var model = TorchModel.Create(Config());
        var raw = model.RawHandle;
        model.Dispose();

        var disposed = Assert.Throws<DeepSentinelException>(() => model.TrainStep(Batch(2)));
        var stale = Assert.Throws<DeepSentinelException>(() => TorchNative.GetStep(raw));
        var freeTwice = Assert.Throws<DeepSentinelException>(() => TorchNative.Free(raw));
        var invented = Assert.Throws<DeepSentinelException>(() => TorchNative.GetConfig(123_456_789));
        var zero = Assert.Throws<DeepSentinelException>(() => TorchNative.GetStep(0));

        Assert.All(new[] { disposed, stale, freeTwice, invented, zero }, e => Assert.Equal(ErrorIds.ModelHandleInvalid, e.ErrorId));
        Assert.Contains("freed", stale.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_channel_counts_shapes_and_buffers_are_rejected_natively()
    {
        using var model = TorchModel.Create(Config());
        var wrongChannels = Assert.Throws<DeepSentinelException>(() => model.TrainStep(Batch(2, s2: 3)));
        var oneSample = Assert.Throws<DeepSentinelException>(() => model.TrainStep(Batch(1)));
        var shortOutput = Assert.Throws<DeepSentinelException>(() => model.Embed(Batch(4), new float[4 * 8 - 1]));
        var pixelsFromResNet = Assert.Throws<DeepSentinelException>(() => model.EmbedPixels(Batch(2), new float[2 * 8 * 32 * 32]));
        var badNormalization = Assert.Throws<DeepSentinelException>(() => model.SetNormalization(new BandNormalization(["a"], [0.0], [1.0])));
        var zeroStd = Assert.Throws<DeepSentinelException>(() => model.SetNormalization(new BandNormalization(new string[14], new double[14], new double[14])));

        Assert.All(new[] { wrongChannels, oneSample, shortOutput, pixelsFromResNet, badNormalization, zeroStd }, e => Assert.Equal(ErrorIds.TrainingInputInvalid, e.ErrorId));
        Assert.Contains("takes 12 S2 channels, the batch has 3", wrongChannels.Message, StringComparison.Ordinal);
        Assert.Equal(0, model.Step);
    }

    [Fact]
    public void Bad_configs_are_rejected()
    {
        var noChannels = Config(s2: 0, s1: 0);
        var badSize = Config();
        badSize.StructSize = 12;
        var badRate = Config();
        badRate.LearningRate = double.NaN;
        var cuda = Config();
        cuda.Device = (int)TrainingDevice.Cuda;

        Assert.Equal(ErrorIds.TrainingInputInvalid, Assert.Throws<DeepSentinelException>(() => TorchModel.Create(noChannels)).ErrorId);
        Assert.Contains("struct_size", Assert.Throws<DeepSentinelException>(() => TorchModel.Create(badSize)).Message, StringComparison.Ordinal);
        Assert.Contains("earning rate must be", Assert.Throws<DeepSentinelException>(() => TorchModel.Create(badRate)).Message, StringComparison.Ordinal);
        if (TorchNative.CudaDeviceCount() == 0)
        {
            Assert.Equal(ErrorIds.TrainingDeviceUnavailable, Assert.Throws<DeepSentinelException>(() => TorchModel.Create(cuda)).ErrorId);
        }
    }

    [Fact]
    public void Missing_and_corrupt_checkpoints_are_rejected()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp["garbage.pt"], new byte[1000]);
        File.WriteAllBytes(temp["empty.pt"], []);

        Assert.Equal(ErrorIds.ModelNotFound, Assert.Throws<DeepSentinelException>(() => TorchModel.Load(temp["none.pt"], null, TrainingDevice.Cpu)).ErrorId);
        Assert.Equal(ErrorIds.ModelFileCorrupt, Assert.Throws<DeepSentinelException>(() => TorchModel.Load(temp["garbage.pt"], null, TrainingDevice.Cpu)).ErrorId);
        Assert.Equal(ErrorIds.ModelFileCorrupt, Assert.Throws<DeepSentinelException>(() => TorchModel.Load(temp["empty.pt"], null, TrainingDevice.Cpu)).ErrorId);
    }

    [Fact]
    public void A_missing_library_is_reported_with_what_was_tried()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp[TorchLibrary.FileName], "not an ELF file");

        var absent = Assert.Throws<DeepSentinelException>(() => TorchLibrary.Load([temp["nowhere/" + TorchLibrary.FileName]]));
        var broken = Assert.Throws<DeepSentinelException>(() => TorchLibrary.Load([temp[TorchLibrary.FileName]]));

        Assert.Equal(ErrorIds.TrainingEngineUnavailable, absent.ErrorId);
        Assert.Contains("./build.sh", absent.Message, StringComparison.Ordinal);
        Assert.Contains("nowhere", absent.Message, StringComparison.Ordinal);
        Assert.Contains("libtorch", broken.Message, StringComparison.Ordinal);
        Assert.Contains(temp[TorchLibrary.FileName], broken.Message, StringComparison.Ordinal);
    }
}
