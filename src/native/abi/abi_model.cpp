// The C ABI: model handles (create, load, save, free) and their settings.
#include "../engine/allocator.h"
#include "../engine/checkpoints.h"

using namespace ds;

extern "C" {

DST_API int64_t dst_model_create(const dst_model_config* config) {
    return guarded_handle([&] {
        if (config == nullptr) fail(DST_INVALID_ARGUMENT, "the model config is null");
        return register_model(build_model(*config));
    });
}

DST_API int64_t dst_model_load(const char* checkpoint_path, const char* optimizer_path, int32_t device) {
    return guarded_handle([&] {
        if (checkpoint_path == nullptr || *checkpoint_path == '\0') fail(DST_INVALID_ARGUMENT, "the checkpoint path is empty");
        return register_model(load_model(checkpoint_path, optimizer_path, device));
    });
}

DST_API int32_t dst_model_free(int64_t model) {
    return guarded([&] {
        bool last = false;
        auto doomed = unregister_model(model, last);  // destroyed outside the registry lock
        doomed.reset();
        if (last) empty_block_cache();  // nothing is training: give the cached blocks back
    });
}

DST_API int32_t dst_model_get_config(int64_t model, dst_model_config* config) {
    return guarded([&] {
        auto m = lookup(model);
        if (config == nullptr) fail(DST_INVALID_ARGUMENT, "the config output is null");
        std::lock_guard<std::mutex> lock(m->mutex);
        *config = m->cfg;
    });
}

DST_API int32_t dst_model_set_normalization(int64_t model, const float* mean, const float* std, int32_t channels) {
    return guarded([&] {
        auto m = lookup(model);
        std::lock_guard<std::mutex> lock(m->mutex);
        if (mean == nullptr || std == nullptr) fail(DST_INVALID_ARGUMENT, "normalisation mean or std is null");
        if (channels != m->channels()) fail(DST_INVALID_ARGUMENT, msg("normalisation has ", channels, " channels, the model has ", m->channels()));
        for (int32_t i = 0; i < channels; ++i) {
            if (!std::isfinite(mean[i]) || !std::isfinite(std[i]) || std[i] <= 0)
                fail(DST_INVALID_ARGUMENT, msg("band ", i, ": mean must be finite and std positive, got ", mean[i], " and ", std[i]));
        }
        torch::NoGradGuard no_grad;
        m->net->input_mean.copy_(torch::from_blob(const_cast<float*>(mean), {channels}));
        m->net->input_std.copy_(torch::from_blob(const_cast<float*>(std), {channels}));
    });
}

DST_API int32_t dst_model_get_normalization(int64_t model, float* mean, float* std, int32_t channels) {
    return guarded([&] {
        auto m = lookup(model);
        std::lock_guard<std::mutex> lock(m->mutex);
        if (channels != m->channels()) fail(DST_INVALID_ARGUMENT, msg("asked for ", channels, " channels, the model has ", m->channels()));
        copy_out(m->net->input_mean, mean, channels, "mean");
        copy_out(m->net->input_std, std, channels, "std");
    });
}

DST_API int32_t dst_model_set_learning_rate(int64_t model, double learning_rate) {
    return guarded([&] {
        auto m = lookup(model);
        std::lock_guard<std::mutex> lock(m->mutex);
        if (!finite_in(learning_rate, 1e-12, 10.0)) fail(DST_INVALID_ARGUMENT, msg("learning rate must be in (0, 10], got ", learning_rate));
        for (auto& group : m->optimizer->param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(learning_rate);
        m->cfg.learning_rate = learning_rate;
    });
}

DST_API int64_t dst_model_step(int64_t model) {
    int64_t step = -1;
    guarded([&] {
        auto m = lookup(model);
        std::lock_guard<std::mutex> lock(m->mutex);
        step = m->step;
    });
    return step;
}

DST_API int32_t dst_model_parameter_count(int64_t model, int64_t* count) {
    return guarded([&] {
        auto m = lookup(model);
        if (count == nullptr) fail(DST_INVALID_ARGUMENT, "the count output is null");
        std::lock_guard<std::mutex> lock(m->mutex);
        int64_t n = 0;
        for (const auto& p : m->net->parameters()) n += p.numel();
        *count = n;
    });
}

DST_API int32_t dst_model_save(int64_t model, const char* checkpoint_path, const char* optimizer_path) {
    return guarded([&] {
        auto m = lookup(model);
        if (checkpoint_path == nullptr || *checkpoint_path == '\0') fail(DST_INVALID_ARGUMENT, "the checkpoint path is empty");
        std::lock_guard<std::mutex> lock(m->mutex);
        save_model(*m, checkpoint_path, optimizer_path);
    });
}

}  // extern "C"

