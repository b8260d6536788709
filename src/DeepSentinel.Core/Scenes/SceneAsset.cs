namespace DeepSentinel.Core.Scenes;

/// <summary>One file of a scene: a band, a mask, a preview or metadata.</summary>
public sealed class SceneAsset
{
    /// <summary>Creates an asset.</summary>
    public SceneAsset(string key, Uri href)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(href);
        Key = key;
        Href = href;
    }

    /// <summary>The asset's key in the STAC item (e.g. "B04", "red", "vv").</summary>
    public string Key { get; }

    /// <summary>The asset's URL as published, without any signature.</summary>
    public Uri Href { get; }

    /// <summary>The URL with a SAS signature, for providers that need one (Planetary Computer); otherwise null.</summary>
    public SignedUri? SignedHref { get; internal set; }

    /// <summary>The band name from eo:bands or sar:polarizations (e.g. "B04", "VV"), when the asset holds one band.</summary>
    public string? BandName { get; init; }

    /// <summary>The asset's title.</summary>
    public string? Title { get; init; }

    /// <summary>The media type (e.g. a cloud-optimized GeoTIFF).</summary>
    public string? MediaType { get; init; }

    /// <summary>The asset's roles (e.g. data, overview, metadata).</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>Ground sample distance in metres (gsd or the projection transform), when known.</summary>
    public double? ResolutionM { get; init; }

    /// <summary>The pixel data type from raster:bands (e.g. uint16, float32), when known.</summary>
    public string? DataType { get; init; }

    /// <summary>The nodata value from raster:bands, when known.</summary>
    public double? NoData { get; init; }

    /// <summary>The scale from raster:bands (value = DN x scale + offset), when declared.</summary>
    public double? Scale { get; init; }

    /// <summary>The offset from raster:bands (value = DN x scale + offset), when declared.</summary>
    public double? Offset { get; init; }

    /// <summary>proj:shape (rows, columns), when known.</summary>
    public IReadOnlyList<int>? ProjShape { get; init; }

    /// <summary>proj:transform (the first six affine coefficients), when known.</summary>
    public IReadOnlyList<double>? ProjTransform { get; init; }

    /// <summary>True when the media type says cloud-optimized GeoTIFF (or plain GeoTIFF).</summary>
    public bool IsGeoTiff => MediaType?.Contains("image/tiff", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>
    /// What to open: the signed URL where there is one, a local path for file URIs, else the
    /// published URL. Never log it.
    /// </summary>
    public string ResolveForReading() => SignedHref?.Reveal() ?? (Href.IsFile ? Href.LocalPath : Href.AbsoluteUri);

    /// <inheritdoc />
    public override string ToString() => $"{Key}: {Href}";
}
