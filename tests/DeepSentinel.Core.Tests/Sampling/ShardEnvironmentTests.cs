using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Sampling;

namespace DeepSentinel.Core.Tests.Sampling;

/// <summary>-ShardFromEnvironment: the shard from JOB_COMPLETION_INDEX, the count from -ShardCount or DEEPSENTINEL_SHARD_COUNT.</summary>
public sealed class ShardEnvironmentTests
{
    private static Func<string, string?> Environment(string? index, string? count) =>
        name => name == ShardEnvironment.IndexVariable ? index : name == ShardEnvironment.CountVariable ? count : null;

    [Theory]
    [InlineData("0", "3", null, 0, 3)]
    [InlineData("2", "3", null, 2, 3)]
    [InlineData("4", null, 8, 4, 8)]
    [InlineData("4", "5", 8, 4, 8)] // -ShardCount wins over the variable
    public void The_shard_comes_from_the_completion_index_and_the_count_from_the_parameter_or_variable(string index, string? count, int? parameter, int shard, int shards)
    {
        Assert.Equal((shard, shards), ShardEnvironment.Resolve(parameter, Environment(index, count)));
    }

    [Theory]
    [InlineData(null, "3", null, "JOB_COMPLETION_INDEX, which is not set")]
    [InlineData("", "3", null, "JOB_COMPLETION_INDEX, which is not set")]
    [InlineData("-1", "3", null, "whole number")]
    [InlineData("one", "3", null, "whole number")]
    [InlineData("1", null, null, "give -ShardCount")]
    [InlineData("1", "0", null, "DEEPSENTINEL_SHARD_COUNT must be")]
    [InlineData("3", "3", null, "there are 3 shards")]
    [InlineData("8", null, 8, "there are 8 shards")]
    public void A_missing_or_impossible_value_is_a_clear_error(string? index, string? count, int? parameter, string message)
    {
        var error = Assert.Throws<DeepSentinelException>(() => ShardEnvironment.Resolve(parameter, Environment(index, count)));
        Assert.Equal(ErrorIds.InvalidParameterValue, error.ErrorId);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
