#pragma once
// A four-level UNet whose 1x1 head gives a per-pixel embedding; the sample embedding is its mean.
#include "layers.h"

namespace ds {

torch::nn::Sequential double_conv(int64_t in, int64_t out);
torch::nn::ConvTranspose2d up(int64_t in, int64_t out);

struct UNetImpl : torch::nn::Module {
    torch::nn::Sequential enc1{nullptr}, enc2{nullptr}, enc3{nullptr}, bottom{nullptr}, dec3{nullptr}, dec2{nullptr}, dec1{nullptr};
    torch::nn::ConvTranspose2d up3{nullptr}, up2{nullptr}, up1{nullptr};
    torch::nn::Conv2d head{nullptr};

    UNetImpl(int64_t in_channels, int64_t width, int64_t embedding_dim);
    Encoded forward(const torch::Tensor& x);
};
TORCH_MODULE(UNet);

}  // namespace ds
