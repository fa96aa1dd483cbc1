// dcls4j's depthwise convolution kernels (groups == in_channels; output channel o reads input
// channel o / m, m = out_channels / in_channels). Shapes are 3D (leading axes of size 1 for 1D
// and 2D); the convolution's own padding is zero padding.
//
// Forward (tiled): a block computes a tile of one output plane (n, o, od): 32 * R columns by
//   BY * RY rows, each thread R columns (32 apart: a warp reads consecutive shared-memory words)
//   by RY rows (BY apart). For each kernel depth slice it loads the input rows and columns the
//   tile reads, zero-filled outside the input, and the slice's KH x KW weights into shared
//   memory, then accumulates. The bias starts the sums.
// Backward data: with stride 1, the same kernel computes grad_x as the convolution of grad_y
//   with the flipped kernel and padding k - 1 - p, gathering the m output channels of each input
//   channel. With a larger stride, a generic kernel gathers per input element.
// Backward weights: the outputs are cut into segments (a row of up to TW outputs of one plane);
//   a block takes a chunk of segments for one output channel and a range of taps: each thread
//   holds 8 taps along w of one (kd, kh) row and one segment slot, and accumulates
//   grad_y[x] * input[x * s + kw] along the segment (a rolling window of 8 registers for stride 1).
//   The block sums its slots, and writes one partial per (chunk, o, tap); a second kernel adds the
//   chunks in a fixed order. Deterministic, no atomics.
// Shapes whose tiles do not fit in 48 KiB of shared memory run generic kernels (one thread per
// output, or one block per tap).
#include "depthwise_cuda.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "block_cuda.h"

namespace dcls {
namespace cuda {
namespace {

// Shared memory per block the kernels plan with (the CPU emulation of test_cuda_emu varies it).
#ifndef DCLS_MAX_SHARED_BYTES
#define DCLS_MAX_SHARED_BYTES (48 * 1024)
#endif
constexpr int kThreads = 256;
constexpr int kTapsPerThread = 8;
constexpr int64_t kMaxGrid = int64_t(1) << 30;

__host__ __device__ inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
__host__ __device__ inline int min32(int a, int b) { return a < b ? a : b; }

int grid_for(int64_t items, int threads) {
    return int(std::max<int64_t>(1, std::min<int64_t>((items + threads - 1) / threads, kMaxGrid)));
}

// ---- forward and stride-1 backward data: the tiled kernel ------------------------------------

struct TileArgs {
    int64_t batch;
    int64_t dst_channels, src_channels, mult;
    int64_t src[3], dst[3];
    int64_t k[3], s[3];
    int64_t pad[3];  // may be negative (backward data with padding > k - 1)
    int64_t tiles_x, tiles_y;
    bool backward;  // backward data: flipped kernel, input channel c gathers outputs c*m .. c*m+m-1
};

template <int R, int RY>
__global__ void __launch_bounds__(kThreads, 2) tiled_kernel(TileArgs a, const float *__restrict__ src,
                                                         const float *__restrict__ w,
                                                         const float *__restrict__ bias,
                                                         float *__restrict__ dst) {
    DCLS_SHARED_FLOATS(smem);
    const int tx = threadIdx.x, ty = threadIdx.y, by = blockDim.y;
    const int tid = ty * 32 + tx, nthreads = 32 * by;
    const int tw = 32 * R, th = by * RY;
    const int kd_n = int(a.k[0]), kh = int(a.k[1]), kw = int(a.k[2]);
    const int sh = int(a.s[1]), sw = int(a.s[2]);
    const int rows = (th - 1) * sh + kh, cols = (tw - 1) * sw + kw;
    float *tile = smem;
    float *ks = smem + rows * cols;
    const int64_t tiles = a.tiles_x * a.tiles_y;
    const int64_t planes = a.batch * a.dst_channels * a.dst[0];
    const int sources = a.backward ? int(a.mult) : 1;
    for (int64_t b = blockIdx.x; b < tiles * planes; b += gridDim.x) {
        const int64_t plane = b / tiles, t = b % tiles;
        const int64_t y0 = (t / a.tiles_x) * th, x0 = (t % a.tiles_x) * tw;
        const int64_t od = plane % a.dst[0], nq = plane / a.dst[0];
        const int64_t q = nq % a.dst_channels, n = nq / a.dst_channels;
        const float init = bias ? bias[q] : 0.f;
        float acc[RY][R];
#pragma unroll
        for (int i = 0; i < RY; ++i)
#pragma unroll
            for (int r = 0; r < R; ++r) acc[i][r] = init;
        const int64_t iy0 = y0 * sh - a.pad[1], ix0 = x0 * sw - a.pad[2];
        for (int j = 0; j < sources; ++j) {
            const int64_t sc = a.backward ? q * a.mult + j : q / a.mult;
            const int64_t kidx = a.backward ? q * a.mult + j : q;
            for (int kd = 0; kd < kd_n; ++kd) {
                const int64_t id = od * a.s[0] - a.pad[0] + kd;
                if (id < 0 || id >= a.src[0]) continue;  // uniform across the block
                const int kdw = a.backward ? kd_n - 1 - kd : kd;
                __syncthreads();  // the previous slice is no longer read
                const float *wk = w + (kidx * kd_n + kdw) * kh * kw;
                for (int e = tid; e < kh * kw; e += nthreads) ks[e] = a.backward ? wk[kh * kw - 1 - e] : wk[e];
                const float *sp = src + ((n * a.src_channels + sc) * a.src[0] + id) * a.src[1] * a.src[2];
                for (int e = tid; e < rows * cols; e += nthreads) {
                    const int64_t y = iy0 + e / cols, x = ix0 + e % cols;
                    tile[e] = (y >= 0 && y < a.src[1] && x >= 0 && x < a.src[2]) ? sp[y * a.src[2] + x] : 0.f;
                }
                __syncthreads();
                for (int ky = 0; ky < kh; ++ky) {
                    for (int kx = 0; kx < kw; ++kx) {
                        const float wv = ks[ky * kw + kx];
#pragma unroll
                        for (int i = 0; i < RY; ++i) {
                            const float *row = tile + ((ty + i * by) * sh + ky) * cols + kx;
#pragma unroll
                            for (int r = 0; r < R; ++r) acc[i][r] += wv * row[(tx + r * 32) * sw];
                        }
                    }
                }
            }
        }
        float *dp = dst + plane * a.dst[1] * a.dst[2];
#pragma unroll
        for (int i = 0; i < RY; ++i) {
            const int64_t oy = y0 + ty + i * by;
#pragma unroll
            for (int r = 0; r < R; ++r) {
                const int64_t ox = x0 + tx + r * 32;
                if (oy < a.dst[1] && ox < a.dst[2]) dp[oy * a.dst[2] + ox] = acc[i][r];
            }
        }
    }
}

// ---- generic kernels ----------------------------------------------------------------------------

// Forward, one thread per output: a = the forward's TileArgs (src = x, dst = y).
__global__ void generic_forward_kernel(TileArgs a, const float *__restrict__ x, const float *__restrict__ w,
                                       const float *__restrict__ bias, float *__restrict__ y) {
    const int64_t plane = a.dst[0] * a.dst[1] * a.dst[2];
    const int64_t total = a.batch * a.dst_channels * plane;
    for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
        const int64_t ox = e % a.dst[2], oy = (e / a.dst[2]) % a.dst[1], od = (e / (a.dst[1] * a.dst[2])) % a.dst[0];
        const int64_t q = (e / plane) % a.dst_channels, n = e / (plane * a.dst_channels);
        const int64_t c = q / a.mult;
        const float *xp = x + (n * a.src_channels + c) * a.src[0] * a.src[1] * a.src[2];
        const float *wp = w + q * a.k[0] * a.k[1] * a.k[2];
        float acc = bias ? bias[q] : 0.f;
        for (int64_t kd = 0; kd < a.k[0]; ++kd) {
            const int64_t id = od * a.s[0] - a.pad[0] + kd;
            if (id < 0 || id >= a.src[0]) continue;
            for (int64_t ky = 0; ky < a.k[1]; ++ky) {
                const int64_t iy = oy * a.s[1] - a.pad[1] + ky;
                if (iy < 0 || iy >= a.src[1]) continue;
                for (int64_t kx = 0; kx < a.k[2]; ++kx) {
                    const int64_t ix = ox * a.s[2] - a.pad[2] + kx;
                    if (ix < 0 || ix >= a.src[2]) continue;
                    acc += xp[(id * a.src[1] + iy) * a.src[2] + ix] * wp[(kd * a.k[1] + ky) * a.k[2] + kx];
                }
            }
        }
        y[e] = acc;
    }
}

// Backward data, any stride, one thread per input element: a = the forward's TileArgs
// (src = x's shape, dst = y's shape, pad = the convolution's padding).
__global__ void generic_backward_data_kernel(TileArgs a, const float *__restrict__ gy, const float *__restrict__ w,
                                             float *__restrict__ gx) {
    const int64_t plane = a.src[0] * a.src[1] * a.src[2];
    const int64_t total = a.batch * a.src_channels * plane;
    const int64_t out_plane = a.dst[0] * a.dst[1] * a.dst[2];
    for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
        const int64_t ix = e % a.src[2], iy = (e / a.src[2]) % a.src[1], id = (e / (a.src[1] * a.src[2])) % a.src[0];
        const int64_t c = (e / plane) % a.src_channels, n = e / (plane * a.src_channels);
        float acc = 0.f;
        for (int64_t j = 0; j < a.mult; ++j) {
            const int64_t o = c * a.mult + j;
            const float *gp = gy + (n * a.dst_channels + o) * out_plane;
            const float *wp = w + o * a.k[0] * a.k[1] * a.k[2];
            for (int64_t kd = 0; kd < a.k[0]; ++kd) {
                const int64_t td = id + a.pad[0] - kd;
                if (td < 0 || td % a.s[0] != 0 || td / a.s[0] >= a.dst[0]) continue;
                for (int64_t ky = 0; ky < a.k[1]; ++ky) {
                    const int64_t tyy = iy + a.pad[1] - ky;
                    if (tyy < 0 || tyy % a.s[1] != 0 || tyy / a.s[1] >= a.dst[1]) continue;
                    for (int64_t kx = 0; kx < a.k[2]; ++kx) {
                        const int64_t txx = ix + a.pad[2] - kx;
                        if (txx < 0 || txx % a.s[2] != 0 || txx / a.s[2] >= a.dst[2]) continue;
                        acc += gp[((td / a.s[0]) * a.dst[1] + tyy / a.s[1]) * a.dst[2] + txx / a.s[2]] *
                               wp[(kd * a.k[1] + ky) * a.k[2] + kx];
                    }
                }
            }
        }
        gx[e] = acc;
    }
}

// block_sum (block_cuda.h) sums over kBlock threads: the blocks that call it have kThreads.
static_assert(kThreads == kBlock, "block_sum needs blocks of kBlock threads");

// Backward weights, one block per (o, tap), for shapes the segment kernel cannot hold.
__global__ void __launch_bounds__(kThreads, 2) generic_backward_weights_kernel(TileArgs a, const float *__restrict__ x,
                                                                           const float *__restrict__ gy,
                                                                           float *__restrict__ gw, bool accumulate) {
    __shared__ float scratch[kThreads];
    const int64_t taps = a.k[0] * a.k[1] * a.k[2];
    const int64_t out_plane = a.dst[0] * a.dst[1] * a.dst[2];
    for (int64_t b = blockIdx.x; b < a.dst_channels * taps; b += gridDim.x) {
        const int64_t o = b / taps, tap = b % taps;
        const int64_t kd = tap / (a.k[1] * a.k[2]), ky = (tap / a.k[2]) % a.k[1], kx = tap % a.k[2];
        const int64_t c = o / a.mult;
        float sum = 0.f;
        for (int64_t e = threadIdx.x; e < a.batch * out_plane; e += blockDim.x) {
            const int64_t n = e / out_plane, r = e % out_plane;
            const int64_t ox = r % a.dst[2], oy = (r / a.dst[2]) % a.dst[1], od = r / (a.dst[1] * a.dst[2]);
            const int64_t id = od * a.s[0] - a.pad[0] + kd, iy = oy * a.s[1] - a.pad[1] + ky,
                          ix = ox * a.s[2] - a.pad[2] + kx;
            if (id < 0 || id >= a.src[0] || iy < 0 || iy >= a.src[1] || ix < 0 || ix >= a.src[2]) continue;
            sum += gy[(n * a.dst_channels + o) * out_plane + r] *
                   x[(((n * a.src_channels + c) * a.src[0] + id) * a.src[1] + iy) * a.src[2] + ix];
        }
        sum = block_sum(sum, scratch);
        if (threadIdx.x == 0) gw[b] = accumulate ? gw[b] + sum : sum;
    }
}

// ---- backward weights: the segment kernel ------------------------------------------------------

struct WeightsArgs {
    TileArgs t;  // the forward's shape: src = x, dst = y
    int tw, groups, slots, ngx, rows_max, span;
    int64_t g_all, segments, chunks, x_tiles;
};

__global__ void __launch_bounds__(kThreads, 2) weights_partial_kernel(WeightsArgs a, const float *__restrict__ x,
                                                                   const float *__restrict__ gy,
                                                                   float *__restrict__ partial) {
    DCLS_SHARED_FLOATS(smem);
    const TileArgs &t = a.t;
    const int tid = threadIdx.x;
    const int slot = tid / a.groups, gl = tid % a.groups;
    const int64_t o = blockIdx.x / a.chunks, chunk = blockIdx.x % a.chunks;
    const int64_t c = o / t.mult;
    const int64_t g0 = int64_t(blockIdx.y) * a.groups;
    const int64_t gg = g0 + gl;
    const bool active = slot < a.slots && gg < a.g_all;
    const int64_t rk0 = g0 / a.ngx;
    const int nrows = int((min64(a.g_all, g0 + a.groups) - 1) / a.ngx - rk0 + 1);
    const int my_row = int(gg / a.ngx - rk0);
    const int kx0 = int(gg % a.ngx) * kTapsPerThread;
    const int64_t kh = t.k[1], kw = t.k[2];
    const int sw = int(t.s[2]);
    const int64_t per = (a.segments + a.chunks - 1) / a.chunks;
    const int64_t s_begin = chunk * per, s_end = min64(a.segments, s_begin + per);
    float *gys = smem;
    float *xs = smem + a.slots * a.tw;
    const int64_t out_plane = t.dst[0] * t.dst[1] * t.dst[2];
    float acc[kTapsPerThread];
#pragma unroll
    for (int r = 0; r < kTapsPerThread; ++r) acc[r] = 0.f;

    for (int64_t base = s_begin; base < s_end; base += a.slots) {
        __syncthreads();  // the previous segments are no longer read
        for (int e = tid; e < a.slots * a.tw; e += kThreads) {
            const int sl = e / a.tw, xx = e % a.tw;
            const int64_t seg = base + sl;
            float v = 0.f;
            if (seg < s_end) {
                const int64_t x0 = (seg % a.x_tiles) * a.tw;
                const int64_t rowi = seg / a.x_tiles;  // (n, od, oy)
                const int64_t n = rowi / (t.dst[0] * t.dst[1]);
                const int64_t odoy = rowi % (t.dst[0] * t.dst[1]);
                if (x0 + xx < t.dst[2])
                    v = gy[(n * t.dst_channels + o) * out_plane + odoy * t.dst[2] + x0 + xx];
            }
            gys[e] = v;
        }
        const int per_slot = nrows * a.span;
        for (int e = tid; e < a.slots * per_slot; e += kThreads) {
            const int sl = e / per_slot, rem = e % per_slot;
            const int r = rem / a.span, cc = rem % a.span;
            const int64_t seg = base + sl;
            float v = 0.f;
            if (seg < s_end) {
                const int64_t x0 = (seg % a.x_tiles) * a.tw;
                const int64_t rowi = seg / a.x_tiles;
                const int64_t oy = rowi % t.dst[1], od = (rowi / t.dst[1]) % t.dst[0];
                const int64_t n = rowi / (t.dst[0] * t.dst[1]);
                const int64_t rk = rk0 + r;
                const int64_t kd = rk / kh, ky = rk % kh;
                const int64_t id = od * t.s[0] - t.pad[0] + kd, iy = oy * t.s[1] - t.pad[1] + ky;
                const int64_t ix = x0 * sw - t.pad[2] + cc;
                if (id >= 0 && id < t.src[0] && iy >= 0 && iy < t.src[1] && ix >= 0 && ix < t.src[2])
                    v = x[(((n * t.src_channels + c) * t.src[0] + id) * t.src[1] + iy) * t.src[2] + ix];
            }
            xs[(sl * a.rows_max + r) * a.span + cc] = v;
        }
        __syncthreads();
        const int64_t seg = base + slot;
        if (active && seg < s_end) {
            const int64_t x0 = (seg % a.x_tiles) * a.tw;
            const int count = int(min64(a.tw, t.dst[2] - x0));
            const float *row = xs + (slot * a.rows_max + my_row) * a.span + kx0;
            const float *g = gys + slot * a.tw;
            if (sw == 1) {
                float win[kTapsPerThread];
#pragma unroll
                for (int r = 0; r < kTapsPerThread; ++r) win[r] = row[r];
                for (int xx = 0; xx < count; ++xx) {
                    const float gv = g[xx];
#pragma unroll
                    for (int r = 0; r < kTapsPerThread; ++r) acc[r] += gv * win[r];
#pragma unroll
                    for (int r = 0; r < kTapsPerThread - 1; ++r) win[r] = win[r + 1];
                    win[kTapsPerThread - 1] = row[xx + kTapsPerThread];
                }
            } else {
                for (int xx = 0; xx < count; ++xx) {
                    const float gv = g[xx];
#pragma unroll
                    for (int r = 0; r < kTapsPerThread; ++r) acc[r] += gv * row[xx * sw + r];
                }
            }
        }
    }

    // Sum the slots (the shared memory holds at least kThreads * kTapsPerThread floats).
    __syncthreads();
    if (slot < a.slots)
#pragma unroll
        for (int r = 0; r < kTapsPerThread; ++r) smem[(slot * a.groups + gl) * kTapsPerThread + r] = acc[r];
    __syncthreads();
    if (slot == 0 && active) {
        const int64_t taps = t.k[0] * kh * kw;
        const int64_t rk = gg / a.ngx;
        float *out = partial + (chunk * t.dst_channels + o) * taps + rk * kw;
        for (int r = 0; r < kTapsPerThread; ++r) {
            if (kx0 + r >= kw) break;
            float sum = 0.f;
            for (int sl = 0; sl < a.slots; ++sl) sum += smem[(sl * a.groups + gl) * kTapsPerThread + r];
            out[kx0 + r] = sum;
        }
    }
}

// ---- backward weights: the tap-tile ("rows") kernel, stride 1 along h and w --------------------
//
// Each warp owns a tile of TA x TB taps (TA kernel rows by TB kernel columns, one kernel depth
// slice) and each lane an output column; a lane walks down its column, keeping the TA x TB input
// values its taps read at the current output row in registers: per output row it loads TB new
// input values and one grad_y value, and does TA * TB multiply-adds. The registers roll
// circularly (the row loop is unrolled by TA), so no moves. The accumulators stay in registers
// over all the block's work. A block takes one output channel, a group of up to 8 tap tiles of
// one depth slice (the warps' tiles; with fewer tiles than warps, several warps share a tile and
// split the rows), and a chunk of the work units (n, od, band of BR output rows): per unit it
// loads grad_y's band and the input rows and columns the group's taps read into shared memory
// (zero outside the input), so each input value loaded feeds every tap of the group.
// At the end the lanes and the warps sharing a tile are summed in a fixed order, and the block
// writes one partial per (chunk, o, tap); weights_finish_kernel adds the chunks. Deterministic.

struct RowsArgs {
    TileArgs t;            // the forward's shape: src = x, dst = y
    int ty_tiles, tx_tiles;  // tiles along kh (of TA) and kw (of TB)
    int groups_per_slice;  // tap groups per kernel depth slice
    int wt, rs;            // tap tiles per group (warps per row split), row splits
    int br;                // output rows per band
    int col_chunks;        // 32-column chunks of an output row
    int xrows, xcols, gcols;  // the shared tiles' sizes
    int64_t bands, units, chunks;
};

template <int TA, int TB>
__global__ void __launch_bounds__(kThreads, 2) weights_rows_kernel(RowsArgs a, const float *__restrict__ x,
                                                                const float *__restrict__ gy,
                                                                float *__restrict__ partial) {
    DCLS_SHARED_FLOATS(smem);
    const TileArgs &t = a.t;
    const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
    const int64_t o = blockIdx.x % t.dst_channels, chunk = blockIdx.x / t.dst_channels;
    const int64_t c = o / t.mult;
    const int kd = int(blockIdx.y) / a.groups_per_slice, grp = int(blockIdx.y) % a.groups_per_slice;
    const int slice_tiles = a.ty_tiles * a.tx_tiles;
    const int tile0 = grp * a.wt;
    const int ntiles = min32(a.wt, slice_tiles - tile0);
    const int my_tile = warp % a.wt, rsplit = warp / a.wt;
    const bool active = my_tile < ntiles && rsplit < a.rs;
    const int ty_min = tile0 / a.tx_tiles;
    const int tile = tile0 + my_tile;
    const int ky_off = (tile / a.tx_tiles - ty_min) * TA, kx0 = (tile % a.tx_tiles) * TB;
    const int kh = int(t.k[1]), kw = int(t.k[2]);
    float *xs = smem;
    float *gys = smem + a.xrows * a.xcols;

    float acc[TA][TB];
#pragma unroll
    for (int i = 0; i < TA; ++i)
#pragma unroll
        for (int j = 0; j < TB; ++j) acc[i][j] = 0.f;

    const int64_t u_begin = chunk * a.units / a.chunks, u_end = (chunk + 1) * a.units / a.chunks;
    const int64_t wo = t.dst[2];
    for (int64_t u = u_begin; u < u_end; ++u) {
        const int64_t band = u % a.bands, nod = u / a.bands;
        const int64_t od = nod % t.dst[0], n = nod / t.dst[0];
        const int64_t id = od * t.s[0] - t.pad[0] + kd;
        if (id < 0 || id >= t.src[0]) continue;  // uniform across the block
        const int64_t oy0 = band * a.br;
        const int bra = int(min64(a.br, t.dst[1] - oy0));
        __syncthreads();  // the previous unit is no longer read
        // A warp per row, the lanes along it (no divisions).
        const float *gp = gy + ((n * t.dst_channels + o) * t.dst[0] + od) * t.dst[1] * wo;
        for (int r = warp; r < a.br; r += kThreads / 32) {
            const float *src = gp + (oy0 + r) * wo;
            for (int j = lane; j < a.gcols; j += 32) gys[r * a.gcols + j] = (r < bra && j < wo) ? src[j] : 0.f;
        }
        const float *xp = x + ((n * t.src_channels + c) * t.src[0] + id) * t.src[1] * t.src[2];
        const int64_t iy0 = oy0 - t.pad[1] + int64_t(ty_min) * TA;
        for (int r = warp; r < a.xrows; r += kThreads / 32) {
            const int64_t iy = iy0 + r;
            const bool row_in = iy >= 0 && iy < t.src[1];
            const float *src = xp + iy * t.src[2] - t.pad[2];
            for (int j = lane; j < a.xcols; j += 32) {
                const int64_t ix = int64_t(j) - t.pad[2];
                xs[r * a.xcols + j] = (row_in && ix >= 0 && ix < t.src[2]) ? src[j] : 0.f;
            }
        }
        __syncthreads();
        if (!active) continue;
        const int rpg = (bra + a.rs - 1) / a.rs;
        const int r0 = rsplit * rpg, r1 = min32(bra, r0 + rpg);
        if (r0 >= r1) continue;
        for (int cc = 0; cc < a.col_chunks; ++cc) {
            const int ox = cc * 32 + lane;
            const float *xcol = xs + (ky_off + r0) * a.xcols + ox + kx0;
            const float *gcol = gys + r0 * a.gcols + ox;
            float win[TA][TB];
#pragma unroll
            for (int i = 0; i < TA - 1; ++i)
#pragma unroll
                for (int j = 0; j < TB; ++j) win[i][j] = xcol[i * a.xcols + j];
#pragma unroll
            for (int j = 0; j < TB; ++j) win[TA - 1][j] = 0.f;
            for (int r = 0; r < r1 - r0; r += TA) {
#pragma unroll
                for (int s = 0; s < TA; ++s) {
                    if (r + s < r1 - r0) {
                        const float *xr = xcol + (r + s + TA - 1) * a.xcols;
#pragma unroll
                        for (int j = 0; j < TB; ++j) win[(s + TA - 1) % TA][j] = xr[j];
                        const float g = gcol[(r + s) * a.gcols];
#pragma unroll
                        for (int i = 0; i < TA; ++i)
#pragma unroll
                            for (int j = 0; j < TB; ++j) acc[i][j] += g * win[(s + i) % TA][j];
                    }
                }
            }
        }
    }

    // Sum the lanes (shuffles), then the warps sharing a tile (in row-split order).
#pragma unroll
    for (int i = 0; i < TA; ++i)
#pragma unroll
        for (int j = 0; j < TB; ++j) {
            float v = acc[i][j];
            for (int off = 16; off > 0; off /= 2) v += __shfl_down_sync(0xffffffffu, v, off);
            acc[i][j] = v;
        }
    __syncthreads();  // the tiles are no longer read
    if (lane == 0)
#pragma unroll
        for (int i = 0; i < TA; ++i)
#pragma unroll
            for (int j = 0; j < TB; ++j) smem[warp * TA * TB + i * TB + j] = acc[i][j];
    __syncthreads();
    if (tid < ntiles * TA * TB) {
        const int ti = tid / (TA * TB), q = tid % (TA * TB);
        const int tl = tile0 + ti;
        const int ky = (tl / a.tx_tiles) * TA + q / TB, kx = (tl % a.tx_tiles) * TB + q % TB;
        if (ky < kh && kx < kw) {
            float sum = 0.f;
            for (int r = 0; r < a.rs; ++r) sum += smem[(r * a.wt + ti) * TA * TB + q];
            const int64_t taps = t.k[0] * kh * kw;
            partial[(chunk * t.dst_channels + o) * taps + (int64_t(kd) * kh + ky) * kw + kx] = sum;
        }
    }
}

// grad_w[o][tap] (+)= sum over the chunks of partial[chunk][o][tap], in chunk order.
__global__ void weights_finish_kernel(int64_t chunks, int64_t count, const float *__restrict__ partial,
                                      float *__restrict__ gw, bool accumulate) {
    for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < count; e += int64_t(gridDim.x) * blockDim.x) {
        float sum = 0.f;
        for (int64_t ch = 0; ch < chunks; ++ch) sum += partial[ch * count + e];
        gw[e] = accumulate ? gw[e] + sum : sum;
    }
}

// grad_bias[o] (+)= sum of grad_y over n and the output plane: one block per channel.
__global__ void __launch_bounds__(kThreads, 2) bias_grad_kernel(int64_t batch, int64_t channels, int64_t plane,
                                                             const float *__restrict__ gy, float *__restrict__ gb,
                                                             bool accumulate) {
    __shared__ float scratch[kThreads];
    for (int64_t o = blockIdx.x; o < channels; o += gridDim.x) {
        float sum = 0.f;
        for (int64_t n = 0; n < batch; ++n) {
            const float *p = gy + (n * channels + o) * plane;
            for (int64_t e = threadIdx.x; e < plane; e += blockDim.x) sum += p[e];
        }
        sum = block_sum(sum, scratch);
        if (threadIdx.x == 0) gb[o] = accumulate ? gb[o] + sum : sum;
    }
}

// ---- kernel windows -------------------------------------------------------------------------------

struct WindowArgs {
    int64_t count, k[3], lo[3], size[3];
};

// sub[i][box cell] = full[i][lo + box cell], one thread per box cell.
__global__ void window_gather_kernel(WindowArgs a, const float *__restrict__ full, float *__restrict__ sub) {
    const int64_t box = a.size[0] * a.size[1] * a.size[2], kvol = a.k[0] * a.k[1] * a.k[2];
    for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < a.count * box;
         e += int64_t(gridDim.x) * blockDim.x) {
        const int64_t i = e / box, r = e % box;
        const int64_t z = r / (a.size[1] * a.size[2]), y = (r / a.size[2]) % a.size[1], xx = r % a.size[2];
        sub[e] = full[i * kvol + ((a.lo[0] + z) * a.k[1] + a.lo[1] + y) * a.k[2] + a.lo[2] + xx];
    }
}

// full[i][cell] (+)= sub[i][cell - lo] inside the box, 0 outside; one thread per cell of full.
__global__ void window_scatter_kernel(WindowArgs a, const float *__restrict__ sub, float *__restrict__ full,
                                      bool accumulate) {
    const int64_t box = a.size[0] * a.size[1] * a.size[2], kvol = a.k[0] * a.k[1] * a.k[2];
    for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < a.count * kvol;
         e += int64_t(gridDim.x) * blockDim.x) {
        const int64_t i = e / kvol, r = e % kvol;
        const int64_t z = r / (a.k[1] * a.k[2]) - a.lo[0], y = (r / a.k[2]) % a.k[1] - a.lo[1], xx = r % a.k[2] - a.lo[2];
        const bool in = z >= 0 && z < a.size[0] && y >= 0 && y < a.size[1] && xx >= 0 && xx < a.size[2];
        const float v = in ? sub[i * box + (z * a.size[1] + y) * a.size[2] + xx] : 0.f;
        full[e] = accumulate ? full[e] + v : v;
    }
}

WindowArgs window_args(int64_t count, const int64_t k[3], const int64_t lo[3], const int64_t size[3]) {
    WindowArgs a{};
    a.count = count;
    for (int i = 0; i < 3; ++i) {
        a.k[i] = k[i];
        a.lo[i] = lo[i];
        a.size[i] = size[i];
    }
    return a;
}

// ---- host side -----------------------------------------------------------------------------------

TileArgs forward_args(const ConvGeometry &g) {
    TileArgs a{};
    a.batch = g.batch;
    a.dst_channels = g.out_channels;
    a.src_channels = g.in_channels;
    a.mult = g.out_channels / g.in_channels;
    for (int i = 0; i < 3; ++i) {
        a.src[i] = g.in[i];
        a.dst[i] = g.out[i];
        a.k[i] = g.k[i];
        a.s[i] = g.stride[i];
        a.pad[i] = g.pad[i];
    }
    a.backward = false;
    return a;
}

// The stride-1 backward data as a tiled convolution of grad_y with the flipped kernel.
TileArgs backward_data_args(const ConvGeometry &g) {
    TileArgs a = forward_args(g);
    a.dst_channels = g.in_channels;
    a.src_channels = g.out_channels;
    for (int i = 0; i < 3; ++i) {
        a.src[i] = g.out[i];
        a.dst[i] = g.in[i];
        a.pad[i] = g.k[i] - 1 - g.pad[i];
    }
    a.backward = true;
    return a;
}

DepthwiseConv::TileConfig choose_tile(const TileArgs &a) {
    DepthwiseConv::TileConfig c;
    c.by = a.dst[1] == 1 ? 1 : 8;
    c.ry = a.dst[1] == 1 ? 1 : a.dst[1] > 16 ? 4 : a.dst[1] > 8 ? 2 : 1;
    c.r = a.dst[2] > 64 ? 4 : a.dst[2] > 32 ? 2 : 1;
    for (;;) {
        const int64_t rows = (int64_t(c.by) * c.ry - 1) * a.s[1] + a.k[1];
        const int64_t cols = (32 * int64_t(c.r) - 1) * a.s[2] + a.k[2];
        const int64_t floats = rows * cols + a.k[1] * a.k[2];
        if (floats * int64_t(sizeof(float)) <= int64_t(DCLS_MAX_SHARED_BYTES)) {
            c.tiled = true;
            c.shared_bytes = size_t(floats) * sizeof(float);
            return c;
        }
        if (c.r > 1) c.r /= 2;
        else if (c.ry > 1) c.ry /= 2;
        else if (c.by > 1) c.by /= 2;
        else return DepthwiseConv::TileConfig{};  // generic
    }
}

// The tap-tile kernel's configuration; false where it does not apply (a stride along h or w, a
// kernel shorter than 4 along h, tiles that do not fit in the shared memory).
bool choose_rows(const ConvGeometry &g, int sm_count, DepthwiseConv::RowsConfig &r) {
    r = DepthwiseConv::RowsConfig{};
    if (g.stride[1] != 1 || g.stride[2] != 1 || g.k[1] < 4) return false;
    const int64_t kh = g.k[1], kw = g.k[2];
    // TA: fewest padded kernel rows per multiply-add (each tap-tile row costs TB + 1 loads per TA * TB).
    r.tb = 4;
    double best = 0;
    for (int ta : {8, 6, 4}) {
        const double cost = double((kh + ta - 1) / ta * ta) * (ta * r.tb + r.tb + 1) / (ta * r.tb);
        if (r.ta == 0 || cost < best - 1e-9) {
            r.ta = ta;
            best = cost;
        }
    }
    r.ty_tiles = int((kh + r.ta - 1) / r.ta);
    r.tx_tiles = int((kw + r.tb - 1) / r.tb);
    const int slice_tiles = r.ty_tiles * r.tx_tiles;
    const int warps = kThreads / 32;
    r.wt = std::min(slice_tiles, warps);
    r.rs = warps / r.wt;
    r.groups_per_slice = (slice_tiles + r.wt - 1) / r.wt;
    if (g.k[0] * r.groups_per_slice > 65535) return false;
    int span = 0;  // kernel rows a group's tiles cover, at most
    for (int gi = 0; gi < r.groups_per_slice; ++gi) {
        const int t0 = gi * r.wt, t1 = std::min(slice_tiles, t0 + r.wt) - 1;
        span = std::max(span, (t1 / r.tx_tiles - t0 / r.tx_tiles + 1) * r.ta);
    }
    r.col_chunks = int((g.out[2] + 31) / 32);
    r.gcols = 32 * r.col_chunks;
    r.xcols = r.gcols + r.tx_tiles * r.tb - 1;
    const int64_t max_floats = int64_t(DCLS_MAX_SHARED_BYTES) / int64_t(sizeof(float));
    const int64_t br_max = (max_floats - int64_t(span - 1) * r.xcols) / (r.xcols + r.gcols);
    if (br_max < 1 || max_floats < int64_t(warps) * r.ta * r.tb) return false;
    r.bands = (g.out[1] + std::min<int64_t>(br_max, g.out[1]) - 1) / std::min<int64_t>(br_max, g.out[1]);
    r.br = int((g.out[1] + r.bands - 1) / r.bands);  // the same number of rows in each band, about
    r.xrows = r.br + span - 1;
    const int64_t floats = std::max<int64_t>(int64_t(r.xrows) * r.xcols + int64_t(r.br) * r.gcols,
                                             int64_t(warps) * r.ta * r.tb);
    r.shared_bytes = size_t(floats) * sizeof(float);
    r.units = g.batch * g.out[0] * r.bands;
    const int64_t base = g.out_channels * g.k[0] * r.groups_per_slice;
    const int64_t target = 16 * int64_t(std::max(sm_count, 1));
    r.chunks = std::max<int64_t>(1, std::min<int64_t>((target + base - 1) / base, r.units));
    if (r.chunks * g.out_channels > kMaxGrid) return false;
    return true;
}

template <int TA>
void launch_rows(cudaStream_t stream, const DepthwiseConv::RowsConfig &c, const RowsArgs &a, const float *x,
                 const float *gy, float *partial) {
    const dim3 grid(unsigned(c.chunks * a.t.dst_channels), unsigned(a.t.k[0] * c.groups_per_slice));
    const auto kernel = weights_rows_kernel<TA, 4>;
    DCLS_LAUNCH(kernel, grid, kThreads, c.shared_bytes, stream)(a, x, gy, partial);
    check_launch("depthwise weights_rows_kernel");
}

template <int R, int RY>
void launch_tiled_rry(cudaStream_t stream, const DepthwiseConv::TileConfig &c, TileArgs a, const float *src,
                      const float *w, const float *bias, float *dst) {
    a.tiles_x = (a.dst[2] + 32 * R - 1) / (32 * R);
    a.tiles_y = (a.dst[1] + int64_t(c.by) * RY - 1) / (int64_t(c.by) * RY);
    const int64_t blocks = a.tiles_x * a.tiles_y * a.batch * a.dst_channels * a.dst[0];
    const dim3 block(32, unsigned(c.by));
    const auto kernel = tiled_kernel<R, RY>;
    const int grid = int(std::min<int64_t>(blocks, kMaxGrid));
    DCLS_LAUNCH(kernel, grid, block, c.shared_bytes, stream)(a, src, w, bias, dst);
    check_launch("depthwise tiled_kernel");
}

template <int R>
void launch_tiled_r(cudaStream_t stream, const DepthwiseConv::TileConfig &c, const TileArgs &a, const float *src,
                    const float *w, const float *bias, float *dst) {
    switch (c.ry) {
        case 1: launch_tiled_rry<R, 1>(stream, c, a, src, w, bias, dst); break;
        case 2: launch_tiled_rry<R, 2>(stream, c, a, src, w, bias, dst); break;
        default: launch_tiled_rry<R, 4>(stream, c, a, src, w, bias, dst); break;
    }
}

void launch_tiled(cudaStream_t stream, const DepthwiseConv::TileConfig &c, const TileArgs &a, const float *src,
                  const float *w, const float *bias, float *dst) {
    switch (c.r) {
        case 1: launch_tiled_r<1>(stream, c, a, src, w, bias, dst); break;
        case 2: launch_tiled_r<2>(stream, c, a, src, w, bias, dst); break;
        default: launch_tiled_r<4>(stream, c, a, src, w, bias, dst); break;
    }
}

std::string tile_info(const DepthwiseConv::TileConfig &c) {
    if (!c.tiled) return "dcls:depthwise-generic";
    return "dcls:depthwise-tiled(R=" + std::to_string(c.r) + ",RY=" + std::to_string(c.ry) +
           ",BY=" + std::to_string(c.by) + ")";
}

}  // namespace

void kernel_window_gather(cudaStream_t stream, int64_t count, const int64_t k[3], const int64_t lo[3],
                          const int64_t size[3], const float *full, float *sub) {
    const WindowArgs a = window_args(count, k, lo, size);
    DCLS_LAUNCH(window_gather_kernel, grid_for(count * size[0] * size[1] * size[2], kThreads), kThreads, 0, stream)(
        a, full, sub);
    check_launch("window_gather_kernel");
}

void kernel_window_scatter(cudaStream_t stream, int64_t count, const int64_t k[3], const int64_t lo[3],
                           const int64_t size[3], const float *sub, float *full, bool accumulate) {
    const WindowArgs a = window_args(count, k, lo, size);
    DCLS_LAUNCH(window_scatter_kernel, grid_for(count * k[0] * k[1] * k[2], kThreads), kThreads, 0, stream)(
        a, sub, full, accumulate);
    check_launch("window_scatter_kernel");
}

DepthwiseConv::DepthwiseConv(dcls_cuda_context &ctx, const ConvGeometry &g)
    : ctx_(ctx), g_(g), mult_(g.out_channels / g.in_channels) {
    require(eligible(g), "depthwise kernels need groups == in_channels");
    fwd_ = choose_tile(forward_args(g));
    const bool stride1 = g.stride[0] == 1 && g.stride[1] == 1 && g.stride[2] == 1;
    if (stride1) bwd_data_ = choose_tile(backward_data_args(g));

    // Backward weights: tap groups of 8 along w, segments of up to 64 outputs along w.
    WeightsConfig &w = bwd_weights_;
    const int64_t ngx = (g.k[2] + kTapsPerThread - 1) / kTapsPerThread;
    const int64_t g_all = g.k[0] * g.k[1] * ngx;
    w.groups = int(std::min<int64_t>(g_all, kThreads));
    w.slots = kThreads / w.groups;
    w.tap_blocks = int((g_all + w.groups - 1) / w.groups);
    w.rows_max = 1;
    for (int64_t tb = 0; tb < w.tap_blocks; ++tb) {
        const int64_t g0 = tb * w.groups, g1 = std::min<int64_t>(g_all, g0 + w.groups) - 1;
        w.rows_max = int(std::max<int64_t>(w.rows_max, g1 / ngx - g0 / ngx + 1));
    }
    bool fits = false;
    for (int64_t tw = std::min<int64_t>(g.out[2], 64); tw >= 1 && !fits; tw /= 2) {
        const int64_t span = (tw - 1) * g.stride[2] + ngx * kTapsPerThread + 1;
        const int64_t floats =
            std::max<int64_t>(int64_t(w.slots) * (tw + w.rows_max * span), int64_t(kThreads) * kTapsPerThread);
        if (floats * int64_t(sizeof(float)) <= int64_t(DCLS_MAX_SHARED_BYTES)) {
            fits = true;
            w.tw = int(tw);
            w.span = int(span);
            w.shared_bytes = size_t(floats) * sizeof(float);
        }
    }
    if (fits) {
        const int64_t x_tiles = (g.out[2] + w.tw - 1) / w.tw;
        w.segments = g.batch * g.out[0] * g.out[1] * x_tiles;
        const int64_t target = 8 * int64_t(std::max(ctx.sm_count, 1));
        const int64_t others = g.out_channels * w.tap_blocks;
        const int64_t max_chunks = std::max<int64_t>(1, w.segments / w.slots);
        w.chunks = std::min<int64_t>(std::max<int64_t>(1, (target + others - 1) / others), max_chunks);
        // The second dimension of the grid is the tap blocks (at most 65535).
        require(w.tap_blocks <= 65535, "depthwise kernel too large");
        partials_.allocate(ctx, size_t(w.chunks * g.out_channels * g.k_volume()) * sizeof(float));
    } else {
        w.groups = 0;  // generic
    }
    const int choice = ctx.depthwise_weights_kernel;
    if (choice != DCLS_CUDA_DEPTHWISE_WEIGHTS_SEGMENTS && choose_rows(g, ctx.sm_count, rows_) &&
        (choice == DCLS_CUDA_DEPTHWISE_WEIGHTS_ROWS || g.out[2] >= 16 || !fits)) {
        rows_.used = true;
        const size_t need = size_t(rows_.chunks * g.out_channels * g.k_volume()) * sizeof(float);
        if (partials_.size() < need) {
            partials_.reset();
            partials_.allocate(ctx, need);
        }
    } else {
        rows_.used = false;
    }
}

void DepthwiseConv::forward(const float *x, const float *w, const float *bias, float *y) {
    const TileArgs a = forward_args(g_);
    if (fwd_.tiled) {
        launch_tiled(ctx_.stream, fwd_, a, x, w, bias, y);
    } else {
        const int grid = grid_for(g_.batch * g_.out_channels * g_.out_plane(), kThreads);
        DCLS_LAUNCH(generic_forward_kernel, grid, kThreads, 0, ctx_.stream)(a, x, w, bias, y);
        check_launch("depthwise generic_forward_kernel");
    }
}

void DepthwiseConv::backward_data(const float *grad_y, const float *w, float *grad_x) {
    if (bwd_data_.tiled) {
        launch_tiled(ctx_.stream, bwd_data_, backward_data_args(g_), grad_y, w, nullptr, grad_x);
    } else {
        const int grid = grid_for(g_.batch * g_.in_channels * g_.in_plane(), kThreads);
        DCLS_LAUNCH(generic_backward_data_kernel, grid, kThreads, 0, ctx_.stream)(forward_args(g_), grad_y, w, grad_x);
        check_launch("depthwise generic_backward_data_kernel");
    }
}

void DepthwiseConv::backward_weights(const float *x, const float *grad_y, float *grad_w, float *grad_bias,
                                     bool accumulate) {
    const TileArgs t = forward_args(g_);
    const WeightsConfig &c = bwd_weights_;
    if (rows_.used) {
        const RowsConfig &r = rows_;
        RowsArgs a{};
        a.t = t;
        a.ty_tiles = r.ty_tiles;
        a.tx_tiles = r.tx_tiles;
        a.groups_per_slice = r.groups_per_slice;
        a.wt = r.wt;
        a.rs = r.rs;
        a.br = r.br;
        a.col_chunks = r.col_chunks;
        a.xrows = r.xrows;
        a.xcols = r.xcols;
        a.gcols = r.gcols;
        a.bands = r.bands;
        a.units = r.units;
        a.chunks = r.chunks;
        switch (r.ta) {
            case 8: launch_rows<8>(ctx_.stream, r, a, x, grad_y, partials_.floats()); break;
            case 6: launch_rows<6>(ctx_.stream, r, a, x, grad_y, partials_.floats()); break;
            default: launch_rows<4>(ctx_.stream, r, a, x, grad_y, partials_.floats()); break;
        }
        const int64_t count = g_.out_channels * g_.k_volume();
        DCLS_LAUNCH(weights_finish_kernel, grid_for(count, kThreads), kThreads, 0, ctx_.stream)(
            r.chunks, count, partials_.floats(), grad_w, accumulate);
        check_launch("depthwise weights_finish_kernel");
    } else if (c.groups > 0) {
        WeightsArgs a{};
        a.t = t;
        a.tw = c.tw;
        a.groups = c.groups;
        a.slots = c.slots;
        a.ngx = int((g_.k[2] + kTapsPerThread - 1) / kTapsPerThread);
        a.rows_max = c.rows_max;
        a.span = c.span;
        a.g_all = g_.k[0] * g_.k[1] * a.ngx;
        a.segments = c.segments;
        a.chunks = c.chunks;
        a.x_tiles = (g_.out[2] + c.tw - 1) / c.tw;
        const dim3 grid(unsigned(c.chunks * g_.out_channels), unsigned(c.tap_blocks));
        DCLS_LAUNCH(weights_partial_kernel, grid, kThreads, c.shared_bytes, ctx_.stream)(
            a, x, grad_y, partials_.floats());
        check_launch("depthwise weights_partial_kernel");
        const int64_t count = g_.out_channels * g_.k_volume();
        DCLS_LAUNCH(weights_finish_kernel, grid_for(count, kThreads), kThreads, 0, ctx_.stream)(
            c.chunks, count, partials_.floats(), grad_w, accumulate);
        check_launch("depthwise weights_finish_kernel");
    } else {
        const int64_t blocks = std::min<int64_t>(g_.out_channels * g_.k_volume(), kMaxGrid);
        DCLS_LAUNCH(generic_backward_weights_kernel, int(blocks), kThreads, 0, ctx_.stream)(
            t, x, grad_y, grad_w, accumulate);
        check_launch("depthwise generic_backward_weights_kernel");
    }
    if (grad_bias) {
        const int grid = int(std::min<int64_t>(g_.out_channels, kMaxGrid));
        DCLS_LAUNCH(bias_grad_kernel, grid, kThreads, 0, ctx_.stream)(
            g_.batch, g_.out_channels, g_.out_plane(), grad_y, grad_bias, accumulate);
        check_launch("depthwise bias_grad_kernel");
    }
}

std::string DepthwiseConv::forward_info() const { return tile_info(fwd_); }

std::string DepthwiseConv::backward_data_info() const {
    return bwd_data_.tiled ? tile_info(bwd_data_) + "-flipped" : std::string("dcls:depthwise-generic");
}

std::string DepthwiseConv::backward_weights_info() const {
    const WeightsConfig &c = bwd_weights_;
    if (rows_.used)
        return "dcls:depthwise-rows(TA=" + std::to_string(rows_.ta) + ",TB=" + std::to_string(rows_.tb) +
               ",BR=" + std::to_string(rows_.br) + ",chunks=" + std::to_string(rows_.chunks) +
               ",groups=" + std::to_string(rows_.groups_per_slice) + ")";
    if (c.groups == 0) return "dcls:depthwise-generic";
    return "dcls:depthwise-segments(TW=" + std::to_string(c.tw) + ",chunks=" + std::to_string(c.chunks) +
           ",slots=" + std::to_string(c.slots) + ")";
}

}  // namespace cuda
}  // namespace dcls
