namespace DeepSentinel.Core.SuperResolution;

/// <summary>
/// One tile of tiled inference: the input window (the core plus context, clipped to the image)
/// and the core it contributes. Cores tile the image exactly; context on each side is at least the
/// network's receptive field, so each output pixel is computed as if from the whole image and no
/// seam can show. All input windows of a plan have one shape.
/// </summary>
/// <param name="InX">Input window left, in 10 m pixels of the image.</param>
/// <param name="InY">Input window top.</param>
/// <param name="InWidth">Input window width.</param>
/// <param name="InHeight">Input window height.</param>
/// <param name="CoreX">Core left in the image.</param>
/// <param name="CoreY">Core top in the image.</param>
/// <param name="CoreWidth">Core width.</param>
/// <param name="CoreHeight">Core height.</param>
public readonly record struct InferenceTile(int InX, int InY, int InWidth, int InHeight, int CoreX, int CoreY, int CoreWidth, int CoreHeight);

/// <summary>Splits an image into overlapping inference tiles on the 60 m grid.</summary>
public static class TileLayout
{
    /// <summary>
    /// Tiles of at most <paramref name="tileSize"/> core pixels with <paramref name="context"/>
    /// pixels of context on each side. Width, height, tile size and context must be multiples of
    /// <paramref name="alignment"/> (6: the 60 m grid), so every tile reads whole coarse pixels.
    /// </summary>
    public static IReadOnlyList<InferenceTile> Plan(int width, int height, int tileSize, int context, int alignment = 6)
    {
        if (width <= 0 || height <= 0 || tileSize <= 0 || context < 0 || width % alignment != 0 || height % alignment != 0 || tileSize % alignment != 0 || context % alignment != 0)
        {
            throw new ArgumentException($"Tiling {width} x {height} px in {tileSize} px tiles with {context} px context: every size must be a positive multiple of {alignment}.");
        }

        var tiles = new List<InferenceTile>();
        var inWidth = Math.Min(width, tileSize + (2 * context));
        var inHeight = Math.Min(height, tileSize + (2 * context));
        for (var y = 0; y < height; y += tileSize)
        {
            var ch = Math.Min(tileSize, height - y);
            for (var x = 0; x < width; x += tileSize)
            {
                var cw = Math.Min(tileSize, width - x);
                // Every input window has the same shape (edge tiles are shifted inwards, taking
                // more context on one side), so the engine reuses the same buffers for every
                // tile and memory does not grow with the image.
                var ix = Math.Min(Math.Max(0, x - context), width - inWidth);
                var iy = Math.Min(Math.Max(0, y - context), height - inHeight);
                tiles.Add(new InferenceTile(ix, iy, inWidth, inHeight, x, y, cw, ch));
            }
        }

        return tiles;
    }
}
