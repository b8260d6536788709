using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Geometry;
using DeepSentinel.Core.Interop.Gdal;
using DeepSentinel.Core.Raster;
using DeepSentinel.Core.Storage;

namespace DeepSentinel.Core.Corpus;

/// <summary>
/// Everything that decides a corpus's samples: a rerun must match it (only the count may
/// change). The shard split and the number of workers do not decide samples and are not part of it.
/// </summary>
public sealed record CorpusManifest
{
    /// <summary>
    /// The current layout version: 2 stores Sentinel-2 without the radiometric offset and one index
    /// for all shards; 3 writes portable, schema-valid STAC (relative hrefs only, footprints split
    /// at the antimeridian, sat and sar fields complete, the Collection's own extent).
    /// </summary>
    public const int CurrentVersion = 3;

    /// <summary>The layout version.</summary>
    public int Version { get; init; } = CurrentVersion;

    /// <summary>The seed of the point sequence.</summary>
    public long Seed { get; init; }

    /// <summary>Start of the date range.</summary>
    public DateTimeOffset Start { get; init; }

    /// <summary>End of the date range.</summary>
    public DateTimeOffset End { get; init; }

    /// <summary>Maximum days between the S1 and S2 acquisitions.</summary>
    public double MaxDaysApart { get; init; }

    /// <summary>Maximum scene cloud cover, percent.</summary>
    public double MaxCloudCover { get; init; }

    /// <summary>Maximum cloud in the patch, percent.</summary>
    public double MaxPatchCloud { get; init; }

    /// <summary>Maximum nodata in the patch, percent.</summary>
    public double MaxNoData { get; init; }

    /// <summary>The sampling area as WKT, when limited.</summary>
    public string? Area { get; init; }

    /// <summary>Where scenes came from, for people.</summary>
    public string Source { get; init; } = string.Empty;

    /// <summary>
    /// The identity of the scene source: the catalog's location, or the provider, STAC URL
    /// (redacted) and filters, or for piped scenes their number and a SHA-256 of their sorted ids.
    /// </summary>
    public string SourceFingerprint { get; init; } = string.Empty;

    /// <summary>
    /// For a corpus of an older layout: the error that refuses extending it (its samples would mix
    /// two layouts) and says to rebuild; null for the current layout. Older corpora stay readable.
    /// </summary>
    public DeepSentinelException? OlderLayoutError(string display) => Version >= CurrentVersion ? null : new DeepSentinelException(
        ErrorIds.CorpusParametersMismatch,
        ErrorKind.InvalidArgument,
        $"The corpus in {display} was written by an older DeepSentinel (corpus layout {Version}; this version writes layout {CurrentVersion}: relative hrefs only, valid STAC, footprints split at the antimeridian{(Version < 2 ? ", Sentinel-2 without the baseline 04.00 offset" : string.Empty)}). It can still be read, copied and trained on, but not extended: rebuild it into a new folder with New-PatchSample and the same parameters.",
        display);

    /// <summary>The differences that make <paramref name="other"/> a different corpus, or an empty list.</summary>
    public IReadOnlyList<string> DifferencesFrom(CorpusManifest other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var differences = new List<string>();
        void Compare<T>(string name, T mine, T theirs)
        {
            if (!EqualityComparer<T>.Default.Equals(mine, theirs))
            {
                differences.Add($"{name} is {theirs} here but {mine} in the corpus");
            }
        }

        Compare("Version", Version, other.Version);
        Compare("Seed", Seed, other.Seed);
        Compare("Start", Start, other.Start);
        Compare("End", End, other.End);
        Compare("MaxDaysApart", MaxDaysApart, other.MaxDaysApart);
        Compare("MaxCloudCover", MaxCloudCover, other.MaxCloudCover);
        Compare("MaxPatchCloud", MaxPatchCloud, other.MaxPatchCloud);
        Compare("MaxNoData", MaxNoData, other.MaxNoData);
        Compare("Area", Area, other.Area);
        Compare("Source", SourceFingerprint, other.SourceFingerprint);
        return differences;
    }
}

/// <summary>A processed point as the journal records it (from the object's key alone).</summary>
/// <param name="Index">The point index.</param>
/// <param name="Accepted">True for a sample, false for a rejected point.</param>
public sealed record JournalEntry(long Index, bool Accepted);

/// <summary>
/// A patch corpus in an object store:
/// <code>
/// corpus.json                         the manifest (parameters; written once)
/// collection.json                     STAC Collection (links to the index parts)
/// samples/&lt;id&gt;/s2.tif s1.tif scl.tif   COGs on the patch grid
/// samples/&lt;id&gt;/s2.png s1.png          quicklooks
/// samples/&lt;id&gt;/item.json             STAC Item; written last: a sample exists once it exists
/// journal/&lt;index&gt;.accepted.json        one object per processed point (create-only), so a
/// journal/&lt;index&gt;.rejected.json        rerun skips finished work and never duplicates it
/// index/part-0000-of-0001.ndjson      one PatchSample per line, in point order: the corpus
/// </code>
/// The corpus is the first Count accepted points in point order; the index lists exactly those,
/// whichever runs, shards and workers built them.
/// Every object is written atomically, so a killed run leaves nothing truncated under a final key.
/// </summary>
public sealed class PatchCorpus
{
    /// <summary>The manifest key.</summary>
    public const string ManifestKey = "corpus.json";

    /// <summary>The STAC Collection key.</summary>
    public const string CollectionKey = "collection.json";

    /// <summary>The STAC collection id of patch items.</summary>
    public const string CollectionId = "deepsentinel-patches";

    private const string JournalPrefix = "journal/";
    private const string IndexPrefix = "index/";
    private const string SamplesPrefix = "samples/";

    /// <summary>Opens a corpus on a store.</summary>
    public PatchCorpus(IObjectStore store, string location)
    {
        ArgumentNullException.ThrowIfNull(store);
        Store = store;
        Location = location;
    }

    /// <summary>The store.</summary>
    public IObjectStore Store { get; }

    /// <summary>The corpus root as the user gave it (samples' <see cref="PatchSample.Corpus"/>).</summary>
    public string Location { get; }

    /// <summary>
    /// Opens the corpus at a location: a local folder, az://account/container/prefix,
    /// https://account.blob.core.windows.net/container/prefix or gs://bucket/prefix. The
    /// samples' <see cref="PatchSample.Corpus"/> is the location without any signature.
    /// </summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.InvalidStoreLocation"/> and the stores' credential errors.</exception>
    public static PatchCorpus Open(string location, StorageOptions? options = null, Services.CoreServices? services = null, Diagnostics.IOperationReporter? reporter = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(location);
        var parsed = StoreLocation.Parse(location);
        var store = ObjectStores.Open(parsed, options, services, reporter);
        return new PatchCorpus(store, parsed.Kind == StoreKind.Local ? parsed.LocalPath! : parsed.DisplayName);
    }

    /// <summary>The key of a sample's file.</summary>
    public static string SampleKey(string id, string file) => $"samples/{id}/{file}";

    /// <summary>The key of a point's journal entry.</summary>
    public static string JournalKey(long index, bool accepted) => string.Create(CultureInfo.InvariantCulture, $"{JournalPrefix}{index:D10}.{(accepted ? "accepted" : "rejected")}.json");

    /// <summary>The key of the corpus's index (one part, whatever the number of shards).</summary>
    public static string IndexKey => IndexPrefix + "part-0000-of-0001.ndjson";

    /// <summary>The point index a sample id starts with (ds&lt;index&gt;_...), or null.</summary>
    public static long? IndexOfSampleId(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        var end = id.IndexOf('_', StringComparison.Ordinal);
        return id.StartsWith("ds", StringComparison.Ordinal) && end > 2 && long.TryParse(id.AsSpan(2, end - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : null;
    }

    /// <summary>Reads the manifest, or null for a new corpus.</summary>
    public async Task<CorpusManifest?> ReadManifestAsync(CancellationToken cancellationToken)
    {
        if (await Store.GetInfoAsync(ManifestKey, cancellationToken).ConfigureAwait(false) is null)
        {
            return null;
        }

        var text = await ReadTextAsync(ManifestKey, cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize<CorpusManifest>(text, PatchSample.Json) ?? throw new JsonException("the document is null");
        }
        catch (JsonException ex)
        {
            throw new DeepSentinelException(ErrorIds.CorpusEntryInvalid, ErrorKind.InvalidData, $"The corpus manifest in {Store.DisplayName} is unreadable: {ex.Message}", ManifestKey, ex);
        }
    }

    /// <summary>Writes the manifest of a new corpus, or checks that an existing corpus was built with the same parameters.</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.CorpusParametersMismatch"/>.</exception>
    public async Task EnsureManifestAsync(CorpusManifest manifest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var existing = await ReadManifestAsync(cancellationToken).ConfigureAwait(false);
        if (existing is null)
        {
            try
            {
                await PutTextAsync(ManifestKey, JsonSerializer.Serialize(manifest, new JsonSerializerOptions(PatchSample.Json) { WriteIndented = true }), PutOptions.CreateOnly, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (ObjectExistsException)
            {
                // Another shard created it first: compare with theirs.
                existing = await ReadManifestAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        if (existing!.OlderLayoutError(Store.DisplayName) is { } older)
        {
            throw older;
        }

        var differences = existing.DifferencesFrom(manifest);
        if (differences.Count > 0)
        {
            throw new DeepSentinelException(ErrorIds.CorpusParametersMismatch, ErrorKind.InvalidArgument, $"The corpus in {Store.DisplayName} was built with other parameters: {string.Join("; ", differences)}. Use the same parameters to resume it (only -Count may change), or another -Destination.", Store.DisplayName);
        }
    }

    /// <summary>Every journal entry (from the keys alone, no reads), in point order.</summary>
    public async IAsyncEnumerable<JournalEntry> ReadJournalAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var info in Store.ListAsync(JournalPrefix, cancellationToken).ConfigureAwait(false))
        {
            var name = info.Key[JournalPrefix.Length..];
            var parts = name.Split('.');
            if (parts.Length == 3 && parts[2] == "json" && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index) && parts[1] is "accepted" or "rejected")
            {
                yield return new JournalEntry(index, parts[1] == "accepted");
            }
        }
    }

    /// <summary>Records a processed point; a second record of the same point is ignored.</summary>
    public async Task WriteJournalAsync(long index, bool accepted, string json, CancellationToken cancellationToken)
    {
        try
        {
            await PutTextAsync(JournalKey(index, accepted), json, PutOptions.CreateOnly, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectExistsException)
        {
            // Recorded by an earlier, interrupted run: the same outcome.
        }
    }

    /// <summary>Reads an accepted point's sample from the journal.</summary>
    public async Task<PatchSample> ReadJournalSampleAsync(long index, CancellationToken cancellationToken)
    {
        var key = JournalKey(index, accepted: true);
        var text = await ReadTextAsync(key, cancellationToken).ConfigureAwait(false);
        try
        {
            var sample = PatchSample.FromJson(text, Location);
            sample.Store = Store;
            return sample;
        }
        catch (JsonException ex)
        {
            throw new DeepSentinelException(ErrorIds.CorpusEntryInvalid, ErrorKind.InvalidData, $"The journal entry {key} in {Store.DisplayName} is unreadable: {ex.Message}", key, ex);
        }
    }

    /// <summary>
    /// Writes the index from samples in point order, unless the store already holds exactly
    /// these bytes (a rerun of a finished corpus writes nothing). Returns the number of samples.
    /// </summary>
    public async Task<int> WriteIndexAsync(IAsyncEnumerable<PatchSample> samples, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var temp = Path.Combine(Path.GetTempPath(), "deepsentinel-index-" + Guid.NewGuid().ToString("N") + ".ndjson");
        try
        {
            var count = 0;
            await using (var writer = new StreamWriter(temp, false, new UTF8Encoding(false)))
            {
                await foreach (var sample in samples.WithCancellation(cancellationToken).ConfigureAwait(false))
                {
                    await writer.WriteLineAsync(sample.ToJsonLine().AsMemory(), cancellationToken).ConfigureAwait(false);
                    count++;
                }
            }

            if (!await SameBytesAsync(IndexKey, await File.ReadAllBytesAsync(temp, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false))
            {
                await using var stream = File.OpenRead(temp);
                await Store.PutAsync(IndexKey, stream, PutOptions.Overwrite with { ContentType = "application/x-ndjson" }, cancellationToken).ConfigureAwait(false);
            }

            return count;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Removes an accepted point's journal entry (a sample outside the corpus).</summary>
    public Task DeleteJournalEntryAsync(long index, bool accepted, CancellationToken cancellationToken) =>
        Store.DeleteAsync(JournalKey(index, accepted), cancellationToken);

    /// <summary>The sample folders in the store (from the keys under samples/), each with its keys.</summary>
    public async Task<Dictionary<string, List<string>>> ListSampleFoldersAsync(CancellationToken cancellationToken)
    {
        var folders = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await foreach (var info in Store.ListAsync(SamplesPrefix, cancellationToken).ConfigureAwait(false))
        {
            var rest = info.Key[SamplesPrefix.Length..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            if (slash > 0)
            {
                var id = rest[..slash];
                if (!folders.TryGetValue(id, out var keys))
                {
                    folders[id] = keys = [];
                }

                keys.Add(info.Key);
            }
        }

        return folders;
    }

    /// <summary>Deletes a sample folder: its Item first, so a half-deleted folder is never a sample.</summary>
    public async Task DeleteSampleFolderAsync(string id, IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var item = SampleKey(id, "item.json");
        foreach (var key in keys.OrderBy(k => k == item ? 0 : 1))
        {
            await Store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        }

        if (Store is LocalObjectStore local)
        {
            // Empty folders (and leftovers that were never objects, such as .partial files).
            var folder = local.PathOf(SampleKey(id, "item.json"));
            var directory = Path.GetDirectoryName(folder)!;
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    /// <summary>
    /// Streams every sample of the corpus from its index parts, line by line: a corpus of any size
    /// never has to fit in memory. An unreadable line is reported and skipped.
    /// </summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.CorpusNotFound"/> when the location holds no corpus.</exception>
    public async IAsyncEnumerable<PatchSample> ReadIndexAsync(Action<DeepSentinelException>? onError, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The manifest is read, not only looked for: a truncated or foreign corpus.json is an
        // error, not a corpus read as if nothing were wrong.
        if (await ReadManifestAsync(cancellationToken).ConfigureAwait(false) is null)
        {
            throw new DeepSentinelException(ErrorIds.CorpusNotFound, ErrorKind.ObjectNotFound, $"{Store.DisplayName} holds no patch corpus (no {ManifestKey}). Build one with New-PatchSample.", Store.DisplayName);
        }

        var parts = new List<string>();
        await foreach (var info in Store.ListAsync(IndexPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (info.Key.EndsWith(".ndjson", StringComparison.Ordinal))
            {
                parts.Add(info.Key);
            }
        }

        foreach (var part in parts)
        {
            await using var stream = await Store.OpenReadAsync(part, cancellationToken).ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var lineNumber = 0;
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                lineNumber++;
                if (line.Length == 0)
                {
                    continue;
                }

                PatchSample? sample = null;
                try
                {
                    sample = PatchSample.FromJson(line, Location);
                }
                catch (JsonException ex)
                {
                    onError?.Invoke(new DeepSentinelException(ErrorIds.CorpusEntryInvalid, ErrorKind.InvalidData, $"Line {lineNumber} of {part} in {Store.DisplayName} is not a sample: {ex.Message}", $"{part}:{lineNumber}", ex));
                }

                if (sample is not null)
                {
                    sample.Store = Store;
                    yield return sample;
                }
            }
        }
    }

    /// <summary>
    /// Writes the STAC Collection, unless the store holds these bytes already: the corpus's own
    /// spatial extent (the union of its samples' bboxes, across the antimeridian as RFC 7946 wants)
    /// and temporal extent (its acquisitions), its sample count, and relative links only (a
    /// self-contained catalog: an item link per sample, the index parts), so the folder reads the
    /// same wherever it is copied.
    /// </summary>
    public async Task WriteCollectionAsync(CorpusManifest manifest, IReadOnlyList<PatchSample> samples, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(samples);
        var links = new JsonArray(
            new JsonObject { ["rel"] = "root", ["href"] = "./collection.json", ["type"] = "application/json" });
        await foreach (var info in Store.ListAsync(IndexPrefix, cancellationToken).ConfigureAwait(false))
        {
            links.Add(new JsonObject { ["rel"] = "items", ["href"] = "./" + info.Key, ["type"] = "application/x-ndjson", ["title"] = "Sample index (one PatchSample per line)" });
        }

        foreach (var sample in samples)
        {
            links.Add(new JsonObject { ["rel"] = "item", ["href"] = "./" + SampleKey(sample.Id, "item.json"), ["type"] = "application/geo+json" });
        }

        var (spatial, temporal) = Extent(manifest, samples);

        var collection = new JsonObject
        {
            ["type"] = "Collection",
            ["stac_version"] = "1.0.0",
            ["stac_extensions"] = new JsonArray(),
            ["id"] = CollectionId,
            ["title"] = "DeepSentinel matched Sentinel-1 + Sentinel-2 patches",
            ["description"] = "256 x 256 px patches at 10 m: Sentinel-2 L2A (12 bands + SCL) and Sentinel-1 VV+VH (linear) acquired within " + manifest.MaxDaysApart.ToString(CultureInfo.InvariantCulture) + " days of each other. Items are in samples/<id>/item.json; the index parts list them line by line.",
            ["license"] = "proprietary",
            ["extent"] = new JsonObject
            {
                ["spatial"] = new JsonObject { ["bbox"] = spatial },
                ["temporal"] = new JsonObject { ["interval"] = temporal },
            },
            ["summaries"] = new JsonObject { ["deepsentinel:samples"] = new JsonArray(samples.Count), ["deepsentinel:seed"] = new JsonArray(manifest.Seed) },
            ["links"] = links,
        };
        if (await Store.GetInfoAsync(CorpusTable.Key, cancellationToken).ConfigureAwait(false) is not null)
        {
            // STAC-GeoParquet's convention: the collection's items as a Parquet table asset.
            collection["assets"] = new JsonObject
            {
                ["geoparquet-items"] = new JsonObject { ["href"] = "./" + CorpusTable.Key, ["type"] = CorpusTable.MediaType, ["title"] = "STAC-GeoParquet table of the samples (one row per sample, point order)", ["roles"] = new JsonArray("stac-items") },
            };
        }

        var text = collection.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        if (!await SameBytesAsync(CollectionKey, Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false))
        {
            await PutTextAsync(CollectionKey, text, PutOptions.Overwrite, cancellationToken).ConfigureAwait(false);
        }
    }

    // The union of the samples' bboxes (each the patch grid's footprint, split at the antimeridian)
    // and the span of their acquisitions; the requested area and dates when there are no samples.
    private static (JsonArray Spatial, JsonArray Temporal) Extent(CorpusManifest manifest, IReadOnlyList<PatchSample> samples)
    {
        static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        if (samples.Count == 0)
        {
            return (new JsonArray(new JsonArray(-180, -90, 180, 90)), new JsonArray(new JsonArray(Iso(manifest.Start), Iso(manifest.End))));
        }

        var transforms = new Dictionary<int, CoordinateTransform>();
        try
        {
            var boxes = samples.Select(s =>
            {
                if (!transforms.TryGetValue(s.Epsg, out var toWgs))
                {
                    transforms[s.Epsg] = toWgs = new CoordinateTransform(s.Epsg, 4326);
                }

                var grid = new PatchGrid(s.Epsg, s.GeoTransform[0], s.GeoTransform[3], s.GeoTransform[1], s.Width, s.Height);
                return Antimeridian.BoundingBoxOf(grid.FootprintWgs84(toWgs));
            }).ToList();
            var union = Antimeridian.Union(boxes);
            var first = samples.Min(s => s.S1Datetime < s.S2Datetime ? s.S1Datetime : s.S2Datetime);
            var last = samples.Max(s => s.S1Datetime > s.S2Datetime ? s.S1Datetime : s.S2Datetime);
            return (new JsonArray(new JsonArray(union.West, union.South, union.East, union.North)), new JsonArray(new JsonArray(Iso(first), Iso(last))));
        }
        finally
        {
            foreach (var t in transforms.Values)
            {
                t.Dispose();
            }
        }
    }

    private async Task<bool> SameBytesAsync(string key, byte[] bytes, CancellationToken cancellationToken)
    {
        if (await Store.GetInfoAsync(key, cancellationToken).ConfigureAwait(false) is not { } info || info.Length != bytes.Length)
        {
            return false;
        }

        await using var stream = await Store.OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
        using var existing = new MemoryStream();
        await stream.CopyToAsync(existing, cancellationToken).ConfigureAwait(false);
        return existing.GetBuffer().AsSpan(0, (int)existing.Length).SequenceEqual(bytes);
    }

    /// <summary>Reads a text object.</summary>
    public async Task<string> ReadTextAsync(string key, CancellationToken cancellationToken)
    {
        await using var stream = await Store.OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes a text object.</summary>
    public async Task PutTextAsync(string key, string text, PutOptions options, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text));
        await Store.PutAsync(key, stream, options, cancellationToken).ConfigureAwait(false);
    }
}
