using DeepSentinel.Core.SuperResolution;

namespace DeepSentinel.Core.Tests.SuperResolution;

/// <summary>Wald's degradation, the interpolation baselines, the metrics and the tile layout.</summary>
public sealed class SuperResolutionMathTests
{
    [Theory]
    [InlineData(2, 0.3)]
    [InlineData(6, 0.3)]
    [InlineData(2, 0.1)]
    public void The_gaussian_has_the_requested_mtf_at_the_coarse_nyquist_frequency(int factor, double mtf)
    {
        var sigma = ImageResampling.GaussianSigma(factor, mtf);
        var nyquist = 1.0 / (2 * factor);
        Assert.Equal(mtf, Math.Exp(-2 * Math.PI * Math.PI * sigma * sigma * nyquist * nyquist), 9);
    }

    [Fact]
    public void Degrading_keeps_a_constant_and_a_slow_wave_loses_what_the_mtf_says()
    {
        const int Size = 240;
        var constant = Enumerable.Repeat(1234f, Size * Size).ToArray();
        Assert.All(ImageResampling.Degrade(constant, Size, Size, 6), v => Assert.Equal(1234f, v, 2));

        // A cosine of 1/24 cycles per fine pixel along x, sampled at coarse centres: its amplitude
        // shrinks by the Gaussian's transfer function at that frequency.
        const double Frequency = 1.0 / 24;
        var wave = new float[Size * Size];
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                wave[(y * Size) + x] = (float)(1000 + (100 * Math.Cos(2 * Math.PI * Frequency * x)));
            }
        }

        var low = ImageResampling.Degrade(wave, Size, Size, 2);
        var sigma = ImageResampling.GaussianSigma(2);
        var expected = 100 * Math.Exp(-2 * Math.PI * Math.PI * sigma * sigma * Frequency * Frequency);
        var row = low.AsSpan(60 * 120, 120).ToArray()[20..100];
        var amplitude = (row.Max() - row.Min()) / 2;
        Assert.InRange(amplitude, expected * 0.97, expected * 1.01);
    }

    [Fact]
    public void Bilinear_upsampling_is_torch_interpolate_with_align_corners_false()
    {
        // F.interpolate(torch.tensor([[[[10., 20.]]]]), scale_factor=2, mode="bilinear", align_corners=False)
        var up = ImageResampling.UpsampleBilinear([10f, 20f], 2, 1, 2);
        Assert.Equal([10f, 12.5f, 17.5f, 20f, 10f, 12.5f, 17.5f, 20f], up);
    }

    [Fact]
    public void Bicubic_upsampling_keeps_a_constant_and_a_ramp_inside_the_edges()
    {
        var ramp = Enumerable.Range(0, 10).Select(i => (float)(100 + (10 * i))).ToArray();
        var up = ImageResampling.UpsampleBicubic(ramp, 10, 1, 2);
        for (var x = 4; x < 16; x++)
        {
            // Fine pixel x lies at coarse position (x + 0.5) / 2 - 0.5.
            Assert.Equal(100 + (10 * (((x + 0.5) / 2) - 0.5)), up[x], 3);
        }

        Assert.All(ImageResampling.UpsampleBicubic(Enumerable.Repeat(7f, 36).ToArray(), 6, 6, 6), v => Assert.Equal(7f, v, 4));
    }

    [Fact]
    public void Metrics_are_rmse_sre_and_sam_over_valid_pixels()
    {
        float[] truth = [100, 100, 0, 100];
        float[] estimate = [110, 90, 5000, 110];
        var rows = SuperResolutionMetrics.Compute(UpsamplingMethod.Model, ["B05"], [estimate], [truth]);
        Assert.Equal(2, rows.Count);
        Assert.Equal(3, rows[0].Pixels);
        Assert.Equal(10, rows[0].Rmse, 9);
        Assert.Equal(20, rows[0].Sre, 9);
        Assert.Equal(0, rows[0].Sam, 9);

        // Two bands swapped at one pixel: a spectral angle of 90 degrees there.
        var sam = SuperResolutionMetrics.Compute(UpsamplingMethod.Model, ["a", "b"], [[1f, 1f], [0f, 1f]], [[0.0001f, 1f], [1f, 1f]]);
        Assert.InRange(sam[^1].Sam, 44.9, 45.1);
    }

    [Theory]
    [InlineData(300, 300, 60, 18)]
    [InlineData(252, 96, 384, 30)]
    [InlineData(60, 60, 6, 6)]
    public void Tile_cores_cover_the_image_once_and_carry_their_context(int width, int height, int tile, int context)
    {
        var cover = new int[width * height];
        var plan = TileLayout.Plan(width, height, tile, context);
        Assert.Single(plan.Select(t => (t.InWidth, t.InHeight)).Distinct());
        foreach (var t in plan)
        {
            Assert.True(t.InX >= 0 && t.InY >= 0 && t.InX + t.InWidth <= width && t.InY + t.InHeight <= height);
            // At least the context on every side, or up to the image's edge.
            Assert.True(t.CoreX - t.InX >= Math.Min(context, t.CoreX));
            Assert.True(t.CoreY - t.InY >= Math.Min(context, t.CoreY));
            Assert.True(t.InX + t.InWidth - (t.CoreX + t.CoreWidth) >= Math.Min(context, width - (t.CoreX + t.CoreWidth)));
            Assert.True(t.InY + t.InHeight - (t.CoreY + t.CoreHeight) >= Math.Min(context, height - (t.CoreY + t.CoreHeight)));
            Assert.Equal(0, t.InX % 6);
            Assert.Equal(0, t.InY % 6);
            Assert.Equal(0, t.InWidth % 6);
            for (var y = t.CoreY; y < t.CoreY + t.CoreHeight; y++)
            {
                for (var x = t.CoreX; x < t.CoreX + t.CoreWidth; x++)
                {
                    cover[(y * width) + x]++;
                }
            }
        }

        Assert.All(cover, c => Assert.Equal(1, c));
    }

    [Fact]
    public void Context_covers_the_receptive_field()
    {
        // 3 x 3 convolutions: head, two per block, tail; plus a coarse pixel of interpolation.
        Assert.True(SuperResolutionBands.ContextPixels(6, SuperResolutionFactor.X2) >= 14 + 2);
        Assert.True(SuperResolutionBands.ContextPixels(32, SuperResolutionFactor.X6) >= 66 + 6);
        Assert.Equal(0, SuperResolutionBands.ContextPixels(32, SuperResolutionFactor.X6) % 6);
    }
}
