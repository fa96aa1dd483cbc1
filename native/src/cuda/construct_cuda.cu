// Kernel construction on the device, with the CPU's mathematics (construct_math.h, unchanged).
//
// Element k of pair (o, i) spreads w * prod_d u_d(idx_d) / norm over the pair's plane of the
// dense kernel; every interpolation is separable, and u_d(idx) is zero outside a support range
// per axis (math::axis_support: two cells for bilinear and triangle, |sigma| + 1 either side for
// the learned-width triangle, the whole axis for the Gaussian).
//
// Forward: one block per pair (grid-stride over pairs). The elements are taken in chunks: first
//   one thread per element derives its axis parameters, supports and scale (w / (S + eps), with
//   S = prod_d sum(u_d) over the support, or w); then one thread per cell of the plane sums the
//   chunk's contributions to that cell. Each cell belongs to one thread: no atomics.
// Backward: one block per pair, one warp per element. The warp's lanes walk the cells of the
//   element's support box, accumulating the seven contractions of grad_kernel with the element's
//   profile and its derivatives (G, gc[3], gs[3], as on the CPU), and the per-axis sums of u and
//   its derivatives; a warp reduction gives them to lane 0, which writes the element's gradients.
//   Every gradient belongs to one element, so again no atomics.
// Axes: ndim < 3 is run as 3D with leading axes of one cell (weight 1, no parameter).
// Arithmetic is in float (Real below): results agree with the CPU's double evaluation to about
// 1e-6 relative.
#include "construct_cuda.h"

#include <algorithm>
#include <cstdint>

#include "../construct_geometry.h"
#include "construct_math.h"
#include "cuda_common.h"

namespace dcls {
namespace cuda {
namespace {

using Real = float;
using math::AxisParams;
using math::AxisWeight;

constexpr int kForwardThreads = 256;
constexpr int kForwardChunk = 256;  // elements per chunk (shared memory: kForwardChunk * sizeof(ElementInfo))
constexpr int kMaxGrid = 1 << 20;

// The construction's shape (construct_geometry.h), the Gaussian's offset in the kernels' Real.
using Geometry = ConstructGeometry<Real>;

Geometry geometry_of(const dcls_construct_desc &d) { return construct_geometry<Real>(d); }

// An element's parameters and support along one (real) axis.
struct AxisInfo {
    AxisParams<Real> p;
    int64_t lo, hi;
};

__device__ inline AxisInfo axis_info(const Geometry &g, int a, const float *positions, const float *sigma,
                                     int64_t at) {
    AxisInfo info;
    const int d = a - g.first;
    const Real pos = positions[d * g.param_stride + at];
    const Real sig = sigma ? Real(sigma[d * g.param_stride + at]) : Real(0);
    info.p = math::axis_params<Real>(g.interpolation, pos, sig, g.size[a], g.gauss_offset);
    math::axis_support<Real>(g.interpolation, info.p, g.size[a], &info.lo, &info.hi);
    return info;
}

// ---- forward ---------------------------------------------------------------------------------

struct ElementInfo {
    Real scale;
    AxisInfo axis[3];  // only the real axes [first, 3) are set
};

__global__ void construct_forward_kernel(Geometry g, const float *__restrict__ weight,
                                         const float *__restrict__ positions,
                                         const float *__restrict__ sigma, float *__restrict__ kernel) {
    __shared__ ElementInfo elements[kForwardChunk];
    const bool normalised = math::is_normalised(g.interpolation);
    const int64_t n1 = g.size[1], n2 = g.size[2];
    for (int64_t pair = blockIdx.x; pair < g.pairs; pair += gridDim.x) {
        float *plane = kernel + pair * g.area;
        for (int64_t k0 = 0; k0 < g.count; k0 += kForwardChunk) {
            const int n = int(g.count - k0 < kForwardChunk ? g.count - k0 : kForwardChunk);
            for (int e = threadIdx.x; e < n; e += blockDim.x) {
                const int64_t at = pair * g.count + k0 + e;
                ElementInfo info;
                Real s = Real(1);
#pragma unroll
                for (int a = 0; a < 3; ++a) {
                    if (a < g.first) continue;
                    info.axis[a] = axis_info(g, a, positions, sigma, at);
                    Real sum = Real(0);
                    for (int64_t idx = info.axis[a].lo; idx < info.axis[a].hi; ++idx)
                        sum += math::axis_weight<Real>(g.interpolation, info.axis[a].p, idx).u;
                    s *= sum;
                }
                const Real w = weight[at];
                info.scale = normalised ? w / (s + Real(math::kNormalisationEps)) : w;
                elements[e] = info;
            }
            __syncthreads();
            for (int64_t cell = threadIdx.x; cell < g.area; cell += blockDim.x) {
                const int64_t idx[3] = {cell / (n1 * n2), (cell / n2) % n1, cell % n2};
                Real acc = k0 == 0 ? Real(0) : Real(plane[cell]);
                for (int e = 0; e < n; ++e) {
                    const ElementInfo &info = elements[e];
                    Real v = info.scale;
#pragma unroll
                    for (int a = 0; a < 3; ++a) {
                        if (a < g.first || v == Real(0)) continue;
                        const AxisInfo &ax = info.axis[a];
                        if (idx[a] < ax.lo || idx[a] >= ax.hi) v = Real(0);
                        else v *= math::axis_weight<Real>(g.interpolation, ax.p, idx[a]).u;
                    }
                    acc += v;
                }
                plane[cell] = float(acc);
            }
            __syncthreads();
        }
    }
}

// ---- backward --------------------------------------------------------------------------------

struct Outputs {
    float *grad_weight;
    float *grad_positions;
    float *grad_sigma;
    bool accumulate;
};

__device__ inline Real warp_sum(Real v) {
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
    return v;
}

__device__ inline void store(float *out, Real v, bool accumulate) {
    *out = accumulate ? *out + float(v) : float(v);
}

// The weight of cell idx along axis a: a leading unit axis has weight 1 at its only cell.
__device__ inline AxisWeight<Real> weight_at(const Geometry &g, const AxisInfo *axes, int a, int64_t idx) {
    if (a < g.first) return {Real(1), Real(0), Real(0)};
    return math::axis_weight<Real>(g.interpolation, axes[a].p, idx);
}

__global__ void construct_backward_kernel(Geometry g, const float *__restrict__ weight,
                                          const float *__restrict__ positions,
                                          const float *__restrict__ sigma,
                                          const float *__restrict__ grad_kernel, Outputs out) {
    const int lane = threadIdx.x % 32;
    const int warp = threadIdx.x / 32;
    const int warps = blockDim.x / 32;
    const bool normalised = math::is_normalised(g.interpolation);
    const int64_t n1 = g.size[1], n2 = g.size[2];
    for (int64_t pair = blockIdx.x; pair < g.pairs; pair += gridDim.x) {
        const float *plane = grad_kernel + pair * g.area;
        for (int64_t k = warp; k < g.count; k += warps) {
            const int64_t at = pair * g.count + k;
            AxisInfo axes[3];
            int64_t len[3];
#pragma unroll
            for (int a = 0; a < 3; ++a) {
                if (a < g.first) {
                    axes[a].lo = 0;
                    axes[a].hi = 1;
                } else {
                    axes[a] = axis_info(g, a, positions, sigma, at);
                }
                len[a] = axes[a].hi - axes[a].lo;
            }
            // Per-axis sums of u, du/dc and du/dsigma over the support.
            Real su[3], sc[3], ss[3];
#pragma unroll
            for (int a = 0; a < 3; ++a) {
                Real u = Real(0), c = Real(0), s = Real(0);
                for (int64_t idx = axes[a].lo + lane; idx < axes[a].hi; idx += 32) {
                    const AxisWeight<Real> w = weight_at(g, axes, a, idx);
                    u += w.u;
                    c += w.du_dc;
                    s += w.du_dsigma;
                }
                su[a] = warp_sum(u);
                sc[a] = warp_sum(c);
                ss[a] = warp_sum(s);
            }
            // The contractions over the support box.
            Real G = Real(0), gc[3] = {Real(0), Real(0), Real(0)}, gs[3] = {Real(0), Real(0), Real(0)};
            const int64_t box = len[0] * len[1] * len[2];
            for (int64_t b = lane; b < box; b += 32) {
                const int64_t i = axes[0].lo + b / (len[1] * len[2]);
                const int64_t j = axes[1].lo + (b / len[2]) % len[1];
                const int64_t l = axes[2].lo + b % len[2];
                const AxisWeight<Real> w0 = weight_at(g, axes, 0, i);
                const AxisWeight<Real> w1 = weight_at(g, axes, 1, j);
                const AxisWeight<Real> w2 = weight_at(g, axes, 2, l);
                const Real v = plane[(i * n1 + j) * n2 + l];
                const Real u12 = w1.u * w2.u, u02 = w0.u * w2.u, u01 = w0.u * w1.u;
                G += v * w0.u * u12;
                gc[0] += v * w0.du_dc * u12;
                gc[1] += v * w1.du_dc * u02;
                gc[2] += v * w2.du_dc * u01;
                gs[0] += v * w0.du_dsigma * u12;
                gs[1] += v * w1.du_dsigma * u02;
                gs[2] += v * w2.du_dsigma * u01;
            }
            G = warp_sum(G);
            for (int a = 0; a < 3; ++a) {
                gc[a] = warp_sum(gc[a]);
                gs[a] = warp_sum(gs[a]);
            }
            if (lane == 0) {
                const Real w = weight[at];
                Real dw, dc[3], ds[3];
                if (normalised) {
                    const Real inv = Real(1) / (su[0] * su[1] * su[2] + Real(math::kNormalisationEps));
                    dw = G * inv;
                    for (int a = 0; a < 3; ++a) {
                        // dS/dtheta_a = sum(du_a) * prod of the other axes' sums.
                        const Real others = su[(a + 1) % 3] * su[(a + 2) % 3];
                        dc[a] = math::normalised_grad(w, inv, dw, gc[a], sc[a] * others);
                        ds[a] = math::normalised_grad(w, inv, dw, gs[a], ss[a] * others);
                    }
                } else {
                    dw = G;
                    for (int a = 0; a < 3; ++a) {
                        dc[a] = w * gc[a];
                        ds[a] = w * gs[a];
                    }
                }
                if (out.grad_weight) store(out.grad_weight + at, dw, out.accumulate);
#pragma unroll
                for (int a = 0; a < 3; ++a) {
                    if (a < g.first) continue;
                    const int64_t offset = (a - g.first) * g.param_stride + at;
                    if (out.grad_positions) store(out.grad_positions + offset, dc[a], out.accumulate);
                    if (out.grad_sigma) store(out.grad_sigma + offset, ds[a], out.accumulate);
                }
            }
        }
    }
}

}  // namespace

void construct_forward(cudaStream_t stream, const dcls_construct_desc &desc, const float *weight,
                       const float *positions, const float *sigma, float *kernel) {
    const Geometry g = geometry_of(desc);
    const int grid = int(std::min<int64_t>(g.pairs, kMaxGrid));
    const int threads = int(std::min<int64_t>(kForwardThreads, (g.area + 31) / 32 * 32));
    DCLS_LAUNCH(construct_forward_kernel, grid, std::max(threads, 32), 0, stream)(
        g, weight, positions, math::has_sigma(g.interpolation) ? sigma : nullptr, kernel);
    check_launch("construct_forward_kernel");
}

void construct_backward(cudaStream_t stream, const dcls_construct_desc &desc, const float *weight,
                        const float *positions, const float *sigma, const float *grad_kernel,
                        float *grad_weight, float *grad_positions, float *grad_sigma, bool accumulate) {
    const Geometry g = geometry_of(desc);
    if (!math::has_sigma(g.interpolation)) grad_sigma = nullptr;
    if (!grad_weight && !grad_positions && !grad_sigma) return;
    const int grid = int(std::min<int64_t>(g.pairs, kMaxGrid));
    const int warps = int(std::min<int64_t>(8, g.count));
    DCLS_LAUNCH(construct_backward_kernel, grid, 32 * warps, 0, stream)(
        g, weight, positions, math::has_sigma(g.interpolation) ? sigma : nullptr, grad_kernel,
        Outputs{grad_weight, grad_positions, grad_sigma, accumulate});
    check_launch("construct_backward_kernel");
}

}  // namespace cuda
}  // namespace dcls
