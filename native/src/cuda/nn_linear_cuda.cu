// Linear on the channel axis of (B, in, S), as three GEMMs over strided views of the tensors, so
// that nothing is transposed in memory: forward Y(o, n) = sum_i W(o, i) X(i, n) with n = (b, s);
// backward data X'(i, n) = sum_o W(o, i) Y'(o, n); backward weights W'(o, i) = sum_n Y'(o, n) X(i, n).
// One tiled kernel serves the three: 64 x 64 tiles of C, 16 deep, each of the 256 threads
// computing 4 x 4 outputs from shared memory; the views' offsets are worked out per tile, not per
// element (their split indices divide). It is ours, not cuBLAS (no cuBLAS is linked or
// loaded); its speed is that of a plain tiled GEMM, a few times below cuBLAS on large layers.
// Its epilogue can fuse a GELU that follows the layer (forward: z = the layer's output, y = gelu(z),
// both written from registers) or that precedes it (backward data: X' times gelu'(z)), so that a
// Linear -> GELU -> Linear block needs no activation kernel and no pass over z of its own.
// Its prologue can fuse a LayerNorm that precedes the layer: B's values are normalised as they are
// loaded into shared memory, from the LayerNorm's per-column statistics, so that LN -> Linear never
// writes the normalised tensor (forward, and the weight gradient, which recomputes it).
#include <climits>

#include "block_cuda.h"
#include "gelu_cuda.h"
#include "nn_cuda.h"

namespace dcls {
namespace cuda {
namespace nn {
namespace {

constexpr int kTileM = 64, kTileN = 64, kTileK = 16;
constexpr int64_t kNoSplit = LLONG_MAX;

// An index split in two: i -> (i / inner) * outer + (i % inner) * step. With inner = kNoSplit,
// i -> i * step. (b, s) pairs of a (B, C, S) tensor are one such index.
struct Axis {
    int64_t step = 0, inner = kNoSplit, outer = 0;
};

__device__ inline int64_t at(const Axis &a, int64_t i) { return (i / a.inner) * a.outer + (i % a.inner) * a.step; }

// Element (r, k) of a matrix at at(rows, r) + at(cols, k). k_fast: neighbouring k are neighbours in
// memory, so a tile is read k first (else rows first), for coalesced loads.
struct View {
    Axis rows, cols;
    bool k_fast = false;
};

// What the GEMM does with each value v = sum_k A(m, k) B(n, k) [+ bias(m)] at C's offset o:
// kStore: C[o] = v [+ C[o]]; kGelu: z[o] = v, C[o] = gelu(v); kGeluGrad: C[o] = v * gelu'(z[o]).
// z has C's layout.
enum class Epilogue { kStore, kGelu, kGeluGrad };

// What the GEMM does to each value v of B as it loads it: kNone: nothing. kNormRows and kNormDepth:
// the channels-first LayerNorm's v' = (v - mean[col]) * rstd[col] * gamma[c] + beta[c], for B = x
// (B, C, S) viewed with its (b, s) column on B's rows and its channel c on the depth (kNormRows, the
// forward GEMM) or the other way round (kNormDepth, the weight gradient's GEMM). A template
// parameter, so that the GEMMs without it keep their inner loop.
enum class Prologue { kNone, kNormRows, kNormDepth };

// The LayerNorm's statistics (per column, B * S) and affine parameters (per channel) for the prologue.
struct Norm {
    const float *mean = nullptr, *rstd = nullptr, *gamma = nullptr, *beta = nullptr;
};

// C (m, n) = sum_k A(m, k) B(n, k) [+ C] [+ bias(m)].
struct Gemm {
    int64_t m = 0, n = 0, k = 0;
    View a, b, c;  // a: (m, k), b: (n, k), c: (m, n) with cols the n axis
};

// Loads a kTileK x 64 slice into tile[k][r]: element (r, k) at row_off[r] + col_off[k], zero where
// either is -1 (past the matrix).
__device__ inline void load_tile(bool k_fast, const float *p, const int64_t *row_off, const int64_t *col_off,
                                 float (*tile)[kTileM + 4]) {
    for (int e = threadIdx.x; e < kTileK * kTileM; e += kBlock) {
        const int r = k_fast ? e / kTileK : e % kTileM;
        const int kk = k_fast ? e % kTileK : e / kTileM;
        tile[kk][r] = row_off[r] >= 0 && col_off[kk] >= 0 ? p[row_off[r] + col_off[kk]] : 0.f;
    }
}

// load_tile, with each loaded value normalised: v' = (v - shift) * scale * gain + offset, where
// (shift, scale) are indexed by one of the tile's axes and (gain, offset) by the other (the
// prologue says which). Zero stays zero past the matrix, as the GEMM needs.
template <Prologue P>
__device__ inline void load_tile_norm(bool k_fast, const float *p, const int64_t *row_off, const int64_t *col_off,
                                      const float (*row_norm)[kTileN], const float (*depth_norm)[kTileK],
                                      float (*tile)[kTileM + 4]) {
    for (int e = threadIdx.x; e < kTileK * kTileM; e += kBlock) {
        const int r = k_fast ? e / kTileK : e % kTileM;
        const int kk = k_fast ? e % kTileK : e / kTileM;
        float v = 0.f;
        if (row_off[r] >= 0 && col_off[kk] >= 0) {
            v = p[row_off[r] + col_off[kk]];
            if constexpr (P == Prologue::kNormRows)
                v = (v - row_norm[0][r]) * row_norm[1][r] * depth_norm[0][kk] + depth_norm[1][kk];
            else
                v = (v - depth_norm[0][kk]) * depth_norm[1][kk] * row_norm[0][r] + row_norm[1][r];
        }
        tile[kk][r] = v;
    }
}

// The offset of index i of an axis of `extent`, or -1 past it.
__device__ inline int64_t offset_or_none(const Axis &a, int64_t i, int64_t extent) {
    return i < extent ? at(a, i) : -1;
}

// z_out: where kGelu writes z; z_in: the z that kGeluGrad reads (both null for kStore). norm: the
// prologue's LayerNorm (unused for kNone).
template <Epilogue E, Prologue P>
__global__ void gemm_kernel(Gemm g, const float *a, const float *b, float *c, const float *bias, int accumulate,
                            float *z_out, const float *z_in, Norm norm) {
    __shared__ float as[kTileK][kTileM + 4];
    __shared__ float bs[kTileK][kTileN + 4];
    // The split indices' offsets, worked out once per block (rows, C's columns) or per k step (the
    // depth), so that no thread divides per element.
    __shared__ int64_t a_row[kTileM], b_row[kTileN], c_row[kTileM], c_col[kTileN], a_col[kTileK], b_col[kTileK];
    // The prologue's per-row values of B's tile (mean and rstd, or gamma and beta) and per-depth ones.
    __shared__ float b_row_norm[P == Prologue::kNone ? 1 : 2][kTileN];
    __shared__ float b_depth_norm[P == Prologue::kNone ? 1 : 2][kTileK];
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
    const int64_t m0 = int64_t(blockIdx.y) * kTileM, n0 = int64_t(blockIdx.x) * kTileN;
    for (int t = threadIdx.x; t < kTileM; t += kBlock) {
        a_row[t] = offset_or_none(g.a.rows, m0 + t, g.m);
        c_row[t] = offset_or_none(g.c.rows, m0 + t, g.m);
        b_row[t] = offset_or_none(g.b.rows, n0 + t, g.n);
        c_col[t] = offset_or_none(g.c.cols, n0 + t, g.n);
        if constexpr (P != Prologue::kNone) {
            const int64_t i = n0 + t;  // a (b, s) column (kNormRows) or a channel (kNormDepth)
            if (i < g.n) {
                b_row_norm[0][t] = P == Prologue::kNormRows ? norm.mean[i] : norm.gamma[i];
                b_row_norm[1][t] = P == Prologue::kNormRows ? norm.rstd[i] : norm.beta[i];
            }
        }
    }
    float acc[4][4] = {};
    for (int64_t k0 = 0; k0 < g.k; k0 += kTileK) {
        const int t = threadIdx.x;
        if (t < kTileK) a_col[t] = offset_or_none(g.a.cols, k0 + t, g.k);
        else if (t < 2 * kTileK) b_col[t - kTileK] = offset_or_none(g.b.cols, k0 + t - kTileK, g.k);
        if constexpr (P != Prologue::kNone) {
            const int d = t - 2 * kTileK;
            const int64_t i = k0 + d;  // a channel (kNormRows) or a (b, s) column (kNormDepth)
            if (d >= 0 && d < kTileK && i < g.k) {
                b_depth_norm[0][d] = P == Prologue::kNormRows ? norm.gamma[i] : norm.mean[i];
                b_depth_norm[1][d] = P == Prologue::kNormRows ? norm.beta[i] : norm.rstd[i];
            }
        }
        __syncthreads();
        load_tile(g.a.k_fast, a, a_row, a_col, as);
        if constexpr (P == Prologue::kNone) load_tile(g.b.k_fast, b, b_row, b_col, bs);
        else load_tile_norm<P>(g.b.k_fast, b, b_row, b_col, b_row_norm, b_depth_norm, bs);
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < kTileK; ++kk) {
            float av[4], bv[4];
#pragma unroll
            for (int i = 0; i < 4; ++i) av[i] = as[kk][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; ++j) bv[j] = bs[kk][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j) acc[i][j] += av[i] * bv[j];
        }
        __syncthreads();
    }
    __syncthreads();  // c_row and c_col, when g.k is 0
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int r = ty + 16 * i;
        if (c_row[r] < 0) continue;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const int q = tx + 16 * j;
            if (c_col[q] < 0) continue;
            const int64_t o = c_row[r] + c_col[q];
            float v = acc[i][j];
            if (bias) v += bias[m0 + r];
            if (E == Epilogue::kGelu) {
                z_out[o] = v;
                c[o] = gelu_erf(v);
            } else if (E == Epilogue::kGeluGrad) {
                c[o] = v * gelu_erf_grad(z_in[o]);
            } else {
                c[o] = accumulate ? c[o] + v : v;
            }
        }
    }
}

template <Epilogue E = Epilogue::kStore, Prologue P = Prologue::kNone>
void gemm(cudaStream_t stream, const Gemm &g, const float *a, const float *b, float *c, const float *bias,
          bool accumulate, float *z_out = nullptr, const float *z_in = nullptr, Norm norm = Norm{}) {
    if (g.m == 0 || g.n == 0) return;
    const dim3 grid(unsigned((g.n + kTileN - 1) / kTileN), unsigned((g.m + kTileM - 1) / kTileM));
    const auto kernel = gemm_kernel<E, P>;  // one macro argument, whatever the template's arity
    DCLS_LAUNCH(kernel, grid, kBlock, 0, stream)(g, a, b, c, bias, accumulate ? 1 : 0, z_out, z_in, norm);
    check_launch("gemm_kernel");
}

Axis plain(int64_t step) { return Axis{step, kNoSplit, 0}; }
// The (b, s) index of a (B, C, S) tensor: s is contiguous, b steps over C * S.
Axis batch_inner(int64_t inner, int64_t channels) { return Axis{1, inner, channels * inner}; }

Gemm forward_gemm(LinearShape s) {
    Gemm g;
    g.m = s.out;
    g.n = s.batch * s.inner;
    g.k = s.in;
    g.a = View{plain(s.in), plain(1), true};                             // W (o, i)
    g.b = View{batch_inner(s.inner, s.in), plain(s.inner), s.inner == 1};  // X (n, i)
    g.c = View{plain(s.inner), batch_inner(s.inner, s.out), false};      // Y (o, n)
    return g;
}

Gemm backward_data_gemm(LinearShape s) {
    Gemm g;
    g.m = s.in;
    g.n = s.batch * s.inner;
    g.k = s.out;
    g.a = View{plain(1), plain(s.in), false};                              // W (i, o)
    g.b = View{batch_inner(s.inner, s.out), plain(s.inner), s.inner == 1};  // Y' (n, o)
    g.c = View{plain(s.inner), batch_inner(s.inner, s.in), false};         // X' (i, n)
    return g;
}

Gemm backward_weights_gemm(LinearShape s) {
    Gemm g;
    g.m = s.out;
    g.n = s.in;
    g.k = s.batch * s.inner;
    g.a = View{plain(s.inner), batch_inner(s.inner, s.out), s.inner > 1};  // Y' (o, n)
    g.b = View{plain(s.inner), batch_inner(s.inner, s.in), s.inner > 1};   // X (i, n)
    g.c = View{plain(s.in), plain(1), false};                              // W' (o, i)
    return g;
}

// grad_bias (or null) = the sum of grad_y over (B, S).
void bias_gradient(cudaStream_t stream, LinearShape s, const float *grad_y, float *grad_bias, bool accumulate) {
    if (grad_bias) {
        const int64_t src[3] = {s.batch, s.out, s.inner}, dst[3] = {1, s.out, 1};
        sum(stream, reduction_shape(3, src, dst), grad_y, grad_bias, accumulate);
    }
}

}  // namespace

void linear_forward(cudaStream_t stream, LinearShape s, const float *x, const float *weight, const float *bias,
                    float *y) {
    gemm(stream, forward_gemm(s), weight, x, y, bias, false);
}

void linear_backward_data(cudaStream_t stream, LinearShape s, const float *grad_y, const float *weight,
                          float *grad_x) {
    gemm(stream, backward_data_gemm(s), weight, grad_y, grad_x, nullptr, false);
}

void linear_backward_weights(cudaStream_t stream, LinearShape s, const float *x, const float *grad_y,
                             float *grad_weight, float *grad_bias, bool accumulate) {
    gemm(stream, backward_weights_gemm(s), grad_y, x, grad_weight, nullptr, accumulate);
    bias_gradient(stream, s, grad_y, grad_bias, accumulate);
}

// ---- GELU fused into the GEMM's epilogue --------------------------------------------------------

void linear_forward_gelu(cudaStream_t stream, LinearShape s, const float *x, const float *weight, const float *bias,
                         float *z, float *y) {
    gemm<Epilogue::kGelu>(stream, forward_gemm(s), weight, x, y, bias, false, z);
}

void linear_backward_data_gelu(cudaStream_t stream, LinearShape s, const float *grad_y, const float *weight,
                               const float *z, float *grad_z) {
    gemm<Epilogue::kGeluGrad>(stream, backward_data_gemm(s), weight, grad_y, grad_z, nullptr, false, nullptr, z);
}

// ---- a LayerNorm before the layer fused into the GEMM's prologue ------------------------------

void linear_forward_norm_gelu(cudaStream_t stream, LinearShape s, const float *x, const float *mean,
                              const float *rstd, const float *gamma, const float *beta, const float *weight,
                              const float *bias, float *z, float *y) {
    gemm<Epilogue::kGelu, Prologue::kNormRows>(stream, forward_gemm(s), weight, x, y, bias, false, z, nullptr,
                                               Norm{mean, rstd, gamma, beta});
}

void linear_backward_weights_norm(cudaStream_t stream, LinearShape s, const float *x, const float *mean,
                                  const float *rstd, const float *gamma, const float *beta, const float *grad_y,
                                  float *grad_weight, float *grad_bias, bool accumulate) {
    gemm<Epilogue::kStore, Prologue::kNormDepth>(stream, backward_weights_gemm(s), grad_y, x, grad_weight, nullptr,
                                                 accumulate, nullptr, nullptr, Norm{mean, rstd, gamma, beta});
    bias_gradient(stream, s, grad_y, grad_bias, accumulate);
}

}  // namespace nn
}  // namespace cuda
}  // namespace dcls
