using DeepSentinel.Core.Errors;

namespace DeepSentinel.Core.SuperResolution;

/// <summary>
/// Runs a network over an image of any size in overlapping tiles (<see cref="TileLayout"/>): each
/// tile carries the network's receptive field as context, only its core is kept, so the result
/// equals one pass over the whole image and memory stays bounded by the tile size.
/// </summary>
internal static class SuperResolutionInference
{
    /// <summary>The default tile core side at 10 m.</summary>
    public const int DefaultTileSize = 384;

    /// <summary>
    /// The recovered bands of the network's factor at the image's fine resolution, one plane per
    /// band (DN, unclipped). Pixels whose inputs hold nodata are NaN.
    /// </summary>
    public static float[][] Predict(SuperResolutionNetwork network, MultiResolutionImage image, int tileSize = DefaultTileSize, CancellationToken cancellationToken = default)
    {
        var factor = (int)network.Factor;
        if (factor == 6 && image.Coarse is null)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.SuperResolutionFactorMismatch, "A 6x model needs the 60 m bands; the image was read without them.");
        }

        var context = SuperResolutionBands.ContextPixels(network.Config.Blocks, network.Factor);
        var outputs = network.OutputChannels;
        var width = image.Width;
        var height = image.Height;
        var result = new float[outputs][];
        for (var c = 0; c < outputs; c++)
        {
            result[c] = new float[width * height];
        }

        foreach (var tile in TileLayout.Plan(width, height, Math.Max(6, tileSize / 6 * 6), context))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var part = image.Crop(tile.InX, tile.InY, tile.InWidth, tile.InHeight);
            var fine = Concat(part.Fine);
            var mid = Concat(part.Mid);
            var coarse = factor == 6 ? Concat(part.Coarse!) : null;
            var output = new float[outputs * tile.InWidth * tile.InHeight];
            network.Predict(1, tile.InHeight, tile.InWidth, fine, mid, coarse, output);
            var plane = tile.InWidth * tile.InHeight;
            for (var c = 0; c < outputs; c++)
            {
                for (var row = 0; row < tile.CoreHeight; row++)
                {
                    var from = (c * plane) + ((tile.CoreY - tile.InY + row) * tile.InWidth) + (tile.CoreX - tile.InX);
                    Array.Copy(output, from, result[c], ((tile.CoreY + row) * width) + tile.CoreX, tile.CoreWidth);
                }
            }
        }

        MaskNoData(image, result, factor == 6);
        return result;
    }

    // A pixel keeps nodata where any of its inputs (a 10 m band, or the 20 m / 60 m pixel it lies in) has none.
    internal static void MaskNoData(MultiResolutionImage image, float[][] planes, bool withCoarse)
    {
        var width = image.Width;
        for (var y = 0; y < image.Height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var i = (y * width) + x;
                var missing = image.Fine.Any(p => p[i] == 0)
                    || image.Mid.Any(p => p[((y / 2) * (width / 2)) + (x / 2)] == 0)
                    || (withCoarse && image.Coarse!.Any(p => p[((y / 6) * (width / 6)) + (x / 6)] == 0));
                if (missing)
                {
                    foreach (var plane in planes)
                    {
                        plane[i] = float.NaN;
                    }
                }
            }
        }
    }

    private static float[] Concat(float[][] planes)
    {
        var n = planes[0].Length;
        var result = new float[planes.Length * n];
        for (var c = 0; c < planes.Length; c++)
        {
            Array.Copy(planes[c], 0, result, c * n, n);
        }

        return result;
    }
}
