// Kernel construction on the CPU.
//
// Every interpolation is separable (construct_math.h): element k of pair (o, i) spreads
// w * prod_d u_d(idx_d) / norm over the grid. So, per element, the 1D profiles u_d (and their
// derivatives) are computed once, over the cells where they are not zero (2 cells per axis for
// BILINEAR and TRIANGLE, 2|sigma| + 2 for TRIANGLE_LEARNED_WIDTH, the whole axis for GAUSSIAN),
// and S = prod_d sum(u_d) is exactly the grid sum.
// - forward: the kernel plane of a pair is the sum of K outer products of profiles: O(K * box)
//   per pair, box = the product of the profiles' extents (at most the plane's area).
// - backward: per element, the contractions of grad_kernel with the outer products of the
//   profiles and of one derivative at a time, e.g. sum g(i,j,l) u0(i) u1(j) du2(l), evaluated
//   axis by axis (axes 1 and 0 into vectors along the contiguous axis 2, then dot products) in
//   one pass over the box: O(K * box) per pair too. With n = u / (S + eps), the gradient of
//   sum g w n with respect to a parameter t is w / (S + eps) (sum g du/dt - sum g n * dS/dt),
//   and dS/dt = sum(du_a/dt) * prod of the other axes' sums (math::normalised_grad).
// - GAUSSIAN profiles use a vectorised exp (AVX2) when available; BILINEAR and TRIANGLE touch
//   2 cells per axis, so the work there is O(K * 2^ndim) per pair.
// - Denormals: FTZ/DAZ is set on each thread for the duration of the loops (or, without
//   MXCSR, results are flushed when stored), so Gaussian tails come out as exact zeros.
// Both loops run in parallel over the (o, i) pairs: every output belongs to one pair, so no
// atomics. Per-thread scratch is O(sum of the dilated sizes); no K x area temporary.
// The ndim < 3 cases run as 3D with leading axes of one cell whose profile is [1].
#include "construct_cpu.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#ifndef DCLS_HAVE_MXCSR
#define DCLS_HAVE_MXCSR 1
#endif
#endif
#ifndef DCLS_HAVE_MXCSR
#define DCLS_HAVE_MXCSR 0
#endif

#include "construct_geometry.h"
#include "construct_math.h"

namespace dcls {
namespace {

using math::AxisParams;
using math::AxisWeight;

// Sets flush-to-zero and denormals-are-zero on the calling thread for its lifetime: Gaussian
// tails would otherwise leave denormal floats in the results (slow in every later
// convolution), and computing with denormals is slow too.
class FlushDenormals {
public:
#if DCLS_HAVE_MXCSR
    FlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8040u); }  // FTZ | DAZ
    ~FlushDenormals() { _mm_setcsr(saved_); }

private:
    unsigned saved_;
#else
    FlushDenormals() {}
#endif
    FlushDenormals(const FlushDenormals &) = delete;
    FlushDenormals &operator=(const FlushDenormals &) = delete;
};

// Without MXCSR, results are flushed when stored.
inline float flush(float v) {
#if DCLS_HAVE_MXCSR
    return v;
#else
    return std::fabs(v) < 1.17549435e-38f ? 0.0f : v;
#endif
}

inline void store(float *out, double v, bool accumulate) {
    *out = flush(accumulate ? *out + float(v) : float(v));
}

// The construction's shape (construct_geometry.h), and the scratch sizes of this file's loops.
struct Geometry : ConstructGeometry<double> {
    explicit Geometry(const dcls_construct_desc &d) : ConstructGeometry<double>(construct_geometry<double>(d)) {}
    // Profile arrays are padded to whole vectors of 4 doubles (the Gaussian's are filled so).
    int64_t padded(int a) const { return (size[a] + 3) / 4 * 4; }
    // Three profile arrays per axis, and the contraction's eight vectors along axis 2.
    int64_t scratch_doubles() const { return 3 * (padded(0) + padded(1) + padded(2)) + 8 * size[2]; }
    int64_t scratch_floats() const { return size[2]; }
};

// One element's 1D profile along one axis: u, du/dc and du/dsigma, valid on [lo, hi) (indexed
// by cell), all zero outside. lo == hi when the element misses the axis entirely.
struct Profile {
    double *u;
    double *dc;
    double *ds;
    int64_t lo;
    int64_t hi;
    double sum_u;
    double sum_dc;
    double sum_ds;
};

// Per-thread scratch: the three profiles' arrays, a float copy of the innermost u and the
// backward's vectors along the innermost axis.
struct Scratch {
    Profile axis[3];
    float *u_inner;
    double *vec[8];

    Scratch(const Geometry &g, double *doubles, float *floats) : u_inner(floats) {
        for (int a = 0; a < 3; ++a) {
            const int64_t n = g.padded(a);
            axis[a].u = doubles;
            axis[a].dc = doubles + n;
            axis[a].ds = doubles + 2 * n;
            doubles += 3 * n;
        }
        for (int v = 0; v < 8; ++v) vec[v] = doubles + v * g.size[2];
    }
};

// Fills [p.lo, p.hi) from a per-cell weight function; kGrad: the derivatives too.
template <bool kGrad, typename WeightAt>
void fill_profile(Profile &p, WeightAt weight_at) {
    for (int64_t idx = p.lo; idx < p.hi; ++idx) {
        const AxisWeight<double> w = weight_at(idx);
        p.u[idx] = w.u;
        if (kGrad) {
            p.dc[idx] = w.du_dc;
            p.ds[idx] = w.du_dsigma;
        }
    }
}

#if defined(__AVX2__) && defined(__FMA__)
// exp(x) for 4 arguments x <= 0, to a relative error below 1e-11 (far below float's 6e-8);
// below -708 the result is 0 (a double denormal or less: nothing a float result can hold).
// NaN stays NaN.
inline __m256d exp_nonpositive(__m256d x) {
    const __m256d limit = _mm256_set1_pd(-708.0);
    const __m256d xc = _mm256_max_pd(limit, x);  // NaN in x passes through
    const __m256d shifter = _mm256_set1_pd(0x1.8p52);
    // k = round(x / ln 2), by the shifter trick; its integer sits in t's low mantissa bits.
    const __m256d t = _mm256_fmadd_pd(xc, _mm256_set1_pd(0x1.71547652b82fep0), shifter);
    const __m256d k = _mm256_sub_pd(t, shifter);
    __m256d r = _mm256_fnmadd_pd(k, _mm256_set1_pd(0x1.62e42fefa3800p-1), xc);
    r = _mm256_fnmadd_pd(k, _mm256_set1_pd(0x1.ef35793c76730p-45), r);
    // exp(r), |r| <= ln(2) / 2: Taylor series to degree 9 (truncation < 1e-11), by Estrin's
    // scheme (short dependency chains).
    auto c = [](double v) { return _mm256_set1_pd(v); };
    const __m256d r2 = _mm256_mul_pd(r, r), r4 = _mm256_mul_pd(r2, r2), r8 = _mm256_mul_pd(r4, r4);
    const __m256d q0 = _mm256_fmadd_pd(r, c(1.0), c(1.0));
    const __m256d q1 = _mm256_fmadd_pd(r, c(1.0 / 6.0), c(0.5));
    const __m256d q2 = _mm256_fmadd_pd(r, c(1.0 / 120.0), c(1.0 / 24.0));
    const __m256d q3 = _mm256_fmadd_pd(r, c(1.0 / 5040.0), c(1.0 / 720.0));
    const __m256d q4 = _mm256_fmadd_pd(r, c(1.0 / 362880.0), c(1.0 / 40320.0));
    const __m256d s0 = _mm256_fmadd_pd(q1, r2, q0);
    const __m256d s1 = _mm256_fmadd_pd(q3, r2, q2);
    const __m256d poly = _mm256_fmadd_pd(q4, r8, _mm256_fmadd_pd(s1, r4, s0));
    // 2^k: the exponent field k + 1023 (k in [-1022, 0] after the clamp).
    const __m256i bits = _mm256_slli_epi64(
        _mm256_add_epi64(_mm256_castpd_si256(t), _mm256_set1_epi64x(1023 - 0x4338000000000000LL)), 52);
    const __m256d result = _mm256_mul_pd(poly, _mm256_castsi256_pd(bits));
    return _mm256_andnot_pd(_mm256_cmp_pd(x, limit, _CMP_LT_OQ), result);
}
#endif

// GAUSSIAN over the whole axis (p.lo = 0, p.hi = size), filling whole vectors of 4 (the arrays
// are padded); sums over the real cells. u = exp(-(x a)^2 / 2), du/dc = u x a^2,
// du/dsigma = u x^2 a^3 sign(sigma), with x = idx - c and a = 1 / std.
template <bool kGrad>
void gauss_profile(const AxisParams<double> &a, int64_t size, Profile &p) {
    p.lo = 0;
    p.hi = size;
#if defined(__AVX2__) && defined(__FMA__)
    const __m256d c = _mm256_set1_pd(a.c), inv = _mm256_set1_pd(a.shape);
    const __m256d inv2 = _mm256_set1_pd(a.shape * a.shape);
    const __m256d sigma_factor = _mm256_set1_pd(a.shape * a.sigma_sign);
    const __m256d minus_half = _mm256_set1_pd(-0.5), last = _mm256_set1_pd(double(size) - 0.5);
    __m256d idx = _mm256_setr_pd(0.0, 1.0, 2.0, 3.0);
    __m256d su = _mm256_setzero_pd(), sc = _mm256_setzero_pd(), ss = _mm256_setzero_pd();
    // Local copies: the vector stores may alias anything, the Profile's pointers included.
    double *const pu = p.u, *const pdc = p.dc, *const pds = p.ds;
    for (int64_t i = 0; i < size; i += 4) {
        const __m256d x = _mm256_sub_pd(idx, c);
        const __m256d t = _mm256_mul_pd(x, inv);
        // The padding lanes (idx >= size) are zeroed so they stay out of the sums.
        const __m256d real = _mm256_cmp_pd(idx, last, _CMP_LT_OQ);
        const __m256d u = _mm256_and_pd(real, exp_nonpositive(_mm256_mul_pd(minus_half, _mm256_mul_pd(t, t))));
        _mm256_storeu_pd(pu + i, u);
        su = _mm256_add_pd(su, u);
        if (kGrad) {
            const __m256d dc = _mm256_mul_pd(_mm256_mul_pd(u, x), inv2);
            const __m256d ds = _mm256_mul_pd(_mm256_mul_pd(dc, x), sigma_factor);
            _mm256_storeu_pd(pdc + i, dc);
            _mm256_storeu_pd(pds + i, ds);
            sc = _mm256_add_pd(sc, dc);
            ss = _mm256_add_pd(ss, ds);
        }
        idx = _mm256_add_pd(idx, _mm256_set1_pd(4.0));
    }
    auto total = [](__m256d v) {
        alignas(32) double lanes[4];
        _mm256_store_pd(lanes, v);
        return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    };
    p.sum_u = total(su);
    p.sum_dc = kGrad ? total(sc) : 0.0;
    p.sum_ds = kGrad ? total(ss) : 0.0;
#else
    double su = 0.0, sc = 0.0, ss = 0.0;
    for (int64_t idx = 0; idx < size; ++idx) {
        const AxisWeight<double> w = math::gauss_weight(double(idx) - a.c, a.shape, a.sigma_sign);
        p.u[idx] = w.u;
        su += w.u;
        if (kGrad) {
            p.dc[idx] = w.du_dc;
            p.ds[idx] = w.du_dsigma;
            sc += w.du_dc;
            ss += w.du_dsigma;
        }
    }
    p.sum_u = su;
    p.sum_dc = sc;
    p.sum_ds = ss;
#endif
}

// Narrows [p.lo, p.hi) to the cells where the profile (kGrad: or a derivative) is not 0.
template <bool kGrad>
void trim(Profile &p) {
    auto zero = [&](int64_t idx) {
        return p.u[idx] == 0.0 && (!kGrad || (p.dc[idx] == 0.0 && p.ds[idx] == 0.0));
    };
    while (p.lo < p.hi && zero(p.lo)) ++p.lo;
    while (p.hi > p.lo && zero(p.hi - 1)) --p.hi;
}

template <bool kGrad>
void sum_profile(Profile &p) {
    double su = 0.0, sc = 0.0, ss = 0.0;
    for (int64_t idx = p.lo; idx < p.hi; ++idx) {
        su += p.u[idx];
        if (kGrad) {
            sc += p.dc[idx];
            ss += p.ds[idx];
        }
    }
    p.sum_u = su;
    p.sum_dc = sc;
    p.sum_ds = ss;
}

// Computes the profile of an element along a real axis of `size` cells: [p.lo, p.hi) is where
// it (kGrad: or a derivative) is not 0, the sums are over it. Without kGrad, only u is set.
template <bool kGrad>
void build_profile(int interpolation, const AxisParams<double> &a, int64_t size, Profile &p) {
    if (interpolation == DCLS_INTERPOLATION_GAUSSIAN) {
        gauss_profile<kGrad>(a, size, p);  // sums over all cells; trimming drops only zeros
        trim<kGrad>(p);
        return;
    }
    math::axis_support(interpolation, a, size, &p.lo, &p.hi);
    switch (interpolation) {
        case DCLS_INTERPOLATION_BILINEAR:
            fill_profile<kGrad>(p, [&](int64_t idx) { return math::bilinear_weight(idx, a.c); });
            break;
        case DCLS_INTERPOLATION_TRIANGLE:
            fill_profile<kGrad>(p, [&](int64_t idx) { return math::triangle_weight(double(idx) - a.c); });
            break;
        default:
            fill_profile<kGrad>(p, [&](int64_t idx) {
                return math::triangle_width_weight(double(idx) - a.c, a.shape, a.sigma_sign);
            });
            break;
    }
    // BILINEAR keeps a cell of weight 0 whose derivative is 1.
    trim<kGrad>(p);
    sum_profile<kGrad>(p);
}

// The profile of a padding axis (one cell, weight 1, no parameter).
void unit_profile(Profile &p) {
    p.u[0] = 1.0;
    p.dc[0] = 0.0;
    p.ds[0] = 0.0;
    p.lo = 0;
    p.hi = 1;
    p.sum_u = 1.0;
    p.sum_dc = 0.0;
    p.sum_ds = 0.0;
}

// Builds the three profiles of element k of pair `pair`; false when the element touches no
// cell (with no derivative either): then it contributes nothing, and its gradients are 0.
template <bool kGrad>
bool build_element(const Geometry &g, const float *positions, const float *sigma, int64_t pair,
                   int64_t k, Scratch &s) {
    const int64_t at = pair * g.count + k;
    bool touches = true;
    for (int a = 0; a < 3; ++a) {
        Profile &p = s.axis[a];
        if (a < g.first) {
            unit_profile(p);
            continue;
        }
        const int d = a - g.first;
        const double pos = positions[d * g.param_stride + at];
        const double sig = sigma ? double(sigma[d * g.param_stride + at]) : 0.0;
        const AxisParams<double> params = math::axis_params(g.interpolation, pos, sig, g.size[a], g.gauss_offset);
        build_profile<kGrad>(g.interpolation, params, g.size[a], p);
        if (p.lo == p.hi) {
            touches = false;
            break;
        }
    }
    return touches;
}

void forward_pair(const Geometry &g, const float *weight, const float *positions,
                  const float *sigma, int64_t pair, float *plane, Scratch &s) {
    std::memset(plane, 0, sizeof(float) * size_t(g.area));
    const bool normalised = math::is_normalised(g.interpolation);
    const int64_t n1 = g.size[1], n2 = g.size[2];
    for (int64_t k = 0; k < g.count; ++k) {
        if (!build_element<false>(g, positions, sigma, pair, k, s)) continue;
        const Profile &p0 = s.axis[0], &p1 = s.axis[1], &p2 = s.axis[2];
        const double w = weight[pair * g.count + k];
        const double norm = p0.sum_u * p1.sum_u * p2.sum_u + math::kNormalisationEps;
        const double scale = normalised ? w / norm : w;
        const int64_t lo2 = p2.lo, len2 = p2.hi - p2.lo;
        float *u2 = s.u_inner;
        for (int64_t l = 0; l < len2; ++l) u2[l] = float(p2.u[lo2 + l]);
        for (int64_t i = p0.lo; i < p0.hi; ++i) {
            const double a = scale * p0.u[i];
            for (int64_t j = p1.lo; j < p1.hi; ++j) {
                const float b = float(a * p1.u[j]);
                float *row = plane + (i * n1 + j) * n2 + lo2;
#pragma omp simd
                for (int64_t l = 0; l < len2; ++l) row[l] += b * u2[l];
            }
        }
    }
#if !DCLS_HAVE_MXCSR
    for (int64_t e = 0; e < g.area; ++e) plane[e] = flush(plane[e]);
#endif
}

// The contractions of one element with the grad_kernel plane g of its pair:
//   G        = sum g u0 u1 u2
//   gc[a]    = sum g (u with axis a's factor replaced by du_a/dc_a)
//   gs[a]    = the same with du_a/dsigma_a
// NV = 1: G only; 2: G and gc; 3: all.
struct Contractions {
    double G = 0.0;
    double gc[3] = {0.0, 0.0, 0.0};
    double gs[3] = {0.0, 0.0, 0.0};
};

// Axes 1 then 0 are contracted into vectors along axis 2 (contiguous, so the inner loops
// vectorise without horizontal sums), which are then dotted with the axis-2 profiles:
//   V*[l] = sum_j {u1, du1, ds1}[j] g[i][j][l]                      (per i)
//   W**[l] = sum_i {u0 Vu, du0 Vu, ds0 Vu, u0 Vc, u0 Vs}[l]
//   G = Wuu.u2, gc = (Wcu.u2, Wuc.u2, Wuu.du2), gs = (Wsu.u2, Wus.u2, Wuu.ds2).
#if defined(__AVX2__) && defined(__FMA__)
// With AVX2: in blocks of up to 8 cells of axis 2 (H = 2 vectors of 4 doubles: independent FMA
// chains; H = 1 for a last block of up to 4), whose V and W stay in registers.
struct ContractionSums {
    __m256d G, gc[3], gs[3];
};

template <int NV, int H>
void contract_block(const Geometry &g, const float *plane, const Scratch &s, int64_t l0, int m,
                    ContractionSums &acc) {
    const Profile &p0 = s.axis[0], &p1 = s.axis[1], &p2 = s.axis[2];
    const int64_t n1 = g.size[1], n2 = g.size[2];
    const int64_t lo2 = p2.lo;
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(m), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m256i mask64[2] = {_mm256_cvtepi32_epi64(_mm256_castsi256_si128(mask)),
                               _mm256_cvtepi32_epi64(_mm256_extracti128_si256(mask, 1))};
    const __m256d zero = _mm256_setzero_pd();
    __m256d wuu[H], wcu[H], wsu[H], wuc[H], wus[H];
    for (int h = 0; h < H; ++h) wuu[h] = wcu[h] = wsu[h] = wuc[h] = wus[h] = zero;
    for (int64_t i = p0.lo; i < p0.hi; ++i) {
        __m256d vu[H], vc[H], vs[H];
        for (int h = 0; h < H; ++h) vu[h] = vc[h] = vs[h] = zero;
        const float *base = plane + i * n1 * n2 + lo2 + l0;
        for (int64_t j = p1.lo; j < p1.hi; ++j) {
            __m256d v[H];
            if (H == 2) {
                const __m256 row = _mm256_maskload_ps(base + j * n2, mask);
                v[0] = _mm256_cvtps_pd(_mm256_castps256_ps128(row));
                v[H - 1] = _mm256_cvtps_pd(_mm256_extractf128_ps(row, 1));
            } else {
                v[0] = _mm256_cvtps_pd(_mm_maskload_ps(base + j * n2, _mm256_castsi256_si128(mask)));
            }
            const __m256d a = _mm256_broadcast_sd(p1.u + j);
            const __m256d b = _mm256_broadcast_sd(p1.dc + j);
            const __m256d c = _mm256_broadcast_sd(p1.ds + j);
            for (int h = 0; h < H; ++h) {
                vu[h] = _mm256_fmadd_pd(a, v[h], vu[h]);
                if (NV >= 2) vc[h] = _mm256_fmadd_pd(b, v[h], vc[h]);
                if (NV >= 3) vs[h] = _mm256_fmadd_pd(c, v[h], vs[h]);
            }
        }
        const __m256d a = _mm256_broadcast_sd(p0.u + i);
        const __m256d b = _mm256_broadcast_sd(p0.dc + i);
        const __m256d c = _mm256_broadcast_sd(p0.ds + i);
        for (int h = 0; h < H; ++h) {
            wuu[h] = _mm256_fmadd_pd(a, vu[h], wuu[h]);
            if (NV >= 2) {
                wcu[h] = _mm256_fmadd_pd(b, vu[h], wcu[h]);
                wuc[h] = _mm256_fmadd_pd(a, vc[h], wuc[h]);
            }
            if (NV >= 3) {
                wsu[h] = _mm256_fmadd_pd(c, vu[h], wsu[h]);
                wus[h] = _mm256_fmadd_pd(a, vs[h], wus[h]);
            }
        }
    }
    for (int h = 0; h < H; ++h) {
        // Masked: lanes past the profile's end may hold stale values (even NaN).
        const int64_t at = lo2 + l0 + 4 * h;
        const __m256d u2 = _mm256_maskload_pd(p2.u + at, mask64[h]);
        acc.G = _mm256_fmadd_pd(wuu[h], u2, acc.G);
        if (NV >= 2) {
            acc.gc[0] = _mm256_fmadd_pd(wcu[h], u2, acc.gc[0]);
            acc.gc[1] = _mm256_fmadd_pd(wuc[h], u2, acc.gc[1]);
            acc.gc[2] = _mm256_fmadd_pd(wuu[h], _mm256_maskload_pd(p2.dc + at, mask64[h]), acc.gc[2]);
        }
        if (NV >= 3) {
            acc.gs[0] = _mm256_fmadd_pd(wsu[h], u2, acc.gs[0]);
            acc.gs[1] = _mm256_fmadd_pd(wus[h], u2, acc.gs[1]);
            acc.gs[2] = _mm256_fmadd_pd(wuu[h], _mm256_maskload_pd(p2.ds + at, mask64[h]), acc.gs[2]);
        }
    }
}

template <int NV>
Contractions contract(const Geometry &g, const float *plane, Scratch &s) {
    const int64_t len = s.axis[2].hi - s.axis[2].lo;
    ContractionSums acc;
    acc.G = _mm256_setzero_pd();
    for (int a = 0; a < 3; ++a) acc.gc[a] = acc.gs[a] = acc.G;
    for (int64_t l0 = 0; l0 < len; l0 += 8) {
        const int m = int(std::min<int64_t>(8, len - l0));
        if (m > 4) contract_block<NV, 2>(g, plane, s, l0, m, acc);
        else contract_block<NV, 1>(g, plane, s, l0, m, acc);
    }
    auto total = [](__m256d v) {
        alignas(32) double lanes[4];
        _mm256_store_pd(lanes, v);
        return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    };
    Contractions r;
    r.G = total(acc.G);
    for (int a = 0; a < 3; ++a) {
        r.gc[a] = NV >= 2 ? total(acc.gc[a]) : 0.0;
        r.gs[a] = NV >= 3 ? total(acc.gs[a]) : 0.0;
    }
    return r;
}
#else
template <int NV>
Contractions contract(const Geometry &g, const float *plane, Scratch &s) {
    const Profile &p0 = s.axis[0], &p1 = s.axis[1], &p2 = s.axis[2];
    const int64_t n1 = g.size[1], n2 = g.size[2];
    const int64_t lo2 = p2.lo, len = p2.hi - p2.lo;
    double *vu = s.vec[0], *vc = s.vec[1], *vs = s.vec[2];
    double *wuu = s.vec[3], *wcu = s.vec[4], *wsu = s.vec[5], *wuc = s.vec[6], *wus = s.vec[7];
    for (int64_t l = 0; l < len; ++l) wuu[l] = wcu[l] = wsu[l] = wuc[l] = wus[l] = 0.0;
    for (int64_t i = p0.lo; i < p0.hi; ++i) {
        for (int64_t l = 0; l < len; ++l) vu[l] = vc[l] = vs[l] = 0.0;
        for (int64_t j = p1.lo; j < p1.hi; ++j) {
            const float *row = plane + (i * n1 + j) * n2 + lo2;
            const double a = p1.u[j], b = p1.dc[j], c = p1.ds[j];
            for (int64_t l = 0; l < len; ++l) {
                const double v = row[l];
                vu[l] += a * v;
                if (NV >= 2) vc[l] += b * v;
                if (NV >= 3) vs[l] += c * v;
            }
        }
        const double a = p0.u[i], b = p0.dc[i], c = p0.ds[i];
        for (int64_t l = 0; l < len; ++l) {
            wuu[l] += a * vu[l];
            wcu[l] += b * vu[l];
            wuc[l] += a * vc[l];
            wsu[l] += c * vu[l];
            wus[l] += a * vs[l];
        }
    }
    const double *u2 = p2.u + lo2, *c2 = p2.dc + lo2, *s2 = p2.ds + lo2;
    Contractions r;
    for (int64_t l = 0; l < len; ++l) {
        r.G += wuu[l] * u2[l];
        r.gc[0] += wcu[l] * u2[l];
        r.gc[1] += wuc[l] * u2[l];
        r.gc[2] += wuu[l] * c2[l];
        r.gs[0] += wsu[l] * u2[l];
        r.gs[1] += wus[l] * u2[l];
        r.gs[2] += wuu[l] * s2[l];
    }
    return r;
}
#endif

struct BackwardOutputs {
    float *grad_weight;
    float *grad_positions;
    float *grad_sigma;
    bool accumulate;
};

template <int NV>
void backward_pair(const Geometry &g, const float *weight, const float *positions,
                   const float *sigma, const float *plane, int64_t pair, const BackwardOutputs &out,
                   Scratch &s) {
    const bool normalised = math::is_normalised(g.interpolation);
    for (int64_t k = 0; k < g.count; ++k) {
        const int64_t at = pair * g.count + k;
        Contractions c;
        double dw = 0.0, dc[3] = {0.0, 0.0, 0.0}, ds[3] = {0.0, 0.0, 0.0};
        if (build_element<true>(g, positions, sigma, pair, k, s)) {
            c = contract<NV>(g, plane, s);
            const double w = weight[at];
            if (normalised) {
                const double su[3] = {s.axis[0].sum_u, s.axis[1].sum_u, s.axis[2].sum_u};
                const double inv = 1.0 / (su[0] * su[1] * su[2] + math::kNormalisationEps);
                dw = c.G * inv;
                for (int a = 0; a < 3; ++a) {
                    // dS/dtheta_a = sum(du_a) * prod of the other axes' sums.
                    const double others = su[(a + 1) % 3] * su[(a + 2) % 3];
                    dc[a] = math::normalised_grad(w, inv, dw, c.gc[a], s.axis[a].sum_dc * others);
                    ds[a] = math::normalised_grad(w, inv, dw, c.gs[a], s.axis[a].sum_ds * others);
                }
            } else {
                dw = c.G;
                for (int a = 0; a < 3; ++a) {
                    dc[a] = w * c.gc[a];
                    ds[a] = w * c.gs[a];
                }
            }
        }
        if (out.grad_weight) store(out.grad_weight + at, dw, out.accumulate);
        for (int d = 0; d < g.ndim; ++d) {
            if (out.grad_positions)
                store(out.grad_positions + d * g.param_stride + at, dc[d + g.first], out.accumulate);
            if (out.grad_sigma)
                store(out.grad_sigma + d * g.param_stride + at, ds[d + g.first], out.accumulate);
        }
    }
}

// Per-thread scratch for `threads` threads.
struct ScratchPool {
    std::vector<double> doubles;
    std::vector<float> floats;
    int64_t nd, nf;

    ScratchPool(const Geometry &g, int threads)
        : doubles(size_t(g.scratch_doubles() * threads)),
          floats(size_t(g.scratch_floats() * threads)),
          nd(g.scratch_doubles()),
          nf(g.scratch_floats()) {}
    Scratch at(const Geometry &g, int thread) {
        return Scratch(g, doubles.data() + nd * thread, floats.data() + nf * thread);
    }
};

int team_size(int64_t pairs) {
    const int64_t t = std::min<int64_t>(omp_get_max_threads(), pairs);
    return int(std::max<int64_t>(t, 1));
}

}  // namespace

void construct_forward_cpu(const dcls_construct_desc &desc, const float *weight,
                           const float *positions, const float *sigma, float *kernel) {
    const Geometry g(desc);
    const int threads = team_size(g.pairs);
    ScratchPool pool(g, threads);
#pragma omp parallel num_threads(threads)
    {
        const FlushDenormals ftz;
        Scratch s = pool.at(g, omp_get_thread_num());
#pragma omp for schedule(guided)
        for (int64_t pair = 0; pair < g.pairs; ++pair)
            forward_pair(g, weight, positions, sigma, pair, kernel + pair * g.area, s);
    }
}

constexpr int64_t kPrefetchPlane = 64, kPrefetchPairs = 8;

void construct_backward_cpu(const dcls_construct_desc &desc, const float *weight,
                            const float *positions, const float *sigma, const float *grad_kernel,
                            float *grad_weight, float *grad_positions, float *grad_sigma,
                            bool accumulate) {
    const Geometry g(desc);
    if (!math::has_sigma(g.interpolation)) grad_sigma = nullptr;
    if (!grad_weight && !grad_positions && !grad_sigma) return;
    const int nv = grad_sigma ? 3 : grad_positions ? 2 : 1;
    const BackwardOutputs out{grad_weight, grad_positions, grad_sigma, accumulate};
    const int threads = team_size(g.pairs);
    ScratchPool pool(g, threads);
#pragma omp parallel num_threads(threads)
    {
        const FlushDenormals ftz;
        Scratch s = pool.at(g, omp_get_thread_num());
#pragma omp for schedule(guided)
        for (int64_t pair = 0; pair < g.pairs; ++pair) {
            const float *plane = grad_kernel + pair * g.area;
            // Small planes (the delay layer's: 25 floats) are read a line or two each, too little
            // for the hardware prefetcher to run ahead of; ask for a few pairs ahead.
            if (g.area <= kPrefetchPlane && pair + kPrefetchPairs < g.pairs)
                for (int64_t e = 0; e < g.area; e += 16) __builtin_prefetch(plane + kPrefetchPairs * g.area + e);
            if (nv == 1) backward_pair<1>(g, weight, positions, sigma, plane, pair, out, s);
            else if (nv == 2) backward_pair<2>(g, weight, positions, sigma, plane, pair, out, s);
            else backward_pair<3>(g, weight, positions, sigma, plane, pair, out, s);
        }
    }
}

void construct_window_cpu(const dcls_construct_desc &desc, const float *positions,
                          const float *sigma, int64_t lo[3], int64_t hi[3]) {
    const Geometry g(desc);
    const int64_t elements = g.pairs * g.count;
    for (int d = 0; d < 3; ++d) {
        lo[d] = 0;
        hi[d] = 1;
        if (d >= g.ndim) continue;
        const int64_t size = g.size[g.first + d];
        int64_t min_lo = size, max_hi = 0;
#pragma omp parallel for reduction(min : min_lo) reduction(max : max_hi) schedule(static)
        for (int64_t e = 0; e < elements; ++e) {
            const double pos = positions[d * g.param_stride + e];
            const double sig = sigma ? double(sigma[d * g.param_stride + e]) : 0.0;
            int64_t l, h;
            const AxisParams<double> params = math::axis_params(g.interpolation, pos, sig, size, g.gauss_offset);
            math::axis_window(g.interpolation, params, size, &l, &h);
            if (l < h) {
                min_lo = std::min(min_lo, l);
                max_hi = std::max(max_hi, h);
            }
        }
        if (min_lo < max_hi) {
            lo[d] = min_lo;
            hi[d] = max_hi;
        }
    }
}

}  // namespace dcls
