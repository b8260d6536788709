using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using DeepSentinel.Core.Stac;

namespace DeepSentinel.Cmdlets.Infrastructure;

/// <summary>Tab completion for -Collection: the known Sentinel collections of the chosen -Provider.</summary>
public sealed class CollectionCompleter : IArgumentCompleter
{
    /// <inheritdoc />
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var profiles = fakeBoundParameters is not null && fakeBoundParameters.Contains("Provider") && Enum.TryParse<StacProvider>(fakeBoundParameters["Provider"]?.ToString(), true, out var provider)
            ? [ProviderProfile.For(provider)]
            : new[] { StacProvider.PlanetaryComputer, StacProvider.EarthSearch, StacProvider.CopernicusDataSpace }.Select(ProviderProfile.For);
        var prefix = (wordToComplete ?? string.Empty).Trim('\'', '"');
        return profiles
            .SelectMany(p => p.KnownCollections.Select(c => (Id: c.Key, Mission: c.Value, Provider: p.Name)))
            .Where(c => c.Id.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .GroupBy(c => c.Id, StringComparer.OrdinalIgnoreCase)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new CompletionResult(g.Key, g.Key, CompletionResultType.ParameterValue, $"{g.First().Mission} collection ({string.Join(", ", g.Select(c => c.Provider))})"));
    }
}
