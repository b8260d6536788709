using System.Reflection;
using System.Text.RegularExpressions;

namespace DeepSentinel.Cmdlets.Tests;

/// <summary>The module's assembly, cmdlets and files, found once for all contract tests.</summary>
public static partial class ModuleLayout
{
    public static Assembly Assembly { get; } = typeof(Commands.GetSentinelSceneCommand).Assembly;

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string ModuleFolder => Path.Combine(RepositoryRoot, "module");

    /// <summary>Every cmdlet class in the module assembly.</summary>
    public static IReadOnlyList<Type> CmdletTypes { get; } = Assembly.GetExportedTypes()
        .Where(t => typeof(System.Management.Automation.Cmdlet).IsAssignableFrom(t) && t.GetCustomAttributesData().Any(a => a.AttributeType == typeof(System.Management.Automation.CmdletAttribute)))
        .OrderBy(t => t.Name, StringComparer.Ordinal)
        .ToList();

    public static IEnumerable<object[]> CmdletData => CmdletTypes.Select(t => new object[] { t.Name });

    public static Type Cmdlet(string typeName) => CmdletTypes.Single(t => t.Name == typeName);

    public static string CommandName(Type type) => CmdletMetadata.Read(type).Name;

    /// <summary>CmdletsToExport from the .psd1.</summary>
    public static IReadOnlyList<string> ExportedCmdlets()
    {
        var text = File.ReadAllText(Path.Combine(ModuleFolder, "DeepSentinel.psd1"));
        var block = CmdletsToExport().Match(text);
        Assert.True(block.Success, "DeepSentinel.psd1 has no CmdletsToExport = @(...) block.");
        return QuotedName().Matches(block.Groups["list"].Value).Select(m => m.Groups["name"].Value).ToList();
    }

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DeepSentinel.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Cannot find DeepSentinel.sln above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"CmdletsToExport\s*=\s*@\((?<list>[^)]*)\)", RegexOptions.Singleline)]
    private static partial Regex CmdletsToExport();

    [GeneratedRegex(@"'(?<name>[^']+)'")]
    private static partial Regex QuotedName();
}
