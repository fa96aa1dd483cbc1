// The depthwise backward-weights kernel, written once over a vector type `Isa` and included by
// one translation unit per instruction set, inside an anonymous namespace after that unit has
// defined `Isa` and included <immintrin.h>, <omp.h>, <cstring> and <utility>. It includes
// nothing itself and uses no inline function from a library header (std::min and the like):
// an inline function instantiated here would be compiled for this unit's instruction set, and
// the linker could keep that copy for the whole library.
//
// Isa provides: V (lanes), T (output columns per register block), KB_MAX (widest kw block),
// ACC_BUDGET (accumulator registers), vec, zero(), load(p) (aligned), store(p, v), fma(a, b, c)
// = a * b + c, add(a, b).
//
// The method. Channels-last, vectorised over V channels: for one packed input plane (one image,
// one channel block) and one kernel row (kd, kh), every output row (od, oh) contributes
//   grad[kw] += sum_ow gy[od][oh][ow] * x[od*sd + kd][oh*sh + kh][ow*sw + kw]
// for the kw of a block of KB <= KB_MAX columns. The KB sums live in registers; with a
// compile-time stride S the loop takes T output columns at a time and loads every input column
// of their window once, for (T - 1) * S + KB loads and T * KB FMAs. A row is cut into
// segments of kSegment columns; each segment's register sums are added to the unit's partial
// sums in memory, so no float sum runs over more than kSegment terms before it is folded.

constexpr int64_t kSegment = 256;

inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

using RowFn = void (*)(const float *x, const float *g, int64_t count, int64_t stride, float *out);

// out[k][0..V) += sum_{ow < count} g[ow] * x[ow * stride + k], k < KB; x, g and out step by V
// floats per column. S is the stride when known at compile time (1, 2), else 0.
template <int KB, int S>
void row_kernel(const float *x, const float *g, int64_t count, int64_t stride, float *out) {
    using vec = typename Isa::vec;
    constexpr int V = Isa::V, T = Isa::T;
    // Small blocks keep T sets of sums, so that consecutive FMAs do not wait on each other.
    constexpr int SETS = KB * T <= Isa::ACC_BUDGET ? T : KB * 2 <= Isa::ACC_BUDGET ? 2 : 1;
    const int64_t step = S > 0 ? S : stride;
    for (int64_t begin = 0; begin < count; begin += kSegment) {
        const int64_t end = imin(begin + kSegment, count);
        vec acc[SETS][KB];
#pragma GCC unroll 8
        for (int s = 0; s < SETS; ++s)
#pragma GCC unroll 32
            for (int k = 0; k < KB; ++k) acc[s][k] = Isa::zero();
        int64_t ow = begin;
        if (S > 0) {
            for (; ow + T <= end; ow += T) {
                vec gv[T];
#pragma GCC unroll 8
                for (int t = 0; t < T; ++t) gv[t] = Isa::load(g + (ow + t) * V);
                const float *xb = x + ow * S * V;
#pragma GCC unroll 64
                for (int r = 0; r < (T - 1) * S + KB; ++r) {
                    const vec xr = Isa::load(xb + r * V);
#pragma GCC unroll 8
                    for (int t = 0; t < T; ++t) {
                        const int k = r - t * S;
                        if (k >= 0 && k < KB) acc[t % SETS][k] = Isa::fma(gv[t], xr, acc[t % SETS][k]);
                    }
                }
            }
        } else if (SETS >= 2) {
            for (; ow + 2 <= end; ow += 2) {
                const vec g0 = Isa::load(g + ow * V), g1 = Isa::load(g + (ow + 1) * V);
                const float *x0 = x + ow * step * V, *x1 = x0 + step * V;
#pragma GCC unroll 32
                for (int k = 0; k < KB; ++k) {
                    acc[0][k] = Isa::fma(g0, Isa::load(x0 + k * V), acc[0][k]);
                    acc[SETS - 1][k] = Isa::fma(g1, Isa::load(x1 + k * V), acc[SETS - 1][k]);
                }
            }
        }
        for (; ow < end; ++ow) {
            const vec gv = Isa::load(g + ow * V);
            const float *xb = x + ow * step * V;
#pragma GCC unroll 32
            for (int k = 0; k < KB; ++k) acc[0][k] = Isa::fma(gv, Isa::load(xb + k * V), acc[0][k]);
        }
#pragma GCC unroll 32
        for (int k = 0; k < KB; ++k) {
            vec sum = acc[0][k];
#pragma GCC unroll 8
            for (int s = 1; s < SETS; ++s) sum = Isa::add(sum, acc[s][k]);
            Isa::store(out + k * V, Isa::add(Isa::load(out + k * V), sum));
        }
    }
}

// Row kernels by block width: kernels<S>::table[KB], KB in [1, KB_MAX].
template <int S, typename Seq>
struct Kernels;
template <int S, int... I>
struct Kernels<S, std::integer_sequence<int, I...>> {
    static constexpr RowFn table[] = {nullptr, &row_kernel<I + 1, S>...};
};
using Stride1 = Kernels<1, std::make_integer_sequence<int, Isa::KB_MAX>>;
using Stride2 = Kernels<2, std::make_integer_sequence<int, Isa::KB_MAX>>;
using StrideAny = Kernels<0, std::make_integer_sequence<int, Isa::KB_MAX>>;

RowFn row_kernel_for(int64_t kb, int64_t stride) {
    if (stride == 1) return Stride1::table[kb];
    if (stride == 2) return Stride2::table[kb];
    return StrideAny::table[kb];
}

// ---- packing ---------------------------------------------------------------------------------

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

// Prefetch distance, in floats, of the packing loads (each channel's rows are read in order).
constexpr int64_t kPrefetch = 128;

// dst[i][v] = src[v][offset + i] for v < valid, 0 for valid <= v < V; i in [0, count).
void transpose_in(const float *const *src, int64_t valid, int64_t offset, int64_t count, float *dst) {
    constexpr int V = Isa::V;
    int64_t i = 0;
    for (; i + 8 <= count; i += 8) {
        for (int g = 0; g < V; g += 8) {
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
            for (int j = 0; j < 8; ++j) _mm256_store_ps(dst + (i + j) * V + g, r[j]);
        }
    }
    for (; i < count; ++i)
        for (int v = 0; v < V; ++v) dst[i * V + v] = v < valid ? src[v][offset + i] : 0.f;
}

// Packs the input plane of image n, channel block cb, padded as the tables say.
void pack_x(const DwJob &j, int64_t n, int64_t cb, float *dst) {
    constexpr int V = Isa::V;
    const int64_t valid = imin(V, j.C - cb * V);
    const int64_t plane = j.in[0] * j.in[1] * j.in[2], Xw = j.xp[2];
    const float *base = j.x + (n * j.C + cb * V) * plane;
    const float *src[V];
    for (int64_t jd = 0; jd < j.xp[0]; ++jd) {
        const int64_t id = j.row_src_d[jd];
        for (int64_t jh = 0; jh < j.xp[1]; ++jh) {
            const int64_t ih = j.row_src_h[jh];
            float *row = dst + (jd * j.xp[1] + jh) * Xw * V;
            if (id < 0 || ih < 0) {
                std::memset(row, 0, sizeof(float) * Xw * V);
                continue;
            }
            for (int64_t v = 0; v < valid; ++v) src[v] = base + v * plane + (id * j.in[1] + ih) * j.in[2];
            for (int64_t jw = 0; jw < Xw; ++jw) {
                if (jw == j.col_lo && j.col_hi > j.col_lo) {
                    transpose_in(src, valid, j.col_src_w[jw], j.col_hi - j.col_lo, row + jw * V);
                    jw = j.col_hi - 1;
                    continue;
                }
                const int64_t iw = j.col_src_w[jw];
                for (int v = 0; v < V; ++v) row[jw * V + v] = iw >= 0 && v < valid ? src[v][iw] : 0.f;
            }
        }
    }
}

// Packs the output-gradient plane of image n, channel block cb.
void pack_gy(const DwJob &j, int64_t n, int64_t cb, float *dst) {
    constexpr int V = Isa::V;
    const int64_t valid = imin(V, j.C - cb * V);
    const int64_t plane = j.out[0] * j.out[1] * j.out[2];
    const float *src[V];
    for (int64_t v = 0; v < valid; ++v) src[v] = j.gy + (n * j.C + cb * V + v) * plane;
    transpose_in(src, valid, 0, plane, dst);
}

// bias[v] += sum over the packed gradient plane, per lane, in segments of kSegment.
void add_bias(const float *g, int64_t count, double *bias) {
    constexpr int V = Isa::V;
    alignas(64) float lanes[V];
    for (int64_t begin = 0; begin < count; begin += kSegment) {
        const int64_t end = imin(begin + kSegment, count);
        typename Isa::vec a0 = Isa::zero(), a1 = Isa::zero();
        int64_t i = begin;
        for (; i + 2 <= end; i += 2) {
            a0 = Isa::add(a0, Isa::load(g + i * V));
            a1 = Isa::add(a1, Isa::load(g + (i + 1) * V));
        }
        if (i < end) a0 = Isa::add(a0, Isa::load(g + i * V));
        Isa::store(lanes, Isa::add(a0, a1));
        for (int v = 0; v < V; ++v) bias[v] += lanes[v];
    }
}

// ---- the units -------------------------------------------------------------------------------

void run_units(const DwJob &j) {
    constexpr int V = Isa::V;
    const int64_t KR = j.k[0] * j.k[1], KW = j.k[2], items = KR * j.KWB;
    const int64_t units = j.CB * j.NS * j.KS;
    const int64_t OW = j.out[2], Xw = j.xp[2];
#pragma omp parallel num_threads(j.threads)
    {
        float *xbuf = j.planes + omp_get_thread_num() * j.plane_stride;
        float *gbuf = xbuf + j.x_plane;
#pragma omp for schedule(dynamic, 1)
        for (int64_t u = 0; u < units; ++u) {
            const int64_t cb = u / (j.NS * j.KS), ns = u / j.KS % j.NS, ks = u % j.KS;
            const int64_t item0 = ks * items / j.KS, item1 = (ks + 1) * items / j.KS;
            const int64_t n0 = ns * j.N / j.NS, n1 = (ns + 1) * j.N / j.NS;
            float *part = j.part + (ns * j.CB + cb) * KR * KW * V;
            double *bias = j.want_bias && ks == 0 ? j.bias_part + (ns * j.CB + cb) * V : nullptr;
            for (int64_t item = item0; item < item1; ++item) {
                const int64_t kr = item / j.KWB, b = item % j.KWB;
                const int64_t kw0 = b * KW / j.KWB, kw1 = (b + 1) * KW / j.KWB;
                std::memset(part + (kr * KW + kw0) * V, 0, sizeof(float) * (kw1 - kw0) * V);
            }
            if (bias != nullptr)
                for (int v = 0; v < V; ++v) bias[v] = 0.0;
            for (int64_t n = n0; n < n1; ++n) {
                pack_x(j, n, cb, xbuf);
                pack_gy(j, n, cb, gbuf);
                if (bias != nullptr) add_bias(gbuf, j.out[0] * j.out[1] * OW, bias);
                for (int64_t item = item0; item < item1; ++item) {
                    const int64_t kr = item / j.KWB, b = item % j.KWB;
                    const int64_t kd = kr / j.k[1], kh = kr % j.k[1];
                    const int64_t kw0 = b * KW / j.KWB, kw1 = (b + 1) * KW / j.KWB;
                    const RowFn fn = row_kernel_for(kw1 - kw0, j.s[2]);
                    float *out = part + (kr * KW + kw0) * V;
                    // Rows of zero padding add nothing.
                    for (int64_t od = 0; od < j.out[0]; ++od) {
                        if (j.row_src_d[od * j.s[0] + kd] < 0) continue;
                        for (int64_t oh = 0; oh < j.out[1]; ++oh) {
                            if (j.row_src_h[oh * j.s[1] + kh] < 0) continue;
                            const float *xrow = xbuf + ((od * j.s[0] + kd) * j.xp[1] + oh * j.s[1] + kh) * Xw * V;
                            const float *grow = gbuf + (od * j.out[1] + oh) * OW * V;
                            fn(xrow + kw0 * V, grow, OW, j.s[2], out);
                        }
                    }
                }
            }
        }
    }
}
