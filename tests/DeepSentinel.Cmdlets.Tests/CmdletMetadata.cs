using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Reflection;

namespace DeepSentinel.Cmdlets.Tests;

/// <summary>A parameter as PowerShell would see it, read from attribute metadata.</summary>
public sealed record ParameterMetadata(
    PropertyInfo Property,
    string SetName,
    bool Mandatory,
    int Position,
    bool ValueFromPipeline,
    bool ValueFromPipelineByPropertyName,
    string? HelpMessage,
    IReadOnlyList<string> Aliases)
{
    public string Name => Property.Name;

    public Type Type => Property.PropertyType;

    public bool InAllSets => SetName == AllSets;

    public const string AllSets = "__AllParameterSets";
}

/// <summary>
/// A cmdlet's metadata, read with CustomAttributeData. PowerShellStandard.Library is a
/// reference assembly whose attribute property getters return defaults, so attributes must be
/// read from metadata (constructor and named arguments), never instantiated.
/// </summary>
public sealed record CmdletMetadata(
    Type Type,
    string Verb,
    string Noun,
    string? DefaultParameterSetName,
    bool SupportsShouldProcess,
    IReadOnlyList<Type> OutputTypes,
    IReadOnlyList<ParameterMetadata> Parameters)
{
    public string Name => Verb + "-" + Noun;

    public IReadOnlyList<string> NamedSets => Parameters.Where(p => !p.InAllSets).Select(p => p.SetName).Distinct().ToList();

    public static CmdletMetadata Read(Type type)
    {
        var cmdlet = type.GetCustomAttributesData().Single(a => a.AttributeType == typeof(CmdletAttribute));
        var outputs = type.GetCustomAttributesData()
            .Where(a => a.AttributeType == typeof(OutputTypeAttribute))
            .SelectMany(a => a.ConstructorArguments)
            .SelectMany(arg => arg.Value is ReadOnlyCollection<CustomAttributeTypedArgument> many ? many.Select(m => m.Value) : [arg.Value])
            .OfType<Type>()
            .ToList();

        var parameters = new List<ParameterMetadata>();
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var aliases = property.GetCustomAttributesData()
                .Where(a => a.AttributeType == typeof(AliasAttribute))
                .SelectMany(a => a.ConstructorArguments)
                .SelectMany(arg => arg.Value is ReadOnlyCollection<CustomAttributeTypedArgument> many ? many.Select(m => (string)m.Value!) : [(string)arg.Value!])
                .ToList();
            foreach (var attribute in property.GetCustomAttributesData().Where(a => a.AttributeType == typeof(ParameterAttribute)))
            {
                parameters.Add(new ParameterMetadata(
                    property,
                    Named(attribute, nameof(ParameterAttribute.ParameterSetName), ParameterMetadata.AllSets),
                    Named(attribute, nameof(ParameterAttribute.Mandatory), false),
                    Named(attribute, nameof(ParameterAttribute.Position), int.MinValue),
                    Named(attribute, nameof(ParameterAttribute.ValueFromPipeline), false),
                    Named(attribute, nameof(ParameterAttribute.ValueFromPipelineByPropertyName), false),
                    Named<string?>(attribute, nameof(ParameterAttribute.HelpMessage), null),
                    aliases));
            }
        }

        return new CmdletMetadata(
            type,
            (string)cmdlet.ConstructorArguments[0].Value!,
            (string)cmdlet.ConstructorArguments[1].Value!,
            Named<string?>(cmdlet, nameof(CmdletAttribute.DefaultParameterSetName), null),
            Named(cmdlet, nameof(CmdletAttribute.SupportsShouldProcess), false),
            outputs,
            parameters);
    }

    private static T Named<T>(CustomAttributeData attribute, string name, T fallback)
    {
        foreach (var argument in attribute.NamedArguments)
        {
            if (argument.MemberName == name)
            {
                return (T)argument.TypedValue.Value!;
            }
        }

        return fallback;
    }
}
