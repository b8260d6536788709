using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;

namespace DeepSentinel.Core.Interop;

/// <summary>
/// The one DllImport resolver of the Core assembly (.NET allows one per assembly). Each native
/// area registers the candidate file names of its library; a load records every attempt so that
/// a failure can say exactly what was tried and what to install.
/// </summary>
internal static class NativeLibraries
{
    private static readonly ConcurrentDictionary<string, string[]> Candidates = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, (nint Handle, string? Trace)> Loaded = new(StringComparer.Ordinal);
    private static int _installed;

    /// <summary>Registers the file names tried, in order, for a DllImport/LibraryImport name.</summary>
    public static void Register(string importName, params string[] candidates)
    {
        Candidates[importName] = candidates;
        if (Interlocked.Exchange(ref _installed, 1) == 0)
        {
            NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);
        }
    }

    /// <summary>Loads a registered library now; returns null or a description of every failed attempt.</summary>
    public static string? TryLoad(string importName, out nint handle)
    {
        var result = Loaded.GetOrAdd(importName, Load);
        handle = result.Handle;
        return result.Handle == 0 ? result.Trace : null;
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        Candidates.ContainsKey(libraryName) ? Loaded.GetOrAdd(libraryName, Load).Handle : 0;

    private static (nint, string?) Load(string importName)
    {
        var attempts = new List<string>();
        if (!Candidates.TryGetValue(importName, out var names))
        {
            return (0, $"no candidates registered for '{importName}'");
        }

        var baseDirectory = Path.GetDirectoryName(typeof(NativeLibraries).Assembly.Location);
        foreach (var name in names)
        {
            // Beside the module first (a bundled copy wins), then the system's search path.
            foreach (var candidate in baseDirectory is null || Path.IsPathRooted(name) ? [name] : new[] { Path.Combine(baseDirectory, name), name })
            {
                if (NativeLibrary.TryLoad(candidate, out var handle))
                {
                    return (handle, null);
                }

                attempts.Add(candidate);
            }
        }

        return (0, "tried " + string.Join(", ", attempts));
    }
}
