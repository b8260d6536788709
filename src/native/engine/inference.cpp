#include "inference.h"

namespace ds {

std::vector<int64_t> pair_of(const torch::ExpandingArray<2>& a) { return {(*a)[0], (*a)[1]}; }

FoldedConv fold(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNormImplBase<2, torch::nn::BatchNorm2dImpl>& bn) {
    const auto scale = bn.weight / torch::sqrt(bn.running_var + bn.options.eps());
    auto weight = (conv.weight * scale.view({-1, 1, 1, 1})).contiguous();
    auto bias = (bn.bias - bn.running_mean * scale).contiguous();
    if (conv.bias.defined()) bias = bias + conv.bias * scale;
    FoldedConv f;
    f.stride = pair_of(conv.options.stride());
    const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&conv.options.padding());
    if (padding == nullptr) fail(DST_INTERNAL, "a convolution with symbolic padding cannot be folded");
    f.padding = pair_of(*padding);
    f.weight = at::mkldnn_reorder_conv2d_weight(weight.to_mkldnn(), f.padding, f.stride, {1, 1}, 1);
    f.bias = bias.to_mkldnn();
    return f;
}

template <class Block>
FoldedBlock fold_block(Block& block) {
    FoldedBlock f;
    f.convs.push_back(fold(*block.conv1, *block.bn1));
    f.convs.push_back(fold(*block.conv2, *block.bn2));
    if constexpr (std::is_same_v<Block, BottleneckImpl>) f.convs.push_back(fold(*block.conv3, *block.bn3));
    if (block.downsample) {
        f.has_downsample = true;
        f.downsample = fold(*block.downsample[0]->template as<torch::nn::Conv2dImpl>(), *block.downsample[1]->template as<torch::nn::BatchNorm2dImpl>());
    }
    return f;
}

InferencePlan make_plan(ResNetImpl& net, int64_t version) {
    torch::NoGradGuard no_grad;
    InferencePlan plan;
    plan.weights_version = version;
    plan.stem = fold(*net.conv1, *net.bn1);
    for (auto* layer : {&net.layer1, &net.layer2, &net.layer3, &net.layer4}) {
        for (auto& child : (*layer)->children()) {
            if (auto* basic = child->as<BasicBlockImpl>()) plan.blocks.push_back(fold_block(*basic));
            else if (auto* bottleneck = child->as<BottleneckImpl>()) plan.blocks.push_back(fold_block(*bottleneck));
            else fail(DST_INTERNAL, "unexpected ResNet layer");
        }
    }
    plan.fc_weight = net.fc->weight.detach().clone();
    plan.fc_bias = net.fc->bias.detach().clone();
    return plan;
}

torch::Tensor run_plan(const InferencePlan& plan, const torch::Tensor& input) {
    torch::NoGradGuard no_grad;
    auto y = plan.stem(input.contiguous().to_mkldnn());
    y.relu_();
    y = at::max_pool2d(y, {3, 3}, {2, 2}, {1, 1});
    for (const auto& block : plan.blocks) {
        auto out = y;
        for (size_t k = 0; k < block.convs.size(); ++k) {
            out = block.convs[k](out);
            if (k + 1 < block.convs.size()) out.relu_();
        }
        y = out + (block.has_downsample ? block.downsample(y) : y);
        y.relu_();
    }
    auto pooled = y.to_dense().mean({2, 3});
    return torch::addmm(plan.fc_bias, pooled, plan.fc_weight.t());
}

bool folded_inference_enabled() {
    static const bool enabled = [] {
        const char* value = std::getenv("DEEPSENTINEL_FOLDED_INFERENCE");
        return at::hasMKLDNN() && !(value != nullptr && std::string(value) == "0");
    }();
    return enabled;
}

}  // namespace ds
