using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DeepSentinel.Core.Corpus;

/// <summary>
/// One sample of a patch corpus: a 256 x 256 px, 10 m patch with its Sentinel-2 and Sentinel-1
/// views. New-PatchSample writes these, Get-PatchSample reads them back, and the label and
/// training cmdlets take them from the pipeline. Asset paths are relative to the corpus root
/// (<see cref="Corpus"/>), so a sample stays valid when its corpus is copied to another store.
/// </summary>
public sealed class PatchSample : Training.ITrainingPatchProvider
{
    /// <summary>The asset keys every sample has.</summary>
    public static class AssetKeys
    {
        /// <summary>Sentinel-2 L2A, 12 bands, UInt16 reflectance x 10000.</summary>
        public const string S2 = "s2";
        /// <summary>Sentinel-1 VV and VH, Float32 linear backscatter.</summary>
        public const string S1 = "s1";
        /// <summary>Sentinel-2 scene classification (SCL), UInt8.</summary>
        public const string Scl = "scl";
        /// <summary>Sentinel-2 true-colour PNG.</summary>
        public const string S2Preview = "s2_preview";
        /// <summary>Sentinel-1 false-colour PNG (VV, VH, VV/VH).</summary>
        public const string S1Preview = "s1_preview";
        /// <summary>The sample's STAC Item.</summary>
        public const string Item = "item";
    }

    /// <summary>The sample id: sequence index, MGRS tile and S2 date (e.g. ds00000042_31UDQ_20190816).</summary>
    public required string Id { get; init; }

    /// <summary>The point's index in the seeded sequence.</summary>
    public required long Index { get; init; }

    /// <summary>Where the corpus is (a folder, az://, https://..., gs://); asset paths are relative to it.</summary>
    [JsonIgnore]
    public string Corpus { get; set; } = string.Empty;

    /// <summary>Patch centre longitude (WGS 84).</summary>
    public double Longitude { get; init; }

    /// <summary>Patch centre latitude (WGS 84).</summary>
    public double Latitude { get; init; }

    /// <summary>The patch grid's CRS (the S2 tile's UTM zone).</summary>
    public int Epsg { get; init; }

    /// <summary>The patch grid's GDAL geotransform.</summary>
    public double[] GeoTransform { get; init; } = [];

    /// <summary>Width in pixels.</summary>
    public int Width { get; init; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; init; }

    /// <summary>The Sentinel-2 scene.</summary>
    public string S2SceneId { get; init; } = string.Empty;

    /// <summary>The Sentinel-2 acquisition time (UTC).</summary>
    public DateTimeOffset S2Datetime { get; init; }

    /// <summary>The Sentinel-2 scene's MGRS tile.</summary>
    public string? MgrsTile { get; init; }

    /// <summary>The Sentinel-2 scene's cloud cover, percent.</summary>
    public double? S2SceneCloudCover { get; init; }

    /// <summary>The Sentinel-1 scene.</summary>
    public string S1SceneId { get; init; } = string.Empty;

    /// <summary>The Sentinel-1 acquisition time (UTC).</summary>
    public DateTimeOffset S1Datetime { get; init; }

    /// <summary>The Sentinel-1 pass direction.</summary>
    public string? S1OrbitState { get; init; }

    /// <summary>Days between the two acquisitions.</summary>
    public double DaysApart { get; init; }

    /// <summary>Fraction of the patch that SCL marks as cloud, cirrus or cloud shadow.</summary>
    public double CloudFraction { get; init; }

    /// <summary>Fraction of the patch without data in either sensor.</summary>
    public double NoDataFraction { get; init; }

    /// <summary>Asset key to path relative to the corpus root.</summary>
    public Dictionary<string, string> Assets { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Label assets and statistics added by Add-CorineLabel / Add-OsmLabel (key to relative path).</summary>
    public Dictionary<string, string> Labels { get; init; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Share of each CORINE Land Cover level-3 class in the patch, by code (e.g. "211" -> 0.91;
    /// string keys, so ConvertTo-Json and Export-Csv take the sample), from the STAC Item that
    /// Add-CorineLabel wrote; empty when the sample has no CLC label. Not stored in the index.
    /// </summary>
    [JsonIgnore]
    public Dictionary<string, double> ClcShares { get; } = new(StringComparer.Ordinal);

    /// <summary>The CLC level-3 class that covers most of the patch, or null without a CLC label.</summary>
    [JsonIgnore]
    public int? DominantClc => ClcShares.Count == 0 ? null : int.Parse(ClcShares.MaxBy(s => (s.Value, -int.Parse(s.Key, CultureInfo.InvariantCulture))).Key, CultureInfo.InvariantCulture);

    /// <summary>The name of <see cref="DominantClc"/> in the CLC legend (e.g. "Non-irrigated arable land").</summary>
    [JsonIgnore]
    public string? DominantClcName => DominantClc is { } code ? global::DeepSentinel.Core.Labels.ClcLegend.Find(code)?.Name : null;

    /// <summary>The S2 time as the default table shows it.</summary>
    [JsonIgnore]
    public string DisplayTime => S2Datetime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Cloud percentage as the default table shows it.</summary>
    [JsonIgnore]
    public string DisplayCloud => (CloudFraction * 100).ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>The store the sample was read from or written to (not serialised; reopened from <see cref="Corpus"/> when absent).</summary>
    [JsonIgnore]
    internal Storage.IObjectStore? Store { get; set; }

    /// <inheritdoc />
    string Training.ITrainingPatchProvider.SampleId => Id;

    /// <summary>Reads the sample's S2 and S1 pixels for training or embedding (NaN for nodata).</summary>
    public ValueTask<Training.TrainingPatch> LoadTrainingPatchAsync(CancellationToken cancellationToken) => PatchPixels.LoadAsync(this, cancellationToken);

    /// <summary>The path (local corpora) or URL of an asset.</summary>
    public string AssetLocation(string key)
    {
        if (!Assets.TryGetValue(key, out var relative) && !Labels.TryGetValue(key, out relative))
        {
            throw new KeyNotFoundException($"Sample {Id} has no asset '{key}'.");
        }

        return Corpus.Contains("://", StringComparison.Ordinal) ? Corpus.TrimEnd('/') + "/" + relative : Path.Combine(Corpus, relative);
    }

    /// <summary>The JSON line the corpus index holds for this sample.</summary>
    public string ToJsonLine() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a sample from an index line.</summary>
    /// <exception cref="JsonException">When the line is not a sample.</exception>
    public static PatchSample FromJson(string json, string corpus)
    {
        var sample = JsonSerializer.Deserialize<PatchSample>(json, Json) ?? throw new JsonException("null sample");
        sample.Corpus = corpus;
        return sample;
    }

    /// <inheritdoc />
    public override string ToString() => Id;

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
