using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DeepSentinel.Core.Diagnostics;
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
    FineTuningMode Mode, ClassificationTask Task, SensorInput Sensors, IReadOnlyList<string> Classes, double? Loss) : IHeadCheckpoint<FineTuningCheckpointInfo>
{
    FineTuningCheckpointInfo IHeadCheckpoint<FineTuningCheckpointInfo>.Saved(long step, int epoch, string encoder, string head, string optimizer, double? loss) =>
        this with { Step = step, Epoch = epoch, Encoder = encoder, Head = head, Optimizer = optimizer, Loss = loss };
}

/// <summary>
/// The resume point of an unfinished segmentation training (checkpoints/latest.json in the
/// segmentation model folder), as <see cref="FineTuningCheckpointInfo"/> is a classifier's: what
/// the run was (mode, labels and their level, sensors, classes), so a -Resume that would mix runs
/// is refused.
/// </summary>
/// <param name="Step">Steps taken when it was saved.</param>
/// <param name="Epoch">Epochs completed when it was saved (a resume starts the next one from its beginning).</param>
/// <param name="Encoder">UNet weights (a model checkpoint), relative to the folder.</param>
/// <param name="Head">Head weights, relative to the folder.</param>
/// <param name="Optimizer">AdamW state of the decoder-and-head group and the encoder path's group, relative to the folder.</param>
/// <param name="Mode">The starting point of the run.</param>
/// <param name="Labels">CLC or OSM labels.</param>
/// <param name="ClcLevel">The CLC level the classes are at.</param>
/// <param name="Sensors">The sensors the UNet is fed.</param>
/// <param name="Classes">The head's classes, in order.</param>
/// <param name="Loss">The mean loss of the last completed epoch (null before the first).</param>
public sealed record SegmentationCheckpointInfo(long Step, int Epoch, string Encoder, string Head, string Optimizer,
    FineTuningMode Mode, SegmentationLabelSource Labels, int ClcLevel, SensorInput Sensors, IReadOnlyList<string> Classes, double? Loss) : IHeadCheckpoint<SegmentationCheckpointInfo>
{
    /// <summary>Always "segmenter" (a classifier's latest.json has no such field), so neither kind resumes the other.</summary>
    public string Model { get; init; } = FineTuningCheckpoint.SegmenterKind;

    SegmentationCheckpointInfo IHeadCheckpoint<SegmentationCheckpointInfo>.Saved(long step, int epoch, string encoder, string head, string optimizer, double? loss) =>
        this with { Step = step, Epoch = epoch, Encoder = encoder, Head = head, Optimizer = optimizer, Loss = loss };
}

/// <summary>What every resume point holds, whatever the head: the step, the epochs done and the three files.</summary>
/// <typeparam name="TSelf">The record itself.</typeparam>
internal interface IHeadCheckpoint<TSelf>
    where TSelf : class, IHeadCheckpoint<TSelf>
{
    long Step { get; }

    int Epoch { get; }

    string Encoder { get; }

    string Head { get; }

    string Optimizer { get; }

    double? Loss { get; }

    IReadOnlyList<string> Classes { get; }

    /// <summary>The same run, saved at another point.</summary>
    TSelf Saved(long step, int epoch, string encoder, string head, string optimizer, double? loss);
}

/// <summary>
/// Writes and reads the resume checkpoint of a head's folder (a classifier's or a segmentation
/// model's). Each file is written to a temporary name and renamed into place (the engine does the
/// same for the weights), and latest.json is replaced only once the three files it names are
/// complete, so a process killed at any moment leaves the previous checkpoint intact and no card:
/// a half-trained folder never passes for a finished model. Also the loss log both kinds keep.
/// </summary>
internal static class FineTuningCheckpoint
{
    public const string Folder = "checkpoints";
    public const string LatestFile = "latest.json";
    public const string LogFile = "fine-tuning.csv";
    public const string ClassifierKind = "classifier";
    public const string SegmenterKind = "segmenter";
    private const string LogHeader = "epoch,steps,mean_loss,patches,elapsed_seconds";

    public static string LatestPath(string folder) => Path.Combine(folder, Folder, LatestFile);

    /// <summary>
    /// The resume point of kind (ClassifierKind or SegmenterKind), or null when the folder has none.
    /// One of the other kind is refused: ModelFolderNotEmpty without -Resume, ModelInputMismatch with it.
    /// </summary>
    public static T? Read<T>(string folder, string kind, bool resume)
        where T : class, IHeadCheckpoint<T>
    {
        var file = LatestPath(folder);
        if (!File.Exists(file))
        {
            return null;
        }

        T? info;
        string found;
        try
        {
            var text = File.ReadAllText(file);
            using (var document = JsonDocument.Parse(text))
            {
                found = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String
                    ? model.GetString()!
                    : ClassifierKind;
            }

            info = found == kind ? JsonSerializer.Deserialize<T>(text, ModelCard.Json) : null;
        }
        catch (JsonException ex)
        {
            throw new DeepSentinelException(ErrorIds.ModelFileCorrupt, ErrorKind.InvalidData, $"{file} is damaged: {ex.Message}. Remove {Path.Combine(folder, Folder)} to start the training again.", file, ex);
        }

        if (found != kind)
        {
            var what = $"{folder} holds an unfinished {found} training, not a {kind}'s";
            throw resume
                ? new DeepSentinelException(ErrorIds.ModelInputMismatch, ErrorKind.InvalidArgument, $"{what}: resume it with {(found == SegmenterKind ? "Start-SegmentationTraining" : "Start-FineTuning")} -Resume, or choose another folder.", folder)
                : new DeepSentinelException(ErrorIds.ModelFolderNotEmpty, ErrorKind.InvalidArgument, $"{what}: choose another folder.", folder);
        }

        if (info is null || string.IsNullOrEmpty(info.Encoder) || string.IsNullOrEmpty(info.Head) || info.Classes is null)
        {
            throw new DeepSentinelException(ErrorIds.ModelFileCorrupt, ErrorKind.InvalidData, $"{file} names no checkpoint. Remove {Path.Combine(folder, Folder)} to start the training again.", file);
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

    /// <summary>Saves the head's weights and optimizer state, then points latest.json at them and removes older ones.</summary>
    public static T Save<T>(string folder, TorchHead head, int epoch, double? loss, T identity)
        where T : class, IHeadCheckpoint<T>
    {
        var step = head.Step;
        var name = "step-" + step.ToString("D9", CultureInfo.InvariantCulture);
        var info = identity.Saved(step, epoch, $"{Folder}/{name}.encoder.pt", $"{Folder}/{name}.head.pt", $"{Folder}/{name}.optim", loss ?? identity.Loss);
        Directory.CreateDirectory(Path.Combine(folder, Folder));
        head.Save(Resolve(folder, info.Encoder), Resolve(folder, info.Head));
        head.SaveOptimizer(Resolve(folder, info.Optimizer));
        ModelFolder.WriteAtomically(LatestPath(folder), JsonSerializer.Serialize(info, ModelCard.Json));
        Prune(folder, name);
        return info;
    }

    /// <summary>Restores the weights of a resume point into a head built on its encoder checkpoint: the head, then the optimizer state (a warning when it is missing).</summary>
    public static void Restore<T>(string folder, TorchHead head, T resume, IOperationReporter reporter)
        where T : class, IHeadCheckpoint<T>
    {
        head.LoadHead(Resolve(folder, resume.Head));
        var optimizer = Resolve(folder, resume.Optimizer);
        if (File.Exists(optimizer))
        {
            head.LoadOptimizer(optimizer);
        }
        else
        {
            reporter.Warning($"The optimizer state {optimizer} is missing: resuming with fresh optimizer moments.");
        }
    }

    /// <summary>
    /// Trains the epochs a run has left after its resume point (all of them for a fresh one):
    /// trainEpoch(epoch) trains one epoch (0-based) from its beginning and gives its mean loss and
    /// patches; each epoch is logged in fine-tuning.csv, then checkpointed. On Ctrl+C / Stop-Job
    /// the steps so far are saved and a warning says how to continue (what: "Fine-tuning", ...).
    /// Returns the last epoch's mean loss (the resume point's when no epoch was left).
    /// </summary>
    public static double RunEpochs<T>(string folder, TorchHead head, T resume, int epochs, string what, IOperationReporter reporter, Func<int, (double MeanLoss, int Patches)> trainEpoch)
        where T : class, IHeadCheckpoint<T>
    {
        using var log = OpenLog(folder, resume.Epoch);
        var clock = Stopwatch.StartNew();
        var loss = resume.Loss ?? double.NaN;
        var checkpoint = resume;
        var epoch = resume.Epoch;
        try
        {
            for (; epoch < epochs; epoch++)
            {
                (loss, var patches) = trainEpoch(epoch);
                LogEpoch(log, epoch + 1, head.Step, loss, patches, clock.Elapsed);
                checkpoint = Save(folder, head, epoch + 1, loss, checkpoint);
            }
        }
        catch (OperationCanceledException)
        {
            // Keep the work done so far; -Resume starts the interrupted epoch again from there.
            SaveOnStop(folder, head, epoch, epochs, checkpoint, what, reporter);
            throw;
        }

        if (double.IsNaN(loss))
        {
            throw new DeepSentinelException(ErrorIds.ModelFileCorrupt, ErrorKind.InvalidData, $"{LatestPath(folder)} records no loss: remove {Path.Combine(folder, Folder)} and train again.", folder);
        }

        return loss;
    }

    /// <summary>
    /// Ctrl+C / Stop-Job: keeps the steps of the interrupted epoch (saved as the epochs done so far,
    /// so -Resume trains that epoch again from its beginning) and says how to continue.
    /// </summary>
    private static T SaveOnStop<T>(string folder, TorchHead head, int epochsDone, int epochs, T checkpoint, string what, IOperationReporter reporter)
        where T : class, IHeadCheckpoint<T>
    {
        if (head.Step > checkpoint.Step)
        {
            checkpoint = Save(folder, head, epochsDone, null, checkpoint);
        }

        if (head.Step > 0)
        {
            reporter.Warning(string.Create(CultureInfo.InvariantCulture,
                $"{what} stopped at step {head.Step}, after {checkpoint.Epoch} of {epochs} epochs; the checkpoint is saved in {folder}. Continue with -Resume."));
        }

        return checkpoint;
    }

    /// <summary>
    /// The loss log (fine-tuning.csv), opened to append after a resume of epochsDone epochs (trimmed
    /// to them), or written anew with its header.
    /// </summary>
    private static StreamWriter OpenLog(string folder, int epochsDone)
    {
        var logPath = Path.Combine(folder, LogFile);
        var continued = epochsDone > 0 && File.Exists(logPath);
        if (continued)
        {
            TrimLog(logPath, epochsDone);
        }

        var log = new StreamWriter(logPath, append: continued, new UTF8Encoding(false));
        if (!continued)
        {
            log.WriteLine(LogHeader);
        }

        return log;
    }

    /// <summary>One epoch's line of the loss log, flushed.</summary>
    private static void LogEpoch(StreamWriter log, int epoch, long steps, double meanLoss, int patches, TimeSpan elapsed)
    {
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{epoch},{steps},{meanLoss:R},{patches},{elapsed.TotalSeconds:0.###}"));
        log.Flush();
    }

    // A run killed after logging an epoch but before its checkpoint trains that epoch again on
    // -Resume: keep only the epochs the checkpoint holds (and drop a line cut short by the kill),
    // so each epoch is logged once. Rewritten under a temporary name, then renamed into place.
    internal static void TrimLog(string logPath, int epochsDone)
    {
        var lines = File.ReadAllLines(logPath);
        var kept = lines.Take(1).Concat(lines.Skip(1).Where(line =>
        {
            var fields = line.Split(',');
            return fields.Length == 5 && int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var epoch) && epoch <= epochsDone;
        })).ToList();
        if (kept.Count == lines.Length)
        {
            return;
        }

        var partial = logPath + ".partial";
        File.WriteAllLines(partial, kept, new UTF8Encoding(false));
        File.Move(partial, logPath, overwrite: true);
    }

    /// <summary>Removes the resume files (after the card is written: the run is finished).</summary>
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
