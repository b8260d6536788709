// The C ABI of fine-tuning robustness (issue 14): augmentation switch, optimizer state for resume.
#include "../engine/classifier.h"

using namespace ds;

extern "C" {

DST_API int32_t dst_classifier_set_augmentation(int64_t classifier, int32_t flips_rotations) {
    return guarded([&] {
        if (flips_rotations != 0 && flips_rotations != 1) fail(DST_INVALID_ARGUMENT, msg("flips_rotations must be 0 or 1, got ", flips_rotations));
        auto c = lookup_classifier(classifier);
        std::lock_guard<std::mutex> lock(c->mutex);
        c->augment = flips_rotations == 1;
    });
}

DST_API int32_t dst_classifier_save_optimizer(int64_t classifier, const char* optimizer_path) {
    return guarded([&] {
        if (optimizer_path == nullptr || *optimizer_path == '\0') fail(DST_INVALID_ARGUMENT, "the optimizer path is empty");
        auto c = lookup_classifier(classifier);
        std::lock_guard<std::mutex> lock(c->mutex);
        save_classifier_optimizer(*c, optimizer_path);
    });
}

DST_API int32_t dst_classifier_load_optimizer(int64_t classifier, const char* optimizer_path) {
    return guarded([&] {
        if (optimizer_path == nullptr || *optimizer_path == '\0') fail(DST_INVALID_ARGUMENT, "the optimizer path is empty");
        auto c = lookup_classifier(classifier);
        std::lock_guard<std::mutex> lock(c->mutex);
        std::lock_guard<std::mutex> model_lock(c->model->mutex);
        load_classifier_optimizer(*c, optimizer_path);
    });
}

}  // extern "C"
