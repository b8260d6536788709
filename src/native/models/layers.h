#pragma once
// Building blocks shared by the networks. Parameter names follow torchvision so that a state dict
// reads familiar in Python.
#include "../engine/errors.h"

namespace ds {

// A bias-free convolution (a batch norm follows it).
inline torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}

// What an encoder gives for a batch.
struct Encoded {
    torch::Tensor embedding;  // [B, D]
    torch::Tensor spatial;    // ResNet: last feature map [B, F, H/32, W/32]; UNet: per-pixel [B, D, H, W]
};

}  // namespace ds
