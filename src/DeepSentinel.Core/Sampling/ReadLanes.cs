using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace DeepSentinel.Core.Sampling;

/// <summary>
/// A worker's I/O lanes: dedicated threads that run a batch of blocking reads (GDAL calls that
/// wait on HTTP round trips) at the same time, so that one worker keeps several requests in
/// flight. One lane runs everything on the calling thread. Each read in a batch must use GDAL
/// handles of its own (handles are not thread-safe).
/// </summary>
public sealed class ReadLanes : IDisposable
{
    private readonly BlockingCollection<Action>? _queue;
    private readonly Thread[] _threads;

    /// <summary>Starts <paramref name="lanes"/> threads (none for one lane).</summary>
    public ReadLanes(int lanes, string name = "DeepSentinel I/O lane")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lanes, 1);
        Lanes = lanes;
        if (lanes == 1)
        {
            _threads = [];
            return;
        }

        _queue = new BlockingCollection<Action>();
        _threads = new Thread[lanes];
        for (var i = 0; i < lanes; i++)
        {
            // GDAL calls block: threads of their own, not the thread pool.
            _threads[i] = new Thread(Loop) { IsBackground = true, Name = $"{name} {i}" };
            _threads[i].Start();
        }
    }

    /// <summary>How many reads run at the same time.</summary>
    public int Lanes { get; }

    /// <summary>
    /// Runs body(0) ... body(count - 1), up to <see cref="Lanes"/> at a time, and returns when all
    /// are done. If any threw, the exception of the lowest index is rethrown (the same one
    /// whatever the timing).
    /// </summary>
    public void Run(int count, Action<int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (_queue is null || count <= 1)
        {
            for (var i = 0; i < count; i++)
            {
                body(i);
            }

            return;
        }

        var errors = new Exception?[count];
        using var done = new CountdownEvent(count);
        for (var i = 0; i < count; i++)
        {
            var k = i;
            _queue.Add(() =>
            {
                try
                {
                    body(k);
                }
                catch (Exception ex)
                {
                    errors[k] = ex;
                }
                finally
                {
                    done.Signal();
                }
            });
        }

        done.Wait();
        if (Array.Find(errors, e => e is not null) is { } first)
        {
            ExceptionDispatchInfo.Capture(first).Throw();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_queue is null)
        {
            return;
        }

        _queue.CompleteAdding();
        foreach (var thread in _threads)
        {
            thread.Join();
        }

        _queue.Dispose();
    }

    private void Loop()
    {
        foreach (var action in _queue!.GetConsumingEnumerable())
        {
            action();
        }
    }
}
