using System.Globalization;
using DeepSentinel.Core.Errors;

namespace DeepSentinel.Core.Sampling;

/// <summary>
/// A shard's place taken from the environment, so that one command line runs unchanged on a laptop
/// (-Shard/-ShardCount) and in every pod of a Kubernetes Indexed Job (New-PatchSample
/// -ShardFromEnvironment). Kubernetes sets <see cref="IndexVariable"/> in each pod of an Indexed
/// Job (0 to completions - 1); the count is not in a pod's environment, so it comes from
/// -ShardCount or <see cref="CountVariable"/> (the manifest sets both from the same value).
/// </summary>
public static class ShardEnvironment
{
    /// <summary>The completion index Kubernetes gives each pod of an Indexed Job.</summary>
    public const string IndexVariable = "JOB_COMPLETION_INDEX";

    /// <summary>The number of shards, when -ShardCount is not given.</summary>
    public const string CountVariable = "DEEPSENTINEL_SHARD_COUNT";

    /// <summary>
    /// The shard and shard count: the shard from <see cref="IndexVariable"/>, the count from
    /// <paramref name="shardCount"/> when given, else from <see cref="CountVariable"/>.
    /// </summary>
    /// <param name="shardCount">-ShardCount when the user gave it.</param>
    /// <param name="environment">Reads a variable (Environment.GetEnvironmentVariable in the module).</param>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.InvalidParameterValue"/> when a variable is missing, not a number, or out of range.</exception>
    public static (int Shard, int ShardCount) Resolve(int? shardCount, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var index = environment(IndexVariable);
        if (string.IsNullOrWhiteSpace(index))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, $"-ShardFromEnvironment reads this shard from {IndexVariable}, which is not set. Kubernetes sets it in the pods of a Job with completionMode: Indexed; elsewhere give -Shard and -ShardCount, or set {IndexVariable}.", IndexVariable);
        }

        if (!int.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out var shard))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, $"{IndexVariable} must be a whole number from 0; it is '{index}'.", IndexVariable);
        }

        int count;
        if (shardCount is { } given)
        {
            count = given;
        }
        else
        {
            var text = environment(CountVariable);
            if (string.IsNullOrWhiteSpace(text))
            {
                throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, $"-ShardFromEnvironment needs the number of shards: give -ShardCount (the Job's completions) or set {CountVariable}.", CountVariable);
            }

            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1)
            {
                throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, $"{CountVariable} must be a whole number from 1; it is '{text}'.", CountVariable);
            }
        }

        if (shard >= count)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, $"{IndexVariable} is {shard}, but there are {count} shards (0 to {count - 1}): the Job's completions and the shard count must be the same number.", shard);
        }

        return (shard, count);
    }
}
