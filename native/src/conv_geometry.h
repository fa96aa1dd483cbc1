// The sizes a convolution derives from its descriptor, defined once for every engine, the CPU's and
// CUDA's (DCLS_HOST_DEVICE), so that the plans, the kernel windows, the oneDNN descriptors, the
// pooling and the argument checks cannot disagree about an output size.
#pragma once

#include <cstdint>

#include "construct_math.h"  // DCLS_HOST_DEVICE
#include "dcls.h"

namespace dcls {

// Positions of a `kernel`-long window over `input` cells padded by `padding` on both sides, before
// the stride: the output length of a stride-1 convolution (torch's formula without the division).
DCLS_HOST_DEVICE inline int64_t conv_positions(int64_t input, int64_t padding, int64_t kernel) {
    return input + 2 * padding - kernel + 1;
}

// Output length of one axis: floor((input + 2 padding - kernel) / stride) + 1, as torch.nn.Conv
// and pooling without ceil_mode. The caller has checked that the window fits (positions >= 1).
DCLS_HOST_DEVICE inline int64_t conv_output_length(int64_t input, int64_t padding, int64_t kernel, int64_t stride) {
    return (conv_positions(input, padding, kernel) - 1) / stride + 1;
}

// Every axis of a descriptor with input_size, padding, kernel_size, stride and ndim (a convolution's
// or a pooling's): out[i] for i < ndim, 1 beyond.
template <class Desc>
inline void conv_output_size(const Desc &d, int64_t out[3]) {
    for (int i = 0; i < 3; ++i)
        out[i] = i < d.ndim ? conv_output_length(d.input_size[i], d.padding[i], d.kernel_size[i], d.stride[i]) : 1;
}

}  // namespace dcls
