// What the network layers' kernels share: the grid of an element-wise launch, and a block-wide sum
// in a fixed order (a tree over shared memory), so that a reduction gives the same bits every run.
#pragma once

#include <algorithm>
#include <cstdint>

#include "cuda_common.h"

namespace dcls {
namespace cuda {
namespace nn {

constexpr int kBlock = 256;  // threads of every nn kernel's block (a power of two: block_sum)

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

}  // namespace nn
}  // namespace cuda
}  // namespace dcls
