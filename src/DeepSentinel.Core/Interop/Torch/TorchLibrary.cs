using System.Reflection;
using System.Runtime.InteropServices;
using DeepSentinel.Core.Errors;

namespace DeepSentinel.Core.Interop.Torch;

/// <summary>
/// Finds and loads libdeepsentinel_torch.so (which pulls in libtorch). Every attempt is recorded,
/// so a failure says where we looked and what was missing: our library, or libtorch beneath it.
/// </summary>
internal static class TorchLibrary
{
    /// <summary>The file name the build script produces.</summary>
    public const string FileName = "libdeepsentinel_torch.so";

    /// <summary>An environment variable naming the library file, for unusual layouts.</summary>
    public const string PathVariable = "DEEPSENTINEL_TORCH_LIBRARY";

    private static readonly Lazy<nint> Loaded = new(() => Load(Candidates()), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The loaded library, loading it on first use.</summary>
    public static nint Handle => Loaded.Value;

    /// <summary>Where the library is looked for, in order.</summary>
    public static IReadOnlyList<string> Candidates()
    {
        var list = new List<string>();
        if (Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } explicitPath)
        {
            list.Add(explicitPath);
        }

        var here = Path.GetDirectoryName(typeof(TorchLibrary).Assembly.Location);
        foreach (var dir in new[] { here, AppContext.BaseDirectory }.Where(d => !string.IsNullOrEmpty(d)).Distinct())
        {
            list.Add(Path.Combine(dir!, FileName));
            list.Add(Path.Combine(dir!, "runtimes", "linux-x64", "native", FileName));
        }

        // Last: the dynamic loader's own search (LD_LIBRARY_PATH, ldconfig).
        list.Add(FileName);
        return list;
    }

    /// <summary>Loads the first candidate that loads; throws with the whole trace otherwise.</summary>
    internal static nint Load(IEnumerable<string> candidates)
    {
        var trace = new List<string>();
        var foundButBroken = false;
        foreach (var candidate in candidates)
        {
            var isPath = candidate.Contains('/');
            if (isPath && !File.Exists(candidate))
            {
                trace.Add($"{candidate}: not found");
                continue;
            }

            try
            {
                return NativeLibrary.Load(candidate);
            }
            catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException)
            {
                foundButBroken |= isPath;
                trace.Add($"{candidate}: {FirstLine(ex.Message)}");
            }
        }

        var what = foundButBroken
            ? "The DeepSentinel training engine was found but could not be loaded; usually libtorch is missing. Install libtorch (Debian: apt-get install libtorch-dev, or libtorch1.13 at run time), or put a libtorch lib folder on LD_LIBRARY_PATH."
            : $"The DeepSentinel training engine ({FileName}) was not found. Build it with ./build.sh (it needs libtorch-dev and cmake), or set {PathVariable} to its path.";
        throw new DeepSentinelException(ErrorIds.TrainingEngineUnavailable, ErrorKind.ResourceUnavailable, what + " Tried: " + string.Join("; ", trace), FileName);
    }

    // .NET puts its generic advice before the loader's own message: keep the part naming the file.
    private static string FirstLine(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.LastOrDefault(l => l.Contains(".so", StringComparison.Ordinal)) ?? lines.FirstOrDefault() ?? message;
    }

    /// <summary>The exported function <paramref name="name"/>, or a clear error for a stale library.</summary>
    internal static nint Export(nint library, string name)
    {
        if (NativeLibrary.TryGetExport(library, name, out var address))
        {
            return address;
        }

        throw new DeepSentinelException(ErrorIds.TrainingEngineUnavailable, ErrorKind.ResourceUnavailable,
            $"{FileName} lacks the function {name}: it is older than this module. Rebuild it with ./build.sh.", name);
    }

    /// <summary>The module's version, for messages.</summary>
    internal static string ModuleVersion => typeof(TorchLibrary).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?";
}
