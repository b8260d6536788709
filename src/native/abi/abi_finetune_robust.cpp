// The C ABI of fine-tuning robustness (issue 14): augmentation switch, optimizer state for resume.
#include "../engine/classifier.h"
#include "abi_heads.h"

using namespace ds;

extern "C" {

DST_API int32_t dst_classifier_set_augmentation(int64_t classifier, int32_t flips_rotations) {
    return on_head(lookup_classifier, classifier, ModelLock::No, [&](Classifier& c) {
        if (flips_rotations != 0 && flips_rotations != 1) fail(DST_INVALID_ARGUMENT, msg("flips_rotations must be 0 or 1, got ", flips_rotations));
        c.augment = flips_rotations == 1;
    });
}

DST_API int32_t dst_classifier_save_optimizer(int64_t classifier, const char* optimizer_path) {
    return head_save_optimizer(lookup_classifier, classifier, optimizer_path);
}

DST_API int32_t dst_classifier_load_optimizer(int64_t classifier, const char* optimizer_path) {
    return head_load_optimizer(lookup_classifier, classifier, optimizer_path, load_classifier_optimizer);
}

}  // extern "C"
