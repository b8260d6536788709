// The C ABI: segmentation, a per-pixel classification head on a UNet model.
#include "../engine/segmenter.h"

using namespace ds;

extern "C" {

DST_API int64_t dst_segmenter_create(int64_t model, const dst_segmenter_config* config) {
    return guarded_handle([&] {
        if (config == nullptr) fail(DST_INVALID_ARGUMENT, "the segmenter config is null");
        auto m = lookup(model);
        std::lock_guard<std::mutex> lock(m->mutex);
        return register_segmenter(build_segmenter(m, *config));
    });
}

DST_API int32_t dst_segmenter_free(int64_t segmenter) {
    return guarded([&] {
        auto doomed = unregister_segmenter(segmenter);  // destroyed outside the registry lock
        doomed.reset();
    });
}

DST_API int32_t dst_segmenter_set_class_weights(int64_t segmenter, const float* weights, int32_t classes) {
    return guarded([&] {
        auto s = lookup_segmenter(segmenter);
        std::lock_guard<std::mutex> lock(s->mutex);
        set_segmenter_class_weights(*s, weights, classes);
    });
}

DST_API int32_t dst_segmenter_train_step(int64_t segmenter, const dst_batch* batch, const int32_t* targets, int64_t targets_length, float* loss) {
    return guarded([&] {
        auto s = lookup_segmenter(segmenter);
        if (loss == nullptr) fail(DST_INVALID_ARGUMENT, "the loss output is null");
        if (batch == nullptr) fail(DST_INVALID_ARGUMENT, "the batch is null");
        std::lock_guard<std::mutex> lock(s->mutex);
        std::lock_guard<std::mutex> model_lock(s->model->mutex);
        *loss = segmenter_step(*s, *batch, targets, targets_length);
    });
}

DST_API int32_t dst_segmenter_predict(int64_t segmenter, const dst_batch* batch, float* probabilities, int64_t length) {
    return guarded([&] {
        auto s = lookup_segmenter(segmenter);
        if (batch == nullptr) fail(DST_INVALID_ARGUMENT, "the batch is null");
        std::lock_guard<std::mutex> lock(s->mutex);
        std::lock_guard<std::mutex> model_lock(s->model->mutex);
        copy_out(segmenter_predict(*s, *batch), probabilities, length, "probabilities");
    });
}

DST_API int64_t dst_segmenter_step(int64_t segmenter) {
    int64_t step = -1;
    guarded([&] {
        auto s = lookup_segmenter(segmenter);
        std::lock_guard<std::mutex> lock(s->mutex);
        step = s->step;
    });
    return step;
}

DST_API int32_t dst_segmenter_save(int64_t segmenter, const char* encoder_path, const char* head_path) {
    return guarded([&] {
        auto s = lookup_segmenter(segmenter);
        if (encoder_path == nullptr || *encoder_path == '\0' || head_path == nullptr || *head_path == '\0') fail(DST_INVALID_ARGUMENT, "a checkpoint path is empty");
        std::lock_guard<std::mutex> lock(s->mutex);
        std::lock_guard<std::mutex> model_lock(s->model->mutex);
        save_segmenter(*s, encoder_path, head_path);
    });
}

DST_API int32_t dst_segmenter_load_head(int64_t segmenter, const char* head_path) {
    return guarded([&] {
        auto s = lookup_segmenter(segmenter);
        if (head_path == nullptr || *head_path == '\0') fail(DST_INVALID_ARGUMENT, "the head path is empty");
        std::lock_guard<std::mutex> lock(s->mutex);
        load_segmenter_head(*s, head_path);
    });
}

}  // extern "C"
