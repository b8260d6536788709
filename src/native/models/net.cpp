#include "net.h"

namespace ds {

NetImpl::NetImpl(const dst_model_config& c) : cfg(c) {
    const int64_t channels = c.s2_channels + c.s1_channels;
    if (c.encoder == DST_UNET) {
        unet = register_module("encoder", UNet(channels, c.unet_width, c.embedding_dim));
    } else if (c.encoder == DST_RESNET50) {
        resnet = register_module("encoder", ResNet(true, std::vector<int>{3, 4, 6, 3}, channels, c.embedding_dim));
    } else {
        resnet = register_module("encoder", ResNet(false, std::vector<int>{2, 2, 2, 2}, channels, c.embedding_dim));
    }
    if (c.method == DST_SIMCLR) {
        projector = register_module("projector", torch::nn::Sequential(torch::nn::Linear(c.embedding_dim, 512), torch::nn::ReLU(true),
                                                                      torch::nn::Linear(512, c.projection_dim)));
    } else if (c.method == DST_AUTOENCODER) {
        if (unet) {
            decoder = register_module("decoder", torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(c.embedding_dim, channels, 1))));
        } else {
            // Five x2 upsamplings take the stride-32 feature map back to the input grid.
            torch::nn::Sequential d(conv(resnet->feature_dim, 256, 1), torch::nn::BatchNorm2d(256), torch::nn::ReLU(true));
            int64_t width = 256;
            for (int i = 0; i < 5; ++i) {
                const int64_t next = std::max<int64_t>(32, width / 2);
                d->push_back(torch::nn::Upsample(torch::nn::UpsampleOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kNearest)));
                d->push_back(conv(width, next, 3, 1, 1));
                d->push_back(torch::nn::BatchNorm2d(next));
                d->push_back(torch::nn::ReLU(true));
                width = next;
            }
            d->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(width, channels, 3).padding(1)));
            decoder = register_module("decoder", d);
        }
    }
    input_mean = register_buffer("input_mean", torch::zeros({channels}));
    input_std = register_buffer("input_std", torch::ones({channels}));

    for (auto& m : modules(false)) {
        if (auto* c2 = m->as<torch::nn::Conv2dImpl>()) {
            torch::nn::init::kaiming_normal_(c2->weight, 0.0, torch::kFanOut, torch::kReLU);
        }
    }
}

}  // namespace ds
