#pragma once
// Model state behind a handle, the registry of live handles, and building a model from its config.
#include "../models/net.h"
#include "inference.h"

namespace ds {

struct Model {
    std::mutex mutex;  // one call at a time per model
    dst_model_config cfg{};
    Net net{nullptr};
    std::unique_ptr<torch::optim::AdamW> optimizer;
    torch::Device device{torch::kCPU};
    int64_t step = 0;
    std::mt19937_64 rng;
    at::Generator generator;
    // Reused across steps so that steady-state training allocates no new input buffers.
    torch::Tensor staging, input, views, noise;
    int64_t weights_version = 0;  // advanced by every change of the weights
    std::unique_ptr<InferencePlan> plan;

    // The sample embedding in eval mode: the folded oneDNN plan for ResNet encoders on the CPU.
    torch::Tensor embed(const torch::Tensor& x);

    int64_t channels() const { return cfg.s2_channels + cfg.s1_channels; }
    c10::MemoryFormat format() const { return cfg.channels_last ? c10::MemoryFormat::ChannelsLast : c10::MemoryFormat::Contiguous; }
    c10::optional<at::Generator> gen() const { return device.is_cpu() ? c10::optional<at::Generator>(generator) : c10::nullopt; }
    double uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }
    int64_t below(int64_t n) { return static_cast<int64_t>(std::uniform_int_distribution<int64_t>(0, n - 1)(rng)); }
};

// The live model behind a handle, or DST_INVALID_HANDLE.
std::shared_ptr<Model> lookup(int64_t handle);
int64_t register_model(std::shared_ptr<Model> model);
// Takes a model out of the registry; `last` says whether it was the last live one.
std::shared_ptr<Model> unregister_model(int64_t handle, bool& last);

void validate_config(const dst_model_config& c);
// DST_CPU, or DST_CUDA where libtorch has CUDA and a GPU (else DST_DEVICE_UNAVAILABLE).
torch::Device resolve_device(int32_t device);
std::shared_ptr<Model> build_model(const dst_model_config& cfg);
// Held around every seeded parameter initialisation (libtorch's generator is process-wide).
std::mutex& init_mutex();

// Copies a tensor into a caller's float buffer of exactly its size.
void copy_out(const torch::Tensor& values, float* output, int64_t output_length, const char* what);

template <class Body>
void in_eval_mode(Model& m, Body&& body) {
    torch::NoGradGuard no_grad;
    m.net->eval();
    try {
        body();
    } catch (...) {
        m.net->train();
        throw;
    }
    m.net->train();
}

}  // namespace ds
