// The indexing that dcls4j's plain CUDA convolutions (direct_conv_cuda.cu over a box of kernel
// cells, sparse_conv_cuda.cu over a list of them) share: which input element an output element
// reads through a kernel cell, which output an input element reaches through it, and the weight
// gradient of one kernel cell. A cell is 3 axis indices (k0, k1, k2) of the kernel (leading axes of
// size 1 for 1D and 2D); the geometry is ConvGeometry's, zero padding included.
#pragma once

#include "block_cuda.h"
#include "cuda_common.h"

namespace dcls {
namespace cuda {

// Splits a flat index over three axes of sizes s (last fastest).
__device__ inline void split3(int64_t i, const int64_t s[3], int64_t c[3]) {
    c[2] = i % s[2];
    c[1] = (i / s[2]) % s[1];
    c[0] = i / (s[2] * s[1]);
}

// Element e of an (N, channels, plane) tensor whose plane has 3 axes of sizes s: its batch index n,
// its channel, its offset in the plane and that offset's 3 axis indices.
struct PlaneElement {
    int64_t n, channel, offset, at[3];
};

__device__ inline PlaneElement plane_element(int64_t e, int64_t channels, const int64_t s[3]) {
    const int64_t plane = s[0] * s[1] * s[2];
    PlaneElement p;
    p.offset = e % plane;
    p.channel = (e / plane) % channels;
    p.n = e / (plane * channels);
    split3(p.offset, s, p.at);
    return p;
}

// The input plane offset that output o3 reads through cell k3, or -1 where that falls in the padding.
__device__ inline int64_t input_offset(const ConvGeometry &g, const int64_t o3[3], const int64_t k3[3]) {
    const int64_t i0 = o3[0] * g.stride[0] - g.pad[0] + k3[0], i1 = o3[1] * g.stride[1] - g.pad[1] + k3[1],
                  i2 = o3[2] * g.stride[2] - g.pad[2] + k3[2];
    if (i0 < 0 || i0 >= g.in[0] || i1 < 0 || i1 >= g.in[1] || i2 < 0 || i2 >= g.in[2]) return -1;
    return (i0 * g.in[1] + i1) * g.in[2] + i2;
}

// The output index along one axis that kernel cell k reaches from input index i, or -1.
__device__ inline int64_t reached(int64_t i, int64_t k, int64_t stride, int64_t pad, int64_t out) {
    const int64_t t = i + pad - k;
    if (t < 0 || t % stride != 0) return -1;
    const int64_t o = t / stride;
    return o < out ? o : -1;
}

// The weight gradient at cell k3 of the kernel pairing output channel oc with input channel ic:
// sum over the batch and the output positions of x * grad_y, by the whole block in a fixed order
// (block_sum; every thread gets the total). partial: the block's kBlock floats of shared memory.
__device__ inline float cell_weight_gradient(const ConvGeometry &g, const float *x, const float *grad_y, int64_t oc,
                                             int64_t ic, const int64_t k3[3], float *partial) {
    const int64_t positions = g.batch * g.out_plane();
    float acc = 0.f;
    for (int64_t p = threadIdx.x; p < positions; p += blockDim.x) {
        const int64_t n = p / g.out_plane(), o = p % g.out_plane();
        int64_t o3[3];
        split3(o, g.out, o3);
        const int64_t i = input_offset(g, o3, k3);
        if (i < 0) continue;
        acc += x[(n * g.in_channels + ic) * g.in_plane() + i] * grad_y[(n * g.out_channels + oc) * g.out_plane() + o];
    }
    return block_sum(acc, partial);
}

}  // namespace cuda
}  // namespace dcls
