#include "heads.h"

namespace ds {

void set_head_class_weights(torch::Tensor& target, const float* weights, int32_t classes, int32_t expected, const char* kind) {
    if (weights == nullptr) fail(DST_INVALID_ARGUMENT, "the class weights are null");
    if (classes != expected) fail(DST_INVALID_ARGUMENT, msg("class weights given for ", classes, " classes, the ", kind, " has ", expected));
    double sum = 0;
    for (int32_t i = 0; i < classes; ++i) {
        if (!std::isfinite(weights[i]) || weights[i] < 0) fail(DST_INVALID_ARGUMENT, msg("class weight ", i, " must be finite and >= 0, got ", weights[i]));
        sum += weights[i];
    }
    if (sum <= 0) fail(DST_INVALID_ARGUMENT, "the class weights are all 0");
    torch::NoGradGuard no_grad;
    target.copy_(torch::from_blob(const_cast<float*>(weights), {classes}));
}

std::unique_ptr<torch::optim::AdamW> head_optimizer(std::vector<torch::Tensor> head, std::vector<torch::Tensor> encoder, bool freeze_encoder,
                                                    double head_learning_rate, double encoder_learning_rate, double weight_decay) {
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(std::move(head), std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(head_learning_rate).weight_decay(weight_decay)));
    if (!freeze_encoder) {
        groups.emplace_back(std::move(encoder), std::make_unique<torch::optim::AdamWOptions>(
            torch::optim::AdamWOptions(encoder_learning_rate).weight_decay(weight_decay)));
    }
    return std::make_unique<torch::optim::AdamW>(std::move(groups));
}

}  // namespace ds
