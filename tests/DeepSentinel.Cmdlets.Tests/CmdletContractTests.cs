using System.Management.Automation;
using System.Reflection;
using DeepSentinel.Cmdlets.Infrastructure;

namespace DeepSentinel.Cmdlets.Tests;

/// <summary>
/// What every cmdlet of the module must satisfy, checked by reflection over attribute metadata
/// (no PowerShell runtime exists here): naming, output types, parameter sets, help,
/// ShouldProcess and the pipeline contracts between cmdlets.
/// </summary>
public sealed class CmdletContractTests
{
    // Verbs that change state: such cmdlets must support -WhatIf/-Confirm.
    private static readonly HashSet<string> StateChangingVerbs = new(StringComparer.Ordinal)
    {
        "New", "Set", "Remove", "Add", "Clear", "Copy", "Move", "Rename", "Reset", "Start", "Stop", "Update",
        "Install", "Uninstall", "Save", "Export", "Publish", "Unpublish", "Register", "Unregister", "Restore", "Sync",
    };

    // Invoke is neither: Invoke-ClassPrediction only returns objects, Invoke-SuperResolution writes
    // COGs and rewrites corpus samples' STAC Items. These are the Invoke cmdlets that change state.
    private static readonly HashSet<string> StateChangingInvokes = new(StringComparer.Ordinal)
    {
        "SuperResolution",
        "Segmentation",  // writes label COGs with -Path
    };

    // The pipelines the product promises (brief and issues). An edge is checked once both ends exist.
    private static readonly (string Upstream, string Downstream)[] PromisedPipelines =
    [
        ("Get-SentinelScene", "New-PatchSample"),
        ("New-PatchSample", "Add-CorineLabel"),
        ("New-PatchSample", "Add-OsmLabel"),
        ("Add-CorineLabel", "Start-Pretraining"),
        ("Get-PatchSample", "Start-Pretraining"),
        ("Get-PatchSample", "Get-Embedding"),
        ("Start-Pretraining", "Get-Embedding"),
        ("Import-EmbeddingModel", "Get-Embedding"),
        ("Get-PatchSample", "Split-LabelledCorpus"),
        ("Measure-Classification", "Export-ClassificationEvaluation"),
        ("Get-SentinelScene", "Start-SuperResolutionTraining"),
        ("Get-PatchSample", "Start-SuperResolutionTraining"),
        ("Get-SentinelScene", "Invoke-SuperResolution"),
        ("Get-PatchSample", "Invoke-SuperResolution"),
        ("Get-SentinelScene", "Measure-SuperResolution"),
        ("Get-PatchSample", "Measure-SuperResolution"),
        ("Get-LabelledImage", "Split-LabelledCorpus"),
        ("Get-LabelledImage", "Invoke-ClassPrediction"),
        ("Get-PatchSample", "Invoke-Segmentation"),
        ("Invoke-Segmentation", "Measure-Segmentation"),
        ("Measure-Segmentation", "Export-SegmentationEvaluation"),
        ("Split-LabelledCorpus", "Measure-FewShotClassification"),
        ("Get-LabelledImage", "Measure-FewShotClassification"),
        ("Get-PatchSample", "Measure-FewShotClassification"),
        ("Measure-FewShotClassification", "Export-ClassificationEvaluation"),
    ];

    // Singular nouns that end in a lone 's' (the plural check below would flag them).
    private static readonly HashSet<string> SingularNounsEndingInS = new(StringComparer.Ordinal) { "Corpus", "LabelledCorpus" };

    public static IEnumerable<object[]> Cmdlets => ModuleLayout.CmdletData;

    private static CmdletMetadata Meta(string typeName) => CmdletMetadata.Read(ModuleLayout.Cmdlet(typeName));

    [Fact]
    public void The_module_has_cmdlets_and_the_psd1_exports_exactly_them()
    {
        var inAssembly = ModuleLayout.CmdletTypes.Select(ModuleLayout.CommandName).Order(StringComparer.Ordinal).ToList();
        var exported = ModuleLayout.ExportedCmdlets().Order(StringComparer.Ordinal).ToList();

        Assert.Contains("Get-SentinelScene", inAssembly);
        Assert.Equal(inAssembly, exported);
    }

    [Theory]
    [MemberData(nameof(Cmdlets))]
    public void Uses_an_approved_verb_and_a_singular_noun(string typeName)
    {
        var meta = Meta(typeName);
        var approved = new[] { typeof(VerbsCommon), typeof(VerbsData), typeof(VerbsLifecycle), typeof(VerbsDiagnostic), typeof(VerbsCommunications), typeof(VerbsSecurity), typeof(VerbsOther) }
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToHashSet(StringComparer.Ordinal);

        Assert.Contains("Get", approved);
        Assert.Contains(meta.Verb, approved);
        Assert.Matches("^[A-Z][A-Za-z0-9]+$", meta.Noun);
        Assert.False(meta.Noun.EndsWith('s') && !meta.Noun.EndsWith("ss", StringComparison.Ordinal) && !SingularNounsEndingInS.Contains(meta.Noun), $"Noun '{meta.Noun}' looks plural.");
        Assert.Equal(meta.Verb + meta.Noun + "Command", typeName);
    }

    [Theory]
    [MemberData(nameof(Cmdlets))]
    public void Is_sealed_async_and_declares_typed_output(string typeName)
    {
        var meta = Meta(typeName);

        Assert.True(meta.Type.IsSealed, $"{typeName} must be sealed.");
        Assert.True(typeof(AsyncPSCmdlet).IsAssignableFrom(meta.Type), $"{typeName} must derive from AsyncPSCmdlet.");
        Assert.NotEmpty(meta.OutputTypes);
        Assert.All(meta.OutputTypes, o =>
        {
            Assert.NotEqual(typeof(PSObject), o);
            Assert.NotEqual(typeof(object), o);
            Assert.NotEqual(typeof(string), o);
        });
    }

    [Theory]
    [MemberData(nameof(Cmdlets))]
    public void Every_parameter_has_help(string typeName)
    {
        var meta = Meta(typeName);

        Assert.NotEmpty(meta.Parameters);
        foreach (var parameter in meta.Parameters)
        {
            Assert.False(string.IsNullOrWhiteSpace(parameter.HelpMessage), $"{typeName}.{parameter.Name} has no HelpMessage.");
            Assert.True(parameter.HelpMessage!.Length >= 20, $"{typeName}.{parameter.Name}: help '{parameter.HelpMessage}' says too little.");
            Assert.EndsWith(".", parameter.HelpMessage.TrimEnd(')'), StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Cmdlets))]
    public void Parameter_sets_resolve(string typeName)
    {
        var meta = Meta(typeName);
        var named = meta.NamedSets;

        if (named.Count > 0 || meta.DefaultParameterSetName is not null)
        {
            Assert.Contains(meta.DefaultParameterSetName, named);
        }

        // Each named set must own a parameter no other set has, or PowerShell cannot tell them apart.
        foreach (var set in named)
        {
            var own = meta.Parameters.Where(p => p.SetName == set).Select(p => p.Name).ToHashSet();
            foreach (var other in named.Where(o => o != set))
            {
                var theirs = meta.Parameters.Where(p => p.SetName == other).Select(p => p.Name).ToHashSet();
                Assert.True(own.Except(theirs).Any(), $"{typeName}: parameter set '{set}' has no parameter that '{other}' lacks.");
            }

            // Only one set may be chosen when no parameter is given: the default one.
            if (set != meta.DefaultParameterSetName)
            {
                Assert.True(meta.Parameters.Any(p => p.SetName == set && p.Mandatory) || meta.Parameters.Any(p => p.SetName == set), $"{typeName}: set '{set}' cannot be selected.");
            }
        }

        // Positions are unique within each set (all-sets parameters count in every set).
        foreach (var set in named.DefaultIfEmpty(ParameterMetadata.AllSets))
        {
            var positions = meta.Parameters
                .Where(p => p.SetName == set || p.InAllSets)
                .Where(p => p.Position >= 0)
                .Select(p => p.Position)
                .ToList();
            Assert.Equal(positions.Count, positions.Distinct().Count());
        }

        // A property is one parameter name: names and aliases must not collide.
        var properties = meta.Parameters.GroupBy(p => p.Name).Select(g => g.First()).ToList();
        var names = properties.Select(p => p.Name).Concat(properties.SelectMany(p => p.Aliases)).ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Theory]
    [MemberData(nameof(Cmdlets))]
    public void State_changing_verbs_support_ShouldProcess(string typeName)
    {
        var meta = Meta(typeName);
        if (StateChangingVerbs.Contains(meta.Verb) || (meta.Verb == "Invoke" && StateChangingInvokes.Contains(meta.Noun)))
        {
            Assert.True(meta.SupportsShouldProcess, $"{typeName} changes state and must support -WhatIf/-Confirm.");
        }
        else
        {
            Assert.False(meta.SupportsShouldProcess, $"{typeName} changes nothing; -WhatIf would mislead.");
        }
    }

    [Theory]
    [MemberData(nameof(Cmdlets))]
    public void Switches_are_SwitchParameter_and_never_mandatory(string typeName)
    {
        foreach (var parameter in Meta(typeName).Parameters)
        {
            Assert.NotEqual(typeof(bool), parameter.Type);
            if (parameter.Type == typeof(SwitchParameter))
            {
                Assert.False(parameter.Mandatory, $"{typeName}.{parameter.Name} is a mandatory switch.");
            }
        }
    }

    [Fact]
    public void Get_SentinelScene_has_the_documented_parameter_sets()
    {
        var meta = CmdletMetadata.Read(typeof(Commands.GetSentinelSceneCommand));

        Assert.Equal("Get-SentinelScene", meta.Name);
        Assert.Equal(typeof(Core.Scenes.SentinelScene), Assert.Single(meta.OutputTypes));
        Assert.Equal("Provider", meta.DefaultParameterSetName);
        Assert.Equal(new[] { "Catalog", "ItemTable", "Provider" }, meta.NamedSets.Order());
        Assert.True(meta.Parameters.Single(p => p.Name == "Catalog").Mandatory);
        Assert.True(meta.Parameters.Single(p => p.Name == "ItemTable").Mandatory);
        Assert.Equal(0, meta.Parameters.Single(p => p.Name == "BoundingBox").Position);
        Assert.Contains("Bbox", meta.Parameters.Single(p => p.Name == "BoundingBox").Aliases);
        // A Planetary Computer key signs hrefs from the API and from item tables: in both sets, a SecureString in each.
        var keys = meta.Parameters.Where(p => p.Name == "SubscriptionKey").ToList();
        Assert.NotEmpty(keys);
        Assert.All(keys, key => Assert.Equal(typeof(System.Security.SecureString), key.Type));
        foreach (var common in new[] { "BoundingBox", "Intersects", "Start", "End", "Mission", "Collection", "MaxCloudCover", "OrbitState", "RelativeOrbit", "Polarization", "MgrsTile", "First" })
        {
            Assert.True(meta.Parameters.Single(p => p.Name == common).InAllSets, $"{common} must work with a provider and with a catalog.");
        }
    }

    [Fact]
    public void Promised_pipelines_bind_where_both_cmdlets_exist()
    {
        var byName = ModuleLayout.CmdletTypes.Select(CmdletMetadata.Read).ToDictionary(m => m.Name, StringComparer.OrdinalIgnoreCase);
        var checkedEdges = 0;
        foreach (var (upstream, downstream) in PromisedPipelines)
        {
            if (!byName.TryGetValue(upstream, out var up) || !byName.TryGetValue(downstream, out var down))
            {
                continue;
            }

            checkedEdges++;
            foreach (var output in up.OutputTypes)
            {
                Assert.True(Binds(output, down), $"{downstream} cannot take {upstream}'s {output.Name} from the pipeline.");
            }
        }

        Assert.Equal(PromisedPipelines.Count(e => byName.ContainsKey(e.Upstream) && byName.ContainsKey(e.Downstream)), checkedEdges);
    }

    [Fact]
    public void The_binding_check_itself_tells_binding_from_not_binding()
    {
        // Get-SentinelScene takes nothing from the pipeline.
        Assert.False(Binds(typeof(Core.Scenes.SentinelScene), CmdletMetadata.Read(typeof(Commands.GetSentinelSceneCommand))));
        // A cmdlet with an InputObject of the right type does.
        Assert.True(Binds(typeof(Core.Scenes.SentinelScene), CmdletMetadata.Read(typeof(SceneConsumerProbe))));
        Assert.False(Binds(typeof(string), CmdletMetadata.Read(typeof(SceneConsumerProbe))));
    }

    /// <summary>
    /// True when an object of <paramref name="output"/> binds to a pipeline parameter of the
    /// cmdlet: by value (assignable type) or by property name (every mandatory by-name
    /// parameter matches a property of the output type by name or alias).
    /// </summary>
    internal static bool Binds(Type output, CmdletMetadata cmdlet)
    {
        static bool Accepts(Type parameterType, Type value) =>
            parameterType.IsAssignableFrom(value) || (parameterType.IsArray && parameterType.GetElementType()!.IsAssignableFrom(value));

        if (cmdlet.Parameters.Any(p => p.ValueFromPipeline && Accepts(p.Type, output)))
        {
            return true;
        }

        var properties = output.GetProperties().ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        bool Matches(ParameterMetadata p) =>
            p.Aliases.Prepend(p.Name).Any(n => properties.TryGetValue(n, out var prop) && (Accepts(p.Type, prop.PropertyType) || p.Type == typeof(string)));
        var byName = cmdlet.Parameters.Where(p => p.ValueFromPipelineByPropertyName).ToList();
        return byName.Any(Matches) && byName.Where(p => p.Mandatory).All(Matches);
    }

    /// <summary>A cmdlet that exists only to prove the binding check can succeed.</summary>
    [Cmdlet(VerbsCommon.Get, "SceneProbe")]
    [OutputType(typeof(Core.Scenes.SentinelScene))]
    public sealed class SceneConsumerProbe : PSCmdlet
    {
        /// <summary>The scene.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, HelpMessage = "A scene from Get-SentinelScene.")]
        public Core.Scenes.SentinelScene? InputObject { get; set; }
    }
}
