// A pooling's shape derived once from its (checked: nn_validate.h) descriptor, for the CUDA kernels
// (cuda/nn_pool_cuda.cu): three spatial axes (d, h, w), unused ones of size 1.
#pragma once

#include <cstdint>

#include "conv_geometry.h"
#include "dcls_nn.h"

namespace dcls::nn {

// The shape of a checked descriptor, the last ndim axes of (d, h, w) used (a 1D pooling runs along w).
struct PoolGeometry {
    int kind = 0;
    int64_t planes = 0;  // batch * channels
    int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1}, stride[3] = {1, 1, 1}, pad[3] = {0, 0, 0};

    DCLS_HOST_DEVICE int64_t in_plane() const { return in[0] * in[1] * in[2]; }
    DCLS_HOST_DEVICE int64_t out_plane() const { return out[0] * out[1] * out[2]; }
};

inline PoolGeometry pool_geometry(const dcls_pool_desc &d) {
    PoolGeometry g;
    g.kind = d.kind;
    g.planes = d.batch * d.channels;
    for (int i = 0; i < d.ndim; ++i) {
        const int a = 3 - d.ndim + i;
        g.in[a] = d.input_size[i];
        g.k[a] = d.kernel_size[i];
        g.stride[a] = d.stride[i];
        g.pad[a] = d.padding[i];
        g.out[a] = conv_output_length(d.input_size[i], d.padding[i], d.kernel_size[i], d.stride[i]);
    }
    return g;
}

}  // namespace dcls::nn
