using System.Globalization;
using System.Text.Json;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Torch;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.FineTuning;

/// <summary>
/// The resume point of an unfinished fine-tuning (checkpoints/latest.json in the classifier folder):
/// the epochs completed, the steps taken, the three files it restores and what the run was, so a
/// -Resume that would mix runs is refused.
/// </summary>
/// <param name="Step">Steps taken when it was saved.</param>
/// <param name="Epoch">Epochs completed when it was saved (a resume starts the next one from its beginning).</param>
/// <param name="Encoder">Encoder weights (a model checkpoint), relative to the folder.</param>
/// <param name="Head">Head weights, relative to the folder.</param>
/// <param name="Optimizer">AdamW state of the head and the encoder, relative to the folder.</param>
/// <param name="Mode">The starting point of the run.</param>
/// <param name="Task">Single- or multi-label.</param>
/// <param name="Sensors">The sensors the encoder is fed.</param>
/// <param name="Classes">The head's classes, in order.</param>
/// <param name="Loss">The mean loss of the last completed epoch (null before the first).</param>
public sealed record FineTuningCheckpointInfo(long Step, int Epoch, string Encoder, string Head, string Optimizer,
    FineTuningMode Mode, ClassificationTask Task, SensorInput Sensors, IReadOnlyList<string> Classes, double? Loss);

/// <summary>
/// Writes and reads a classifier folder's resume checkpoint. Each file is written to a temporary
/// name and renamed into place (the engine does the same for the weights), and latest.json is
/// replaced only once the three files it names are complete, so a process killed at any moment
/// leaves the previous checkpoint intact and no classifier card: a half-trained folder never
/// passes for a finished classifier.
/// </summary>
internal static class FineTuningCheckpoint
{
    public const string Folder = "checkpoints";
    public const string LatestFile = "latest.json";

    public static string LatestPath(string folder) => Path.Combine(folder, Folder, LatestFile);

    /// <summary>The resume point, or null when the folder has none (or it is damaged: then a warning says so).</summary>
    public static FineTuningCheckpointInfo? Read(string folder)
    {
        var file = LatestPath(folder);
        if (!File.Exists(file))
        {
            return null;
        }

        FineTuningCheckpointInfo? info;
        try
        {
            info = JsonSerializer.Deserialize<FineTuningCheckpointInfo>(File.ReadAllText(file), ModelCard.Json);
        }
        catch (JsonException ex)
        {
            throw new DeepSentinelException(ErrorIds.ModelFileCorrupt, ErrorKind.InvalidData, $"{file} is damaged: {ex.Message}. Remove {Path.Combine(folder, Folder)} to start the fine-tuning again.", file, ex);
        }

        if (info is null || string.IsNullOrEmpty(info.Encoder) || string.IsNullOrEmpty(info.Head) || info.Classes is null)
        {
            throw new DeepSentinelException(ErrorIds.ModelFileCorrupt, ErrorKind.InvalidData, $"{file} names no checkpoint. Remove {Path.Combine(folder, Folder)} to start the fine-tuning again.", file);
        }

        foreach (var part in new[] { info.Encoder, info.Head })
        {
            if (!File.Exists(Resolve(folder, part)))
            {
                throw new DeepSentinelException(ErrorIds.ModelNotFound, ErrorKind.ObjectNotFound, $"The checkpoint {Resolve(folder, part)} named by {file} is missing.", Resolve(folder, part));
            }
        }

        return info;
    }

    public static string Resolve(string folder, string relative) => Path.GetFullPath(Path.Combine(folder, relative));

    /// <summary>Saves the classifier's weights and optimizer state, then points latest.json at them and removes older ones.</summary>
    public static FineTuningCheckpointInfo Save(string folder, TorchClassifier classifier, int epoch, double? loss, FineTuningCheckpointInfo identity)
    {
        var name = "step-" + classifier.Step.ToString("D9", CultureInfo.InvariantCulture);
        var info = identity with
        {
            Step = classifier.Step,
            Epoch = epoch,
            Encoder = $"{Folder}/{name}.encoder.pt",
            Head = $"{Folder}/{name}.head.pt",
            Optimizer = $"{Folder}/{name}.optim",
            Loss = loss ?? identity.Loss,
        };
        Directory.CreateDirectory(Path.Combine(folder, Folder));
        classifier.Save(Resolve(folder, info.Encoder), Resolve(folder, info.Head));
        classifier.SaveOptimizer(Resolve(folder, info.Optimizer));
        ModelFolder.WriteAtomically(LatestPath(folder), JsonSerializer.Serialize(info, ModelCard.Json));
        Prune(folder, name);
        return info;
    }

    /// <summary>Removes the resume files (after the classifier card is written: the run is finished).</summary>
    public static void Remove(string folder) => Prune(folder, null);

    /// <summary>Temporary files a killed run left behind.</summary>
    public static void RemovePartial(string folder)
    {
        var dir = Path.Combine(folder, Folder);
        if (!Directory.Exists(dir))
        {
            return;
        }

        foreach (var partial in Directory.GetFiles(dir, "*.partial"))
        {
            TryDelete(partial);
        }
    }

    private static void Prune(string folder, string? keep)
    {
        var dir = Path.Combine(folder, Folder);
        if (!Directory.Exists(dir))
        {
            return;
        }

        if (keep is null)
        {
            // The pointer first: a kill part-way never leaves it naming removed files.
            TryDelete(LatestPath(folder));
        }

        foreach (var file in Directory.GetFiles(dir, "step-*"))
        {
            if (keep is null || !Path.GetFileName(file).StartsWith(keep + ".", StringComparison.Ordinal))
            {
                TryDelete(file);
            }
        }
    }

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // An old checkpoint that cannot be removed costs disk space, not correctness.
        }
    }
}
