#pragma once
// The engine's AdamW step: one pass over each parameter instead of libtorch's seven.
#include "errors.h"

namespace ds {

// Steps `opt` as torch::optim::AdamW::step() does (the same state objects, keys and arithmetic,
// so checkpoints of the optimizer are unchanged), fused into one parallel pass per parameter when
// every parameter with a gradient is a dense, contiguous float32 CPU tensor and AMSGrad is off;
// otherwise, or with DEEPSENTINEL_FUSED_ADAMW=0, it calls libtorch's own step.
void adamw_step(torch::optim::AdamW& opt);

// libtorch's own step, always: the reference the fused one is tested against.
void adamw_step_reference(torch::optim::AdamW& opt);

}  // namespace ds
