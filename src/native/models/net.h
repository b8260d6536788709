#pragma once
// The pretraining network: encoder + method heads + the normalisation statistics, all in one module
// so that one state dict holds everything a checkpoint needs.
#include "resnet.h"
#include "unet.h"

namespace ds {

struct NetImpl : torch::nn::Module {
    dst_model_config cfg;
    ResNet resnet{nullptr};
    UNet unet{nullptr};
    torch::nn::Sequential projector{nullptr};
    torch::nn::Sequential decoder{nullptr};
    torch::Tensor input_mean, input_std;

    explicit NetImpl(const dst_model_config& c);
    Encoded encode(const torch::Tensor& x) { return unet ? unet->forward(x) : resnet->forward(x); }
};
TORCH_MODULE(Net);

}  // namespace ds
