using System.Diagnostics;
using System.Text.Json;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Torch;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Tests.Training;

/// <summary>Training tests share the CPU cores: run them one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class TorchCollection : ICollectionFixture<TrainedModelFixture>
{
    public const string Name = "Torch";
}

/// <summary>A temporary folder deleted after the test.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ds-training-" + Guid.NewGuid().ToString("N"));

    public string this[string name] => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Records what Core reports.</summary>
public sealed class RecordingReporter : IOperationReporter
{
    private readonly object _gate = new();

    public List<string> Verbose { get; } = [];

    public List<string> Warnings { get; } = [];

    public List<ProgressUpdate> Progress { get; } = [];

    public Action<ProgressUpdate>? OnProgress { get; set; }

    void IOperationReporter.Verbose(string message)
    {
        lock (_gate)
        {
            Verbose.Add(message);
        }
    }

    void IOperationReporter.Warning(string message)
    {
        lock (_gate)
        {
            Warnings.Add(message);
        }
    }

    void IOperationReporter.Progress(ProgressUpdate update)
    {
        lock (_gate)
        {
            Progress.Add(update);
        }

        OnProgress?.Invoke(update);
    }

    void IOperationReporter.Error(DeepSentinelException error)
    {
    }
}

/// <summary>Runs Debian's python3 (with python3-torch and numpy), the independent reader.</summary>
public static class DebianPython
{
    public const string Interpreter = "/usr/bin/python3";

    public static JsonElement RunScript(string script, params string[] args) => RunFile(Path.Combine("Training", "python", script), args);

    /// <summary>Runs a script copied to the test output folder (path relative to it) and parses its JSON output.</summary>
    public static JsonElement RunFile(string relativePath, params string[] args)
    {
        var script = Path.GetFileName(relativePath);
        var start = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, relativePath));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), $"{script} did not finish.");
        Assert.True(process.ExitCode == 0, $"{script} failed: {stderr.Result}");
        return JsonDocument.Parse(stdout.Result).RootElement.Clone();
    }
}

/// <summary>A small native model config (SimCLR unless changed), for tests of the engine itself.</summary>
internal static class NativeConfigs
{
    public static NativeModelConfig Small(EncoderKind encoder = EncoderKind.ResNet18, int s2 = 12, int s1 = 2, int embeddingDim = 8, int seed = 1, double learningRate = 1e-3)
    {
        var config = NativeModelConfig.Create();
        config.Encoder = (int)encoder;
        config.Method = (int)PretrainingMethod.SimClr;
        config.S2Channels = s2;
        config.S1Channels = s1;
        config.EmbeddingDim = embeddingDim;
        config.ProjectionDim = 8;
        config.UNetWidth = 8;
        config.Seed = seed;
        config.LearningRate = learningRate;
        config.Temperature = 0.2;
        config.TripletMargin = 1;
        config.ModalityDropout = 0.3;
        config.BandNoise = 0.05;
        return config;
    }
}

/// <summary>Small, fast settings: 32 x 32 patches, 2 threads.</summary>
public static class Tiny
{
    public static PretrainingOptions Options(string folder, PretrainingMethod method = PretrainingMethod.SimClr, EncoderKind encoder = EncoderKind.ResNet18) => new()
    {
        OutputFolder = folder,
        Method = method,
        Encoder = encoder,
        EmbeddingDimension = 16,
        ProjectionDimension = 16,
        UNetWidth = 8,
        BatchSize = 8,
        Epochs = 4,
        LearningRate = 1e-3,
        Threads = 2,
        CheckpointInterval = 5,
        Seed = 7,
    };

    public static SyntheticPatchSource Corpus(int count = 24, int size = 32) => new(count, size, seed: 3) { S2MissingEvery = 5, S1MissingEvery = 7 };

    public static List<double> Losses(string folder) => File.ReadAllLines(Path.Combine(folder, "metrics.csv")).Skip(1)
        .Select(line => double.Parse(line.Split(',')[2], System.Globalization.CultureInfo.InvariantCulture))
        .ToList();
}

/// <summary>One SimCLR model trained once and shared by the tests that only read it.</summary>
public sealed class TrainedModelFixture : IDisposable
{
    private readonly TempFolder _temp = new();

    public TrainedModelFixture()
    {
        Folder = _temp["simclr"];
        Reporter = new RecordingReporter();
        Model = new PretrainingService().RunAsync(Tiny.Corpus(), Tiny.Options(Folder) with { Epochs = 8 }, Reporter, CancellationToken.None).GetAwaiter().GetResult();
    }

    public string Folder { get; }

    public RecordingReporter Reporter { get; }

    public EmbeddingModel Model { get; }

    public void Dispose() => _temp.Dispose();
}
