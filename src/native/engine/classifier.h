#pragma once
// Fine-tuning: a classification head on a model's encoder, behind its own handles. The head is a
// linear layer on the layer-normalised embedding (no parameters, eps 1e-5); head.pt records it as
// embedding_norm = "layer_norm".
#include "model.h"

namespace ds {

struct Classifier {
    std::mutex mutex;
    dst_classifier_config cfg{};
    std::shared_ptr<Model> model;  // shares the encoder (and its normalisation, input buffers)
    torch::nn::Linear head{nullptr};
    torch::Tensor class_weights;   // [classes], on the model's device
    std::unique_ptr<torch::optim::AdamW> optimizer;
    int64_t step = 0;
    bool augment = false;          // random flips and quarter turns of each training sample (dst_classifier_set_augmentation)
    torch::Tensor augmented;       // reused view buffer of the augmented batch
};

std::shared_ptr<Classifier> build_classifier(std::shared_ptr<Model> model, const dst_classifier_config& cfg);
std::shared_ptr<Classifier> lookup_classifier(int64_t handle);
int64_t register_classifier(std::shared_ptr<Classifier> c);
std::shared_ptr<Classifier> unregister_classifier(int64_t handle);

void set_classifier_class_weights(Classifier& c, const float* weights, int32_t classes);

// Loss on one batch (training mode, gradients as the config says) and one optimizer step.
float classifier_step(Classifier& c, const dst_batch& b, const float* targets, int64_t targets_length);
// Probabilities [B, classes] in eval mode.
torch::Tensor classifier_predict(Classifier& c, const dst_batch& b);
void save_classifier(Classifier& c, const std::string& encoder_path, const std::string& head_path);
void load_classifier_head(Classifier& c, const std::string& head_path);
// Fine-tuning robustness: the optimizer state for a resume (saved by abi_heads.h's
// head_save_optimizer; loading also reseeds the augmentation stream), and the augmented training input.
void load_classifier_optimizer(Classifier& c, const std::string& optimizer_path);
const torch::Tensor& augment_flips_rotations(Classifier& c, const torch::Tensor& x);

}  // namespace ds
