using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Raster;
using DeepSentinel.Core.Storage;

namespace DeepSentinel.Core.Labels;

/// <summary>What one labeller made for one sample: files in a staging folder and STAC Item additions.</summary>
internal sealed class LabelResult
{
    /// <summary>Asset key to (file name in the sample folder, local staged path, STAC asset).</summary>
    public List<(string Key, string FileName, string LocalPath, JsonObject Asset)> Assets { get; } = [];

    /// <summary>Item properties to set.</summary>
    public JsonObject Properties { get; } = [];

    /// <summary>label:classes entries (replace entries of the same name).</summary>
    public List<JsonObject> Classes { get; } = [];

    /// <summary>label:overviews entries (replace entries of the same property_key).</summary>
    public List<JsonObject> Overviews { get; } = [];

    /// <summary>A line for label:description.</summary>
    public string Description { get; init; } = string.Empty;

    /// <summary>A label written but worth a warning (e.g. an all-zero OSM mask); also noted in the Item.</summary>
    public string? Warning { get; init; }
}

/// <summary>Makes one kind of label for one sample at a time. One per worker thread (it holds GDAL handles).</summary>
internal interface ISampleLabeler : IDisposable
{
    /// <summary>The asset key whose presence in the Item marks a sample as labelled.</summary>
    string AssetKey { get; }

    /// <summary>The action text for ShouldProcess.</summary>
    string Action { get; }

    /// <summary>Labels a sample into <paramref name="staging"/>; null when the source does not cover it.</summary>
    LabelResult? Label(PatchSample sample, PatchGrid grid, string staging);
}

/// <summary>Run options shared by Add-CorineLabel and Add-OsmLabel.</summary>
public sealed record LabelRunOptions
{
    /// <summary>Relabel samples that already carry this label.</summary>
    public bool Force { get; init; }

    /// <summary>Parallel workers, each with its own GDAL handles.</summary>
    public int ThrottleLimit { get; init; } = Environment.ProcessorCount;

    /// <summary>Credentials for corpora on Azure Blob Storage or Google Cloud Storage.</summary>
    public Storage.StorageOptions? Storage { get; init; }
}

/// <summary>
/// The shared engine of the label cmdlets: samples in, labelled samples out. A sample counts as
/// labelled when its STAC Item lists the label asset: the Item is the last object written
/// (atomically, after the label files), so it is the one place that is never ahead of the files,
/// and Get-PatchSample reads the same Item to fill <see cref="PatchSample.Labels"/>. The corpus
/// index is not rewritten: labelling a few samples never touches another shard's index part.
/// </summary>
internal static class LabelRunner
{
    /// <summary>The STAC label extension.</summary>
    public const string LabelExtension = "https://stac-extensions.github.io/label/v1.0.1/schema.json";

    /// <summary>The label assets this project writes (key to file name); Get-PatchSample looks for these.</summary>
    public static IReadOnlyList<string> KnownAssets { get; } = ["clc", "clc_preview", "osm"];

    private const int ProgressId = 41;

    public static async IAsyncEnumerable<PatchSample> RunAsync(
        IAsyncEnumerable<PatchSample> samples,
        Func<ISampleLabeler> newLabeler,
        LabelRunOptions options,
        string activity,
        IOperationReporter reporter,
        Func<string, string, Task<bool>>? shouldProcess,
        [EnumeratorCancellation] CancellationToken cancellationToken,
        (string AssetKey, string Action)? openOnFirstWork = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(newLabeler);
        ArgumentNullException.ThrowIfNull(options);
        reporter ??= NullReporter.Instance;
        if (options.ThrottleLimit < 1)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, $"ThrottleLimit must be at least 1; it was {options.ThrottleLimit}.", options.ThrottleLimit);
        }

        // Opening the source once per worker, here on the caller's thread, turns a bad source
        // (missing, no CRS, no attribute) into one terminating error before any sample is touched.
        // With openOnFirstWork (the label's asset key and action) the source is opened when the first sample needs labelling (an OSM
        // extract is indexed first, slow for a country): -WhatIf and a rerun where every sample is
        // labelled already never open it.
        var labelers = new List<ISampleLabeler>();
        var workers = new List<Thread>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var finished = false;
        var corpora = new Dictionary<string, PatchCorpus>(StringComparer.Ordinal);
        try
        {
            var work = Channel.CreateBounded<(PatchSample Sample, PatchCorpus Corpus)>(new BoundedChannelOptions(options.ThrottleLimit * 2) { SingleWriter = true });
            var results = Channel.CreateUnbounded<PatchSample>(new UnboundedChannelOptions { SingleReader = true });
            var counters = new Counters();
            var completion = Task.CompletedTask;
            void Start()
            {
                for (var i = 0; i < options.ThrottleLimit; i++)
                {
                    labelers.Add(newLabeler());
                }

                workers.AddRange(labelers.Select((labeler, n) =>
                {
                    var thread = new Thread(() => Work(labeler, work.Reader, results.Writer, counters, reporter, stop.Token)) { IsBackground = true, Name = $"DeepSentinel label worker {n}" };
                    thread.Start();
                    return thread;
                }));
                completion = Task.Run(() =>
                {
                    foreach (var worker in workers)
                    {
                        worker.Join();
                    }

                    results.Writer.TryComplete();
                }, CancellationToken.None);
            }

            if (openOnFirstWork is null)
            {
                Start();
            }

            var (assetKey, action) = openOnFirstWork ?? (labelers[0].AssetKey, labelers[0].Action);

            var queued = 0;
            try
            {
                await foreach (var sample in samples.WithCancellation(cancellationToken).ConfigureAwait(false))
                {
                    if (!corpora.TryGetValue(sample.Corpus, out var corpus))
                    {
                        corpus = PatchCorpus.Open(sample.Corpus, options.Storage);
                        corpora[sample.Corpus] = corpus;
                    }

                    JsonObject item;
                    try
                    {
                        item = await ReadItemAsync(corpus, sample, cancellationToken).ConfigureAwait(false);
                    }
                    catch (DeepSentinelException ex)
                    {
                        reporter.Error(ex);
                        continue;
                    }

                    if (!options.Force && item["assets"]?[assetKey] is not null)
                    {
                        AttachLabels(sample, item);
                        reporter.Verbose($"{sample.Id} already has its '{assetKey}' label; skipped (use -Force to relabel).");
                        Interlocked.Increment(ref counters.Skipped);
                        yield return sample;
                        continue;
                    }

                    if (shouldProcess is not null && !await shouldProcess(sample.Id, action).ConfigureAwait(false))
                    {
                        continue;
                    }

                    if (labelers.Count == 0)
                    {
                        Start();
                    }

                    await work.Writer.WriteAsync((sample, corpus), cancellationToken).ConfigureAwait(false);
                    queued++;
                    reporter.Progress(new ProgressUpdate(ProgressId, activity, string.Create(CultureInfo.InvariantCulture, $"{counters.Done} of {queued} queued samples labelled")));
                    while (results.Reader.TryRead(out var done))
                    {
                        yield return done;
                    }
                }
            }
            finally
            {
                work.Writer.TryComplete();
                if (labelers.Count == 0)
                {
                    // No sample needed labelling: no worker ever started.
                    results.Writer.TryComplete();
                }
            }

            await foreach (var done in results.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                yield return done;
            }

            await completion.ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            reporter.Verbose($"{activity}: {counters.Done} labelled, {counters.Skipped} already labelled, {counters.Uncovered} outside the source, {counters.Failed} failed.");
            reporter.Progress(new ProgressUpdate(ProgressId, activity, "done", 100, 0, Completed: true));
            finished = true;
        }
        finally
        {
            // The consumer may stop early (Select-Object -First) or fail: stop the workers and
            // wait for them, so no worker still uses a labeller's GDAL handles when it is closed.
            if (!finished)
            {
                await stop.CancelAsync().ConfigureAwait(false);
            }

            foreach (var worker in workers)
            {
                worker.Join();
            }

            foreach (var labeler in labelers)
            {
                labeler.Dispose();
            }

            // No empty .staging-labels/ left in a corpus: removed once every worker has stopped
            // (removing it per sample raced with another worker creating its staging folder).
            foreach (var corpus in corpora.Values)
            {
                StagingArea.DeleteIfEmpty(StagingRootOf(corpus));
            }
        }
    }

    /// <summary>Fills <see cref="PatchSample.Labels"/> from the label assets an Item lists.</summary>
    public static void AttachLabels(PatchSample sample, JsonObject item)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(item);
        foreach (var key in KnownAssets)
        {
            if (item["assets"]?[key]?["href"]?.GetValue<string>() is { } href)
            {
                sample.Labels[key] = PatchCorpus.SampleKey(sample.Id, href.StartsWith("./", StringComparison.Ordinal) ? href[2..] : href);
            }
        }

        sample.ClcShares.Clear();
        if (item["properties"]?["deepsentinel:clc_shares"]?["level3"] is JsonObject shares)
        {
            foreach (var (code, share) in shares)
            {
                if (int.TryParse(code, NumberStyles.Integer, CultureInfo.InvariantCulture, out var c) && share is JsonValue v && v.TryGetValue<double>(out var value))
                {
                    sample.ClcShares[c.ToString(CultureInfo.InvariantCulture)] = value;
                }
            }
        }
    }

    /// <summary>Reads a sample's STAC Item.</summary>
    public static async Task<JsonObject> ReadItemAsync(PatchCorpus corpus, PatchSample sample, CancellationToken cancellationToken)
    {
        var key = PatchCorpus.SampleKey(sample.Id, "item.json");
        try
        {
            await using var stream = await corpus.Store.OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
            return (await JsonNode.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false))?.AsObject()
                ?? throw new JsonException("empty document");
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new DeepSentinelException(ErrorIds.CorpusEntryInvalid, ErrorKind.InvalidData, $"The STAC Item of sample {sample.Id} in {corpus.Store.DisplayName} is unreadable: {ex.Message}", sample.Id, ex);
        }
    }

    private sealed class Counters
    {
        public int Done;
        public int Skipped;
        public int Uncovered;
        public int Failed;
    }

    private static void Work(ISampleLabeler labeler, ChannelReader<(PatchSample Sample, PatchCorpus Corpus)> work, ChannelWriter<PatchSample> results, Counters counters, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        // A worker never lets an exception escape: a failure belongs to its sample.
        try
        {
            while (work.WaitToReadAsync(cancellationToken).AsTask().GetAwaiter().GetResult())
            {
                while (work.TryRead(out var next))
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        return;
                    }

                    try
                    {
                        if (LabelOneAsync(labeler, next.Sample, next.Corpus, reporter, cancellationToken).GetAwaiter().GetResult())
                        {
                            Interlocked.Increment(ref counters.Done);
                            results.TryWrite(next.Sample);
                        }
                        else
                        {
                            Interlocked.Increment(ref counters.Uncovered);
                        }
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        return;
                    }
                    catch (DeepSentinelException ex)
                    {
                        Interlocked.Increment(ref counters.Failed);
                        reporter.Error(new DeepSentinelException(ex.ErrorId, ex.Kind, $"Sample {next.Sample.Id}: {ex.Message} Nothing was written for it.", next.Sample.Id, ex));
                    }
                    catch (Exception ex)
                    {
                        Interlocked.Increment(ref counters.Failed);
                        var kind = ex switch
                        {
                            UnauthorizedAccessException => ErrorKind.PermissionDenied,
                            IOException => ErrorKind.WriteError,
                            _ => ErrorKind.NotSpecified,
                        };
                        reporter.Error(new DeepSentinelException(ErrorIds.LabelFailed, kind, $"Sample {next.Sample.Id}: labelling failed: {ex.Message} Nothing was written for it.", next.Sample.Id, ex));
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped: finished samples stay labelled, nothing half-written remains.
        }
    }

    private static async Task<bool> LabelOneAsync(ISampleLabeler labeler, PatchSample sample, PatchCorpus corpus, IOperationReporter reporter, CancellationToken cancellationToken)
    {
        var grid = GridOf(sample);
        var staging = Path.Combine(StagingRootOf(corpus), sample.Id + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(staging);
        try
        {
            var result = labeler.Label(sample, grid, staging);
            if (result is null)
            {
                reporter.Warning($"Sample {sample.Id} lies outside the label source's coverage: no '{labeler.AssetKey}' label was written for it.");
                return false;
            }

            if (result.Warning is { } warning)
            {
                reporter.Warning($"Sample {sample.Id}: {warning}");
            }

            // Files first, the Item last: a run killed in between leaves an unlabelled sample
            // (a rerun relabels it), never an Item that points at missing files.
            foreach (var (_, fileName, localPath, _) in result.Assets)
            {
                await CommitAsync(corpus.Store, localPath, PatchCorpus.SampleKey(sample.Id, fileName), cancellationToken).ConfigureAwait(false);
            }

            var item = await ReadItemAsync(corpus, sample, cancellationToken).ConfigureAwait(false);
            Merge(item, result);
            var itemPath = Path.Combine(staging, "item.json");
            await File.WriteAllTextAsync(itemPath, item.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), cancellationToken).ConfigureAwait(false);
            await CommitAsync(corpus.Store, itemPath, PatchCorpus.SampleKey(sample.Id, "item.json"), cancellationToken).ConfigureAwait(false);
            AttachLabels(sample, item);
            return true;
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    private static string StagingRootOf(PatchCorpus corpus) =>
        corpus.Store is LocalObjectStore local ? Path.Combine(local.Root, ".staging-labels") : Path.Combine(Path.GetTempPath(), "deepsentinel-labels");

    /// <summary>The patch grid a sample's pixels are on.</summary>
    public static PatchGrid GridOf(PatchSample sample)
    {
        var t = sample.GeoTransform;
        if (t.Length != 6 || t[2] != 0 || t[4] != 0 || t[1] <= 0 || Math.Abs(t[5] + t[1]) > 1e-9 || sample.Width < 1 || sample.Height < 1)
        {
            throw new DeepSentinelException(ErrorIds.CorpusEntryInvalid, ErrorKind.InvalidData, $"Sample {sample.Id} has no usable north-up patch grid (geotransform [{string.Join(", ", t)}], {sample.Width} x {sample.Height}).", sample.Id);
        }

        return new PatchGrid(sample.Epsg, t[0], t[3], t[1], sample.Width, sample.Height);
    }

    private static void Merge(JsonObject item, LabelResult result)
    {
        var assets = item["assets"] as JsonObject ?? [];
        item["assets"] = assets;
        foreach (var (key, _, _, asset) in result.Assets)
        {
            assets[key] = asset;
        }

        var extensions = item["stac_extensions"] as JsonArray ?? [];
        item["stac_extensions"] = extensions;
        if (!extensions.Any(e => e?.GetValue<string>() == LabelExtension))
        {
            extensions.Add(LabelExtension);
        }

        var properties = item["properties"] as JsonObject ?? [];
        item["properties"] = properties;
        foreach (var (name, value) in result.Properties)
        {
            properties[name] = value?.DeepClone();
        }

        properties["label:type"] = "raster";
        properties["label:properties"] = null;
        properties["label:tasks"] = new JsonArray("segmentation", "classification");
        var descriptions = (properties["label:description"]?.GetValue<string>() ?? string.Empty).Split("; ", StringSplitOptions.RemoveEmptyEntries).ToList();
        if (!descriptions.Contains(result.Description))
        {
            descriptions.Add(result.Description);
        }

        properties["label:description"] = string.Join("; ", descriptions);
        // Per label asset (clc, osm), replaced by name on relabelling; the label extension wants
        // one class list with a null name for raster labels, so label:classes holds them all (as
        // strings: a list is all numbers or all strings).
        var byAsset = Replace(properties["deepsentinel:label_classes"] as JsonArray ?? properties["label:classes"] as JsonArray, result.Classes, "name");
        properties["deepsentinel:label_classes"] = byAsset;
        properties["label:classes"] = new JsonArray(new JsonObject
        {
            ["name"] = null,
            ["classes"] = new JsonArray(byAsset.OfType<JsonObject>()
                .SelectMany(e => e["classes"] as JsonArray ?? [])
                .Select(c => c is JsonValue v && v.TryGetValue<string>(out var text) ? text : c!.ToJsonString())
                .Distinct()
                .Select(c => (JsonNode?)c)
                .ToArray()),
        });
        properties["label:overviews"] = Replace(properties["label:overviews"] as JsonArray, result.Overviews, "property_key");
    }

    private static JsonArray Replace(JsonArray? existing, List<JsonObject> entries, string keyName)
    {
        var keys = entries.Select(e => e[keyName]?.GetValue<string>()).ToHashSet();
        var merged = new JsonArray();
        foreach (var old in existing ?? [])
        {
            if (old is JsonObject o && !keys.Contains(o[keyName]?.GetValue<string>()))
            {
                merged.Add(o.DeepClone());
            }
        }

        foreach (var entry in entries)
        {
            merged.Add(entry.DeepClone());
        }

        return merged;
    }

    private static async Task CommitAsync(IObjectStore store, string file, string key, CancellationToken cancellationToken)
    {
        if (store is LocalObjectStore local)
        {
            local.CommitFile(file, key, ifNotExists: false);
            return;
        }

        await using var stream = File.OpenRead(file);
        await store.PutAsync(key, stream, PutOptions.Overwrite, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Shares of each value among the counted pixels, rounded for the Item.</summary>
    public static JsonObject Shares(IEnumerable<KeyValuePair<int, long>> counts, long total)
    {
        var shares = new JsonObject();
        foreach (var (code, count) in counts.OrderBy(c => c.Key))
        {
            shares[code.ToString(CultureInfo.InvariantCulture)] = total == 0 ? 0 : Math.Round((double)count / total, 6);
        }

        return shares;
    }
}
