// DSen2 / VDSen2 (Lanaras et al. 2018): Sentinel-2 super-resolution networks.
#pragma once

#include "layers.h"

namespace ds {

// One residual block: conv, ReLU, conv, scaled by 0.1 and added to its input (no batch norm).
struct ResidualBlockImpl : torch::nn::Module {
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
    double scaling;
    ResidualBlockImpl(int64_t features, double residual_scaling);
    torch::Tensor forward(const torch::Tensor& x);
};
TORCH_MODULE(ResidualBlock);

// The network: the 10 m bands concatenated with the bilinearly upsampled 20 m bands (2x) or 20 m
// and 60 m bands (6x), all divided by input_scale; a 3x3 convolution and ReLU; residual blocks; a
// 3x3 convolution to the recovered bands; plus the upsampled recovered bands themselves (the
// skip). Output in the scaled units; multiply by input_scale for DN.
struct DSen2Impl : torch::nn::Module {
    int64_t factor;
    double input_scale;
    torch::nn::Conv2d head{nullptr}, tail{nullptr};
    torch::nn::ModuleList blocks{nullptr};
    DSen2Impl(int64_t factor, int64_t fine, int64_t mid, int64_t coarse, int64_t blocks, int64_t features, double input_scale);
    // fine [B, 4, H, W]; mid [B, 6, H/2, W/2]; coarse [B, 2, H/6, W/6] or undefined (2x).
    torch::Tensor forward(const torch::Tensor& fine, const torch::Tensor& mid, const torch::Tensor& coarse);
    // Deterministic initialisation from the generator: weights U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    // (PyTorch's default for a convolution), biases zero, the last convolution (tail) zero.
    void initialise(at::Generator& generator);
};
TORCH_MODULE(DSen2);

}  // namespace ds
