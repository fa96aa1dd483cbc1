// The dense (groups == 1) backward-weights kernel, written once over a vector type `Isa` and
// included, as depthwise_backward_weights_impl.h, inside an anonymous namespace of one
// translation unit per instruction set, after channels_last_pack_impl.h. Isa provides V, vec,
// zero(), load(p) (aligned), store(p, v), fma(a, b, c), add(a, b), broadcast(p) and the tile
// limits NCV_MAX and mo_max(ncv).
//
// The method: for every kernel position q = (kd, kh, kw), an implicit GEMM over the output
// positions of an image,
//   grad[q][o][c] += sum_{od, oh, ow} gy[od][oh][ow][o] * x[od*sd + kd][oh*sh + kh][ow*sw + kw][c]
// on the channels-last packed planes, in register tiles of MO broadcast-side channels by NCV
// vectors of vector-side channels (c or o, see DenseJob): per output position NCV loads, MO
// broadcasts and MO * NCV FMAs. Rows are cut
// into segments of kDenseSegment positions whose register sums are folded into the unit's
// partial sums in memory.

constexpr int64_t kDenseSegment = 256;

using TileFn = void (*)(const float *x, int64_t xstep, const float *g, int64_t gstep, int64_t count,
                        float *out, int64_t ostep);

// out[i * ostep + v * V ...] += sum_{p < count} g[p * gstep + i] * x[p * xstep + v * V ...],
// i < MO, v < NCV.
template <int MO, int NCV>
void tile_kernel(const float *x, int64_t xstep, const float *g, int64_t gstep, int64_t count, float *out,
                 int64_t ostep) {
    using vec = typename Isa::vec;
    constexpr int V = Isa::V;
    for (int64_t begin = 0; begin < count; begin += kDenseSegment) {
        const int64_t end = imin(begin + kDenseSegment, count);
        vec acc[MO][NCV];
#pragma GCC unroll 16
        for (int i = 0; i < MO; ++i)
#pragma GCC unroll 4
            for (int v = 0; v < NCV; ++v) acc[i][v] = Isa::zero();
        for (int64_t p = begin; p < end; ++p) {
            const float *xp = x + p * xstep, *gp = g + p * gstep;
            vec xv[NCV];
#pragma GCC unroll 4
            for (int v = 0; v < NCV; ++v) xv[v] = Isa::load(xp + v * V);
#pragma GCC unroll 16
            for (int i = 0; i < MO; ++i) {
                const vec b = Isa::broadcast(gp + i);
#pragma GCC unroll 4
                for (int v = 0; v < NCV; ++v) acc[i][v] = Isa::fma(b, xv[v], acc[i][v]);
            }
        }
#pragma GCC unroll 16
        for (int i = 0; i < MO; ++i)
#pragma GCC unroll 4
            for (int v = 0; v < NCV; ++v) {
                float *o = out + i * ostep + v * V;
                Isa::store(o, Isa::add(Isa::load(o), acc[i][v]));
            }
    }
}

// Tile kernels by shape: TileTable<NCV>::table[MO], MO in [1, mo_max(NCV)].
template <int NCV, typename Seq>
struct TileTable;
template <int NCV, int... I>
struct TileTable<NCV, std::integer_sequence<int, I...>> {
    static constexpr TileFn table[] = {nullptr, &tile_kernel<I + 1, NCV>...};
};

template <int NCV>
using Tiles = TileTable<NCV, std::make_integer_sequence<int, Isa::mo_max(NCV)>>;

TileFn tile_kernel_for(int64_t mo, int64_t ncv) {
    switch (ncv) {
        case 1: return Tiles<1>::table[mo];
        case 2: return Tiles<2>::table[mo];
        case 3: return Tiles<3>::table[mo];
        default: return Tiles<Isa::NCV_MAX>::table[mo];
    }
}

void run_dense(const DenseJob &j) {
    constexpr int V = Isa::V;
    const PaddedRows rows{j.in, j.xp, j.row_src_d, j.row_src_h, j.col_src_w, j.col_lo, j.col_hi};
    const int64_t in_plane = j.in[0] * j.in[1] * j.in[2], out_plane = j.out[0] * j.out[1] * j.out[2];
    const int64_t Q = j.k[0] * j.k[1] * j.k[2], items = Q * j.b_tiles * j.v_tiles;
    const int64_t units = j.NS * j.KS, OW = j.out[2], Xw = j.xp[2], Cx = j.Cx, Ox = j.Ox, VL = j.VB * V;
#pragma omp parallel num_threads(j.threads)
    {
        float *xbuf = j.planes + omp_get_thread_num() * j.plane_stride;
        float *gbuf = xbuf + j.x_plane;
#pragma omp for schedule(dynamic, 1)
        for (int64_t u = 0; u < units; ++u) {
            const int64_t ns = u / j.KS, ks = u % j.KS;
            const int64_t item0 = ks * items / j.KS, item1 = (ks + 1) * items / j.KS;
            const int64_t n0 = ns * j.N / j.NS, n1 = (ns + 1) * j.N / j.NS;
            float *part = j.part + ns * Q * j.B * VL;
            double *bias = j.want_bias && ks == 0 ? j.bias_part + ns * Ox : nullptr;
            // An item: kernel position q, broadcast channels b0..b1, vectors v0..v1.
            auto tile = [&](int64_t item, int64_t &q, int64_t &b0, int64_t &b1, int64_t &v0, int64_t &v1) {
                q = item / (j.b_tiles * j.v_tiles);
                const int64_t bt = item / j.v_tiles % j.b_tiles, vt = item % j.v_tiles;
                b0 = bt * j.B / j.b_tiles;
                b1 = (bt + 1) * j.B / j.b_tiles;
                v0 = vt * j.VB / j.v_tiles;
                v1 = (vt + 1) * j.VB / j.v_tiles;
            };
            for (int64_t item = item0; item < item1; ++item) {
                int64_t q, b0, b1, v0, v1;
                tile(item, q, b0, b1, v0, v1);
                for (int64_t b = b0; b < b1; ++b)
                    std::memset(part + (q * j.B + b) * VL + v0 * V, 0, sizeof(float) * (v1 - v0) * V);
            }
            if (bias != nullptr)
                for (int64_t o = 0; o < Ox; ++o) bias[o] = 0.0;
            for (int64_t n = n0; n < n1; ++n) {
                for (int64_t c = 0; c < Cx; c += 8)
                    pack_padded<8>(rows, j.x + (n * j.C + c) * in_plane, in_plane, imin(8, j.C - c), xbuf + c, Cx);
                for (int64_t o = 0; o < Ox; o += 8)
                    pack_plain<8>(j.gy + (n * j.O + o) * out_plane, out_plane, imin(8, j.O - o), out_plane, gbuf + o, Ox);
                if (bias != nullptr) add_bias_rows(gbuf, out_plane, Ox, Ox, bias);
                for (int64_t item = item0; item < item1; ++item) {
                    int64_t q, b0, b1, v0, v1;
                    tile(item, q, b0, b1, v0, v1);
                    const int64_t kd = q / (j.k[1] * j.k[2]), kh = q / j.k[2] % j.k[1], kw = q % j.k[2];
                    const TileFn fn = tile_kernel_for(b1 - b0, v1 - v0);
                    float *out = part + (q * j.B + b0) * VL + v0 * V;
                    for (int64_t od = 0; od < j.out[0]; ++od) {
                        if (j.row_src_d[od * j.s[0] + kd] < 0) continue;  // zero padding adds nothing
                        for (int64_t oh = 0; oh < j.out[1]; ++oh) {
                            if (j.row_src_h[oh * j.s[1] + kh] < 0) continue;
                            const float *xrow = xbuf + ((od * j.s[0] + kd) * j.xp[1] + oh * j.s[1] + kh) * Xw * Cx + kw * Cx;
                            const float *grow = gbuf + (od * j.out[1] + oh) * OW * Ox;
                            if (j.vec_c)
                                fn(xrow + v0 * V, j.s[2] * Cx, grow + b0, Ox, OW, out, VL);
                            else
                                fn(grow + v0 * V, Ox, xrow + b0, j.s[2] * Cx, OW, out, VL);
                        }
                    }
                }
            }
        }
    }
}
