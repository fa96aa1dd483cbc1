// The depthwise backward-weights kernel, written once over a vector type `Isa` and included by
// one translation unit per instruction set, inside an anonymous namespace after that unit has
// defined `Isa`, included <immintrin.h>, <omp.h>, <cstring> and <utility>, and then
// channels_last_pack_impl.h. It includes nothing itself and uses no inline function from a
// library header (std::min and the like): an inline function instantiated here would be compiled
// for this unit's instruction set, and the linker could keep that copy for the whole library.
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

using RowFn = void (*)(const float *x, const float *g, int64_t count, int64_t stride, float *out);

// out[k][0..V) += sum_{ow < count} g[ow] * x[ow * stride + k], k < KB; x, g and out step by V
// floats per column. S is the stride when known at compile time (1, 2), else 0.
template <int KB, int S>
void row_kernel(const float *x, const float *g, int64_t count, int64_t stride, float *out) {
    using vec = typename Isa::vec;
    constexpr int V = Isa::V, T = Isa::T;
    // Narrow blocks keep T or 2 sets of sums, as the registers allow, so that consecutive FMAs
    // do not wait on each other.
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

// ---- the units -------------------------------------------------------------------------------

void run_depthwise(const DwJob &j) {
    constexpr int V = Isa::V;
    const PaddedRows rows{j.in, j.xp, j.row_src_d, j.row_src_h, j.col_src_w, j.col_lo, j.col_hi};
    const int64_t in_plane = j.in[0] * j.in[1] * j.in[2], out_plane = j.out[0] * j.out[1] * j.out[2];
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
                const int64_t valid = imin(V, j.C - cb * V);
                pack_padded<V>(rows, j.x + (n * j.C + cb * V) * in_plane, in_plane, valid, xbuf, V);
                pack_plain<V>(j.gy + (n * j.C + cb * V) * out_plane, out_plane, valid, out_plane, gbuf, V);
                if (bias != nullptr) add_bias_rows(gbuf, out_plane, V, V, bias);
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
