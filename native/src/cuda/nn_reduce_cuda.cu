// Sums over axes (dcls_cuda_sum_*, and the bias gradients of linear): one block per kept element,
// its threads striding over the reduced elements, then a tree (block_sum), so the order is fixed.
#include "block_cuda.h"
#include "nn_cuda.h"

namespace dcls {
namespace cuda {
namespace nn {
namespace {

__global__ void sum_kernel(Reduction s, const float *src, float *dst, int accumulate) {
    __shared__ float partial[kBlock];
    for (int64_t k = blockIdx.x; k < s.kept; k += gridDim.x) {
        const float *base = src + offset_of(k, s.kept_rank, s.kept_dims, s.kept_strides);
        float v = 0.f;
        for (int64_t r = threadIdx.x; r < s.reduced; r += blockDim.x)
            v += base[offset_of(r, s.reduced_rank, s.reduced_dims, s.reduced_strides)];
        const float total = block_sum(v, partial);
        if (threadIdx.x == 0) dst[k] = accumulate ? dst[k] + total : total;
    }
}

}  // namespace

Reduction reduction_shape(int rank, const int64_t *src_dims, const int64_t *dst_dims) {
    Reduction s;
    int64_t stride = 1;
    int64_t strides[kMaxRank];
    for (int d = rank - 1; d >= 0; --d) {
        strides[d] = stride;
        stride *= src_dims[d];
    }
    for (int d = 0; d < rank; ++d) {
        if (dst_dims[d] == 1 && src_dims[d] != 1) {
            s.reduced_dims[s.reduced_rank] = src_dims[d];
            s.reduced_strides[s.reduced_rank++] = strides[d];
            s.reduced *= src_dims[d];
        } else {
            s.kept_dims[s.kept_rank] = src_dims[d];
            s.kept_strides[s.kept_rank++] = strides[d];
            s.kept *= src_dims[d];
        }
    }
    return s;
}

void sum(cudaStream_t stream, const Reduction &shape, const float *src, float *dst, bool accumulate) {
    if (shape.kept == 0) return;
    if (shape.reduced == 0) {  // an empty sum is 0
        if (!accumulate) check(cudaMemsetAsync(dst, 0, sizeof(float) * size_t(shape.kept), stream), "cudaMemsetAsync");
        return;
    }
    const int blocks = int(std::min<int64_t>(shape.kept, 1 << 20));
    DCLS_LAUNCH(sum_kernel, blocks, kBlock, 0, stream)(shape, src, dst, accumulate ? 1 : 0);
    check_launch("sum_kernel");
}

}  // namespace nn
}  // namespace cuda
}  // namespace dcls
