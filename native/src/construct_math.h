// The mathematics of DCLS kernel construction, shared by the CPU path and a later CUDA path.
//
// Every interpolation is separable: the weight an element spreads onto grid cell idx is
// u(idx) = prod_d u_d(idx_d), where u_d depends on the element's centre c_d along axis d
// (and, for TRIANGLE_LEARNED_WIDTH and GAUSSIAN, on its sigma_d). This header gives the 1D
// factors u_d and their derivatives du_d/dc_d and du_d/dsigma_d, one grid cell at a time, plus
// the normalisation and its gradient. The functions are templates on the real type (double on
// the CPU; float or double on a GPU) and carry DCLS_HOST_DEVICE so CUDA code can call them.
//
// Conventions (those of the PyTorch reference, differentiated by autograd):
// - c_d = P[d] + dilated_kernel_size[d] / 2 (integer division); x = idx_d - c_d.
// - BILINEAR: f = floor(c), r = c - f; weight 1 - r at f and r at f + 1, 0 elsewhere; cells
//   outside the grid are dropped; no normalisation. floor has zero gradient, so
//   du/dc = -1 at f and +1 at f + 1 (the right-sided derivative).
// - TRIANGLE: u = relu(1 - |x|). TRIANGLE_LEARNED_WIDTH: u = relu(|sigma| + 1 - |x|).
//   GAUSSIAN: u = exp(-x^2 / (2 (|sigma| + 0.27)^2)) (+ 1 instead of + 0.27 for GAUSSIAN_UNIT_OFFSET).
//   These three are normalised: n(idx) = u(idx) / (S + 1e-7), S = sum of u over the whole grid.
// - Kinks: sign(0) = 0 (d|x|/dx at 0 is 0), relu'(0) = 0, d|sigma|/dsigma = sign(sigma).
#pragma once

#include <cmath>
#include <cstdint>

#include "dcls.h"

#if defined(__CUDACC__)
#define DCLS_HOST_DEVICE __host__ __device__
#else
#define DCLS_HOST_DEVICE
#endif

namespace dcls {
namespace math {

// S + kNormalisationEps is the divisor of the normalised interpolations.
constexpr double kNormalisationEps = 1e-7;
// The Gaussian's standard deviation is |sigma| + kGaussSigmaOffset, or |sigma| + 1 for
// DCLS_INTERPOLATION_GAUSSIAN_UNIT_OFFSET (the reference's Dcls2_1d).
constexpr double kGaussSigmaOffset = 0.27;
constexpr double kGaussUnitSigmaOffset = 1.0;

// The C ABI's interpolation as the math below sees it: DCLS_INTERPOLATION_GAUSSIAN_UNIT_OFFSET is
// DCLS_INTERPOLATION_GAUSSIAN with another sigma offset (gauss_sigma_offset), so the construction
// code keeps one Gaussian path.
DCLS_HOST_DEVICE inline int base_interpolation(int interpolation) {
    return interpolation == DCLS_INTERPOLATION_GAUSSIAN_UNIT_OFFSET ? DCLS_INTERPOLATION_GAUSSIAN : interpolation;
}

// What the Gaussian adds to |sigma| for the C ABI's `interpolation`.
DCLS_HOST_DEVICE inline double gauss_sigma_offset(int interpolation) {
    return interpolation == DCLS_INTERPOLATION_GAUSSIAN_UNIT_OFFSET ? kGaussUnitSigmaOffset : kGaussSigmaOffset;
}

// sign(x) with sign(0) = 0, as torch.sign and the derivative torch gives |x| at 0.
template <typename T>
DCLS_HOST_DEVICE inline T sign(T x) {
    return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
}

// relu'(x) with relu'(0) = 0, as torch.
template <typename T>
DCLS_HOST_DEVICE inline T relu_step(T x) {
    return x > T(0) ? T(1) : T(0);
}

// The centre of an element along an axis of `dilated_size` cells: position + dilated_size / 2.
template <typename T>
DCLS_HOST_DEVICE inline T centre(T position, int64_t dilated_size) {
    return position + T(dilated_size / 2);
}

// One cell's 1D weight and its derivatives with respect to the centre c and to sigma.
template <typename T>
struct AxisWeight {
    T u;
    T du_dc;
    T du_dsigma;
};

// What an element needs along one axis, derived once from its position and sigma.
//   c:     the centre (position + dilated_size / 2)
//   shape: BILINEAR, TRIANGLE: unused (1); TRIANGLE_LEARNED_WIDTH: the half-width |sigma| + 1;
//          GAUSSIAN: the inverse standard deviation 1 / (|sigma| + 0.27)
//   sigma_sign: sign(sigma) (0 for the interpolations without sigma)
template <typename T>
struct AxisParams {
    T c;
    T shape;
    T sigma_sign;
};

// `interpolation` is a base_interpolation; gauss_offset its gauss_sigma_offset.
template <typename T>
DCLS_HOST_DEVICE inline AxisParams<T> axis_params(int interpolation, T position, T sigma,
                                                 int64_t dilated_size, T gauss_offset) {
    AxisParams<T> a;
    a.c = centre(position, dilated_size);
    a.shape = T(1);
    a.sigma_sign = T(0);
    if (interpolation == DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH) {
        a.shape = std::fabs(sigma) + T(1);
        a.sigma_sign = sign(sigma);
    } else if (interpolation == DCLS_INTERPOLATION_GAUSSIAN) {
        a.shape = T(1) / (std::fabs(sigma) + gauss_offset);
        a.sigma_sign = sign(sigma);
    }
    return a;
}

// BILINEAR at cell idx.
template <typename T>
DCLS_HOST_DEVICE inline AxisWeight<T> bilinear_weight(int64_t idx, T c) {
    const T f = std::floor(c);
    const T r = c - f;
    const T fi = T(idx);
    if (fi == f) return {T(1) - r, T(-1), T(0)};
    if (fi == f + T(1)) return {r, T(1), T(0)};
    return {T(0), T(0), T(0)};
}

// TRIANGLE at offset x = idx - c: relu(1 - |x|).
template <typename T>
DCLS_HOST_DEVICE inline AxisWeight<T> triangle_weight(T x) {
    const T z = T(1) - std::fabs(x);
    // du/dc = relu'(z) * (-sign(x)) * dx/dc, dx/dc = -1.
    return {z > T(0) ? z : T(0), relu_step(z) * sign(x), T(0)};
}

// TRIANGLE_LEARNED_WIDTH at offset x = idx - c: relu(width - |x|), width = |sigma| + 1.
template <typename T>
DCLS_HOST_DEVICE inline AxisWeight<T> triangle_width_weight(T x, T width, T sigma_sign) {
    const T z = width - std::fabs(x);
    const T s = relu_step(z);
    return {z > T(0) ? z : T(0), s * sign(x), s * sigma_sign};
}

// GAUSSIAN at offset x = idx - c: exp(-t^2 / 2), t = x * inv_std, inv_std = 1 / (|sigma| + 0.27).
template <typename T>
DCLS_HOST_DEVICE inline AxisWeight<T> gauss_weight(T x, T inv_std, T sigma_sign) {
    const T t = x * inv_std;
    const T u = std::exp(T(-0.5) * t * t);
    const T ut = u * t * inv_std;  // du/dc = u t / std (dt/dc = -1/std, du/dt = -t u)
    return {u, ut, ut * t * sigma_sign};  // du/dstd = u t^2 / std, dstd/dsigma = sign(sigma)
}

// The weight of cell idx along one axis, for any interpolation.
template <typename T>
DCLS_HOST_DEVICE inline AxisWeight<T> axis_weight(int interpolation, const AxisParams<T> &a,
                                                 int64_t idx) {
    switch (interpolation) {
        case DCLS_INTERPOLATION_BILINEAR: return bilinear_weight(idx, a.c);
        case DCLS_INTERPOLATION_TRIANGLE: return triangle_weight(T(idx) - a.c);
        case DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH:
            return triangle_width_weight(T(idx) - a.c, a.shape, a.sigma_sign);
        default: return gauss_weight(T(idx) - a.c, a.shape, a.sigma_sign);
    }
}

// A position component clamped into [-(L / 2), L / 2] for an axis of dilated size L (L / 2 rounded
// down), as the reference's clamp_parameters; NaN stays NaN (dcls_positions_clamp, CPU and CUDA).
template <typename T>
DCLS_HOST_DEVICE inline T clamp_position(T v, int64_t dilated_size) {
    const T lim = T(dilated_size / 2);
    return v < -lim ? -lim : (v > lim ? lim : v);
}

// Whether the interpolation divides by S + eps.
DCLS_HOST_DEVICE inline bool is_normalised(int interpolation) {
    return interpolation != DCLS_INTERPOLATION_BILINEAR;
}

// Whether the interpolation has a sigma parameter.
DCLS_HOST_DEVICE inline bool has_sigma(int interpolation) {
    return interpolation == DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH ||
           interpolation == DCLS_INTERPOLATION_GAUSSIAN;
}

// Clamps v into [lo, hi]; NaN gives lo. For converting floating bounds to indices safely.
template <typename T>
DCLS_HOST_DEVICE inline int64_t clamp_index(T v, int64_t lo, int64_t hi) {
    if (!(v >= T(lo))) return lo;
    if (!(v <= T(hi))) return hi;
    return int64_t(v);
}

// A range [*lo, *hi) of cells of an axis of `size` cells outside which u, du/dc and du/dsigma
// are all 0. Conservative: cells inside may be 0 too (callers may trim).
template <typename T>
DCLS_HOST_DEVICE inline void axis_support(int interpolation, const AxisParams<T> &a, int64_t size,
                                          int64_t *lo, int64_t *hi) {
    T left, right;  // first and last candidate cell
    switch (interpolation) {
        case DCLS_INTERPOLATION_BILINEAR:
            left = std::floor(a.c);
            right = left + T(1);
            break;
        case DCLS_INTERPOLATION_TRIANGLE:
        case DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH: {
            const T half_width = interpolation == DCLS_INTERPOLATION_TRIANGLE ? T(1) : a.shape;
            // |idx - c| < half_width, widened by one cell against rounding.
            left = std::floor(a.c - half_width);
            right = std::ceil(a.c + half_width);
            break;
        }
        default:
            *lo = 0;
            *hi = size;
            return;
    }
    if (!(left <= right)) {  // NaN centre: no support
        *lo = *hi = 0;
        return;
    }
    *lo = clamp_index(left, 0, size);
    *hi = clamp_index(right + T(1), 0, size);
    if (*hi < *lo) *hi = *lo;
}

// Beyond |x| * inv_std = kGaussWindow a Gaussian factor is below 1e-45 (exp(-103.7)), and its
// derivatives with it: as a float it would be flushed to 0 (FTZ) or be far below any other term.
constexpr double kGaussWindow = 14.4;

// The cells [*lo, *hi) of an axis of `size` cells outside which an element's factor and its
// derivatives are 0 (GAUSSIAN: negligible, see kGaussWindow): the part of the kernel this element
// writes in the forward pass and reads (as a gradient) in the backward pass. Conservative.
template <typename T>
DCLS_HOST_DEVICE inline void axis_window(int interpolation, const AxisParams<T> &a, int64_t size,
                                         int64_t *lo, int64_t *hi) {
    if (interpolation != DCLS_INTERPOLATION_GAUSSIAN) {
        axis_support(interpolation, a, size, lo, hi);
        return;
    }
    const T reach = T(kGaussWindow) / a.shape;
    const T left = std::floor(a.c - reach), right = std::ceil(a.c + reach);
    if (!(left <= right)) {  // NaN centre or sigma: everything
        *lo = 0;
        *hi = size;
        return;
    }
    *lo = clamp_index(left, 0, size);
    *hi = clamp_index(right + T(1), 0, size);
    if (*hi < *lo) *hi = *lo;
}

// The gradient, with respect to a parameter theta of one element of weight w, of
// L = sum_idx g(idx) * w * u(idx) / (S + eps), given
//   inv_norm = 1 / (S + eps), g_n = sum_idx g u / (S + eps) (= dL/dw),
//   g_theta = sum_idx g du/dtheta, s_theta = dS/dtheta = sum_idx du/dtheta.
template <typename T>
DCLS_HOST_DEVICE inline T normalised_grad(T w, T inv_norm, T g_n, T g_theta, T s_theta) {
    return w * inv_norm * (g_theta - g_n * s_theta);
}

}  // namespace math
}  // namespace dcls
