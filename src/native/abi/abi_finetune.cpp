// The C ABI: fine-tuning, a classification head on a model's encoder (shared bodies: abi_heads.h).
#include "../engine/classifier.h"
#include "abi_heads.h"

using namespace ds;

extern "C" {

DST_API int64_t dst_classifier_create(int64_t model, const dst_classifier_config* config) {
    return create_head(model, config, "classifier", build_classifier, register_classifier);
}

DST_API int32_t dst_classifier_free(int64_t classifier) { return free_head(unregister_classifier, classifier); }

DST_API int32_t dst_classifier_set_class_weights(int64_t classifier, const float* weights, int32_t classes) {
    return on_head(lookup_classifier, classifier, ModelLock::No, [&](Classifier& c) { set_classifier_class_weights(c, weights, classes); });
}

DST_API int32_t dst_classifier_train_step(int64_t classifier, const dst_batch* batch, const float* targets, int64_t targets_length, float* loss) {
    return head_train_step(lookup_classifier, classifier, batch, targets, targets_length, loss, classifier_step);
}

DST_API int32_t dst_classifier_predict(int64_t classifier, const dst_batch* batch, float* probabilities, int64_t length) {
    return head_predict(lookup_classifier, classifier, batch, probabilities, length, classifier_predict);
}

DST_API int64_t dst_classifier_step(int64_t classifier) { return head_step(lookup_classifier, classifier); }

DST_API int32_t dst_classifier_save(int64_t classifier, const char* encoder_path, const char* head_path) {
    return head_save(lookup_classifier, classifier, encoder_path, head_path, save_classifier);
}

DST_API int32_t dst_classifier_load_head(int64_t classifier, const char* head_path) {
    return head_load(lookup_classifier, classifier, head_path, load_classifier_head);
}

}  // extern "C"
