#include "unet.h"

namespace ds {

torch::nn::Sequential double_conv(int64_t in, int64_t out) {
    return torch::nn::Sequential(conv(in, out, 3, 1, 1), torch::nn::BatchNorm2d(out), torch::nn::ReLU(torch::nn::ReLUOptions(true)),
                                 conv(out, out, 3, 1, 1), torch::nn::BatchNorm2d(out), torch::nn::ReLU(torch::nn::ReLUOptions(true)));
}

torch::nn::ConvTranspose2d up(int64_t in, int64_t out) {
    return torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(in, out, 2).stride(2));
}


UNetImpl::UNetImpl(int64_t in_channels, int64_t width, int64_t embedding_dim) {
    enc1 = register_module("enc1", double_conv(in_channels, width));
    enc2 = register_module("enc2", double_conv(width, width * 2));
    enc3 = register_module("enc3", double_conv(width * 2, width * 4));
    bottom = register_module("bottom", double_conv(width * 4, width * 8));
    up3 = register_module("up3", up(width * 8, width * 4));
    dec3 = register_module("dec3", double_conv(width * 8, width * 4));
    up2 = register_module("up2", up(width * 4, width * 2));
    dec2 = register_module("dec2", double_conv(width * 4, width * 2));
    up1 = register_module("up1", up(width * 2, width));
    dec1 = register_module("dec1", double_conv(width * 2, width));
    head = register_module("head", torch::nn::Conv2d(torch::nn::Conv2dOptions(width, embedding_dim, 1)));
}

Encoded UNetImpl::forward(const torch::Tensor& x) {
    auto e1 = enc1->forward(x);
    auto e2 = enc2->forward(torch::max_pool2d(e1, 2));
    auto e3 = enc3->forward(torch::max_pool2d(e2, 2));
    auto b = bottom->forward(torch::max_pool2d(e3, 2));
    auto d3 = dec3->forward(torch::cat({up3(b), e3}, 1));
    auto d2 = dec2->forward(torch::cat({up2(d3), e2}, 1));
    auto d1 = dec1->forward(torch::cat({up1(d2), e1}, 1));
    auto pixels = head(d1);
    return {pixels.mean({2, 3}), pixels};
}

}  // namespace ds
