using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Torch;

namespace DeepSentinel.Core.Training;

/// <summary>
/// A trained encoder in a model folder: what Start-Pretraining and Import-EmbeddingModel write and
/// Get-Embedding takes. Holds no native resources; Get-Embedding loads the weights when it runs.
/// </summary>
public sealed class EmbeddingModel
{
    private EmbeddingModel(string path, ModelCard card, CheckpointInfo checkpoint, string checkpointPath)
    {
        Path = path;
        Card = card;
        Checkpoint = checkpoint;
        CheckpointPath = checkpointPath;
    }

    /// <summary>The folder name.</summary>
    public string Name => System.IO.Path.GetFileName(Path.TrimEnd(System.IO.Path.DirectorySeparatorChar));

    /// <summary>The model folder.</summary>
    public string Path { get; }

    /// <summary>The objective it was trained with.</summary>
    public PretrainingMethod Method => Card.Method;

    /// <summary>The architecture.</summary>
    public EncoderKind Encoder => Card.Encoder;

    /// <summary>Which sensors it takes.</summary>
    public SensorInput Sensors => Card.Sensors;

    /// <summary>Embedding length.</summary>
    public int EmbeddingDimension => Card.EmbeddingDimension;

    /// <summary>Input bands in channel order.</summary>
    public IReadOnlyList<string> Bands => Card.Bands.Select(b => b.Name).ToList();

    /// <summary>Steps of the latest checkpoint.</summary>
    public long Steps => Checkpoint.Step;

    /// <summary>Completed epochs.</summary>
    public int Epochs => Checkpoint.Epoch;

    /// <summary>The last logged training loss, if any.</summary>
    public double? Loss => Card.FinalMetrics?.Loss;

    /// <summary>The weights file (torch.load reads it).</summary>
    public string CheckpointPath { get; }

    /// <summary>The whole model card.</summary>
    public ModelCard Card { get; }

    /// <summary>The latest checkpoint record.</summary>
    public CheckpointInfo Checkpoint { get; }

    /// <summary>True when the encoder gives per-pixel embeddings (UNet).</summary>
    public bool HasPixelEmbeddings => Encoder == EncoderKind.UNet;

    /// <summary>Reads a model folder; clear errors when it is missing or damaged.</summary>
    public static EmbeddingModel Import(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        if (!Directory.Exists(full))
        {
            throw new DeepSentinelException(ErrorIds.ModelNotFound, ErrorKind.ObjectNotFound, $"The model folder {full} does not exist.", full);
        }

        var folder = new ModelFolder(full);
        var card = folder.ReadCard();
        var latest = folder.ReadLatest();
        return new EmbeddingModel(folder.Path, card, latest, folder.Resolve(latest.Checkpoint));
    }

    /// <summary>Loads the weights into the engine (no optimizer state).</summary>
    internal TorchModel Open(TrainingDevice device)
    {
        var model = TorchModel.Load(CheckpointPath, null, device);
        if (model.Channels != Card.Bands.Count || model.Config.EmbeddingDim != EmbeddingDimension)
        {
            model.Dispose();
            throw new DeepSentinelException(ErrorIds.ModelFileCorrupt, ErrorKind.InvalidData,
                $"The checkpoint {CheckpointPath} does not match {ModelCard.FileName} (bands or embedding size differ).", CheckpointPath);
        }

        return model;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Method} {Encoder}, {EmbeddingDimension}-d, step {Steps})";
}
