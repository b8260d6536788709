// The C ABI of segmentation robustness (issue 14): the segmenter's optimizer state for Ctrl+C / -Resume.
#include "../engine/segmenter.h"
#include "abi_heads.h"

using namespace ds;

extern "C" {

DST_API int32_t dst_segmenter_save_optimizer(int64_t segmenter, const char* optimizer_path) {
    return head_save_optimizer(lookup_segmenter, segmenter, optimizer_path);
}

// The segmenter draws no random numbers while training (no augmentation), so nothing is reseeded.
DST_API int32_t dst_segmenter_load_optimizer(int64_t segmenter, const char* optimizer_path) {
    return head_load_optimizer(lookup_segmenter, segmenter, optimizer_path, [](Segmenter& s, const char* path) { load_optimizer(*s.optimizer, path); });
}

}  // extern "C"
