using System.Globalization;
using System.Text.Json;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Torch;

namespace DeepSentinel.Core.Training;

/// <summary>The latest checkpoint of a model folder (checkpoints/latest.json).</summary>
/// <param name="Step">Steps taken when it was saved.</param>
/// <param name="Epoch">Epochs completed when it was saved.</param>
/// <param name="Checkpoint">Weights file, relative to the folder.</param>
/// <param name="Optimizer">Optimizer state file, relative to the folder.</param>
public sealed record CheckpointInfo(long Step, int Epoch, string Checkpoint, string Optimizer);

/// <summary>
/// The layout of a model folder:
/// <code>
/// model-card.json                  how the model was made, bands and normalisation
/// metrics.csv                      step, epoch, loss, learning rate, images/s
/// events.out.tfevents.*            TensorBoard scalars (tensorboard --logdir &lt;folder&gt;)
/// checkpoints/step-000000200.pt    weights; Python: torch.load(f)["state_dict"]
/// checkpoints/step-000000200.optim optimizer state (libtorch archive) for resuming
/// checkpoints/latest.json          which checkpoint is the latest
/// </code>
/// Files are written to a temporary name and moved into place, so a crash leaves the previous
/// checkpoint intact.
/// </summary>
internal sealed class ModelFolder(string path)
{
    public const string CheckpointFolder = "checkpoints";
    public const string LatestFile = "latest.json";

    public string Path { get; } = System.IO.Path.GetFullPath(path);

    public string CardPath => System.IO.Path.Combine(Path, ModelCard.FileName);

    public string MetricsPath => System.IO.Path.Combine(Path, "metrics.csv");

    public bool HasModel => File.Exists(System.IO.Path.Combine(Path, CheckpointFolder, LatestFile));

    public void Create()
    {
        try
        {
            Directory.CreateDirectory(System.IO.Path.Combine(Path, CheckpointFolder));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DeepSentinelException(ErrorIds.ModelWriteFailed, ErrorKind.WriteError, $"Cannot create the model folder {Path}: {ex.Message}", Path, ex);
        }
    }

    public string Resolve(string relative) => System.IO.Path.GetFullPath(System.IO.Path.Combine(Path, relative));

    public CheckpointInfo ReadLatest()
    {
        var file = System.IO.Path.Combine(Path, CheckpointFolder, LatestFile);
        if (!File.Exists(file))
        {
            throw new DeepSentinelException(ErrorIds.ModelNotFound, ErrorKind.ObjectNotFound, $"{Path} has no checkpoint ({CheckpointFolder}/{LatestFile} is missing): it is not a trained model folder.", Path);
        }

        CheckpointInfo? info;
        try
        {
            info = JsonSerializer.Deserialize<CheckpointInfo>(File.ReadAllText(file), ModelCard.Json);
        }
        catch (JsonException ex)
        {
            throw new DeepSentinelException(ErrorIds.ModelFileCorrupt, ErrorKind.InvalidData, $"{file} is damaged: {ex.Message}", file, ex);
        }

        if (info is null || string.IsNullOrEmpty(info.Checkpoint))
        {
            throw new DeepSentinelException(ErrorIds.ModelFileCorrupt, ErrorKind.InvalidData, $"{file} names no checkpoint.", file);
        }

        if (!File.Exists(Resolve(info.Checkpoint)))
        {
            throw new DeepSentinelException(ErrorIds.ModelNotFound, ErrorKind.ObjectNotFound, $"The checkpoint {Resolve(info.Checkpoint)} named by {file} is missing.", Resolve(info.Checkpoint));
        }

        return info;
    }

    public ModelCard ReadCard()
    {
        if (!File.Exists(CardPath))
        {
            throw new DeepSentinelException(ErrorIds.ModelNotFound, ErrorKind.ObjectNotFound, $"{Path} has no {ModelCard.FileName}: it is not a DeepSentinel model folder.", Path);
        }

        try
        {
            var card = JsonSerializer.Deserialize<ModelCard>(File.ReadAllText(CardPath), ModelCard.Json);
            if (card is null || card.Format != ModelCard.FormatTag || card.Bands.Count == 0)
            {
                throw new DeepSentinelException(ErrorIds.ModelFileCorrupt, ErrorKind.InvalidData, $"{CardPath} is not a DeepSentinel model card.", CardPath);
            }

            return card;
        }
        catch (JsonException ex)
        {
            throw new DeepSentinelException(ErrorIds.ModelFileCorrupt, ErrorKind.InvalidData, $"{CardPath} is damaged: {ex.Message}", CardPath, ex);
        }
    }

    public void WriteCard(ModelCard card) => WriteAtomically(CardPath, JsonSerializer.Serialize(card, ModelCard.Json));

    /// <summary>Saves weights and optimizer state, points latest.json at them and prunes old ones.</summary>
    public CheckpointInfo SaveCheckpoint(TorchModel model, int epoch, int keep) => SaveCheckpoint(model.Step, model.Save, epoch, keep);

    /// <summary>The same for any network that saves itself to (checkpoint, optimizer) paths.</summary>
    public CheckpointInfo SaveCheckpoint(long step, Action<string, string> save, int epoch, int keep)
    {
        var name = "step-" + step.ToString("D9", CultureInfo.InvariantCulture);
        var info = new CheckpointInfo(step, epoch, $"{CheckpointFolder}/{name}.pt", $"{CheckpointFolder}/{name}.optim");
        save(Resolve(info.Checkpoint), Resolve(info.Optimizer));
        WriteAtomically(System.IO.Path.Combine(Path, CheckpointFolder, LatestFile), JsonSerializer.Serialize(info, ModelCard.Json));

        var old = Directory.GetFiles(System.IO.Path.Combine(Path, CheckpointFolder), "step-*.pt")
            .Select(System.IO.Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .Order(StringComparer.Ordinal)
            .SkipLast(Math.Max(1, keep));
        foreach (var stale in old)
        {
            File.Delete(System.IO.Path.Combine(Path, CheckpointFolder, stale + ".pt"));
            File.Delete(System.IO.Path.Combine(Path, CheckpointFolder, stale + ".optim"));
        }

        return info;
    }

    internal static void WriteAtomically(string file, string text)
    {
        try
        {
            var temp = file + ".partial";
            File.WriteAllText(temp, text);
            File.Move(temp, file, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DeepSentinelException(ErrorIds.ModelWriteFailed, ErrorKind.WriteError, $"Cannot write {file}: {ex.Message}", file, ex);
        }
    }
}
