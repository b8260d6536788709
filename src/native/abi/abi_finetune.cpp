// The C ABI: fine-tuning, a classification head on a model's encoder.
#include "../engine/classifier.h"

using namespace ds;

extern "C" {

DST_API int64_t dst_classifier_create(int64_t model, const dst_classifier_config* config) {
    return guarded_handle([&] {
        if (config == nullptr) fail(DST_INVALID_ARGUMENT, "the classifier config is null");
        auto m = lookup(model);
        std::lock_guard<std::mutex> lock(m->mutex);
        return register_classifier(build_classifier(m, *config));
    });
}

DST_API int32_t dst_classifier_free(int64_t classifier) {
    return guarded([&] {
        auto doomed = unregister_classifier(classifier);  // destroyed outside the registry lock
        doomed.reset();
    });
}

DST_API int32_t dst_classifier_set_class_weights(int64_t classifier, const float* weights, int32_t classes) {
    return guarded([&] {
        auto c = lookup_classifier(classifier);
        std::lock_guard<std::mutex> lock(c->mutex);
        if (weights == nullptr) fail(DST_INVALID_ARGUMENT, "the class weights are null");
        if (classes != c->cfg.classes) fail(DST_INVALID_ARGUMENT, msg("class weights given for ", classes, " classes, the classifier has ", c->cfg.classes));
        double sum = 0;
        for (int32_t i = 0; i < classes; ++i) {
            if (!std::isfinite(weights[i]) || weights[i] < 0) fail(DST_INVALID_ARGUMENT, msg("class weight ", i, " must be finite and >= 0, got ", weights[i]));
            sum += weights[i];
        }
        if (sum <= 0) fail(DST_INVALID_ARGUMENT, "the class weights are all 0");
        torch::NoGradGuard no_grad;
        c->class_weights.copy_(torch::from_blob(const_cast<float*>(weights), {classes}));
    });
}

DST_API int32_t dst_classifier_train_step(int64_t classifier, const dst_batch* batch, const float* targets, int64_t targets_length, float* loss) {
    return guarded([&] {
        auto c = lookup_classifier(classifier);
        if (loss == nullptr) fail(DST_INVALID_ARGUMENT, "the loss output is null");
        if (batch == nullptr) fail(DST_INVALID_ARGUMENT, "the batch is null");
        std::lock_guard<std::mutex> lock(c->mutex);
        std::lock_guard<std::mutex> model_lock(c->model->mutex);
        *loss = classifier_step(*c, *batch, targets, targets_length);
    });
}

DST_API int32_t dst_classifier_predict(int64_t classifier, const dst_batch* batch, float* probabilities, int64_t length) {
    return guarded([&] {
        auto c = lookup_classifier(classifier);
        if (batch == nullptr) fail(DST_INVALID_ARGUMENT, "the batch is null");
        std::lock_guard<std::mutex> lock(c->mutex);
        std::lock_guard<std::mutex> model_lock(c->model->mutex);
        copy_out(classifier_predict(*c, *batch), probabilities, length, "probabilities");
    });
}

DST_API int64_t dst_classifier_step(int64_t classifier) {
    int64_t step = -1;
    guarded([&] {
        auto c = lookup_classifier(classifier);
        std::lock_guard<std::mutex> lock(c->mutex);
        step = c->step;
    });
    return step;
}

DST_API int32_t dst_classifier_save(int64_t classifier, const char* encoder_path, const char* head_path) {
    return guarded([&] {
        auto c = lookup_classifier(classifier);
        if (encoder_path == nullptr || *encoder_path == '\0' || head_path == nullptr || *head_path == '\0') fail(DST_INVALID_ARGUMENT, "a checkpoint path is empty");
        std::lock_guard<std::mutex> lock(c->mutex);
        std::lock_guard<std::mutex> model_lock(c->model->mutex);
        save_classifier(*c, encoder_path, head_path);
    });
}

DST_API int32_t dst_classifier_load_head(int64_t classifier, const char* head_path) {
    return guarded([&] {
        auto c = lookup_classifier(classifier);
        if (head_path == nullptr || *head_path == '\0') fail(DST_INVALID_ARGUMENT, "the head path is empty");
        std::lock_guard<std::mutex> lock(c->mutex);
        load_classifier_head(*c, head_path);
    });
}

}  // extern "C"
