// Packing of plain C-order activations into channels-last planes, for the backward-weights
// kernels (depthwise_backward_weights_impl.h, dense_backward_weights_impl.h). Included, like
// them, inside an anonymous namespace of an instruction-set translation unit that has included
// <immintrin.h> and <cstring>; uses AVX2 only (every such unit has it) and no library inline
// function.

constexpr int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

// Prefetch distance, in floats, of the packing loads (each channel's rows are read in order).
constexpr int64_t kPrefetch = 128;

// Transposes 8 rows of 8 floats in place.
inline void transpose8x8(__m256 r[8]) {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// dst[i * ld + v] = src[v][offset + i] for v < valid, 0 for valid <= v < W; i in [0, count).
// W is a multiple of 8; dst and ld are 32-byte aligned.
template <int W>
void transpose_in(const float *const *src, int64_t valid, int64_t offset, int64_t count, float *dst, int64_t ld) {
    int64_t i = 0;
    for (; i + 8 <= count; i += 8) {
        for (int g = 0; g < W; g += 8) {
            __m256 r[8];
            for (int j = 0; j < 8; ++j) {
                if (g + j < valid) {
                    _mm_prefetch(reinterpret_cast<const char *>(src[g + j] + offset + i + kPrefetch), _MM_HINT_T0);
                    r[j] = _mm256_loadu_ps(src[g + j] + offset + i);
                } else {
                    r[j] = _mm256_setzero_ps();
                }
            }
            transpose8x8(r);
            for (int j = 0; j < 8; ++j) _mm256_store_ps(dst + (i + j) * ld + g, r[j]);
        }
    }
    for (; i < count; ++i)
        for (int v = 0; v < W; ++v) dst[i * ld + v] = v < valid ? src[v][offset + i] : 0.f;
}

// The padded input geometry shared by the kernels: three axes (d, h, w), the packed extent xp,
// and per axis the source index of each packed position (-1: zero padding); columns
// [col_lo, col_hi) are the contiguous interior.
struct PaddedRows {
    const int64_t *in, *xp;
    const int64_t *row_src_d, *row_src_h, *col_src_w;
    int64_t col_lo, col_hi;
};

// Packs W channels (the first `valid` of them real, at base + v * plane) of one padded input
// plane: dst[((jd * Xh + jh) * Xw + jw) * ld + v].
template <int W>
void pack_padded(const PaddedRows &g, const float *base, int64_t plane, int64_t valid, float *dst, int64_t ld) {
    const int64_t Xw = g.xp[2];
    const float *src[W];
    for (int64_t jd = 0; jd < g.xp[0]; ++jd) {
        const int64_t id = g.row_src_d[jd];
        for (int64_t jh = 0; jh < g.xp[1]; ++jh) {
            const int64_t ih = g.row_src_h[jh];
            float *row = dst + (jd * g.xp[1] + jh) * Xw * ld;
            if (id < 0 || ih < 0) {
                if (ld == W) {
                    std::memset(row, 0, sizeof(float) * Xw * W);
                } else {
                    for (int64_t jw = 0; jw < Xw; ++jw) std::memset(row + jw * ld, 0, sizeof(float) * W);
                }
                continue;
            }
            for (int64_t v = 0; v < valid; ++v) src[v] = base + v * plane + (id * g.in[1] + ih) * g.in[2];
            for (int64_t jw = 0; jw < Xw; ++jw) {
                if (jw == g.col_lo && g.col_hi > g.col_lo) {
                    transpose_in<W>(src, valid, g.col_src_w[jw], g.col_hi - g.col_lo, row + jw * ld, ld);
                    jw = g.col_hi - 1;
                    continue;
                }
                const int64_t iw = g.col_src_w[jw];
                float *cell = row + jw * ld;
                if (iw < 0) {
                    std::memset(cell, 0, sizeof(float) * W);
                } else {
                    for (int v = 0; v < W; ++v) cell[v] = v < valid ? src[v][iw] : 0.f;
                }
            }
        }
    }
}

// Packs W channels of an unpadded plane of `count` positions: dst[i * ld + v].
template <int W>
void pack_plain(const float *base, int64_t plane, int64_t valid, int64_t count, float *dst, int64_t ld) {
    const float *src[W];
    for (int64_t v = 0; v < valid; ++v) src[v] = base + v * plane;
    transpose_in<W>(src, valid, 0, count, dst, ld);
}

// bias[v] += sum_i g[i * ld + v] for v < width (a multiple of 8), in float segments of 256 terms.
inline void add_bias_rows(const float *g, int64_t count, int64_t ld, int64_t width, double *bias) {
    alignas(32) float lanes[8];
    for (int64_t w = 0; w < width; w += 8)
        for (int64_t begin = 0; begin < count; begin += 256) {
            const int64_t end = imin(begin + 256, count);
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
            int64_t i = begin;
            for (; i + 2 <= end; i += 2) {
                a0 = _mm256_add_ps(a0, _mm256_load_ps(g + i * ld + w));
                a1 = _mm256_add_ps(a1, _mm256_load_ps(g + (i + 1) * ld + w));
            }
            if (i < end) a0 = _mm256_add_ps(a0, _mm256_load_ps(g + i * ld + w));
            _mm256_store_ps(lanes, _mm256_add_ps(a0, a1));
            for (int v = 0; v < 8; ++v) bias[w + v] += lanes[v];
        }
}

// The inverse of pack_plain: dst[v][offset + i] = src[i * ld + v] for v < valid (dst[v] may be
// null beyond valid); i in [0, count). W is a multiple of 8; src and ld are 32-byte aligned.
template <int W>
void unpack_plain(const float *src, int64_t ld, int64_t count, float *const *dst, int64_t valid, int64_t offset) {
    int64_t i = 0;
    for (; i + 8 <= count; i += 8) {
        for (int g = 0; g < W && g < valid; g += 8) {
            __m256 r[8];
            for (int j = 0; j < 8; ++j) r[j] = _mm256_load_ps(src + (i + j) * ld + g);
            transpose8x8(r);
            for (int j = 0; j < 8 && g + j < valid; ++j) _mm256_storeu_ps(dst[g + j] + offset + i, r[j]);
        }
    }
    for (; i < count; ++i)
        for (int64_t v = 0; v < valid; ++v) dst[v][offset + i] = src[i * ld + v];
}
