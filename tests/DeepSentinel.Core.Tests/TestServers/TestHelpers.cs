using System.Collections.Concurrent;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Http;
using DeepSentinel.Core.Scenes;
using DeepSentinel.Core.Services;

namespace DeepSentinel.Core.Tests.TestServers;

/// <summary>Records everything a Core service reports.</summary>
public sealed class RecordingReporter : IOperationReporter
{
    public ConcurrentQueue<string> VerboseMessages { get; } = new();

    public ConcurrentQueue<string> Warnings { get; } = new();

    public ConcurrentQueue<ProgressUpdate> ProgressUpdates { get; } = new();

    public ConcurrentQueue<DeepSentinelException> Errors { get; } = new();

    /// <summary>Everything reported, as one text, for secret scans.</summary>
    public string AllText => string.Join('\n', VerboseMessages.Concat(Warnings).Concat(Errors.Select(e => e.Message + " " + e.Target)).Concat(ProgressUpdates.Select(p => p.Activity + " " + p.Status)));

    public void Verbose(string message) => VerboseMessages.Enqueue(message);

    public void Warning(string message) => Warnings.Enqueue(message);

    public void Progress(ProgressUpdate update) => ProgressUpdates.Enqueue(update);

    public void Error(DeepSentinelException error) => Errors.Enqueue(error);
}

/// <summary>A clock that moves only when told to.</summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>Builds services with short, test-friendly retry bounds.</summary>
public static class TestServices
{
    public static HttpRetryOptions FastRetry { get; } = new()
    {
        MaxAttempts = 4,
        BaseDelay = TimeSpan.FromMilliseconds(10),
        MaxDelay = TimeSpan.FromMilliseconds(40),
        MaxRetryAfter = TimeSpan.FromSeconds(5),
        AttemptTimeout = TimeSpan.FromSeconds(5),
        TotalTimeout = TimeSpan.FromSeconds(20),
    };

    public static CoreServices Create(HttpRetryOptions? retry = null, TimeProvider? time = null) =>
        new(ResilientHttpClient.CreateDefaultHttpClient(), retry ?? FastRetry, time) { MessageHandlerFactory = () => new EmulatorRangeHashHandler() };

    /// <summary>Runs a search to the end and returns the scenes.</summary>
    public static async Task<List<SentinelScene>> SearchAllAsync(this SceneSearchService service, SceneSearchRequest request, IOperationReporter? reporter = null)
    {
        var result = new List<SentinelScene>();
        await foreach (var scene in service.SearchAsync(request, reporter ?? NullReporter.Instance, CancellationToken.None))
        {
            result.Add(scene);
        }

        return result;
    }
}
