using System.Text.Json.Nodes;
using DeepSentinel.Core.Corpus;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Raster;
using DeepSentinel.Core.Sampling;
using DeepSentinel.Core.Scenes;

namespace DeepSentinel.Core.SuperResolution;

/// <summary>
/// Where super-resolution reads native-resolution bands: a whole Sentinel-2 scene, or the window
/// of a corpus sample in the scene it was cut from (its STAC Item's deepsentinel:source_assets).
/// </summary>
public sealed class SuperResolutionSource
{
    private readonly Func<SceneBandReader> _open;

    private SuperResolutionSource(string name, Func<SceneBandReader> open, PatchGrid? window, PatchSample? sample, PatchGrid? output = null)
    {
        Name = name;
        _open = open;
        Window = window;
        Sample = sample;
        OutputWindow = output ?? window;
    }

    /// <summary>The window a super-resolved image covers: a sample's whole patch (which need not be whole 60 m pixels), else <see cref="Window"/>.</summary>
    public PatchGrid? OutputWindow { get; }

    /// <summary>The sample's STAC Item file (local corpora), or null.</summary>
    public string? ItemPath => Sample is { } s && s.Assets.ContainsKey(PatchSample.AssetKeys.Item) ? s.AssetLocation(PatchSample.AssetKeys.Item) : null;

    /// <summary>The scene or sample id.</summary>
    public string Name { get; }

    /// <summary>The scene whose bands are read: samples of one scene share a reader (and its open datasets).</summary>
    public string SceneId => Sample?.S2SceneId ?? Name;

    /// <summary>The 10 m window to use (a sample's patch, cut to whole 60 m pixels), or null for the whole scene.</summary>
    public PatchGrid? Window { get; }

    /// <summary>The corpus sample, when the source is one.</summary>
    public PatchSample? Sample { get; }

    /// <summary>A reader of the bands (the caller disposes it).</summary>
    public SceneBandReader OpenReader() => _open();

    /// <summary>A Sentinel-2 scene.</summary>
    public static SuperResolutionSource FromScene(SentinelScene scene)
    {
        ArgumentNullException.ThrowIfNull(scene);
        if (scene.Mission != SentinelMission.S2)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, $"Scene {scene.Id} is a {scene.Mission} scene; super-resolution takes Sentinel-2 L2A scenes.", scene.Id);
        }

        return new SuperResolutionSource(scene.Id, () => new SceneBandReader(scene), null, null);
    }

    /// <summary>
    /// A corpus sample: its window in the source scene's bands, as its STAC Item names them.
    /// </summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.SuperResolutionSourceMissing"/> when the item names no native-resolution sources for the bands needed.</exception>
    public static SuperResolutionSource FromSample(PatchSample sample, IEnumerable<string> bands)
    {
        ArgumentNullException.ThrowIfNull(sample);
        var sources = ReadSourceAssets(sample);
        var missing = bands.Where(b => !sources.ContainsKey(b)).ToList();
        if (missing.Count > 0)
        {
            throw new DeepSentinelException(ErrorIds.SuperResolutionSourceMissing, ErrorKind.InvalidData,
                $"Sample {sample.Id} does not name the native-resolution scene bands {string.Join(", ", missing)} (deepsentinel:source_assets in its STAC Item), or names local files whose scene {sample.S2SceneId} is not found in the local catalog its corpus.json names; its s2 COG holds the coarse bands already resampled to 10 m, which cannot be super-resolved. Rebuild the corpus with New-PatchSample, or train and apply on the scenes (Get-SentinelScene).", sample.Id);
        }

        var t = sample.GeoTransform;
        var window = new PatchGrid(sample.Epsg, t[0], t[3], 10, sample.Width / 6 * 6, sample.Height / 6 * 6);
        var patch = window with { Width = sample.Width, Height = sample.Height };
        var offset = sample.S2Datetime >= S2Radiometry.BaselineFourStart ? S2Radiometry.BaselineFourOffset : 0;
        return new SuperResolutionSource(sample.Id, () => new SceneBandReader(sample.S2SceneId, b => sources.GetValueOrDefault(b), _ => offset, sample.Epsg), window, sample, patch);
    }

    private static Dictionary<string, string> ReadSourceAssets(PatchSample sample)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!sample.Assets.ContainsKey(PatchSample.AssetKeys.Item) || sample.Corpus.Contains("://", StringComparison.Ordinal))
        {
            if (sample.Corpus.Contains("://", StringComparison.Ordinal))
            {
                throw new DeepSentinelException(ErrorIds.SuperResolutionSourceMissing, ErrorKind.InvalidArgument,
                    $"Sample {sample.Id} is in a remote corpus ({sample.Corpus}); super-resolution reads local corpora. Copy it first (Copy-Corpus).", sample.Id);
            }

            return result;
        }

        var itemPath = sample.AssetLocation(PatchSample.AssetKeys.Item);
        JsonNode? item;
        try
        {
            item = JsonNode.Parse(File.ReadAllText(itemPath));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            throw new DeepSentinelException(ErrorIds.CorpusEntryInvalid, ErrorKind.InvalidData, $"The STAC Item {itemPath} of sample {sample.Id} is unreadable: {ex.Message}", sample.Id, ex);
        }

        if (item?["properties"]?["deepsentinel:source_assets"] is JsonObject assets)
        {
            string? sceneFolder = null;
            foreach (var (band, href) in assets)
            {
                if (href?.GetValue<string>() is not { } text)
                {
                    continue;
                }

                if (text.StartsWith("file://", StringComparison.Ordinal))
                {
                    result[band] = new Uri(text).LocalPath;
                }
                else if (text.StartsWith("http", StringComparison.OrdinalIgnoreCase))
                {
                    result[band] = "/vsicurl/" + text;
                }
                else if ((sceneFolder ??= LocalSceneFolder(sample)) is { } folder)
                {
                    // Corpus layout 3 names a local source file by its name beside the scene's
                    // Item; the scene is found in the catalog corpus.json names.
                    result[band] = Path.Combine(folder, text);
                }
            }
        }

        return result;
    }

    // The folder of the sample's Sentinel-2 scene in the local catalog the corpus was built from
    // (corpus.json "source": "catalog <folder or catalog.json>"), or null.
    private static string? LocalSceneFolder(PatchSample sample)
    {
        try
        {
            var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(sample.Corpus, "corpus.json")));
            var source = manifest?["source"]?.GetValue<string>();
            if (source is null || !source.StartsWith("catalog ", StringComparison.Ordinal))
            {
                return null;
            }

            var catalog = source["catalog ".Length..].Trim();
            var root = Directory.Exists(catalog) ? catalog : File.Exists(catalog) ? Path.GetDirectoryName(catalog) : null;
            return root is null ? null : Directory.EnumerateDirectories(root, sample.S2SceneId, SearchOption.AllDirectories).FirstOrDefault();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}
