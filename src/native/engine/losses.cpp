#include "losses.h"

namespace ds {

torch::Tensor nt_xent(const torch::Tensor& z, double temperature) {
    const int64_t n = z.size(0), half = n / 2;
    auto zn = F::normalize(z, F::NormalizeFuncOptions().dim(1));
    auto logits = torch::mm(zn, zn.t()).div_(temperature);
    logits.masked_fill_(torch::eye(n, torch::TensorOptions().dtype(torch::kBool).device(z.device())), -1e9);
    auto targets = torch::cat({torch::arange(half, n), torch::arange(0, half)}).to(z.device());
    return F::cross_entropy(logits, targets);
}

torch::Tensor simclr_loss(Model& m, const torch::Tensor& x, const Presence& p) {
    if (x.size(0) < 2) fail(DST_INVALID_ARGUMENT, "SimCLR needs at least 2 samples per batch (the other samples are the negatives)");
    const int64_t B = x.size(0);
    ensure(m.views, x, 2 * B);
    augment_into(m, x, p, m.views, 0, true);
    augment_into(m, x, p, m.views, B, true);
    auto z = m.net->projector->forward(m.net->encode(m.views).embedding);
    return nt_xent(z, m.cfg.temperature);
}

torch::Tensor tile2vec_loss(Model& m, const torch::Tensor& x, const Presence& p) {
    const int64_t B = x.size(0);
    if (B % 3 != 0) fail(DST_INVALID_ARGUMENT, msg("a Tile2Vec batch is anchors, neighbours and distant patches: its size must be a multiple of 3, got ", B));
    ensure(m.views, x, B);
    augment_into(m, x, p, m.views, 0, false);
    auto z = m.net->encode(m.views).embedding;
    auto parts = z.chunk(3, 0);
    auto near = (parts[0] - parts[1]).norm(2, 1);
    auto far = (parts[0] - parts[2]).norm(2, 1);
    auto triplet = torch::relu(near - far + m.cfg.triplet_margin).mean();
    // Tile2Vec's embedding-norm penalty keeps the margin meaningful.
    return triplet + 0.01 * z.norm(2, 1).mean();
}

torch::Tensor autoencoder_loss(Model& m, const torch::Tensor& x, const Presence& p) {
    const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
    ensure(m.views, x, B);
    m.views.copy_(x);
    // Denoising + inpainting: noise, dropped modalities and masked 8 x 8 blocks must be
    // reconstructed (a UNet with skips would otherwise learn the identity).
    if (m.cfg.band_noise > 0) {
        ensure(m.noise, x, B);
        m.noise.normal_(0.0, m.cfg.band_noise, m.gen());
        m.views.add_(m.noise);
    }
    auto blocks = torch::empty({B, 1, H / 8, W / 8}, x.options().memory_format(c10::MemoryFormat::Contiguous));
    blocks.uniform_(0.0, 1.0, m.gen());
    auto keep_mask = blocks.ge(0.5).to(x.scalar_type()).repeat_interleave(8, 2).repeat_interleave(8, 3);
    m.views.mul_(keep_mask);
    auto weight = torch::zeros({B, C, 1, 1}, x.options());
    for (int64_t i = 0; i < B; ++i) {
        if (m.cfg.s2_channels > 0 && p.s2[i]) weight[i].narrow(0, 0, m.cfg.s2_channels).fill_(1.0);
        if (m.cfg.s1_channels > 0 && p.s1[i]) weight[i].narrow(0, m.cfg.s2_channels, m.cfg.s1_channels).fill_(1.0);
        auto sample = m.views[i];
        if (m.cfg.s2_channels > 0 && !p.s2[i]) sample.narrow(0, 0, m.cfg.s2_channels).zero_();
        if (m.cfg.s1_channels > 0 && !p.s1[i]) sample.narrow(0, m.cfg.s2_channels, m.cfg.s1_channels).zero_();
        drop_modality(m, sample, choose_modalities(m, p.s2[i] != 0, p.s1[i] != 0));
    }
    auto encoded = m.net->encode(m.views);
    auto reconstruction = m.net->decoder->forward(encoded.spatial);
    auto error = (reconstruction - x).pow(2).mul(weight);
    return error.sum() / (weight.sum() * H * W).clamp_min(1.0);
}

}  // namespace ds
