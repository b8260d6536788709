#pragma once
// Batches: validating the caller's arrays and assembling them into the model's input tensor.
#include "model.h"

namespace ds {

// Which samples of a batch carry each modality.
struct Presence {
    std::vector<uint8_t> s2, s1;
};

// a * b * c * d, refused when it would not fit a tensor the engine accepts.
int64_t checked_count(int64_t a, int64_t b, int64_t c, int64_t d);
Presence validate_batch(const Model& m, const dst_batch* b);
// Copies the caller's arrays into the model's reusable input tensor, normalises, and zeroes
// missing modalities (zero is the band mean after normalisation).
const torch::Tensor& assemble(Model& m, const dst_batch& b, const Presence& p);
// Resizes a reusable buffer to `like` with `batch` samples (kept when the shape is unchanged).
void ensure(torch::Tensor& t, const torch::Tensor& like, int64_t batch);

}  // namespace ds
