// A dilated convolution's spread kernel on the device (dcls_cuda_kernel_spread, dcls_cuda_kernel_gather_add):
// the weights scattered to the taps of the spread kernel before a forward pass, and the spread kernel's gradient
// gathered back after a backward one. Each thread computes its cell (or its weight) from its own index, so that
// no index array is kept: for a few thousand weights the arithmetic costs less than reading one.
#include "block_cuda.h"
#include "nn_cuda.h"

namespace dcls {
namespace cuda {
namespace nn {
namespace {

// Weight i = (pair, tap) goes to its pair's cell at the tap's coordinates times the dilation.
__global__ void spread_kernel(KernelSpread s, const float *weight, float *spread) {
    const int64_t total = s.pairs * s.taps;
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x)
    {
        int64_t tap = i % s.taps, cell = 0, cell_stride = 1;
#pragma unroll
        for (int d = 2; d >= 0; --d) {
            if (d >= s.ndim) continue;
            cell += (tap % s.kernel[d]) * s.dilation[d] * cell_stride;
            tap /= s.kernel[d];
            cell_stride *= s.spread[d];
        }
        spread[(i / s.taps) * s.cells + cell] = weight[i];
    }
}

// One thread per cell of the spread gradient, gaps included, so that one pass both gathers and leaves it zero: a
// cell whose every coordinate is a multiple of its axis's dilation is a tap, and its weight is those coordinates
// divided by the dilation. Each weight has exactly one tap, so no two threads add to one weight.
__global__ void gather_add_kernel(KernelSpread s, float *grad_spread, float *grad_weight) {
    const int64_t total = s.pairs * s.cells;
    for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < total; c += int64_t(gridDim.x) * blockDim.x)
    {
        int64_t rest = c % s.cells, tap = 0, tap_stride = 1;
        bool is_tap = true;
#pragma unroll
        for (int d = 2; d >= 0; --d) {
            if (d >= s.ndim) continue;
            const int64_t at = rest % s.spread[d];
            rest /= s.spread[d];
            is_tap = is_tap && at % s.dilation[d] == 0;
            tap += at / s.dilation[d] * tap_stride;
            tap_stride *= s.kernel[d];
        }
        const float g = grad_spread[c];
        grad_spread[c] = 0.f;
        if (is_tap) grad_weight[(c / s.cells) * s.taps + tap] += g;
    }
}

}  // namespace

void kernel_spread(cudaStream_t stream, const KernelSpread &s, const float *weight, float *spread) {
    DCLS_LAUNCH(spread_kernel, grid_for(s.pairs * s.taps), kBlock, 0, stream)(s, weight, spread);
    check_launch("spread_kernel");
}

void kernel_gather_add(cudaStream_t stream, const KernelSpread &s, float *grad_spread, float *grad_weight) {
    DCLS_LAUNCH(gather_add_kernel, grid_for(s.pairs * s.cells), kBlock, 0, stream)(s, grad_spread, grad_weight);
    check_launch("gather_add_kernel");
}

}  // namespace nn
}  // namespace cuda
}  // namespace dcls
