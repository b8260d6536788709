using System.Diagnostics;
using System.Text.Json.Nodes;

namespace DeepSentinel.Core.Tests.TestServers;

/// <summary>Independent readers (Debian's gdalinfo and python3-rasterio; hyparquet for Parquet) to check what the project writes.</summary>
public static class Independent
{
    /// <summary>gdalinfo -json of a file (with -stats when asked).</summary>
    public static JsonObject GdalInfo(string path, bool stats = false)
    {
        var output = Run("gdalinfo", stats ? ["-json", "-stats", path] : ["-json", path]);
        return JsonNode.Parse(output)!.AsObject();
    }

    /// <summary>Runs a Python script with Debian's interpreter (which has rasterio, numpy, torch) and returns stdout.</summary>
    public static string Python(string script, params string[] args) => Run("/usr/bin/python3", ["-c", script, .. args]);

    /// <summary>A Parquet file as hyparquet (npm, pure JavaScript) reads it: tests/tools/read-parquet.mjs's JSON (metadata, schema, row groups, rows).</summary>
    public static JsonObject Hyparquet(string path) =>
        JsonNode.Parse(Run("node", [Path.Combine(NodeEmulator.ToolsFolder, "read-parquet.mjs"), path]))!.AsObject();

    private static string Run(string file, string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Cannot start {file}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish in 120 s.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args.Take(3))} failed ({process.ExitCode}): {stderr.Result}");
        }

        return stdout.Result;
    }
}
