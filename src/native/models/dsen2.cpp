// DSen2 / VDSen2 networks (see dsen2.h). Parameter names (head, blocks.N.conv1, tail) are what
// the checkpoint's state dict holds; tests rebuild the network in Python from them.
#include "dsen2.h"

namespace ds {

namespace {
torch::nn::Conv2d conv3x3(int64_t in, int64_t out) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1).bias(true));
}

torch::Tensor upsample(const torch::Tensor& x, int64_t height, int64_t width) {
    return F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<int64_t>{height, width}).mode(torch::kBilinear).align_corners(false));
}
}  // namespace

ResidualBlockImpl::ResidualBlockImpl(int64_t features, double residual_scaling) : scaling(residual_scaling) {
    conv1 = register_module("conv1", conv3x3(features, features));
    conv2 = register_module("conv2", conv3x3(features, features));
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x) {
    return x + conv2(torch::relu(conv1(x))) * scaling;
}

DSen2Impl::DSen2Impl(int64_t factor_, int64_t fine, int64_t mid, int64_t coarse, int64_t count, int64_t features, double scale)
    : factor(factor_), input_scale(scale) {
    const int64_t in = fine + mid + (factor == 6 ? coarse : 0);
    const int64_t out = factor == 2 ? mid : coarse;
    head = register_module("head", conv3x3(in, features));
    blocks = register_module("blocks", torch::nn::ModuleList());
    for (int64_t i = 0; i < count; ++i) blocks->push_back(ResidualBlock(features, 0.1));
    tail = register_module("tail", conv3x3(features, out));
}

torch::Tensor DSen2Impl::forward(const torch::Tensor& fine, const torch::Tensor& mid, const torch::Tensor& coarse) {
    const int64_t h = fine.size(2), w = fine.size(3);
    const auto up_mid = upsample(mid, h, w);
    torch::Tensor x, skip;
    if (factor == 6) {
        const auto up_coarse = upsample(coarse, h, w);
        x = torch::cat({fine, up_mid, up_coarse}, 1);
        skip = up_coarse;
    } else {
        x = torch::cat({fine, up_mid}, 1);
        skip = up_mid;
    }
    const double inv = 1.0 / input_scale;
    auto y = torch::relu(head(x * inv));
    for (const auto& block : *blocks) y = block->as<ResidualBlock>()->forward(y);
    return tail(y) + skip * inv;
}

void DSen2Impl::initialise(at::Generator& generator) {
    torch::NoGradGuard no_grad;
    for (auto& p : named_parameters()) {
        auto& t = p.value();
        // The last convolution starts at zero: the untrained network is exactly the bilinear
        // upsampling of its skip connection, and training only ever adds detail to it.
        if (t.dim() == 4 && p.key().rfind("tail.", 0) != 0) {
            const double bound = 1.0 / std::sqrt(static_cast<double>(t.size(1) * t.size(2) * t.size(3)));
            t.uniform_(-bound, bound, generator);
        } else {
            t.zero_();
        }
    }
}

}  // namespace ds
