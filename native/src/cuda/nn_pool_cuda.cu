// Max and average pooling on (N, C, d, h, w) planes (dcls_cuda_pool_*), as torch's MaxPoolNd and
// AvgPoolNd without ceil_mode. Forward: a thread per output element; max pooling records where
// its maximum was (the first one, in window order; every window holds an input element, since
// padding is at most half the kernel). Backward: a thread per input element gathers
// from the outputs whose windows cover it, so each gradient is written once, with no atomics, in
// a fixed order.
#include "dcls_nn.h"
#include "block_cuda.h"
#include "nn_cuda.h"

namespace dcls {
namespace cuda {
namespace nn {
namespace {

// The count the average divides by for the window starting at (s0, s1, s2).
__device__ inline float divisor(const PoolGeometry &g, const int64_t start[3]) {
    if (g.kind != DCLS_POOL_AVG_EXCLUDE_PADDING) return float(g.k[0] * g.k[1] * g.k[2]);
    int64_t n = 1;
    for (int a = 0; a < 3; ++a) {
        const int64_t lo = start[a] < 0 ? 0 : start[a];
        const int64_t hi = start[a] + g.k[a] > g.in[a] ? g.in[a] : start[a] + g.k[a];
        n *= hi - lo;
    }
    return float(n);
}

__device__ inline void out_coords(const PoolGeometry &g, int64_t o, int64_t c[3]) {
    c[2] = o % g.out[2];
    c[1] = (o / g.out[2]) % g.out[1];
    c[0] = o / (g.out[2] * g.out[1]);
}

__global__ void pool_forward_kernel(PoolGeometry g, const float *x, float *y, int32_t *argmax) {
    const int64_t total = g.planes * g.out_plane();
    for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x)
    {
        const int64_t plane = e / g.out_plane(), o = e % g.out_plane();
        int64_t oc[3], start[3];
        out_coords(g, o, oc);
        for (int a = 0; a < 3; ++a) start[a] = oc[a] * g.stride[a] - g.pad[a];
        const float *xp = x + plane * g.in_plane();
        float best = 0.f, sum = 0.f;
        int64_t where = -1;
        for (int64_t i = 0; i < g.k[0]; ++i) {
            const int64_t id = start[0] + i;
            if (id < 0 || id >= g.in[0]) continue;
            for (int64_t j = 0; j < g.k[1]; ++j) {
                const int64_t ih = start[1] + j;
                if (ih < 0 || ih >= g.in[1]) continue;
                for (int64_t l = 0; l < g.k[2]; ++l) {
                    const int64_t iw = start[2] + l;
                    if (iw < 0 || iw >= g.in[2]) continue;
                    const int64_t at = (id * g.in[1] + ih) * g.in[2] + iw;
                    const float v = xp[at];
                    sum += v;
                    if (where < 0 || v > best) {
                        best = v;
                        where = at;
                    }
                }
            }
        }
        if (g.kind == DCLS_POOL_MAX) {
            y[e] = best;
            argmax[e] = int32_t(where);
        } else {
            y[e] = sum / divisor(g, start);
        }
    }
}

// The outputs along one axis whose windows cover input index i: [lo, hi).
__device__ inline void covering(int64_t i, int64_t k, int64_t stride, int64_t pad, int64_t out, int64_t &lo,
                                int64_t &hi) {
    const int64_t first = i + pad - k + 1;  // the smallest window start that still reaches i
    lo = first <= 0 ? 0 : (first + stride - 1) / stride;
    hi = (i + pad) / stride + 1;
    if (hi > out) hi = out;
}

__global__ void pool_backward_kernel(PoolGeometry g, const float *grad_y, const int32_t *argmax, float *grad_x) {
    const int64_t total = g.planes * g.in_plane();
    for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x)
    {
        const int64_t plane = e / g.in_plane(), at = e % g.in_plane();
        const int64_t ic[3] = {at / (g.in[1] * g.in[2]), (at / g.in[2]) % g.in[1], at % g.in[2]};
        int64_t lo[3], hi[3];
        for (int a = 0; a < 3; ++a) covering(ic[a], g.k[a], g.stride[a], g.pad[a], g.out[a], lo[a], hi[a]);
        const float *gy = grad_y + plane * g.out_plane();
        const int32_t *am = argmax + plane * g.out_plane();
        float v = 0.f;
        for (int64_t od = lo[0]; od < hi[0]; ++od)
            for (int64_t oh = lo[1]; oh < hi[1]; ++oh)
                for (int64_t ow = lo[2]; ow < hi[2]; ++ow) {
                    const int64_t o = (od * g.out[1] + oh) * g.out[2] + ow;
                    if (g.kind == DCLS_POOL_MAX) {
                        if (am[o] == at) v += gy[o];
                    } else {
                        const int64_t start[3] = {od * g.stride[0] - g.pad[0], oh * g.stride[1] - g.pad[1],
                                                  ow * g.stride[2] - g.pad[2]};
                        v += gy[o] / divisor(g, start);
                    }
                }
        grad_x[e] = v;
    }
}

}  // namespace

void pool_forward(cudaStream_t stream, const PoolGeometry &g, const float *x, float *y, int32_t *argmax) {
    const int64_t total = g.planes * g.out_plane();
    if (total == 0) return;
    DCLS_LAUNCH(pool_forward_kernel, grid_for(total), kBlock, 0, stream)(g, x, y, argmax);
    check_launch("pool_forward_kernel");
}

void pool_backward(cudaStream_t stream, const PoolGeometry &g, const float *grad_y, const int32_t *argmax,
                   float *grad_x) {
    const int64_t total = g.planes * g.in_plane();
    if (total == 0) return;
    DCLS_LAUNCH(pool_backward_kernel, grid_for(total), kBlock, 0, stream)(g, grad_y, argmax, grad_x);
    check_launch("pool_backward_kernel");
}

}  // namespace nn
}  // namespace cuda
}  // namespace dcls
