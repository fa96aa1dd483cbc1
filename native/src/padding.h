// Explicit padding: pad an input (or cut a window out of its padded version), and fold a padded
// gradient back.
#pragma once

#include <cstdint>

#include "dcls.h"

namespace dcls {

// One (N*C) stack of ndim-dimensional planes. `size` is the unpadded spatial size, `pad` the
// padding on both sides of each axis; the padded size is size + 2 * pad.
struct PadShape {
    int ndim;
    int64_t planes;  // N * C
    int64_t size[3];
    int64_t pad[3];
};

// A window of the padded planes: along axis i, `length[i]` cells from unpadded index `start[i]`
// (negative: inside the padding). Cells outside [0, size) take the padding mode's value (zeros:
// 0). The window may reach at most `size` cells beyond either edge (reflect: size - 1).
struct PadWindow {
    int ndim;
    int64_t planes;
    int64_t size[3];
    int64_t start[3];
    int64_t length[3];
};

// The input index, in [0, n), that unpadded position i (possibly outside [0, n)) reads under the
// padding mode, or -1 for a zero (PyTorch semantics: reflect mirrors without repeating the edge,
// replicate repeats it, circular wraps).
inline int64_t padding_source(int64_t i, int64_t n, dcls_padding_mode mode) {
    if (i >= 0 && i < n) return i;
    switch (mode) {
        case DCLS_PADDING_REFLECT:
            if (n == 1) return 0;
            while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
            return i;
        case DCLS_PADDING_REPLICATE: return i < 0 ? 0 : n - 1;
        case DCLS_PADDING_CIRCULAR: return ((i % n) + n) % n;
        default: return -1;
    }
}

// dst (planes, size + 2 pad) = pad(src (planes, size)) with the given mode (reflect, replicate, circular).
void pad_forward(const PadShape &shape, dcls_padding_mode mode, const float *src, float *dst);

// dst (planes, size) = adjoint of pad_forward applied to src (planes, size + 2 pad): every padded
// cell's gradient is added to the input cell it copied. Overwrites dst.
void pad_backward(const PadShape &shape, dcls_padding_mode mode, const float *src, float *dst);

// dst (planes, length) = the window of the padded src (planes, size), any mode.
void window_forward(const PadWindow &window, dcls_padding_mode mode, const float *src, float *dst);

// dst (planes, size) = adjoint of window_forward applied to src (planes, length). Overwrites dst.
void window_backward(const PadWindow &window, dcls_padding_mode mode, const float *src, float *dst);

}  // namespace dcls
