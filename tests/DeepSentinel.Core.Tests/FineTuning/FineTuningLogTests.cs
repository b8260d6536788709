using DeepSentinel.Core.FineTuning;

namespace DeepSentinel.Core.Tests.FineTuning;

/// <summary>
/// A run SIGKILLed after logging an epoch but before saving its checkpoint trains that epoch again
/// on -Resume; the log must still hold each epoch once (found by the Pester kill loop).
/// </summary>
public sealed class FineTuningLogTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ds-ft-log-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void ResumeKeepsOnlyTheEpochsTheCheckpointHolds()
    {
        var log = Path.Combine(_folder, "fine-tuning.csv");
        File.WriteAllText(log, "epoch,steps,mean_loss,patches,elapsed_seconds\n1,3,0.9,12,1.5\n2,6,0.7,12,3\n3,9,0.5,12,4.5\n");

        FineTuningCheckpoint.TrimLog(log, epochsDone: 2);

        Assert.Equal(["epoch,steps,mean_loss,patches,elapsed_seconds", "1,3,0.9,12,1.5", "2,6,0.7,12,3"], File.ReadAllLines(log));
        Assert.False(File.Exists(log + ".partial"));
    }

    [Fact]
    public void ALineCutShortByAKillIsDropped()
    {
        var log = Path.Combine(_folder, "fine-tuning.csv");
        File.WriteAllText(log, "epoch,steps,mean_loss,patches,elapsed_seconds\n1,3,0.9,12,1.5\n2,6,0.");

        FineTuningCheckpoint.TrimLog(log, epochsDone: 1);

        Assert.Equal(["epoch,steps,mean_loss,patches,elapsed_seconds", "1,3,0.9,12,1.5"], File.ReadAllLines(log));
    }

    [Fact]
    public void ALogThatMatchesTheCheckpointIsLeftAsItIs()
    {
        var log = Path.Combine(_folder, "fine-tuning.csv");
        const string text = "epoch,steps,mean_loss,patches,elapsed_seconds\n1,3,0.9,12,1.5\n";
        File.WriteAllText(log, text);
        var written = File.GetLastWriteTimeUtc(log);

        FineTuningCheckpoint.TrimLog(log, epochsDone: 1);

        Assert.Equal(text, File.ReadAllText(log));
        Assert.Equal(written, File.GetLastWriteTimeUtc(log));
    }
}
