// Fine-tuning robustness (issue 14): the classifier's optimizer state for Ctrl+C / -Resume, and
// the training augmentation (random flips and quarter turns per sample).
#include "checkpoints.h"
#include "classifier.h"

namespace ds {

void load_classifier_optimizer(Classifier& c, const std::string& optimizer_path) {
    load_optimizer(*c.optimizer, optimizer_path);
    // A resumed run draws a fresh augmentation stream: it must not replay the views from step 0.
    c.model->rng.seed(static_cast<uint64_t>(c.cfg.seed) ^ (static_cast<uint64_t>(c.step) + 1) * 0xD1B54A32D192ED03ull);
}

// The choices are drawn serially from the model's seeded stream (a view depends on the seed and
// the step, not on the thread count), then applied per sample into a reused buffer.
const torch::Tensor& augment_flips_rotations(Classifier& c, const torch::Tensor& x) {
    auto& m = *c.model;
    const int64_t B = x.size(0), H = x.size(2), W = x.size(3);
    if (!c.augmented.defined() || c.augmented.sizes() != x.sizes() || c.augmented.device() != x.device() ||
        c.augmented.suggest_memory_format() != x.suggest_memory_format())
        c.augmented = torch::empty_like(x);
    torch::NoGradGuard no_grad;
    for (int64_t i = 0; i < B; ++i) {
        torch::Tensor s = x[i];
        if (m.uniform() < 0.5) s = s.flip({2});
        if (m.uniform() < 0.5) s = s.flip({1});
        const int64_t turns = H == W ? m.below(4) : 2 * m.below(2);
        if (turns != 0) s = s.rot90(turns, {1, 2});
        c.augmented[i].copy_(s);
    }
    return c.augmented;
}

}  // namespace ds
