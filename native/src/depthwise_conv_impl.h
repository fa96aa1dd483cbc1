// The depthwise convolution kernel (forward, and backward data at stride 1), written once over a
// vector type `Isa` and included, as depthwise_backward_weights_impl.h, inside an anonymous
// namespace of one translation unit per instruction set, after channels_last_pack_impl.h. Isa
// provides V, R (outputs per register block), KB_MAX, vec, zero(), load(p) (aligned),
// store(p, v), fma(a, b, c).
//
// The method. Channels-last, vectorised over V channels: R consecutive outputs of a row are
// summed in registers over all kernel rows (kd, kh) and column blocks of KB; a block's KB weights
// are loaded into registers once, and with a compile-time stride S every input column of the
// block's window is loaded once, for (R - 1) * S + KB + KB loads and R * KB FMAs. The last block
// of a row is shifted left to end at the row's end (recomputing a few outputs) rather than
// running a narrower tail. Kernel rows that read only zero padding are skipped.

// Per-call constants of one plane's rows.
struct ConvRows {
    const float *x;      // packed source plane [Xd][Xh][Xw][V]
    const float *w;      // this channel block's packed weights [k0 * k1][kwp][V]
    const float *bias;   // this channel block's bias [V]
    const DwConvJob *j;
};

using ConvRowFn = void (*)(const ConvRows &c, int64_t od, int64_t oh, float *y);

// y[ow][0..V) for every ow of output row (od, oh); y steps by V floats per column.
template <int R, int KB, int S>
void conv_row(const ConvRows &c, int64_t od, int64_t oh, float *y) {
    using vec = typename Isa::vec;
    constexpr int V = Isa::V;
    const DwConvJob &j = *c.j;
    const int64_t OW = j.out[2], step = S > 0 ? S : j.s[2], Xw = j.xp[2];
    const vec bias = Isa::load(c.bias);
    for (int64_t begin = 0; begin < OW; begin += R) {
        const int64_t ow0 = begin + R <= OW ? begin : OW - R;  // the last block ends at OW
        vec acc[R];
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) acc[r] = bias;
        for (int64_t kd = 0; kd < j.k[0]; ++kd) {
            const int64_t jd = od * j.s[0] + kd;
            if (j.row_src_d[jd] < 0) continue;
            for (int64_t kh = 0; kh < j.k[1]; ++kh) {
                const int64_t jh = oh * j.s[1] + kh;
                if (j.row_src_h[jh] < 0) continue;
                const float *xr = c.x + ((jd * j.xp[1] + jh) * Xw + ow0 * step) * V;
                const float *wr = c.w + (kd * j.k[1] + kh) * j.kwp * V;
                for (int64_t b = 0; b < j.nb; ++b) {
                    const float *xb = xr + b * KB * V, *wb = wr + b * KB * V;
                    vec wv[KB];
#pragma GCC unroll 32
                    for (int k = 0; k < KB; ++k) wv[k] = Isa::load(wb + k * V);
                    if (S > 0) {
#pragma GCC unroll 64
                        for (int q = 0; q < (R - 1) * S + KB; ++q) {
                            const vec xq = Isa::load(xb + q * V);
#pragma GCC unroll 16
                            for (int r = 0; r < R; ++r) {
                                const int k = q - r * S;
                                if (k >= 0 && k < KB) acc[r] = Isa::fma(wv[k], xq, acc[r]);
                            }
                        }
                    } else {
#pragma GCC unroll 16
                        for (int r = 0; r < R; ++r)
#pragma GCC unroll 32
                            for (int k = 0; k < KB; ++k)
                                acc[r] = Isa::fma(wv[k], Isa::load(xb + (r * step + k) * V), acc[r]);
                    }
                }
            }
        }
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) Isa::store(y + (ow0 + r) * V, acc[r]);
    }
}

// Row kernels by block width: ConvTable<R, S>::table[KB], KB in [1, KB_MAX].
template <int R, int S, typename Seq>
struct ConvTable;
template <int R, int S, int... I>
struct ConvTable<R, S, std::integer_sequence<int, I...>> {
    static constexpr ConvRowFn table[] = {nullptr, &conv_row<R, I + 1, S>...};
};
template <int R, int S>
using ConvRowsOf = ConvTable<R, S, std::make_integer_sequence<int, Isa::KB_MAX>>;

ConvRowFn conv_row_for(int64_t width, int64_t kb, int64_t stride) {
    if (width >= Isa::R) {
        if (stride == 1) return ConvRowsOf<Isa::R, 1>::table[kb];
        if (stride == 2) return ConvRowsOf<Isa::R, 2>::table[kb];
        return ConvRowsOf<Isa::R, 0>::table[kb];
    }
    return ConvRowsOf<1, 0>::table[kb];  // rows narrower than a register block
}

void run_depthwise_conv(const DwConvJob &j) {
    constexpr int V = Isa::V;
    const PaddedRows rows{j.src_in, j.xp, j.row_src_d, j.row_src_h, j.col_src_w, j.col_lo, j.col_hi};
    const int64_t src_plane = j.src_in[0] * j.src_in[1] * j.src_in[2];
    const int64_t out_rows = j.out[0] * j.out[1], OW = j.out[2], dst_plane = out_rows * OW;
    const int64_t units = j.N * j.CB * j.RS;
    const ConvRowFn fn = conv_row_for(OW, j.kb, j.s[2]);
#pragma omp parallel num_threads(j.threads)
    {
        float *xbuf = j.planes + omp_get_thread_num() * j.plane_stride;
        float *ybuf = xbuf + j.x_plane;
#pragma omp for schedule(dynamic, 1)
        for (int64_t u = 0; u < units; ++u) {
            const int64_t n = u / (j.CB * j.RS), cb = u / j.RS % j.CB, rs = u % j.RS;
            const int64_t r0 = rs * out_rows / j.RS, r1 = (rs + 1) * out_rows / j.RS;
            const int64_t valid = imin(V, j.C - cb * V);
            pack_padded<V>(rows, j.src + (n * j.C + cb * V) * src_plane, src_plane, valid, xbuf, V);
            const ConvRows c{xbuf, j.wpack + cb * j.k[0] * j.k[1] * j.kwp * V, j.bpack + cb * V, &j};
            for (int64_t r = r0; r < r1; ++r) fn(c, r / j.out[1], r % j.out[1], ybuf + r * OW * V);
            float *dst[V];
            for (int64_t v = 0; v < valid; ++v) dst[v] = j.dst + (n * j.C + cb * V + v) * dst_plane;
            unpack_plain<V>(ybuf + r0 * OW * V, V, (r1 - r0) * OW, dst, valid, r0 * OW);
        }
    }
}
