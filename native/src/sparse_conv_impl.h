// The tap-sparse convolution's kernels, written once over a vector type `Isa` and included inside
// an anonymous namespace of one translation unit per instruction set (as depthwise_conv_impl.h).
// Isa provides V, T (vectors per destination tile), G (non-zeros per weight-gradient group), GR
// (runs per group), vec,
// zero(), set1(x), loadu(p), storeu(p, v), fma(a, b, c), hsum(v).
//
// Rows (forward, backward data): a destination tile of T vectors stays in registers while every
// non-zero of the unit's source block adds its weight times the shifted source row: one
// broadcast and T loads and FMAs per non-zero. Neighbouring cells of a kernel row (a pair's two
// bilinear or triangle cells) read the same source shifted by one column: where a column is a
// whole number D of vectors (the batch a multiple of V), the two go together, T + D loads for 2 T
// FMAs, since the loads, not the FMAs, bound these kernels (Zen 5: 13.3 -> 10.1 ms for the delay
// layer's forward rows). Tiles narrower than T at a row's end run the kernel for their own width
// (a table of instances), so nothing is computed twice.
//
// Weights: G non-zeros at a time, each with its own accumulator vector, over the whole row: one
// load of grad_y serves G FMAs.

// Whether non-zero z's source row exists for destination row `row` (backward data in 2D and 3D:
// the grad_y row (od, oh) that row (id, ih) reads through kernel row (kd, kh)); its offset then.
inline bool source_row(const SparseRowsJob &j, int64_t row, int64_t z, int64_t &offset) {
    const int64_t id = j.lo0 + row / j.dst_h, ih = j.lo1 + row % j.dst_h;
    int64_t od = id - j.kd[z], oh = ih - j.kh[z];
    if (od < 0 || oh < 0) return false;
    if (j.s0 > 1) {
        if (od % j.s0 != 0) return false;
        od /= j.s0;
    }
    if (j.s1 > 1) {
        if (oh % j.s1 != 0) return false;
        oh /= j.s1;
    }
    if (od >= j.OD || oh >= j.OH) return false;
    offset = (od * j.OH + oh) * j.src_row;
    return true;
}

// One destination tile of W vectors. D > 0: the job's runs (SparseRowsJob::run) are taken two
// non-zeros at a time, their sources D vectors apart: W + D loads for 2 W multiply-adds.
template <int W, bool kRows, int D>
void rows_tile(const SparseRowsJob &j, int64_t row, int64_t z0, int64_t z1, const float *base, float *dst,
               float init, bool first) {
    using vec = typename Isa::vec;
    constexpr int V = Isa::V;
    vec acc[W];
    if (first) {
        const vec b = Isa::set1(init);
#pragma GCC unroll 16
        for (int t = 0; t < W; ++t) acc[t] = b;
    } else {
#pragma GCC unroll 16
        for (int t = 0; t < W; ++t) acc[t] = Isa::loadu(dst + t * V);
    }
    for (int64_t z = z0; z < z1; ++z) {
        int64_t offset = 0;
        if (kRows && !source_row(j, row, z, offset)) {
            if (D > 0 && j.run[z]) ++z;  // its partner has the same kernel row
            continue;
        }
        if (D > 0 && j.run[z]) {
            // z and z + 1: the lower source's weight multiplies vectors [0, W), the upper's [D, D + W).
            const int64_t lower = j.backward ? z + 1 : z, upper = j.backward ? z : z + 1;
            const vec wl = Isa::set1(j.w[lower]), wu = Isa::set1(j.w[upper]);
            const float *p = base + j.src[lower] + offset;
            ++z;
#pragma GCC unroll 24
            for (int q = 0; q < W + D; ++q) {
                vec x = Isa::loadu(p + q * V);
                // One load for both multiply-adds: without this, GCC folds it into each of them.
                __asm__("" : "+v"(x));
                if (q < W) acc[q] = Isa::fma(wl, x, acc[q]);
                if (q >= D) acc[q - D] = Isa::fma(wu, x, acc[q - D]);
            }
            continue;
        }
        const vec w = Isa::set1(j.w[z]);
        const float *p = base + j.src[z] + offset;
#pragma GCC unroll 16
        for (int t = 0; t < W; ++t) acc[t] = Isa::fma(w, Isa::loadu(p + t * V), acc[t]);
    }
#pragma GCC unroll 16
    for (int t = 0; t < W; ++t) Isa::storeu(dst + t * V, acc[t]);
}

using RowsTileFn = void (*)(const SparseRowsJob &, int64_t, int64_t, int64_t, const float *, float *, float, bool);

// rows_tile's instances by [row rule][run distance: 0, 1, 2, 4, 8 vectors][width].
template <typename Seq>
struct RowsTable;
template <int... I>
struct RowsTable<std::integer_sequence<int, I...>> {
    template <bool kRows, int D>
    static constexpr RowsTileFn row[sizeof...(I) + 1] = {nullptr, &rows_tile<I + 1, kRows, D>...};
    static constexpr const RowsTileFn *table[2][5] = {
        {row<false, 0>, row<false, 1>, row<false, 2>, row<false, 4>, row<false, 8>},
        {row<true, 0>, row<true, 1>, row<true, 2>, row<true, 4>, row<true, 8>}};
};
using RowsTiles = RowsTable<std::make_integer_sequence<int, Isa::T>>;

// The table column for runs D vectors apart (SparseRowsJob::run_floats), or 0 without runs.
inline int run_column(const SparseRowsJob &j) {
    if (j.run == nullptr || j.run_floats % Isa::V != 0) return 0;
    switch (j.run_floats / Isa::V) {
        case 1: return 1;
        case 2: return 2;
        case 4: return 3;
        case 8: return 4;
        default: return 0;
    }
}

// The units are split in contiguous ranges, one per thread; each thread walks its tiles, then the
// source blocks, then its units, so that a block of sources is reused by all of its units while in
// cache.
void run_sparse_rows(const SparseRowsJob &j) {
    constexpr int V = Isa::V;
    const int64_t tile = int64_t(Isa::T) * V;
#pragma omp parallel num_threads(j.threads)
    {
        const int64_t nt = omp_get_num_threads(), me = omp_get_thread_num();
        const int64_t u0 = j.units * me / nt, u1 = j.units * (me + 1) / nt;
        // Backward data needs the row rule unless there is one row of each (1D).
        const bool rows_rule = j.backward && !(j.rows == 1 && j.OD == 1 && j.OH == 1);
        for (int64_t j0 = 0; j0 < j.Jp; j0 += tile) {
            const int W = int(std::min(tile, j.Jp - j0) / V);
            const RowsTileFn fn = RowsTiles::table[rows_rule ? 1 : 0][run_column(j)][W];
            for (int64_t b = 0; b < j.blocks; ++b)
                for (int64_t u = u0; u < u1; ++u) {
                    const int64_t ch = u / (j.rows * j.phases), row = u / j.phases % j.rows;
                    const int64_t *s = j.start + (ch * j.phases + u % j.phases) * (j.blocks + 1) + b;
                    const float *base = j.src_base + j.col0 + j0;
                    if (!j.backward) {
                        const int64_t od = row / j.dst_h, oh = row % j.dst_h;
                        base += (od * j.s0 * j.P1 + oh * j.s1) * j.src_row;
                    }
                    const float init = j.bias ? j.bias[ch] : 0.f;
                    fn(j, row, s[0], s[1], base, j.dst + u * j.dst_unit + j.col0 + j0, init, b == 0);
                }
        }
    }
}

// NG non-zeros, or with kRun NG runs (2 NG non-zeros), of output channel o: zs[e] their first
// non-zeros.
template <int NG, bool kRun>
void weights_group(const SparseWeightsJob &j, int64_t o, const int64_t *zs) {
    using vec = typename Isa::vec;
    constexpr int V = Isa::V, NA = kRun ? 2 * NG : NG;
    vec acc[NA];
#pragma GCC unroll 24
    for (int e = 0; e < NA; ++e) acc[e] = Isa::zero();
    // A run's second cell reads x run_floats further: over x's vectors q in [0, Jp + run_floats),
    // it pairs with gy at q - run_floats (zeros before the row, gy_margin) and the first with gy at
    // q (zeros after).
    const int64_t span = kRun ? j.Jp + j.run_floats : j.Jp;
    for (int64_t r = 0; r < j.rows; ++r) {
        const float *g = j.gy + (o * j.rows + r) * j.gy_row + j.gy_margin;
        const int64_t od = r / j.out_h, oh = r % j.out_h;
        const float *xb = j.x + (od * j.s0 * j.P1 + oh * j.s1) * j.src_row;
        const float *xp[NG];
#pragma GCC unroll 16
        for (int e = 0; e < NG; ++e) xp[e] = xb + j.src[zs[e]];
        for (int64_t q = 0; q < span; q += V) {
            const vec gv = Isa::loadu(g + q);
            if (kRun) {
                const vec gl = Isa::loadu(g + q - j.run_floats);
#pragma GCC unroll 16
                for (int e = 0; e < NG; ++e) {
                    vec x = Isa::loadu(xp[e] + q);
                    __asm__("" : "+v"(x));  // one load for both (as rows_tile)
                    acc[2 * e] = Isa::fma(gv, x, acc[2 * e]);
                    acc[2 * e + 1] = Isa::fma(gl, x, acc[2 * e + 1]);
                }
            } else {
#pragma GCC unroll 16
                for (int e = 0; e < NG; ++e) acc[e] = Isa::fma(gv, Isa::loadu(xp[e] + q), acc[e]);
            }
        }
    }
#pragma GCC unroll 16
    for (int e = 0; e < NG; ++e) {
        if (kRun) {
            j.grad[zs[e]] = Isa::hsum(acc[2 * e]);
            j.grad[zs[e] + 1] = Isa::hsum(acc[2 * e + 1]);
        } else {
            j.grad[zs[e]] = Isa::hsum(acc[e]);
        }
    }
}

using WeightsGroupFn = void (*)(const SparseWeightsJob &, int64_t, const int64_t *);

template <typename Seq>
struct WeightsTable;
template <int... I>
struct WeightsTable<std::integer_sequence<int, I...>> {
    static constexpr WeightsGroupFn singles[] = {nullptr, &weights_group<I + 1, false>...};
    static constexpr WeightsGroupFn runs[] = {nullptr, &weights_group<I + 1, true>...};
};
using WeightsGroups = WeightsTable<std::make_integer_sequence<int, Isa::G>>;

// n items (non-zeros, or runs' first non-zeros) in groups of up to Isa::G (runs: Isa::GR).
template <bool kRun>
void weights_items(const SparseWeightsJob &j, int64_t o, const int64_t *items, int64_t n) {
    constexpr int64_t G = kRun ? Isa::GR : Isa::G;
    for (int64_t i = 0; i < n; i += G) {
        const int m = int(std::min<int64_t>(G, n - i));
        (kRun ? WeightsGroups::runs : WeightsGroups::singles)[m](j, o, items + i);
    }
}

// Output channels split in contiguous ranges, one per thread (no barrier: a thread the system
// deschedules holds up no other); each thread walks the source blocks, then its channels, so that
// a block's rows are reused by all of them while in cache.
void run_sparse_weights(const SparseWeightsJob &j) {
#pragma omp parallel num_threads(j.threads)
    {
        const int64_t nt = omp_get_num_threads(), me = omp_get_thread_num();
        const int64_t o0 = j.channels * me / nt, o1 = j.channels * (me + 1) / nt;
        for (int64_t b = 0; b < j.blocks; ++b)
            for (int64_t o = o0; o < o1; ++o) {
                const int64_t at = o * (j.blocks + 1) + b;
                weights_items<true>(j, o, j.item + j.start[at], j.split[at] - j.start[at]);
                weights_items<false>(j, o, j.item + j.split[at], j.end[at] - j.split[at]);
            }
    }
}
