#include "optimizer.h"

#include <c10/util/string_utils.h>

// Why: libtorch 1.13's AdamW::step() runs seven tensor operations per parameter (weight decay,
// two for each moment, sqrt, divide, add, addcdiv), each a full pass over the parameter's memory,
// and allocates a temporary for the denominator. A ResNet-18 has 11 M parameters: those passes move
// about 1 GB a step, a sizeable share of a small-batch fine-tuning step on the CPU. The fused loop
// reads the parameter, its gradient and both moments once and writes three of them back, in the
// same order of float operations as libtorch's kernels.

namespace ds {
namespace {

bool fused_enabled() {
    static const bool enabled = [] {
        const char* v = std::getenv("DEEPSENTINEL_FUSED_ADAMW");
        return v == nullptr || std::strcmp(v, "0") != 0;
    }();
    return enabled;
}

bool eligible(torch::optim::AdamW& opt) {
    for (auto& group : opt.param_groups()) {
        auto& options = static_cast<torch::optim::AdamWOptions&>(group.options());
        if (options.amsgrad()) return false;
        for (auto& p : group.params()) {
            const auto& g = p.grad();
            if (!g.defined()) continue;
            if (!p.device().is_cpu() || p.scalar_type() != torch::kFloat || !p.is_contiguous()) return false;
            if (g.is_sparse() || g.scalar_type() != torch::kFloat || !g.is_contiguous() || !g.device().is_cpu()) return false;
        }
    }
    return true;
}

}  // namespace

void adamw_step_reference(torch::optim::AdamW& opt) { opt.step(); }

void adamw_step(torch::optim::AdamW& opt) {
    if (!fused_enabled() || !eligible(opt)) {
        opt.step();
        return;
    }
    torch::NoGradGuard no_grad;
    auto& states = opt.state();
    for (auto& group : opt.param_groups()) {
        auto& options = static_cast<torch::optim::AdamWOptions&>(group.options());
        const double lr = options.lr(), wd = options.weight_decay(), eps = options.eps();
        const double beta1 = std::get<0>(options.betas()), beta2 = std::get<1>(options.betas());
        for (auto& p : group.params()) {
            const auto& grad = p.grad();
            if (!grad.defined()) continue;
            // The same key and initial state as libtorch's step, so save/load see no difference.
            const auto key = c10::guts::to_string(p.unsafeGetTensorImpl());
            auto it = states.find(key);
            if (it == states.end()) {
                auto fresh = std::make_unique<torch::optim::AdamWParamState>();
                fresh->step(0);
                fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
                fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
                it = states.emplace(key, std::move(fresh)).first;
            }
            auto& state = static_cast<torch::optim::AdamWParamState&>(*it->second);
            auto& exp_avg = state.exp_avg();
            auto& exp_avg_sq = state.exp_avg_sq();
            if (!exp_avg.is_contiguous() || !exp_avg_sq.is_contiguous() || exp_avg.scalar_type() != torch::kFloat ||
                exp_avg_sq.scalar_type() != torch::kFloat || exp_avg.numel() != p.numel() || exp_avg_sq.numel() != p.numel()) {
                // A state loaded in another layout or type: bring it to the parameter's before the pass.
                exp_avg = exp_avg.to(torch::kFloat).contiguous();
                exp_avg_sq = exp_avg_sq.to(torch::kFloat).contiguous();
                if (exp_avg.numel() != p.numel() || exp_avg_sq.numel() != p.numel())
                    fail(DST_INTERNAL, "the optimizer state does not match its parameter's size");
            }
            state.step(state.step() + 1);
            const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(state.step()));
            const double bias_correction2 = 1 - std::pow(beta2, static_cast<double>(state.step()));
            // Scalars as libtorch's float kernels see them: each double argument cast to float.
            const float decay = static_cast<float>(1 - lr * wd);
            const bool decays = wd != 0;
            const float b1 = static_cast<float>(beta1), a1 = static_cast<float>(1 - beta1);
            const float b2 = static_cast<float>(beta2), a2 = static_cast<float>(1 - beta2);
            const float sqrt_bc2 = static_cast<float>(std::sqrt(bias_correction2));
            const float epsf = static_cast<float>(eps);
            const float neg_step = static_cast<float>(-(lr / bias_correction1));
            float* __restrict__ pp = p.data_ptr<float>();
            const float* __restrict__ gp = grad.data_ptr<float>();
            float* __restrict__ mp = exp_avg.data_ptr<float>();
            float* __restrict__ vp = exp_avg_sq.data_ptr<float>();
            at::parallel_for(0, p.numel(), 32768, [&](int64_t begin, int64_t end) {
                for (int64_t i = begin; i < end; ++i) {
                    const float g = gp[i];
                    float w = pp[i];
                    if (decays) w = w * decay;
                    const float m = mp[i] * b1 + a1 * g;
                    const float v = vp[i] * b2 + a2 * g * g;  // addcmul's order: (value * t1) * t2
                    const float denom = std::sqrt(v) / sqrt_bc2 + epsf;
                    pp[i] = w + neg_step * m / denom;  // addcdiv's order: (value * t1) / t2
                    mp[i] = m;
                    vp[i] = v;
                }
            });
        }
    }
}

}  // namespace ds
