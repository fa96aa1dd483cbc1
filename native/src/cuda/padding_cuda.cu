// Explicit padding on the device: one thread per output cell (grid-stride), both directions.
// pad_backward gathers instead of scattering: along each axis, the padded cells that copy input
// cell i form at most three ranges (itself, one in each border), so every input cell sums the
// product of its ranges, deterministically and without atomics.
#include "padding_cuda.h"

#include <algorithm>
#include <cstdint>

#include "block_cuda.h"
#include "cuda_common.h"

namespace dcls {
namespace cuda {
namespace {

// The shape as three axes (d, h, w); unused leading axes have size 1 and no padding.
struct Axes {
    int64_t planes;
    int64_t n[3], p[3], np[3];
    int64_t plane, plane_padded;
};

Axes axes_of(const PadShape &shape) {
    Axes a{};
    a.planes = shape.planes;
    const int lead = 3 - shape.ndim;
    for (int i = 0; i < 3; ++i) {
        a.n[i] = i < lead ? 1 : shape.size[i - lead];
        a.p[i] = i < lead ? 0 : shape.pad[i - lead];
        a.np[i] = a.n[i] + 2 * a.p[i];
    }
    a.plane = a.n[0] * a.n[1] * a.n[2];
    a.plane_padded = a.np[0] * a.np[1] * a.np[2];
    return a;
}

// The source index in [0, n) of padded index j in [0, n + 2 pad) (padding.cpp's source_index).
__device__ inline int64_t source_index(int64_t j, int64_t n, int64_t pad, int mode) {
    const int64_t i = j - pad;
    if (i >= 0 && i < n) return i;
    switch (mode) {
        case DCLS_PADDING_REFLECT: return i < 0 ? -i : 2 * (n - 1) - i;
        case DCLS_PADDING_REPLICATE: return i < 0 ? 0 : n - 1;
        default: return i < 0 ? i + n : i - n;  // circular
    }
}

// The padded indices whose source is i: up to three ranges [start, start + len) (len 0: none):
// the cell itself, and one range in each border.
struct Preimages {
    int64_t start0, len0, start1, len1, start2, len2;
};

__device__ inline Preimages preimages(int64_t i, int64_t n, int64_t p, int mode) {
    Preimages r{i + p, 1, 0, 0, 0, 0};
    if (p == 0) return r;
    switch (mode) {
        case DCLS_PADDING_REFLECT:
            if (i >= 1 && i <= p) r.start1 = p - i, r.len1 = 1;
            if (i >= n - 1 - p && i <= n - 2) r.start2 = 2 * (n - 1) - i + p, r.len2 = 1;
            break;
        case DCLS_PADDING_REPLICATE:
            if (i == 0) r.start1 = 0, r.len1 = p;
            if (i == n - 1) r.start2 = p + n, r.len2 = p;
            break;
        default:  // circular
            if (i >= n - p) r.start1 = i + p - n, r.len1 = 1;
            if (i < p) r.start2 = i + p + n, r.len2 = 1;
            break;
    }
    return r;
}

// Range r (0, 1 or 2) of a Preimages.
__device__ inline int64_t range_start(const Preimages &p, int r) { return r == 0 ? p.start0 : r == 1 ? p.start1 : p.start2; }
__device__ inline int64_t range_len(const Preimages &p, int r) { return r == 0 ? p.len0 : r == 1 ? p.len1 : p.len2; }

__global__ void pad_forward_kernel(Axes a, int mode, const float *__restrict__ src, float *__restrict__ dst) {
    const int64_t total = a.planes * a.plane_padded;
    for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
        const int64_t plane = e / a.plane_padded;
        const int64_t r = e % a.plane_padded;
        const int64_t jd = r / (a.np[1] * a.np[2]), jh = (r / a.np[2]) % a.np[1], jw = r % a.np[2];
        const int64_t id = source_index(jd, a.n[0], a.p[0], mode);
        const int64_t ih = source_index(jh, a.n[1], a.p[1], mode);
        const int64_t iw = source_index(jw, a.n[2], a.p[2], mode);
        dst[e] = src[plane * a.plane + (id * a.n[1] + ih) * a.n[2] + iw];
    }
}

__global__ void pad_backward_kernel(Axes a, int mode, const float *__restrict__ src, float *__restrict__ dst) {
    const int64_t total = a.planes * a.plane;
    for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
        const int64_t plane = e / a.plane;
        const int64_t r = e % a.plane;
        const int64_t i0 = r / (a.n[1] * a.n[2]), i1 = (r / a.n[2]) % a.n[1], i2 = r % a.n[2];
        const Preimages p0 = preimages(i0, a.n[0], a.p[0], mode);
        const Preimages p1 = preimages(i1, a.n[1], a.p[1], mode);
        const Preimages p2 = preimages(i2, a.n[2], a.p[2], mode);
        const float *base = src + plane * a.plane_padded;
        float sum = 0.f;
        for (int r0 = 0; r0 < 3; ++r0) {
            const int64_t b0 = range_start(p0, r0), e0 = b0 + range_len(p0, r0);
            for (int64_t j0 = b0; j0 < e0; ++j0)
                for (int r1 = 0; r1 < 3; ++r1) {
                    const int64_t b1 = range_start(p1, r1), e1 = b1 + range_len(p1, r1);
                    for (int64_t j1 = b1; j1 < e1; ++j1) {
                        const float *row = base + (j0 * a.np[1] + j1) * a.np[2];
                        for (int r2 = 0; r2 < 3; ++r2) {
                            const int64_t b2 = range_start(p2, r2), e2 = b2 + range_len(p2, r2);
                            for (int64_t j2 = b2; j2 < e2; ++j2) sum += row[j2];
                        }
                    }
                }
        }
        dst[e] = sum;
    }
}


}  // namespace

void pad_forward(cudaStream_t stream, const PadShape &shape, dcls_padding_mode mode, const float *src, float *dst) {
    const Axes a = axes_of(shape);
    DCLS_LAUNCH(pad_forward_kernel, grid_for(a.planes * a.plane_padded), kBlock, 0, stream)(a, mode, src, dst);
    check_launch("pad_forward_kernel");
}

void pad_backward(cudaStream_t stream, const PadShape &shape, dcls_padding_mode mode, const float *src, float *dst) {
    const Axes a = axes_of(shape);
    DCLS_LAUNCH(pad_backward_kernel, grid_for(a.planes * a.plane), kBlock, 0, stream)(a, mode, src, dst);
    check_launch("pad_backward_kernel");
}

}  // namespace cuda
}  // namespace dcls
