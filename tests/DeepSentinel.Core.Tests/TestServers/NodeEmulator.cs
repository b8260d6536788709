using System.Diagnostics;
using System.Text.RegularExpressions;

namespace DeepSentinel.Core.Tests.TestServers;

/// <summary>
/// A storage emulator (Azurite, firebase-tools' Cloud Storage emulator) run with Node from
/// tests/tools on 127.0.0.1:0. Ready when it prints its URL; bounded in time; killed on dispose.
/// </summary>
public sealed class NodeEmulator : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly Process _process;
    private readonly string _workDir;

    private NodeEmulator(Process process, Uri url, string workDir)
    {
        _process = process;
        Url = url;
        _workDir = workDir;
    }

    /// <summary>The URL it printed (http://127.0.0.1:PORT).</summary>
    public Uri Url { get; }

    /// <summary>tests/tools, where package.json and node_modules live.</summary>
    public static string ToolsFolder { get; } = FindToolsFolder();

    public static async Task<NodeEmulator> StartAsync(string name, string script, IEnumerable<string> arguments, Regex ready)
    {
        var scriptPath = Path.Combine(ToolsFolder, script);
        if (!File.Exists(scriptPath))
        {
            throw new InvalidOperationException($"{name}: {scriptPath} is missing. Install the test tools first: ./build.sh test (it runs npm ci in tests/tools).");
        }

        var workDir = Directory.CreateTempSubdirectory("ds-" + name + "-").FullName;
        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(scriptPath);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // Each instance keeps its blobs under its own temporary folder.
        info.Environment["TMPDIR"] = workDir;
        var process = Process.Start(info) ?? throw new InvalidOperationException($"{name}: node did not start.");
        var url = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            output.Enqueue(line);
            var match = ready.Match(line);
            if (match.Success)
            {
                url.TrySetResult(new Uri(match.Groups["url"].Value));
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => url.TrySetException(new InvalidOperationException($"{name} exited early: {string.Join('\n', output)}"));

        try
        {
            var uri = await url.Task.WaitAsync(StartTimeout);
            return new NodeEmulator(process, uri, workDir);
        }
        catch (TimeoutException)
        {
            Stop(process);
            throw new TimeoutException($"{name} printed no URL within {StartTimeout.TotalSeconds} s: {string.Join('\n', output)}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        Stop(_process);
        await Task.CompletedTask;
        try
        {
            Directory.Delete(_workDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                // This process only: started above, known by its id.
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        process.Dispose();
    }

    private static string FindToolsFolder()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DeepSentinel.sln")))
        {
            dir = dir.Parent;
        }

        return Path.Combine(dir?.FullName ?? throw new InvalidOperationException("DeepSentinel.sln not found above " + AppContext.BaseDirectory), "tests", "tools");
    }
}

/// <summary>One Azurite blob service for all tests of the "StorageEmulators" collection.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    /// <summary>The development account's well-known key (public, from Azurite's own source).</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public const string Account = "devstoreaccount1";

    private NodeEmulator? _emulator;

    /// <summary>http://127.0.0.1:PORT/devstoreaccount1/</summary>
    public Uri BlobEndpoint => new(_emulator!.Url, "/" + Account + "/");

    public string ConnectionString => $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={AccountKey};BlobEndpoint={BlobEndpoint}";

    /// <summary>A path-style location of a fresh container.</summary>
    public string NewLocation(string prefix = "") => $"{BlobEndpoint}c{Guid.NewGuid():N}/{prefix}";

    public async Task InitializeAsync() =>
        _emulator = await NodeEmulator.StartAsync(
            "azurite",
            "node_modules/azurite/dist/src/blob/main.js",
            ["--blobHost", "127.0.0.1", "--blobPort", "0", "--inMemoryPersistence", "--silent", "--disableTelemetry", "--skipApiVersionCheck"],
            new Regex(@"successfully listens on (?<url>http://127\.0\.0\.1:\d+)"));

    public async Task DisposeAsync()
    {
        if (_emulator is not null)
        {
            await _emulator.DisposeAsync();
        }
    }
}

/// <summary>One Cloud Storage emulator for all tests of the "StorageEmulators" collection.</summary>
public sealed class GcsEmulatorFixture : IAsyncLifetime
{
    private NodeEmulator? _emulator;

    public Uri Endpoint => _emulator!.Url;

    /// <summary>A location in a fresh bucket (the emulator creates buckets on first upload).</summary>
    public static string NewLocation(string prefix = "") => $"gs://b{Guid.NewGuid():N}/{prefix}";

    public async Task InitializeAsync() =>
        _emulator = await NodeEmulator.StartAsync("gcs-emulator", "gcs-emulator.js", ["0", "--exit-with-stdin"], new Regex(@"listening on (?<url>http://127\.0\.0\.1:\d+)"));

    public async Task DisposeAsync()
    {
        if (_emulator is not null)
        {
            await _emulator.DisposeAsync();
        }
    }
}

/// <summary>Tests that use Azurite, the GCS emulator or both share one instance of each per test run.</summary>
[CollectionDefinition("StorageEmulators")]
public sealed class StorageEmulatorsCollection : ICollectionFixture<AzuriteFixture>, ICollectionFixture<GcsEmulatorFixture>
{
}
