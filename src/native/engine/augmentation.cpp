#include "augmentation.h"

namespace ds {

// Which modality an augmented view keeps: 0 both, 1 S2 only, 2 S1 only.
int choose_modalities(Model& m, bool has_s2, bool has_s1) {
    if (!(has_s2 && has_s1) || m.uniform() >= m.cfg.modality_dropout) return 0;
    return m.uniform() < 0.5 ? 1 : 2;
}

void drop_modality(Model& m, torch::Tensor sample, int keep) {
    if (keep == 1) sample.narrow(0, m.cfg.s2_channels, m.cfg.s1_channels).zero_();
    if (keep == 2) sample.narrow(0, 0, m.cfg.s2_channels).zero_();
}

ViewPlan plan_views(Model& m, const Presence& p, int64_t B, int64_t C, int64_t H, int64_t W, bool crops) {
    ViewPlan plan;
    plan.views.resize(B);
    for (int64_t i = 0; i < B; ++i) {
        auto& v = plan.views[i];
        v.ch = H;
        v.cw = W;
        if (crops) {
            const double scale = std::sqrt(0.35 + 0.65 * m.uniform());
            const int64_t ch = std::max<int64_t>(8, static_cast<int64_t>(H * scale)), cw = std::max<int64_t>(8, static_cast<int64_t>(W * scale));
            if (ch < H || cw < W) {
                v.ch = ch;
                v.cw = cw;
                v.y0 = m.below(H - ch + 1);
                v.x0 = m.below(W - cw + 1);
            }
        }
        v.flip_w = m.uniform() < 0.5;
        v.flip_h = m.uniform() < 0.5;
        v.turns = H == W ? m.below(4) : 2 * m.below(2);
        v.keep = choose_modalities(m, p.s2[i] != 0, p.s1[i] != 0);
    }
    plan.gains.assign(static_cast<size_t>(B * C), 1.0f);
    plan.noise_std = m.cfg.band_noise;
    if (plan.noise_std > 0) {
        std::normal_distribution<double> gain(1.0, plan.noise_std);
        for (auto& g : plan.gains) g = static_cast<float>(gain(m.rng));
        plan.noise_seed = m.rng();
    }
    return plan;
}

bool channel_kept(const Model& m, const Presence& p, const ViewParams& v, int64_t i, int64_t c) {
    const bool s2 = c < m.cfg.s2_channels;
    if (s2 ? !p.s2[i] : !p.s1[i]) return false;
    return !(v.keep == 1 && !s2) && !(v.keep == 2 && s2);
}

void augment_reference(Model& m, const torch::Tensor& x, const Presence& p, const ViewPlan& plan, torch::Tensor& out, int64_t offset, bool noise) {
    const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
    for (int64_t i = 0; i < B; ++i) {
        const auto& v = plan.views[i];
        torch::Tensor s = x[i];
        if (v.ch < H || v.cw < W) {
            auto crop = s.narrow(1, v.y0, v.ch).narrow(2, v.x0, v.cw).unsqueeze(0);
            s = F::interpolate(crop, F::InterpolateFuncOptions().size(std::vector<int64_t>{H, W}).mode(torch::kBilinear).align_corners(false)).squeeze(0);
        }
        if (v.flip_w) s = s.flip({2});
        if (v.flip_h) s = s.flip({1});
        if (v.turns) s = s.rot90(v.turns, {1, 2});
        out[offset + i].copy_(s);
    }
    auto view = out.narrow(0, offset, B);
    view.mul_(torch::from_blob(const_cast<float*>(plan.gains.data()), {B, C, 1, 1}).to(out.device()));
    if (noise && plan.noise_std > 0) {
        ensure(m.noise, view, B);
        m.noise.normal_(0.0, plan.noise_std, m.gen());
        view.add_(m.noise);
    }
    for (int64_t i = 0; i < B; ++i) {
        for (int64_t c = 0; c < C; ++c) {
            if (!channel_kept(m, p, plan.views[i], i, c)) out[offset + i][c].zero_();
        }
    }
}

// A standard normal value for each 12-bit index: the inverse CDF at the midpoints of 4096 equally
// likely strata, so a uniformly drawn index is a draw from a 4096-level Gaussian.
double inverse_normal_cdf(double q) {
    // Acklam's rational approximation, refined by one Halley step (error below 1e-12).
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
    double z;
    if (q < 0.02425 || q > 1 - 0.02425) {
        const double r = std::sqrt(-2 * std::log(q < 0.5 ? q : 1 - q));
        z = (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) / ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1);
        if (q > 0.5) z = -z;
    } else {
        const double r = q - 0.5, r2 = r * r;
        z = (((((a[0] * r2 + a[1]) * r2 + a[2]) * r2 + a[3]) * r2 + a[4]) * r2 + a[5]) * r / (((((b[0] * r2 + b[1]) * r2 + b[2]) * r2 + b[3]) * r2 + b[4]) * r2 + 1);
    }
    const double e = 0.5 * std::erfc(-z / std::sqrt(2.0)) - q;
    const double u = e * std::sqrt(2 * M_PI) * std::exp(z * z / 2);
    return z - u / (1 + z * u / 2);
}

const std::vector<float>& normal_table() {
    static const std::vector<float> table = [] {
        std::vector<float> t(4096);
        for (size_t k = 0; k < t.size(); ++k) t[k] = static_cast<float>(inverse_normal_cdf((static_cast<double>(k) + 0.5) / static_cast<double>(t.size())));
        return t;
    }();
    return table;
}

inline uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// One pass per (sample, channel) plane, planes in parallel. The resampling is
// F::interpolate(bilinear, align_corners=false) of the crop; flips and turns are folded into the
// index mapping; the noise is counter-seeded per plane, so no generator is shared between threads.
void augment_fused(const Model& m, const torch::Tensor& x, const Presence& p, const ViewPlan& plan, torch::Tensor& out, int64_t offset) {
    const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
    const float* src = x.data_ptr<float>();
    float* dst = out.data_ptr<float>();
    const auto ss = x.strides().vec(), ds = out.strides().vec();
    const auto& table = normal_table();
    const float noise_std = static_cast<float>(plan.noise_std);
    at::parallel_for(0, B * C, 1, [&](int64_t begin, int64_t end) {
        // Source taps of the resize for each output row and column of the sample in hand.
        std::vector<int64_t> ylo(H), yhi(H), xlo(W), xhi(W);
        std::vector<float> yw(H), xw(W);
        int64_t tapped = -1;
        auto taps = [](int64_t out_size, int64_t in_size, int64_t origin, std::vector<int64_t>& lo, std::vector<int64_t>& hi, std::vector<float>& w) {
            const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
            for (int64_t k = 0; k < out_size; ++k) {
                const double at = std::max(0.0, (static_cast<double>(k) + 0.5) * scale - 0.5);
                const int64_t l = std::min<int64_t>(static_cast<int64_t>(at), in_size - 1);
                lo[k] = origin + l;
                hi[k] = origin + std::min<int64_t>(l + 1, in_size - 1);
                w[k] = static_cast<float>(at - static_cast<double>(l));
            }
        };
        for (int64_t plane = begin; plane < end; ++plane) {
            const int64_t i = plane / C, c = plane % C;
            const auto& v = plan.views[i];
            float* o = dst + (offset + i) * ds[0] + c * ds[1];
            if (!channel_kept(m, p, v, i, c)) {
                for (int64_t y = 0; y < H; ++y)
                    for (int64_t xx = 0; xx < W; ++xx) o[y * ds[2] + xx * ds[3]] = 0.0f;
                continue;
            }
            if (tapped != i) {
                taps(H, v.ch, v.y0, ylo, yhi, yw);
                taps(W, v.cw, v.x0, xlo, xhi, xw);
                tapped = i;
            }
            const float* s = src + i * ss[0] + c * ss[1];
            const float gain = plan.gains[static_cast<size_t>(i * C + c)];
            uint64_t state = plan.noise_seed ^ (static_cast<uint64_t>(offset + i) * 0xD1B54A32D192ED03ull) ^ (static_cast<uint64_t>(c + 1) * 0x8CB92BA72F3D8DD7ull);
            uint64_t bits = 0;
            int left = 0;
            for (int64_t y = 0; y < H; ++y) {
                for (int64_t xx = 0; xx < W; ++xx) {
                    // Undo the turns (each: out[y][x] = in[x][W-1-y]), then the H flip, then the W
                    // flip, to find the pixel (ry, rx) of the resized crop.
                    int64_t ry = y, rx = xx;
                    switch (v.turns) {
                        case 1: ry = xx; rx = W - 1 - y; break;
                        case 2: ry = H - 1 - y; rx = W - 1 - xx; break;
                        case 3: ry = H - 1 - xx; rx = y; break;
                        default: break;
                    }
                    if (v.flip_h) ry = H - 1 - ry;
                    if (v.flip_w) rx = W - 1 - rx;
                    const float* r0 = s + ylo[ry] * ss[2];
                    const float* r1 = s + yhi[ry] * ss[2];
                    const int64_t a = xlo[rx] * ss[3], b = xhi[rx] * ss[3];
                    const float top = r0[a] + (r0[b] - r0[a]) * xw[rx];
                    const float bottom = r1[a] + (r1[b] - r1[a]) * xw[rx];
                    float value = (top + (bottom - top) * yw[ry]) * gain;
                    if (noise_std > 0) {
                        if (left == 0) {
                            bits = splitmix64(state);
                            left = 5;  // five 12-bit indices per 64-bit draw
                        }
                        value += noise_std * table[bits & 4095];
                        bits >>= 12;
                        --left;
                    }
                    o[y * ds[2] + xx * ds[3]] = value;
                }
            }
        }
    });
}

void augment_into(Model& m, const torch::Tensor& x, const Presence& p, torch::Tensor& out, int64_t offset, bool crops) {
    const auto plan = plan_views(m, p, x.size(0), x.size(1), x.size(2), x.size(3), crops);
    if (m.device.is_cpu()) {
        augment_fused(m, x, p, plan, out, offset);
    } else {
        augment_reference(m, x, p, plan, out, offset, true);
    }
}

}  // namespace ds
