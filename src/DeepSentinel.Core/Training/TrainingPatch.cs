using DeepSentinel.Core.Errors;

namespace DeepSentinel.Core.Training;

/// <summary>
/// Anything that can be turned into a <see cref="TrainingPatch"/>: what Start-Pretraining and
/// Get-Embedding take from the pipeline. The corpus's PatchSample implements it by reading its
/// pixels (that read may do I/O, hence async).
/// </summary>
public interface ITrainingPatchProvider
{
    /// <summary>The sample's id, for messages and embedding output.</summary>
    string SampleId { get; }

    /// <summary>Reads the sample's pixels.</summary>
    ValueTask<TrainingPatch> LoadTrainingPatchAsync(CancellationToken cancellationToken);
}

/// <summary>A patch's pixel grid: its CRS and GDAL geotransform (for per-pixel output on the patch grid).</summary>
/// <param name="Epsg">The projected CRS.</param>
/// <param name="GeoTransform">GDAL's six affine coefficients.</param>
public sealed record PatchGeoreference(int Epsg, double[] GeoTransform);

/// <summary>Where a patch lies, for picking spatial neighbours (Tile2Vec).</summary>
/// <param name="X">Easting of the patch centre in metres.</param>
/// <param name="Y">Northing of the patch centre in metres.</param>
/// <param name="Crs">The projected CRS of X and Y, e.g. EPSG:32631; distances are only compared within one CRS.</param>
public sealed record PatchLocation(double X, double Y, string Crs);

/// <summary>
/// One co-registered patch as the training engine takes it: Sentinel-2 bands and Sentinel-1
/// polarisations as band-major float32 arrays ([bands, height, width], raw values: reflectance
/// for S2, backscatter for S1; NaN is nodata). Either modality may be missing (S2 under cloud).
/// </summary>
public sealed class TrainingPatch : ITrainingPatchProvider
{
    /// <summary>Sentinel-2 L2A bands in the order the engine expects.</summary>
    public static IReadOnlyList<string> S2BandNames { get; } = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12"];

    /// <summary>Sentinel-1 polarisations in the order the engine expects.</summary>
    public static IReadOnlyList<string> S1BandNames { get; } = ["VV", "VH"];

    /// <summary>Creates a patch; array lengths must be a whole number of height x width bands.</summary>
    public TrainingPatch(string sampleId, int height, int width, float[]? s2, float[]? s1, PatchLocation? location = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(sampleId);
        if (height < 1 || width < 1)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.TrainingInputInvalid, $"Patch '{sampleId}' has size {height} x {width}.", sampleId);
        }

        if (s2 is null && s1 is null)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.TrainingInputInvalid, $"Patch '{sampleId}' has neither Sentinel-2 nor Sentinel-1 data.", sampleId);
        }

        SampleId = sampleId;
        Height = height;
        Width = width;
        S2 = s2;
        S1 = s1;
        Location = location;
        S2Channels = BandCount(s2, "Sentinel-2");
        S1Channels = BandCount(s1, "Sentinel-1");
    }

    /// <inheritdoc />
    public string SampleId { get; }

    /// <summary>Rows.</summary>
    public int Height { get; }

    /// <summary>Columns.</summary>
    public int Width { get; }

    /// <summary>The patch's grid, when it came from a corpus (null for synthetic or in-memory patches).</summary>
    public PatchGeoreference? Georeference { get; init; }

    /// <summary>
    /// The Sentinel-2 bands the patch measures, in corpus order, when not all of <see cref="S2BandNames"/>
    /// (an RGB image: B02, B03, B04; the other channels are NaN). Null: every S2 channel is a measured band.
    /// </summary>
    public IReadOnlyList<string>? InputBands { get; init; }

    /// <summary>Sentinel-2 bands, [bands, height, width], or null when missing (clouded).</summary>
    public float[]? S2 { get; }

    /// <summary>Sentinel-1 polarisations, [bands, height, width], or null when missing.</summary>
    public float[]? S1 { get; }

    /// <summary>Number of Sentinel-2 bands (0 when missing).</summary>
    public int S2Channels { get; }

    /// <summary>Number of Sentinel-1 bands (0 when missing).</summary>
    public int S1Channels { get; }

    /// <summary>Where the patch lies, if known.</summary>
    public PatchLocation? Location { get; }

    /// <summary>"S2+S1", "S2" or "S1".</summary>
    public string Modalities => (S2, S1) switch
    {
        (not null, not null) => "S2+S1",
        (not null, null) => "S2",
        _ => "S1",
    };

    /// <inheritdoc />
    public ValueTask<TrainingPatch> LoadTrainingPatchAsync(CancellationToken cancellationToken) => ValueTask.FromResult(this);

    private int BandCount(float[]? data, string sensor)
    {
        if (data is null)
        {
            return 0;
        }

        var plane = (long)Height * Width;
        if (data.Length == 0 || data.Length % plane != 0)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.TrainingInputInvalid,
                $"Patch '{SampleId}': {sensor} has {data.Length} values, which is not a whole number of {Height} x {Width} bands.", SampleId);
        }

        return (int)(data.Length / plane);
    }
}

/// <summary>
/// A re-readable stream of training patches: each <see cref="ReadAsync"/> is one pass (epoch).
/// Implementations stream; none needs the corpus in memory.
/// </summary>
public interface IPatchSource
{
    /// <summary>What the patches are, for the model card (e.g. a corpus path).</summary>
    string Description { get; }

    /// <summary>One pass over the patches.</summary>
    IAsyncEnumerable<TrainingPatch> ReadAsync(CancellationToken cancellationToken);
}
