#include "model.h"

#include "allocator.h"

namespace ds {

namespace {
std::mutex g_registry_mutex;
std::unordered_map<int64_t, std::shared_ptr<Model>> g_models;
int64_t g_next_handle = 1;  // ids are never reused, so a stale handle can never reach another model
}  // namespace

// Parameter initialisation draws from libtorch's global generator: every seeded initialisation
// (models, classifier and segmenter heads) holds this lock from manual_seed to the last draw.
std::mutex& init_mutex() {
    static std::mutex m;
    return m;
}

std::shared_ptr<Model> lookup(int64_t handle) {
    if (handle == 0) fail(DST_INVALID_HANDLE, "the model handle is null");
    std::lock_guard<std::mutex> lock(g_registry_mutex);
    auto it = g_models.find(handle);
    if (it == g_models.end()) fail(DST_INVALID_HANDLE, msg("model handle ", handle, " does not refer to a live model (it was freed or never created)"));
    return it->second;
}

void validate_config(const dst_model_config& c) {
    if (c.struct_size != static_cast<int32_t>(sizeof(dst_model_config)))
        fail(DST_INVALID_ARGUMENT, msg("model config has struct_size ", c.struct_size, ", expected ", sizeof(dst_model_config), " (mismatched library version)"));
    if (c.encoder < DST_RESNET18 || c.encoder > DST_UNET) fail(DST_INVALID_ARGUMENT, msg("unknown encoder ", c.encoder));
    if (c.method < DST_SIMCLR || c.method > DST_AUTOENCODER) fail(DST_INVALID_ARGUMENT, msg("unknown method ", c.method));
    if (c.s2_channels < 0 || c.s2_channels > 64 || c.s1_channels < 0 || c.s1_channels > 64)
        fail(DST_INVALID_ARGUMENT, msg("channel counts must be 0-64, got S2 ", c.s2_channels, " and S1 ", c.s1_channels));
    if (c.s2_channels + c.s1_channels == 0) fail(DST_INVALID_ARGUMENT, "the model needs at least one input channel (S2 or S1)");
    if (c.embedding_dim < 1 || c.embedding_dim > 8192) fail(DST_INVALID_ARGUMENT, msg("embedding dimension must be 1-8192, got ", c.embedding_dim));
    if (c.method == DST_SIMCLR && (c.projection_dim < 1 || c.projection_dim > 8192))
        fail(DST_INVALID_ARGUMENT, msg("projection dimension must be 1-8192, got ", c.projection_dim));
    if (c.encoder == DST_UNET && (c.unet_width < 4 || c.unet_width > 256)) fail(DST_INVALID_ARGUMENT, msg("UNet width must be 4-256, got ", c.unet_width));
    if (c.device != DST_CPU && c.device != DST_CUDA) fail(DST_INVALID_ARGUMENT, msg("unknown device ", c.device));
    if (c.channels_last != 0 && c.channels_last != 1) fail(DST_INVALID_ARGUMENT, "channels_last must be 0 or 1");
    if (!finite_in(c.learning_rate, 1e-12, 10.0)) fail(DST_INVALID_ARGUMENT, msg("learning rate must be in (0, 10], got ", c.learning_rate));
    if (!finite_in(c.weight_decay, 0.0, 1.0)) fail(DST_INVALID_ARGUMENT, msg("weight decay must be 0-1, got ", c.weight_decay));
    if (!finite_in(c.temperature, 1e-4, 100.0)) fail(DST_INVALID_ARGUMENT, msg("temperature must be in [1e-4, 100], got ", c.temperature));
    if (!finite_in(c.triplet_margin, 0.0, 1000.0)) fail(DST_INVALID_ARGUMENT, msg("triplet margin must be 0-1000, got ", c.triplet_margin));
    if (!finite_in(c.modality_dropout, 0.0, 1.0)) fail(DST_INVALID_ARGUMENT, msg("modality dropout must be 0-1, got ", c.modality_dropout));
    if (!finite_in(c.band_noise, 0.0, 10.0)) fail(DST_INVALID_ARGUMENT, msg("band noise must be 0-10, got ", c.band_noise));
}

torch::Device resolve_device(int32_t device) {
    if (device == DST_CUDA) {
        if (!torch::cuda::is_available())
            fail(DST_DEVICE_UNAVAILABLE, "CUDA was requested, but this libtorch has no CUDA support or sees no GPU: build against a CUDA libtorch (LIBTORCH) or use the CPU");
        return torch::Device(torch::kCUDA, 0);
    }
    if (device != DST_CPU) fail(DST_INVALID_ARGUMENT, msg("unknown device ", device));
    return torch::Device(torch::kCPU);
}

std::shared_ptr<Model> build_model(const dst_model_config& cfg) {
    validate_config(cfg);
    install_cpu_allocator();
    auto model = std::make_shared<Model>();
    model->cfg = cfg;
    model->device = resolve_device(cfg.device);
    {
        std::lock_guard<std::mutex> lock(init_mutex());
        torch::manual_seed(static_cast<uint64_t>(cfg.seed));
        model->net = Net(cfg);
    }
    model->net->to(model->device);
    if (cfg.channels_last) {
        torch::NoGradGuard no_grad;
        for (auto& p : model->net->parameters()) {
            if (p.dim() == 4) p.set_data(p.data().contiguous(c10::MemoryFormat::ChannelsLast));
        }
    }
    model->rng.seed(static_cast<uint64_t>(cfg.seed) ^ 0x9E3779B97F4A7C15ull);
    model->generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(cfg.seed) + 1);
    model->optimizer = std::make_unique<torch::optim::AdamW>(model->net->parameters(),
                                                             torch::optim::AdamWOptions(cfg.learning_rate).weight_decay(cfg.weight_decay));
    model->net->train();
    return model;
}

int64_t register_model(std::shared_ptr<Model> model) {
    std::lock_guard<std::mutex> lock(g_registry_mutex);
    const int64_t handle = g_next_handle++;
    g_models.emplace(handle, std::move(model));
    return handle;
}


std::shared_ptr<Model> unregister_model(int64_t handle, bool& last) {
    std::lock_guard<std::mutex> lock(g_registry_mutex);
    auto it = g_models.find(handle);
    if (it == g_models.end()) fail(DST_INVALID_HANDLE, msg("model handle ", handle, " does not refer to a live model (already freed?)"));
    auto model = std::move(it->second);
    g_models.erase(it);
    last = g_models.empty();
    return model;
}

void copy_out(const torch::Tensor& values, float* output, int64_t output_length, const char* what) {
    if (output == nullptr) fail(DST_INVALID_ARGUMENT, msg("the ", what, " output buffer is null"));
    if (values.numel() != output_length)
        fail(DST_INVALID_ARGUMENT, msg("the ", what, " output buffer holds ", output_length, " floats, ", values.numel(), " are needed"));
    auto cpu = values.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    std::memcpy(output, cpu.data_ptr<float>(), sizeof(float) * static_cast<size_t>(output_length));
}


torch::Tensor Model::embed(const torch::Tensor& x) {
    if (net->resnet && device.is_cpu() && folded_inference_enabled()) {
        if (!plan || plan->weights_version != weights_version) plan = std::make_unique<InferencePlan>(make_plan(*net->resnet, weights_version));
        return run_plan(*plan, x);
    }
    return net->encode(x).embedding;
}

}  // namespace ds
