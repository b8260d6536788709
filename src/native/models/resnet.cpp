#include "resnet.h"

namespace ds {

BasicBlockImpl::BasicBlockImpl(int64_t in, int64_t planes, int64_t stride) {
    conv1 = register_module("conv1", conv(in, planes, 3, stride, 1));
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(planes));
    conv2 = register_module("conv2", conv(planes, planes, 3, 1, 1));
    bn2 = register_module("bn2", torch::nn::BatchNorm2d(planes));
    if (stride != 1 || in != planes) {
        downsample = register_module("downsample", torch::nn::Sequential(conv(in, planes, 1, stride), torch::nn::BatchNorm2d(planes)));
    }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
    auto out = bn1(conv1(x)).relu_();
    out = bn2(conv2(out));
    out += downsample ? downsample->forward(x) : x;
    return torch::relu_(out);
}

BottleneckImpl::BottleneckImpl(int64_t in, int64_t planes, int64_t stride) {
    conv1 = register_module("conv1", conv(in, planes, 1));
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(planes));
    conv2 = register_module("conv2", conv(planes, planes, 3, stride, 1));
    bn2 = register_module("bn2", torch::nn::BatchNorm2d(planes));
    conv3 = register_module("conv3", conv(planes, planes * 4, 1));
    bn3 = register_module("bn3", torch::nn::BatchNorm2d(planes * 4));
    if (stride != 1 || in != planes * 4) {
        downsample = register_module("downsample", torch::nn::Sequential(conv(in, planes * 4, 1, stride), torch::nn::BatchNorm2d(planes * 4)));
    }
}

torch::Tensor BottleneckImpl::forward(const torch::Tensor& x) {
    auto out = bn1(conv1(x)).relu_();
    out = bn2(conv2(out)).relu_();
    out = bn3(conv3(out));
    out += downsample ? downsample->forward(x) : x;
    return torch::relu_(out);
}

ResNetImpl::ResNetImpl(bool bottleneck, const std::vector<int>& blocks, int64_t in_channels, int64_t embedding_dim) {
    conv1 = register_module("conv1", conv(in_channels, 64, 7, 2, 3));
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(64));
    int64_t in = 64;
    auto make_layer = [&](int64_t planes, int count, int64_t stride) {
        torch::nn::Sequential layer;
        for (int i = 0; i < count; ++i) {
            if (bottleneck) {
                layer->push_back(Bottleneck(in, planes, i == 0 ? stride : 1));
                in = planes * 4;
            } else {
                layer->push_back(BasicBlock(in, planes, i == 0 ? stride : 1));
                in = planes;
            }
        }
        return layer;
    };
    layer1 = register_module("layer1", make_layer(64, blocks[0], 1));
    layer2 = register_module("layer2", make_layer(128, blocks[1], 2));
    layer3 = register_module("layer3", make_layer(256, blocks[2], 2));
    layer4 = register_module("layer4", make_layer(512, blocks[3], 2));
    feature_dim = in;
    fc = register_module("fc", torch::nn::Linear(in, embedding_dim));
}

Encoded ResNetImpl::forward(const torch::Tensor& x) {
    auto y = bn1(conv1(x)).relu_();
    y = torch::max_pool2d(y, 3, 2, 1);
    y = layer4->forward(layer3->forward(layer2->forward(layer1->forward(y))));
    auto pooled = torch::adaptive_avg_pool2d(y, {1, 1}).flatten(1);
    return {fc(pooled), y};
}

}  // namespace ds
