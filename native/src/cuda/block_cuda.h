// What the CUDA kernels share: the block size and grid of an element-wise (grid-stride) launch, a
// block-wide sum in a fixed order (a tree over shared memory, so that a reduction gives the same bits
// every run), and the offset of an index over strided axes.
#pragma once

#include <algorithm>
#include <cstdint>

#include "cuda_common.h"

namespace dcls {
namespace cuda {

constexpr int kBlock = 256;  // threads of a grid-stride kernel's block (a power of two: block_sum)

// Blocks for a grid-stride loop over `total` elements; at least 1, at most 2^20.
inline int grid_for(int64_t total) {
    return int(std::max<int64_t>(1, std::min<int64_t>((total + kBlock - 1) / kBlock, 1 << 20)));
}

// The sum of v over the block's kBlock threads, returned to every thread. `shared` holds kBlock floats.
__device__ inline float block_sum(float v, float *shared) {
    shared[threadIdx.x] = v;
    __syncthreads();
    for (int half = kBlock / 2; half > 0; half >>= 1) {
        if (int(threadIdx.x) < half) shared[threadIdx.x] += shared[threadIdx.x + half];
        __syncthreads();
    }
    const float total = shared[0];
    __syncthreads();  // shared is reused by the caller's next call
    return total;
}

// The offset of flat index i over the first `rank` (<= N) axes of sizes `dims` and strides `strides`,
// the last axis fastest. Unrolled over all N, so that dims and strides stay in registers.
template <int N>
__device__ inline int64_t offset_of(int64_t i, int rank, const int64_t (&dims)[N], const int64_t (&strides)[N]) {
    int64_t offset = 0;
#pragma unroll
    for (int d = N - 1; d >= 0; --d) {
        if (d >= rank) continue;
        offset += (i % dims[d]) * strides[d];
        i /= dims[d];
    }
    return offset;
}

}  // namespace cuda
}  // namespace dcls
