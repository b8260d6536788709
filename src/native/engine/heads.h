#pragma once
// What the fine-tuning heads (classifier, segmenter) share: a registry of live handles per kind,
// the check of per-class loss weights, and the AdamW of two parameter groups (the head at one
// learning rate, the encoder at another unless frozen).
#include "model.h"

namespace ds {

// Live heads of one kind. Each kind counts its ids down from its own start, far from the model ids
// (counting up from 1) and from the other kinds, so a handle of another kind is an error, not
// another object.
template <class Head>
class HeadRegistry {
public:
    HeadRegistry(int64_t first, const char* kind) : next_(first), kind_(kind) {}

    std::shared_ptr<Head> lookup(int64_t handle) {
        std::lock_guard<std::mutex> lock(mutex_);
        return find(handle)->second;
    }

    int64_t add(std::shared_ptr<Head> head) {
        std::lock_guard<std::mutex> lock(mutex_);
        const int64_t handle = next_--;
        heads_.emplace(handle, std::move(head));
        return handle;
    }

    // Takes the head out; the caller destroys it outside the registry lock.
    std::shared_ptr<Head> remove(int64_t handle) {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = find(handle);
        auto head = std::move(it->second);
        heads_.erase(it);
        return head;
    }

private:
    typename std::unordered_map<int64_t, std::shared_ptr<Head>>::iterator find(int64_t handle) {
        if (handle == 0) fail(DST_INVALID_HANDLE, msg("the ", kind_, " handle is null"));
        auto it = heads_.find(handle);
        if (it == heads_.end()) fail(DST_INVALID_HANDLE, msg(kind_, " handle ", handle, " does not refer to a live ", kind_, " (it was freed or never created)"));
        return it;
    }

    std::mutex mutex_;
    std::unordered_map<int64_t, std::shared_ptr<Head>> heads_;
    int64_t next_;
    const char* kind_;
};

// Copies classes loss weights (finite, >= 0, not all 0) into target; kind names the head in errors.
void set_head_class_weights(torch::Tensor& target, const float* weights, int32_t classes, int32_t expected, const char* kind);

// AdamW over the head group (head_learning_rate) and, unless frozen, the encoder group
// (encoder_learning_rate), both with the same weight decay: the groups' order is the optimizer
// state's order on disk.
std::unique_ptr<torch::optim::AdamW> head_optimizer(std::vector<torch::Tensor> head, std::vector<torch::Tensor> encoder, bool freeze_encoder,
                                                    double head_learning_rate, double encoder_learning_rate, double weight_decay);

}  // namespace ds
