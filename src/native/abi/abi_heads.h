#pragma once
// The C ABI bodies the fine-tuning heads share (dst_classifier_*, dst_segmenter_*): look the handle
// up in its kind's registry, take the head's lock (and its model's where the weights or the input
// buffers are touched), check the arguments, call the engine. Lookup is a head kind's
// lookup_classifier / lookup_segmenter.
#include "../engine/checkpoints.h"
#include "../engine/heads.h"

namespace ds {

enum class ModelLock { No, Yes };

inline void require_path(const char* path, const char* what) {
    if (path == nullptr || *path == '\0') fail(DST_INVALID_ARGUMENT, msg(what, " path is empty"));
}

template <class Lookup, class Call>
int32_t on_head(Lookup lookup, int64_t handle, ModelLock model_lock, Call&& call) {
    return guarded([&] {
        auto head = lookup(handle);
        std::lock_guard<std::mutex> lock(head->mutex);
        if (model_lock == ModelLock::No) {
            call(*head);
            return;
        }
        std::lock_guard<std::mutex> lock_model(head->model->mutex);
        call(*head);
    });
}

// Creates a head of config on the model behind model_handle and registers it (0 on failure).
template <class Config, class Build, class Register>
int64_t create_head(int64_t model_handle, const Config* config, const char* what, Build build, Register add) {
    return guarded_handle([&] {
        if (config == nullptr) fail(DST_INVALID_ARGUMENT, msg("the ", what, " config is null"));
        auto m = lookup(model_handle);
        std::lock_guard<std::mutex> lock(m->mutex);
        return add(build(m, *config));
    });
}

template <class Unregister>
int32_t free_head(Unregister remove, int64_t handle) {
    return guarded([&] {
        auto doomed = remove(handle);  // destroyed outside the registry lock
        doomed.reset();
    });
}

// The head's step count, or -1 (with the thread's error set) for a bad handle.
template <class Lookup>
int64_t head_step(Lookup lookup, int64_t handle) {
    int64_t step = -1;
    on_head(lookup, handle, ModelLock::No, [&](auto& head) { step = head.step; });
    return step;
}

template <class Lookup, class Batch, class Target, class Step>
int32_t head_train_step(Lookup lookup, int64_t handle, const Batch* batch, const Target* targets, int64_t targets_length, float* loss, Step step) {
    return on_head(lookup, handle, ModelLock::Yes, [&](auto& head) {
        if (loss == nullptr) fail(DST_INVALID_ARGUMENT, "the loss output is null");
        if (batch == nullptr) fail(DST_INVALID_ARGUMENT, "the batch is null");
        *loss = step(head, *batch, targets, targets_length);
    });
}

template <class Lookup, class Predict>
int32_t head_predict(Lookup lookup, int64_t handle, const dst_batch* batch, float* probabilities, int64_t length, Predict predict) {
    return on_head(lookup, handle, ModelLock::Yes, [&](auto& head) {
        if (batch == nullptr) fail(DST_INVALID_ARGUMENT, "the batch is null");
        copy_out(predict(head, *batch), probabilities, length, "probabilities");
    });
}

template <class Lookup, class Save>
int32_t head_save(Lookup lookup, int64_t handle, const char* encoder_path, const char* head_path, Save save) {
    return on_head(lookup, handle, ModelLock::Yes, [&](auto& head) {
        if (encoder_path == nullptr || *encoder_path == '\0' || head_path == nullptr || *head_path == '\0') fail(DST_INVALID_ARGUMENT, "a checkpoint path is empty");
        save(head, encoder_path, head_path);
    });
}

template <class Lookup, class Load>
int32_t head_load(Lookup lookup, int64_t handle, const char* head_path, Load load) {
    return on_head(lookup, handle, ModelLock::No, [&](auto& head) {
        require_path(head_path, "the head");
        load(head, head_path);
    });
}

// The AdamW state of both parameter groups, for a resume (checkpoints.h: save_optimizer).
template <class Lookup>
int32_t head_save_optimizer(Lookup lookup, int64_t handle, const char* optimizer_path) {
    return on_head(lookup, handle, ModelLock::No, [&](auto& head) {
        require_path(optimizer_path, "the optimizer");
        save_optimizer(*head.optimizer, optimizer_path);
    });
}

// load restores the state (checkpoints.h: load_optimizer, and what else a kind needs after it).
template <class Lookup, class Load>
int32_t head_load_optimizer(Lookup lookup, int64_t handle, const char* optimizer_path, Load load) {
    return on_head(lookup, handle, ModelLock::Yes, [&](auto& head) {
        require_path(optimizer_path, "the optimizer");
        load(head, optimizer_path);
    });
}

}  // namespace ds
