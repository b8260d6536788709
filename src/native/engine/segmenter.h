#pragma once
// Segmentation: a per-pixel classification head on a UNet model, behind its own handles. The
// logits are a 1x1 convolution over the decoder's full-resolution features (dec1's output).
#include "model.h"

namespace ds {

struct Segmenter {
    std::mutex mutex;
    dst_segmenter_config cfg{};
    std::shared_ptr<Model> model;  // shares the UNet (and its normalisation, input buffers)
    torch::nn::Conv2d head{nullptr};
    torch::Tensor class_weights;   // [classes], on the model's device
    std::unique_ptr<torch::optim::AdamW> optimizer;
    int64_t step = 0;
};

std::shared_ptr<Segmenter> build_segmenter(std::shared_ptr<Model> model, const dst_segmenter_config& cfg);
std::shared_ptr<Segmenter> lookup_segmenter(int64_t handle);
int64_t register_segmenter(std::shared_ptr<Segmenter> s);
std::shared_ptr<Segmenter> unregister_segmenter(int64_t handle);

void set_segmenter_class_weights(Segmenter& s, const float* weights, int32_t classes);
// Per-pixel weighted cross-entropy on one batch (-1 targets ignored) and one optimizer step.
float segmenter_step(Segmenter& s, const dst_batch& b, const int32_t* targets, int64_t targets_length);
// Probabilities [B, classes, H, W] in eval mode.
torch::Tensor segmenter_predict(Segmenter& s, const dst_batch& b);
void save_segmenter(Segmenter& s, const std::string& encoder_path, const std::string& head_path);
void load_segmenter_head(Segmenter& s, const std::string& head_path);

}  // namespace ds
