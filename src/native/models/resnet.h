#pragma once
// ResNet-18 / ResNet-50 encoders (torchvision layout), the stem taking any number of bands.
#include "layers.h"

namespace ds {

struct BasicBlockImpl : torch::nn::Module {
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
    torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
    torch::nn::Sequential downsample{nullptr};

    BasicBlockImpl(int64_t in, int64_t planes, int64_t stride);
    torch::Tensor forward(const torch::Tensor& x);
};
TORCH_MODULE(BasicBlock);

struct BottleneckImpl : torch::nn::Module {
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
    torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
    torch::nn::Sequential downsample{nullptr};

    BottleneckImpl(int64_t in, int64_t planes, int64_t stride);
    torch::Tensor forward(const torch::Tensor& x);
};
TORCH_MODULE(Bottleneck);

struct ResNetImpl : torch::nn::Module {
    torch::nn::Conv2d conv1{nullptr};
    torch::nn::BatchNorm2d bn1{nullptr};
    torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
    torch::nn::Linear fc{nullptr};
    int64_t feature_dim = 0;

    ResNetImpl(bool bottleneck, const std::vector<int>& blocks, int64_t in_channels, int64_t embedding_dim);
    Encoded forward(const torch::Tensor& x);
};
TORCH_MODULE(ResNet);

}  // namespace ds
