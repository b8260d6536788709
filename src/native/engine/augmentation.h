#pragma once
#include "batch.h"

namespace ds {

// Augmented views: random resized crop, flips, quarter-turn rotations, per-band gain and additive
// Gaussian noise, then modality dropout. The random choices are drawn first, serially, from the
// model's generator (so a view depends on the seed and the step, never on the thread count); then
// on the CPU each view is built in one parallel pass over the output (augment_fused), where the
// op-by-op form (augment_reference: used on CUDA, and by dst_self_test_augment as the yardstick)
// makes about ten passes over the batch and draws its noise with a full normal_().

struct ViewParams {
    int64_t y0 = 0, x0 = 0, ch = 0, cw = 0;  // crop window in the source (the whole patch when not cropped)
    bool flip_w = false, flip_h = false;     // flips of the resized crop: W, then H
    int64_t turns = 0;                       // quarter turns after the flips (rot90 over H, W)
    int keep = 0;                            // 0 both modalities, 1 S2 only, 2 S1 only
};

struct ViewPlan {
    std::vector<ViewParams> views;
    std::vector<float> gains;  // [B, C]
    double noise_std = 0;
    uint64_t noise_seed = 0;
};

// Which modality an augmented view keeps: 0 both, 1 S2 only, 2 S1 only.
int choose_modalities(Model& m, bool has_s2, bool has_s1);
void drop_modality(Model& m, torch::Tensor sample, int keep);
ViewPlan plan_views(Model& m, const Presence& p, int64_t B, int64_t C, int64_t H, int64_t W, bool crops);
void augment_reference(Model& m, const torch::Tensor& x, const Presence& p, const ViewPlan& plan, torch::Tensor& out, int64_t offset, bool noise);
void augment_fused(const Model& m, const torch::Tensor& x, const Presence& p, const ViewPlan& plan, torch::Tensor& out, int64_t offset);
// Writes one augmented view of each sample of x into out[offset ...].
void augment_into(Model& m, const torch::Tensor& x, const Presence& p, torch::Tensor& out, int64_t offset, bool crops);

}  // namespace ds
