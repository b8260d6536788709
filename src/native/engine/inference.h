#pragma once
// Inference plan for ResNet encoders on the CPU. In eval mode a batch norm is a fixed affine map,
// so it folds into the convolution before it (w' = w * g / sqrt(v + eps), b' = b - m * g / sqrt(v + eps)),
// and the whole network then runs on oneDNN-layout tensors with weights reordered once into
// oneDNN's blocked format: no batch-norm passes and no layout reorders between layers. The plan
// is rebuilt whenever the weights have changed since it was made. The sample embedding matches
// the eval-mode module to float rounding (a test checks it against Python's torch).
#include "../models/resnet.h"

namespace ds {

struct FoldedConv {
    torch::Tensor weight, bias;  // oneDNN-packed weight, oneDNN bias
    std::vector<int64_t> stride, padding;

    torch::Tensor operator()(const torch::Tensor& x) const {
        return at::mkldnn_convolution(x, weight, bias, padding, stride, {1, 1}, 1);
    }
};

struct FoldedBlock {
    std::vector<FoldedConv> convs;  // 2 (basic) or 3 (bottleneck), the last without ReLU
    bool has_downsample = false;
    FoldedConv downsample;
};

struct InferencePlan {
    int64_t weights_version = -1;
    FoldedConv stem;
    std::vector<FoldedBlock> blocks;
    torch::Tensor fc_weight, fc_bias;
};

InferencePlan make_plan(ResNetImpl& net, int64_t version);
torch::Tensor run_plan(const InferencePlan& plan, const torch::Tensor& input);
bool folded_inference_enabled();

}  // namespace ds
