#include "batch.h"

namespace ds {

int64_t checked_count(int64_t a, int64_t b, int64_t c, int64_t d) {
    const long double n = static_cast<long double>(a) * b * c * d;
    if (n > static_cast<long double>(std::numeric_limits<int32_t>::max())) fail(DST_INVALID_ARGUMENT, "the batch is too large: split it");
    return a * b * c * d;
}

void check_modality(const char* name, const float* data, int64_t length, int32_t given, int32_t expected, int64_t count) {
    if (given != expected)
        fail(DST_INVALID_ARGUMENT, msg("the model takes ", expected, " ", name, " channels, the batch has ", given));
    if (expected == 0 && data != nullptr) fail(DST_INVALID_ARGUMENT, msg("the model has no ", name, " input, but the batch has ", name, " data"));
    if (data != nullptr && length != count)
        fail(DST_INVALID_ARGUMENT, msg(name, " data has ", length, " values, expected ", count, " (batch x channels x height x width)"));
}

Presence validate_batch(const Model& m, const dst_batch* b) {
    if (b == nullptr) fail(DST_INVALID_ARGUMENT, "the batch is null");
    if (b->struct_size != static_cast<int32_t>(sizeof(dst_batch)))
        fail(DST_INVALID_ARGUMENT, msg("batch has struct_size ", b->struct_size, ", expected ", sizeof(dst_batch)));
    if (b->batch < 1) fail(DST_INVALID_ARGUMENT, msg("the batch is empty (", b->batch, " samples)"));
    if (b->height < 32 || b->width < 32 || b->height % 32 != 0 || b->width % 32 != 0 || b->height > 8192 || b->width > 8192)
        fail(DST_INVALID_ARGUMENT, msg("patches must be at least 32 x 32 px with sides a multiple of 32, got ", b->height, " x ", b->width));
    check_modality("S2", b->s2, b->s2_length, b->s2_channels, m.cfg.s2_channels, checked_count(b->batch, b->s2_channels, b->height, b->width));
    check_modality("S1", b->s1, b->s1_length, b->s1_channels, m.cfg.s1_channels, checked_count(b->batch, b->s1_channels, b->height, b->width));
    checked_count(b->batch, m.channels(), b->height, b->width);
    Presence p;
    p.s2.assign(b->batch, b->s2 != nullptr ? 1 : 0);
    p.s1.assign(b->batch, b->s1 != nullptr ? 1 : 0);
    for (int32_t i = 0; i < b->batch; ++i) {
        if (b->s2_present != nullptr && b->s2_present[i] == 0) p.s2[i] = 0;
        if (b->s1_present != nullptr && b->s1_present[i] == 0) p.s1[i] = 0;
        if (!p.s2[i] && !p.s1[i]) fail(DST_INVALID_ARGUMENT, msg("sample ", i, " of the batch has neither S2 nor S1 data"));
    }
    return p;
}

// Copies the caller's arrays into the model's reusable input tensor, normalises, and zeroes
// missing modalities (zero is the band mean after normalisation). No tensor outlives the call
// over caller memory: from_blob views are only sources of copy_.
const torch::Tensor& assemble(Model& m, const dst_batch& b, const Presence& p) {
    const int64_t B = b.batch, C = m.channels(), H = b.height, W = b.width;
    const int64_t s2c = m.cfg.s2_channels, s1c = m.cfg.s1_channels;
    if (!m.staging.defined() || m.staging.sizes() != torch::IntArrayRef({B, C, H, W})) {
        m.staging = torch::empty({B, C, H, W}).contiguous(m.format());
    }
    if (m.device.is_cpu()) {
        // One parallel pass per (sample, channel) plane: copy, normalise, nodata (NaN, inf) to 0
        // (the band mean), absent modality to 0.
        const auto mean = m.net->input_mean.contiguous(), stdev = m.net->input_std.contiguous();
        const float* mean_p = mean.data_ptr<float>();
        const float* std_p = stdev.data_ptr<float>();
        float* dst = m.staging.data_ptr<float>();
        const auto ds = m.staging.strides().vec();
        const int64_t plane_size = H * W;
        at::parallel_for(0, B * C, 1, [&](int64_t begin, int64_t end) {
            for (int64_t plane = begin; plane < end; ++plane) {
                const int64_t i = plane / C, c = plane % C;
                const float* src = c < s2c ? (p.s2[i] ? b.s2 + (i * s2c + c) * plane_size : nullptr)
                                           : (p.s1[i] ? b.s1 + (i * s1c + (c - s2c)) * plane_size : nullptr);
                float* o = dst + i * ds[0] + c * ds[1];
                const float shift = mean_p[c], scale = 1.0f / std_p[c];
                for (int64_t y = 0; y < H; ++y) {
                    float* row = o + y * ds[2];
                    const float* in = src == nullptr ? nullptr : src + y * W;
                    for (int64_t x = 0; x < W; ++x) {
                        const float v = in == nullptr ? 0.0f : (in[x] - shift) * scale;
                        row[x * ds[3]] = std::isfinite(v) ? v : 0.0f;
                    }
                }
            }
        });
        m.input = m.staging;
        return m.input;
    }
    // CUDA: staged on the host, copied over, then normalised op by op on the device.
    if (s2c > 0) {
        auto slice = m.staging.narrow(1, 0, s2c);
        if (b.s2) slice.copy_(torch::from_blob(const_cast<float*>(b.s2), {B, s2c, H, W}));
        else slice.zero_();
    }
    if (s1c > 0) {
        auto slice = m.staging.narrow(1, s2c, s1c);
        if (b.s1) slice.copy_(torch::from_blob(const_cast<float*>(b.s1), {B, s1c, H, W}));
        else slice.zero_();
    }
    if (!m.input.defined() || m.input.sizes() != m.staging.sizes()) m.input = torch::empty_like(m.staging, torch::TensorOptions().device(m.device));
    m.input.copy_(m.staging, true);
    m.input.sub_(m.net->input_mean.view({1, C, 1, 1})).div_(m.net->input_std.view({1, C, 1, 1}));
    torch::nan_to_num_(m.input, 0.0, 0.0, 0.0);  // nodata pixels become the band mean
    for (int64_t i = 0; i < B; ++i) {
        if (s2c > 0 && !p.s2[i]) m.input[i].narrow(0, 0, s2c).zero_();
        if (s1c > 0 && !p.s1[i]) m.input[i].narrow(0, s2c, s1c).zero_();
    }
    return m.input;
}

void ensure(torch::Tensor& t, const torch::Tensor& like, int64_t batch) {
    auto sizes = like.sizes().vec();
    sizes[0] = batch;
    if (!t.defined() || t.sizes() != torch::IntArrayRef(sizes)) t = torch::empty(sizes, like.options()).contiguous(like.suggest_memory_format());
}

}  // namespace ds
