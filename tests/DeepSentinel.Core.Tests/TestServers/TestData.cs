using System.Text.Json.Nodes;

namespace DeepSentinel.Core.Tests.TestServers;

/// <summary>Finds the shared data folder (../shared/data beside the checkout) and the repository root.</summary>
public static class TestData
{
    /// <summary>The repository root (the folder holding DeepSentinel.sln).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The shared data folder.</summary>
    public static string SharedData { get; } = Environment.GetEnvironmentVariable("DEEPSENTINEL_SHARED_DATA") is { Length: > 0 } fromEnv
        ? fromEnv
        : Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "data"));

    /// <summary>A real STAC document from shared/data/stac-examples.</summary>
    public static JsonObject StacExample(string fileName)
    {
        var path = Path.Combine(SharedData, "stac-examples", fileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Test data '{path}' is missing: these tests need ../shared/data beside the checkout (or DEEPSENTINEL_SHARED_DATA).", path);
        }

        return JsonNode.Parse(File.ReadAllText(path))!.AsObject();
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
}
