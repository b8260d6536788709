using System.Reflection;
using System.Xml.Linq;
using DeepSentinel.Cmdlets.Infrastructure;
using DeepSentinel.Core.Errors;

namespace DeepSentinel.Cmdlets.Tests;

/// <summary>The manifest, format views, help topics and error mapping.</summary>
public sealed class ModuleFilesTests
{
    [Fact]
    public void The_manifest_points_at_the_module_assembly_and_its_format_file()
    {
        var text = File.ReadAllText(Path.Combine(ModuleLayout.ModuleFolder, "DeepSentinel.psd1"));

        Assert.Contains($"RootModule           = '{ModuleLayout.Assembly.GetName().Name}.dll'", text, StringComparison.Ordinal);
        Assert.Contains("FormatsToProcess     = @('DeepSentinel.Format.ps1xml')", text, StringComparison.Ordinal);
        Assert.Contains("PowerShellVersion    = '7.4'", text, StringComparison.Ordinal);
        Assert.Contains($"ModuleVersion        = '{ModuleLayout.Assembly.GetName().Version!.ToString(3)}'", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Format_views_name_real_types_and_properties()
    {
        var doc = XDocument.Load(Path.Combine(ModuleLayout.ModuleFolder, "DeepSentinel.Format.ps1xml"));
        var types = ModuleLayout.Assembly.GetReferencedAssemblies().Select(Assembly.Load).Append(ModuleLayout.Assembly).SelectMany(a => a.GetExportedTypes()).ToDictionary(t => t.FullName!, StringComparer.Ordinal);
        var views = doc.Descendants("View").ToList();

        Assert.NotEmpty(views);
        foreach (var view in views)
        {
            var typeName = view.Element("ViewSelectedBy")!.Element("TypeName")!.Value;
            Assert.True(types.TryGetValue(typeName, out var type), $"Format view '{view.Element("Name")!.Value}' selects unknown type {typeName}.");
            foreach (var property in view.Descendants("PropertyName").Select(p => p.Value))
            {
                Assert.NotNull(type!.GetProperty(property));
            }

            var table = view.Element("TableControl");
            if (table is not null)
            {
                Assert.Equal(table.Descendants("TableColumnHeader").Count(), table.Descendants("TableColumnItem").Count());
            }
        }

        // Every cmdlet output type has a table view.
        foreach (var output in ModuleLayout.CmdletTypes.SelectMany(t => CmdletMetadata.Read(t).OutputTypes).Select(t => t.FullName))
        {
            Assert.Contains(views, v => v.Element("ViewSelectedBy")!.Element("TypeName")!.Value == output && v.Element("TableControl") is not null);
        }
    }

    [Fact]
    public void The_about_topic_covers_every_cmdlet()
    {
        var text = File.ReadAllText(Path.Combine(ModuleLayout.ModuleFolder, "en-US", "about_DeepSentinel.help.txt"));

        Assert.StartsWith("TOPIC", text.TrimStart(), StringComparison.Ordinal);
        foreach (var type in ModuleLayout.CmdletTypes)
        {
            Assert.Contains(ModuleLayout.CommandName(type), text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_error_kind_maps_to_its_own_category_and_error_ids_are_unique()
    {
        var kinds = Enum.GetValues<ErrorKind>();
        var categories = kinds.Select(ErrorMapping.ToCategory).ToList();
        var ids = typeof(ErrorIds).GetFields().Select(f => (string)f.GetRawConstantValue()!).ToList();

        Assert.Equal(categories.Count, categories.Distinct().Count());
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(typeof(ErrorIds).GetFields(), f => Assert.Equal(f.Name, (string)f.GetRawConstantValue()!));
    }

    [Fact]
    public void Every_example_script_imports_the_module_and_uses_only_exported_cmdlets()
    {
        var exported = ModuleLayout.ExportedCmdlets().ToHashSet(StringComparer.OrdinalIgnoreCase);
        var scripts = Directory.GetFiles(Path.Combine(ModuleLayout.RepositoryRoot, "examples"), "*.ps1");

        Assert.NotEmpty(scripts);
        foreach (var script in scripts)
        {
            var text = File.ReadAllText(script);
            Assert.Contains("Import-Module", text, StringComparison.Ordinal);
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(text, @"\b(?<verb>Get|New|Add|Start|Copy|Import|Export|Set|Remove)-(?<noun>Sentinel\w+|Patch\w+|Corine\w+|Osm\w+|Pretraining|Embedding\w*|Corpus|Demo\w+)"))
            {
                Assert.Contains(m.Value, exported);
            }
        }
    }
}
