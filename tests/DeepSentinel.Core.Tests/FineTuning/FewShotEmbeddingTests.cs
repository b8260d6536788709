using DeepSentinel.Core.Embeddings;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Evaluation;
using DeepSentinel.Core.FineTuning;
using DeepSentinel.Core.Tests.Training;

namespace DeepSentinel.Core.Tests.FineTuning;

/// <summary>
/// The few-shot evaluation's embedding pass on the native engine: batched, with progress, the same
/// embeddings Get-Embedding's session computes, and the checks made before anything is embedded.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class FewShotEmbeddingTests(TrainedModelFixture trained)
{
    [Fact]
    public async Task The_embedding_pass_gives_Get_Embeddings_vectors_and_the_same_evaluation()
    {
        var patches = FineTuningTests.Generated(8, 3);
        var samples = FewShotService.Label(patches, 3, new RecordingReporter());
        var reporter = new RecordingReporter();
        var options = new FewShotOptions { Shots = 2, Episodes = 3, Seed = 1, BatchSize = 5, Threads = 2, Methods = [FewShotMethod.Knn, FewShotMethod.NearestCentroid] };

        var fromModel = await FewShotService.RunAsync(samples, trained.Model, null, options, reporter, CancellationToken.None);

        // The same vectors from an EmbeddingSession, as Get-Embedding computes them, given as precomputed embeddings.
        var embeddings = new List<PatchEmbedding>();
        using (var session = EmbeddingSession.Open(trained.Model, new EmbeddingOptions { BatchSize = 5, Threads = 2 }))
        {
            foreach (var patch in patches)
            {
                embeddings.AddRange(session.Add(await patch.LoadTrainingPatchAsync(CancellationToken.None)));
            }

            embeddings.AddRange(session.Complete());
        }

        var fromEmbeddings = await FewShotService.RunAsync(samples, null, embeddings, options, new RecordingReporter(), CancellationToken.None);
        for (var m = 0; m < 2; m++)
        {
            Assert.Equal(trained.Model.Name, fromModel[m].Embeddings);
            Assert.Equal("precomputed", fromEmbeddings[m].Embeddings);
            Assert.Equal(fromEmbeddings[m].Predictions(), fromModel[m].Predictions());
            Assert.Equal(fromEmbeddings[m].OverallAccuracy, fromModel[m].OverallAccuracy);
        }

        // Batches of 5: progress after each, then a completed record.
        Assert.Contains(reporter.Progress, p => p.Status.StartsWith("5 of 24 samples", StringComparison.Ordinal));
        Assert.Contains(reporter.Progress, p => p.Status.StartsWith("24 of 24 samples", StringComparison.Ordinal));
        Assert.Contains(reporter.Progress, p => p.Completed && p.PercentComplete == 100);

        // Classes bright in different bands are far apart even for a barely trained encoder.
        Assert.All(fromModel, r => Assert.True(r.MeanOverallAccuracy >= 0.8, $"{r.Method}: OA {r.MeanOverallAccuracy}"));
    }

    [Fact]
    public async Task Bad_input_is_refused_before_anything_is_embedded()
    {
        var samples = FewShotService.Label(FineTuningTests.Generated(3, 2), 3, new RecordingReporter());
        var reporter = new RecordingReporter();

        var tooSmall = await Assert.ThrowsAsync<DeepSentinelException>(() => FewShotService.RunAsync(samples, trained.Model, null, new FewShotOptions { Shots = 3 }, reporter, CancellationToken.None));
        Assert.Equal(ErrorIds.FewShotClassTooSmall, tooSmall.ErrorId);
        var oneSensor = await Assert.ThrowsAsync<DeepSentinelException>(() => FewShotService.RunAsync(samples, trained.Model, [], new FewShotOptions { Shots = 1 }, reporter, CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidParameterValue, oneSensor.ErrorId);
        var k = await Assert.ThrowsAsync<DeepSentinelException>(() => FewShotService.RunAsync(samples, trained.Model, null, new FewShotOptions { Shots = 1, Neighbours = 3 }, reporter, CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidParameterValue, k.ErrorId);
        Assert.Empty(reporter.Progress);
    }
}
