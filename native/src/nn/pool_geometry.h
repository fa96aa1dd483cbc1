// A pooling's arguments checked and its shape derived once, for the CPU plan (pooling.cpp, over oneDNN)
// and the CUDA kernels (cuda/nn_pool_cuda.cu): three spatial axes (d, h, w), unused ones of size 1.
#pragma once

#include <cstdint>
#include <string>

#include "conv_geometry.h"
#include "dcls_nn.h"
#include "error.h"

namespace dcls::nn {

// Throws DCLS_ERROR_INVALID_ARGUMENT naming the first bad field of `d`.
inline void validate_pool(const dcls_pool_desc &d) {
    require(d.ndim >= 1 && d.ndim <= 3, "ndim must be 1, 2 or 3, got " + std::to_string(d.ndim));
    require(d.kind >= DCLS_POOL_MAX && d.kind <= DCLS_POOL_AVG_EXCLUDE_PADDING,
            "unknown pooling kind " + std::to_string(d.kind));
    require(d.batch >= 1, "batch must be >= 1, got " + std::to_string(d.batch));
    require(d.channels >= 1, "channels must be >= 1, got " + std::to_string(d.channels));
    for (int i = 0; i < d.ndim; ++i) {
        const std::string axis = " of axis " + std::to_string(i);
        require(d.input_size[i] >= 1 && d.kernel_size[i] >= 1 && d.stride[i] >= 1,
                "input size, kernel size and stride must be >= 1" + axis);
        require(d.padding[i] >= 0 && 2 * d.padding[i] <= d.kernel_size[i],
                "padding must be in [0, kernel_size / 2]" + axis);
        require(d.input_size[i] + 2 * d.padding[i] >= d.kernel_size[i], "the kernel is larger than the padded input" + axis);
    }
}

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
