// The C ABI: segmentation, a per-pixel classification head on a UNet model (shared bodies: abi_heads.h).
#include "../engine/segmenter.h"
#include "abi_heads.h"

using namespace ds;

extern "C" {

DST_API int64_t dst_segmenter_create(int64_t model, const dst_segmenter_config* config) {
    return create_head(model, config, "segmenter", build_segmenter, register_segmenter);
}

DST_API int32_t dst_segmenter_free(int64_t segmenter) { return free_head(unregister_segmenter, segmenter); }

DST_API int32_t dst_segmenter_set_class_weights(int64_t segmenter, const float* weights, int32_t classes) {
    return on_head(lookup_segmenter, segmenter, ModelLock::No, [&](Segmenter& s) { set_segmenter_class_weights(s, weights, classes); });
}

DST_API int32_t dst_segmenter_train_step(int64_t segmenter, const dst_batch* batch, const int32_t* targets, int64_t targets_length, float* loss) {
    return head_train_step(lookup_segmenter, segmenter, batch, targets, targets_length, loss, segmenter_step);
}

DST_API int32_t dst_segmenter_predict(int64_t segmenter, const dst_batch* batch, float* probabilities, int64_t length) {
    return head_predict(lookup_segmenter, segmenter, batch, probabilities, length, segmenter_predict);
}

DST_API int64_t dst_segmenter_step(int64_t segmenter) { return head_step(lookup_segmenter, segmenter); }

DST_API int32_t dst_segmenter_save(int64_t segmenter, const char* encoder_path, const char* head_path) {
    return head_save(lookup_segmenter, segmenter, encoder_path, head_path, save_segmenter);
}

DST_API int32_t dst_segmenter_load_head(int64_t segmenter, const char* head_path) {
    return head_load(lookup_segmenter, segmenter, head_path, load_segmenter_head);
}

}  // extern "C"
