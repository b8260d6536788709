using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.Tests.Training;

/// <summary>Pipeline input is spooled to disk and replayed once per epoch.</summary>
public sealed class PatchSpoolTests
{
    [Fact]
    public async Task Spooled_patches_replay_identically_on_every_pass_and_the_file_goes_away()
    {
        var source = new SyntheticPatchSource(5, 32) { S2MissingEvery = 2, S1MissingEvery = 5 };
        var before = Directory.GetFiles(Path.GetTempPath(), "deepsentinel-spool-*.bin").ToHashSet();
        List<string> spoolFiles;
        var passes = new List<List<TrainingPatch>>();
        using (var spool = new PatchSpool("pipeline input", Path.GetTempPath()))
        {
            for (var i = 0; i < 5; i++)
            {
                await spool.AddAsync(source.Create(i), CancellationToken.None);
            }

            spoolFiles = Directory.GetFiles(Path.GetTempPath(), "deepsentinel-spool-*.bin").Where(f => !before.Contains(f)).ToList();
            for (var pass = 0; pass < 2; pass++)
            {
                var read = new List<TrainingPatch>();
                await foreach (var patch in spool.ReadAsync(CancellationToken.None))
                {
                    read.Add(patch);
                }

                passes.Add(read);
            }

            Assert.Equal(5, spool.Count);
        }

        Assert.Single(spoolFiles);
        Assert.False(File.Exists(spoolFiles[0]), "The spool file outlived the spool.");
        foreach (var read in passes)
        {
            Assert.Equal(5, read.Count);
            for (var i = 0; i < 5; i++)
            {
                var expected = source.Create(i);
                Assert.Equal(expected.SampleId, read[i].SampleId);
                Assert.Equal(expected.S2, read[i].S2);
                Assert.Equal(expected.S1, read[i].S1);
                Assert.Equal(expected.Location, read[i].Location);
            }
        }

        Assert.Null(passes[0][1].S2);
        Assert.Null(passes[0][4].S1);
    }
}
