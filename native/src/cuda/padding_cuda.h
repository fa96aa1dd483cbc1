// Explicit padding on the device (reflect, replicate, circular; PyTorch semantics, as padding.cpp
// on the CPU). The caller guarantees pad < size for reflect and pad <= size for circular.
#pragma once

#include <cuda_runtime.h>

#include "dcls.h"
#include "padding.h"

namespace dcls {
namespace cuda {

// dst (planes, size + 2 pad) = pad(src (planes, size)).
void pad_forward(cudaStream_t stream, const PadShape &shape, dcls_padding_mode mode, const float *src,
                 float *dst);

// dst (planes, size) = the adjoint of pad_forward applied to src (planes, size + 2 pad): every
// input cell gathers the gradients of the padded cells that copy it. Overwrites dst; no atomics.
void pad_backward(cudaStream_t stream, const PadShape &shape, dcls_padding_mode mode, const float *src,
                  float *dst);

}  // namespace cuda
}  // namespace dcls
