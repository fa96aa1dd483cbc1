// The tap-sparse convolution (sparse_conv.h): geometry, packing, the non-zero lists, the choice of
// instruction set and the folding of results. The kernels are in sparse_conv_impl.h.
#include "sparse_conv.h"

#include <immintrin.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "cpu_kernels_common.h"
#include "error.h"
#include "padding.h"
#include "sparse_conv_job.h"

namespace dcls {

namespace {

#include "channels_last_pack_impl.h"  // transpose8x8 (AVX2, the library's baseline)

// dst[i * ld + r] = src[r * stride + i] for r < rows and i < cols: the transpose that puts the batch
// innermost in the packed rows (rows = N) and takes it out again (cols = N), eight by eight through
// registers (the scalar scatter, a store per float and N passes over each packed row, took 1.3 ms of
// dw17's 7 ms forward).
void transpose(const float *src, int64_t stride, int64_t rows, int64_t cols, float *dst, int64_t ld) {
    int64_t r = 0;
    for (; r + 8 <= rows; r += 8) {
        int64_t i = 0;
        for (; i + 8 <= cols; i += 8) {
            __m256 v8[8];
            for (int v = 0; v < 8; ++v) v8[v] = _mm256_loadu_ps(src + (r + v) * stride + i);
            transpose8x8(v8);
            for (int v = 0; v < 8; ++v) _mm256_storeu_ps(dst + (i + v) * ld + r, v8[v]);
        }
        for (; i < cols; ++i)
            for (int64_t v = r; v < r + 8; ++v) dst[i * ld + v] = src[v * stride + i];
    }
    for (; r < rows; ++r)
        for (int64_t i = 0; i < cols; ++i) dst[i * ld + r] = src[r * stride + i];
}

inline int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// Bytes of source runs a block of channels should keep in cache: forward and backward data reuse
// a block's runs for one row tile across all units (most of L1, which the destination tile shares:
// on the 48 KiB L1 of a Zen 5, 40 KiB against 24 KiB ran the delay layer's rows 10% faster);
// backward weights a block's whole rows across the output channels (a share of a 1 MiB L2).
int64_t tile_block_bytes() {
    static const int64_t bytes = [] {
        const long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE);
        return int64_t(l1 >= 16 * 1024 && l1 <= 1024 * 1024 ? l1 : 32 * 1024) * 5 / 6;
    }();
    return bytes;
}
constexpr int64_t kRowBlockBytes = 256 * 1024;

}  // namespace

struct SparseConv::Impl {
    dcls_conv_desc d{};
    bool avx512 = false;
    int64_t V = 8;
    // 3D geometry (leading axes of 1): input, kernel, stride, padding, output, padded input.
    int64_t in[3], k[3], s[3], pad[3], out[3], P[3];
    int64_t N, Cin, Cout, Cig, Cog, area;
    int64_t Wq;       // columns per phase of the padded last axis: ceil(P2 / s2)
    int64_t x_row;    // floats per packed x row (d, h): s2 phases of Wq * N
    int64_t x_chan;   // floats per packed x channel
    int64_t Jp;       // floats per y row: OW * N rounded up to the vector width
    int64_t rows;     // output rows OD * OH
    int64_t Lw;       // grad_y's left margin, in columns: (k2 - 1) / s2
    int64_t gy_row;   // floats per margined grad_y row
    int64_t Jq;       // floats per grad_x row and phase: Wq * N rounded up
    // Backward data computes the grad_x rows gx_lo + [0, gx_ext) and, in each row and phase, the floats
    // [gx_col0, gx_col0 + Jg): with zero padding the interior only (on dw17, 56 x 56 of 72 x 72 rows and
    // 56 of 72 columns: the padding's share would be computed and thrown away), else all of it (the
    // other padding modes fold it back in).
    int64_t gx_lo[3], gx_ext[3], gx_col0, Jg;
    int64_t w_row, w_margin;  // backward weights: floats per grad_y row; its columns of zeros before
    int64_t in_blocks, in_block, out_blocks, out_block;  // forward; backward data
    int64_t w_blocks, w_block;                           // backward weights
    std::vector<int64_t> src_d, src_h, src_w;  // padding sources per padded position (-1: zero)
    // Per kernel cell (its offset in a pair's plane): its run's offset in a packed x channel, in a
    // margined grad_y row, its phase and kernel row; made once so that set_cells divides nothing.
    std::vector<int64_t> cell_x, cell_gy;
    std::vector<int32_t> cell_phase, cell_kd, cell_kh;
    // Per padded column w: where it goes in a packed row, ((w % s2) Wq + w / s2) N for x and
    // ((w % s2) Jq + w / s2 N) for grad_x: no division in the packing loops.
    std::vector<int64_t> col_x, col_gx;

    // Packed x / y and grad_y / margined grad_y / grad_x / padded grad_x: the activations about four times over,
    // so they are allocated when the engine is first given cells (the cost model may never pick it for a plan;
    // the plan runs a pass here only after set_cells).
    AlignedArray<float> xp, yp, gyp, gxp, plain;
    bool buffers = false;
    int64_t slack = 0;  // each buffer is read up to a tile past its end

    void allocate_buffers() {
        if (buffers) return;
        xp.allocate(size_t(Cin * x_chan + slack));
        yp.allocate(size_t(Cout * rows * std::max(Jp, w_row) + slack));
        gyp.allocate(size_t(Cout * rows * gy_row + slack));
        gxp.allocate(size_t(Cin * gx_ext[0] * gx_ext[1] * s[2] * Jq + slack));
        if (d.padding_mode != DCLS_PADDING_ZEROS) plain.allocate(size_t(N * Cin * P[0] * P[1] * P[2]));
        buffers = true;
    }
    // Current cells: forward order (pairs, cells; KernelCells's own order) and backward-data
    // order (input channel, phase, output-channel block, o).
    bool have_cells = false, have_data = false, gradient = false;
    int64_t nnz = 0;
    std::vector<int64_t> w_item, w_split, w_end;  // backward weights' items (SparseWeightsJob)
    std::vector<int64_t> fwd_start, w_start, fwd_src, fwd_kidx, bwd_start, bwd_next, bwd_src, bwd_kidx;
    std::vector<int32_t> bwd_kd, bwd_kh;
    std::vector<uint8_t> fwd_run, bwd_run;  // SparseRowsJob::run
    std::vector<float> fwd_w, bwd_w;
    std::vector<double> grad;

    explicit Impl(const dcls_conv_desc &desc) : d(desc) {
        avx512 = use_avx512();
        V = avx512 ? kSparseAvx512Lanes : kSparseAvx2Lanes;
        const int lead = 3 - d.ndim;
        for (int i = 0; i < 3; ++i) {
            const bool used = i >= lead;
            in[i] = used ? d.input_size[i - lead] : 1;
            k[i] = used ? d.kernel_size[i - lead] : 1;
            s[i] = used ? d.stride[i - lead] : 1;
            pad[i] = used ? d.padding[i - lead] : 0;
            out[i] = (in[i] + 2 * pad[i] - k[i]) / s[i] + 1;
            P[i] = in[i] + 2 * pad[i];
        }
        const auto mode = static_cast<dcls_padding_mode>(d.padding_mode);
        for (int i = 0; i < 3; ++i) {
            std::vector<int64_t> &t = i == 0 ? src_d : i == 1 ? src_h : src_w;
            t.resize(size_t(P[i]));
            for (int64_t q = 0; q < P[i]; ++q) t[size_t(q)] = padding_source(q - pad[i], in[i], mode);
        }
        N = d.batch;
        Cin = d.in_channels;
        Cout = d.out_channels;
        Cig = Cin / d.groups;
        Cog = Cout / d.groups;
        area = k[0] * k[1] * k[2];
        Wq = ceil_div(P[2], s[2]);
        x_row = s[2] * Wq * N;
        x_chan = P[0] * P[1] * x_row;
        Jp = round_up(out[2] * N, V);
        rows = out[0] * out[1];
        Lw = (k[2] - 1) / s[2];
        gy_row = round_up((Lw + Wq) * N + V, V);
        // Backward weights' grad_y rows: a column of zeros either side (and a vector) for the runs
        // (sparse_conv_job.h) at stride 1.
        w_margin = s[2] == 1 ? 1 : 0;
        w_row = round_up(Jp + 2 * w_margin * N + V, V);
        Jq = round_up(Wq * N, V);
        const bool zeros = d.padding_mode == DCLS_PADDING_ZEROS;
        for (int i = 0; i < 3; ++i) {
            gx_lo[i] = zeros ? pad[i] : 0;
            gx_ext[i] = zeros ? in[i] : P[i];
        }
        // The columns only at stride 1 on the last axis (one phase; with more, a phase row's columns
        // interleave the padding's).
        const bool columns = zeros && s[2] == 1;
        gx_col0 = columns ? pad[2] * N : 0;
        Jg = columns ? round_up(in[2] * N, V) : Jq;
        // A row's last vector may run up to gx_col0 floats past its unit (Jg <= Jq): into the next
        // unit's left padding, which nothing computes or reads, or the buffer's slack.
        // Blocks: a channel's runs for one row tile (forward) or one row (weights) times the
        // kernel rows it spans; the larger of the two decides.
        const int64_t tile = (avx512 ? 16 : 8) * V;
        in_block = std::clamp<int64_t>(tile_block_bytes() / (4 * (tile + k[2] / s[2] * N) * k[0] * k[1]), 1, Cig);
        in_blocks = ceil_div(Cig, in_block);
        out_block = std::clamp<int64_t>(tile_block_bytes() / (4 * (tile + Lw * N) * k[0] * k[1]), 1, Cog);
        out_blocks = ceil_div(Cog, out_block);
        w_block = std::clamp<int64_t>(kRowBlockBytes / (4 * (Jp + k[2] / s[2] * N) * k[0] * k[1]), 1, Cig);
        w_blocks = ceil_div(Cig, w_block);

        slack = tile + V;
        fwd_start.resize(size_t(Cout * (in_blocks + 1)));
        w_start.resize(size_t(Cout * (w_blocks + 1)));
        w_split.resize(w_start.size());
        w_end.resize(w_start.size());
        for (int64_t w = 0; w < P[2]; ++w) {
            col_x.push_back(((w % s[2]) * Wq + w / s[2]) * N);
            col_gx.push_back((w % s[2]) * Jq + (w / s[2]) * N);
        }
        for (int64_t kd = 0; kd < k[0]; ++kd)
            for (int64_t kh = 0; kh < k[1]; ++kh)
                for (int64_t kw = 0; kw < k[2]; ++kw) {
                    cell_x.push_back((kd * P[1] + kh) * x_row + ((kw % s[2]) * Wq + kw / s[2]) * N);
                    cell_gy.push_back((Lw - kw / s[2]) * N);
                    cell_phase.push_back(int32_t(kw % s[2]));
                    cell_kd.push_back(int32_t(kd));
                    cell_kh.push_back(int32_t(kh));
                }
        bwd_start.resize(size_t(Cin * s[2] * (out_blocks + 1)));
        bwd_next.resize(bwd_start.size());
    }

    int threads() const { return std::max(1, omp_get_max_threads()); }

    // x (N, Cin, in...) -> xp [Cin][P0][P1][phase][Wq][N], padded.
    void pack_x(const float *x) {
        float *dst = xp.get();
#pragma omp parallel for schedule(static)
        for (int64_t c = 0; c < Cin; ++c)
            for (int64_t id = 0; id < P[0]; ++id)
                for (int64_t ih = 0; ih < P[1]; ++ih) {
                    float *row = dst + c * x_chan + (id * P[1] + ih) * x_row;
                    const int64_t sd = src_d[size_t(id)], sh = src_h[size_t(ih)];
                    if (sd < 0 || sh < 0) {
                        std::memset(row, 0, sizeof(float) * size_t(x_row));
                        continue;
                    }
                    const int64_t *sws = src_w.data(), *cols = col_x.data();
                    const float *src0 = x + ((c * in[0] + sd) * in[1] + sh) * in[2];
                    const int64_t image = Cin * in[0] * in[1] * in[2];
                    // At stride 1 the interior columns are one transpose; the padding's columns go one by one.
                    const bool interior = s[2] == 1;
                    if (interior) transpose(src0, image, N, in[2], row + pad[2] * N, N);
                    for (int64_t n = 0; n < N; ++n) {
                        const float *src = src0 + n * image;
                        float *dst_n = row + n;
                        for (int64_t w = 0; w < P[2]; ++w) {
                            if (interior && w == pad[2]) w += in[2];
                            if (w >= P[2]) break;
                            const int64_t sw = sws[w];
                            dst_n[cols[w]] = sw < 0 ? 0.f : src[sw];
                        }
                    }
                }
    }

    // grad_y (N, Cout, out...) -> rows of `stride` floats from column `margin`: [Cout][rows][(margin + ow) N + n],
    // zeros around (the buffer may hold the forward's whole tiles).
    void pack_y(const float *gy, float *dst, int64_t stride, int64_t margin) {
#pragma omp parallel for schedule(static)
        for (int64_t o = 0; o < Cout; ++o)
            for (int64_t r = 0; r < rows; ++r) {
                float *all = dst + (o * rows + r) * stride, *row = all + margin * N;
                std::memset(all, 0, sizeof(float) * size_t(margin * N));
                std::memset(row + out[2] * N, 0, sizeof(float) * size_t(stride - (margin + out[2]) * N));
                transpose(gy + (o * rows + r) * out[2], Cout * rows * out[2], N, out[2], row, N);
            }
    }

    void set_cells(const KernelCells &cells, bool data);
    SparseRowsJob rows_job(bool backward) const;
};

void SparseConv::Impl::set_cells(const KernelCells &cells, bool data) {
    if (cells.pairs != Cout * Cig || cells.size[0] != k[0] || cells.size[1] != k[1] || cells.size[2] != k[2])
        throw Error(DCLS_ERROR_INVALID_ARGUMENT, "kernel cells of another shape than the plan's kernel");
    allocate_buffers();
    nnz = cells.count();
    gradient = cells.gradient;
    fwd_src.resize(size_t(nnz));
    fwd_kidx.resize(size_t(nnz));
    fwd_w.resize(size_t(nnz));
    fwd_run.resize(size_t(nnz));
    grad.resize(size_t(nnz));
    const bool runs = s[2] == 1;
    // Forward order: the cells' own; block b of output channel o starts at pair o Cig + b in_block.
#pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < Cout; ++o)
        for (int64_t i = 0; i < Cig; ++i) {
            const int64_t p = o * Cig + i, channel = ((o / Cog) * Cig + i) * x_chan;
            const int64_t z0 = cells.start[size_t(p)], z1 = cells.start[size_t(p + 1)];
            for (int64_t z = z0; z < z1; ++z) {
                const int32_t cell = cells.cell[size_t(z)];
                fwd_src[size_t(z)] = channel + cell_x[size_t(cell)];
                fwd_kidx[size_t(z)] = p * area + cell;
            }
            // Runs, greedily from the pair's first cell: a cell and the next, its neighbour in the
            // same kernel row (at stride 1 their sources are a column, N floats, apart).
            for (int64_t z = z0; z < z1;) {
                const int32_t cell = cells.cell[size_t(z)];
                const bool run = runs && z + 1 < z1 && cells.cell[size_t(z + 1)] == cell + 1 && (cell + 1) % k[2] != 0;
                fwd_run[size_t(z)] = run ? 1 : 0;
                if (run) fwd_run[size_t(z + 1)] = 0;
                z += run ? 2 : 1;
            }
        }
    for (int64_t o = 0; o < Cout; ++o)
        for (int64_t b = 0; b <= in_blocks; ++b)
            fwd_start[size_t(o * (in_blocks + 1) + b)] = cells.start[size_t(o * Cig + std::min(b * in_block, Cig))];
    for (int64_t o = 0; o < Cout; ++o)
        for (int64_t b = 0; b <= w_blocks; ++b)
            w_start[size_t(o * (w_blocks + 1) + b)] = cells.start[size_t(o * Cig + std::min(b * w_block, Cig))];
    // Backward weights' items per (o, block), in the block's own range of w_item: runs, then singles.
    w_item.resize(size_t(nnz));
#pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < Cout; ++o)
        for (int64_t b = 0; b < w_blocks; ++b) {
            const int64_t at = o * (w_blocks + 1) + b, z0 = w_start[size_t(at)], z1 = w_start[size_t(at + 1)];
            int64_t next = z0;
            for (int64_t z = z0; z < z1; ++z)
                if (fwd_run[size_t(z)]) w_item[size_t(next++)] = z++;
            w_split[size_t(at)] = next;
            for (int64_t z = z0; z < z1; ++z) {
                if (fwd_run[size_t(z)]) ++z;
                else w_item[size_t(next++)] = z;
            }
            w_end[size_t(at)] = next;
        }

    have_data = data;
    have_cells = true;
    if (!data) return;
    // Backward-data order: per input channel c and phase, its pairs' cells by output-channel
    // block, then o. Counted per (c, phase, block) in parallel over c, then placed.
    bwd_src.resize(size_t(nnz));
    bwd_kidx.resize(size_t(nnz));
    bwd_kd.resize(size_t(nnz));
    bwd_kh.resize(size_t(nnz));
    bwd_w.resize(size_t(nnz));
    bwd_run.resize(size_t(nnz));
    const int64_t S2 = s[2], B = out_blocks;
    std::fill(bwd_start.begin(), bwd_start.end(), 0);
    // Both passes take the input channels in spans of kChannelSpan and, per output channel, the
    // span's pairs, which lie side by side in the cell lists: strided by Cin/g pairs, one per
    // channel, they would each cost a cache miss.
    constexpr int64_t kChannelSpan = 64;
    const int64_t spans = ceil_div(Cin, kChannelSpan);
#pragma omp parallel for schedule(static)
    for (int64_t span = 0; span < spans; ++span) {
        const int64_t c0 = span * kChannelSpan, c1 = std::min(Cin, c0 + kChannelSpan);
        for (int64_t oo = 0; oo < Cog; ++oo) {
            const int64_t b = oo / out_block;
            for (int64_t c = c0; c < c1; ++c) {
                const int64_t p = ((c / Cig) * Cog + oo) * Cig + c % Cig;
                int64_t *count = bwd_start.data() + c * S2 * (B + 1);
                for (int64_t z = cells.start[size_t(p)]; z < cells.start[size_t(p + 1)]; ++z)
                    ++count[cell_phase[size_t(cells.cell[size_t(z)])] * (B + 1) + b + 1];
            }
        }
    }
    // Exclusive prefix over (c, phase, block), in place: entry b of (c, phase) becomes its start.
    int64_t total = 0;
    for (int64_t cp = 0; cp < Cin * S2; ++cp) {
        int64_t *e = bwd_start.data() + cp * (B + 1);
        e[0] = total;
        for (int64_t b = 1; b <= B; ++b) {
            total += e[b];
            e[b] = total;
        }
    }
    // The next free entry of each (phase, block) of c: its start, advanced as entries are placed
    // (bwd_next, one row of S2 * (B + 1) per input channel, so no allocation here).
    std::copy(bwd_start.begin(), bwd_start.end(), bwd_next.begin());
#pragma omp parallel for schedule(static)
    for (int64_t span = 0; span < spans; ++span) {
        const int64_t c0 = span * kChannelSpan, c1 = std::min(Cin, c0 + kChannelSpan);
        for (int64_t oo = 0; oo < Cog; ++oo)
            for (int64_t c = c0; c < c1; ++c) {
                int64_t *next = bwd_next.data() + c * S2 * (B + 1);
                const int64_t o = (c / Cig) * Cog + oo, p = o * Cig + c % Cig, b = oo / out_block;
                const int64_t o_row = o * rows * gy_row;
                for (int64_t z = cells.start[size_t(p)]; z < cells.start[size_t(p + 1)]; ++z) {
                    const int32_t cell = cells.cell[size_t(z)];
                    const int64_t e = next[cell_phase[size_t(cell)] * (B + 1) + b]++;
                    bwd_src[size_t(e)] = o_row + cell_gy[size_t(cell)];
                    bwd_kidx[size_t(e)] = p * area + cell;
                    bwd_kd[size_t(e)] = cell_kd[size_t(cell)];
                    bwd_kh[size_t(e)] = cell_kh[size_t(cell)];
                    bwd_run[size_t(e)] = fwd_run[size_t(z)];  // its partner z + 1 lands at e + 1
                }
            }
    }
}

SparseRowsJob SparseConv::Impl::rows_job(bool backward) const {
    SparseRowsJob j{};
    j.backward = backward;
    j.s0 = s[0];
    j.s1 = s[1];
    j.P1 = P[1];
    j.OD = out[0];
    j.OH = out[1];
    j.run_floats = N;
    j.threads = threads();
    if (!backward) {
        j.units = Cout * rows;
        j.rows = rows;
        j.dst_h = out[1];
        j.phases = 1;
        j.blocks = in_blocks;
        j.Jp = Jp;
        j.src_row = x_row;
        j.dst_unit = Jp;
        j.start = fwd_start.data();
        j.src = fwd_src.data();
        j.w = fwd_w.data();
        j.run = fwd_run.data();
        j.src_base = xp.get();
        j.dst = yp.get();
    } else {
        j.units = Cin * gx_ext[0] * gx_ext[1] * s[2];
        j.rows = gx_ext[0] * gx_ext[1];
        j.dst_h = gx_ext[1];
        j.lo0 = gx_lo[0];
        j.lo1 = gx_lo[1];
        j.col0 = gx_col0;
        j.phases = s[2];
        j.blocks = out_blocks;
        j.Jp = Jg;
        j.src_row = gy_row;
        j.dst_unit = Jq;
        j.start = bwd_start.data();
        j.src = bwd_src.data();
        j.kd = bwd_kd.data();
        j.kh = bwd_kh.data();
        j.w = bwd_w.data();
        j.run = bwd_run.data();
        j.src_base = gyp.get();
        j.dst = gxp.get();
    }
    return j;
}

SparseConv::SparseConv(const dcls_conv_desc &desc) : impl_(new Impl(desc)) {}

SparseConv::~SparseConv() = default;

void SparseConv::set_cells(const KernelCells &cells, bool backward_data) { impl_->set_cells(cells, backward_data); }

double SparseConv::cost(Pass pass, int64_t cells) const {
    const Impl &p = *impl_;
    // The multiply-adds (rows are computed to whole vectors), at `speed` of oneDNN's rate (the
    // sources come from L2 more than L1), plus the packing: each pass moves its activations
    // through memory two or three times, `per_float` multiply-adds' time per float. Fitted per
    // instruction set to bench_sparse's shapes (BENCHMARKS.md), against the dense engines' speeds
    // (the depthwise kernels': 1.6):
    //   AVX-512 (Zen 5): 0.7 and 40; compute is fast against memory there, and on dw17 (batch 8,
    //     half a vector per column: no pairs) the packing makes the depthwise kernels win;
    //   AVX2 (Zen 3): 1.0 and 10; the pairs run dw17's 108 of 289 cells at about the depthwise
    //     kernels' rate (5 to 7.5 against 14 ms forward), and the packing costs less against compute.
    const double speed = p.avx512 ? 0.7 : 1.0, per_float = p.avx512 ? 40.0 : 10.0;
    const double x = double(p.N * p.Cin * p.P[0] * p.P[1] * p.P[2]), y = double(p.N * p.Cout * p.rows * p.out[2]);
    const double runs = pass == Pass::BackwardData
                            ? double(p.gx_ext[0] * p.gx_ext[1]) * double(p.Jg) / double(p.s[0] * p.s[1])
                                                   : double(p.rows) * double(p.Jp);
    return double(cells) * runs / speed + per_float * (x + y);
}

bool SparseConv::takes(Pass pass) const {
    const Impl &p = *impl_;
    return p.have_cells && (pass != Pass::BackwardData || p.have_data) && (pass != Pass::BackwardWeights || p.gradient);
}

std::string SparseConv::info(Pass) const {
    const Impl &p = *impl_;
    const double per_pair = double(p.nnz) / double(std::max<int64_t>(1, p.Cout * p.Cig));
    char buf[96];
    std::snprintf(buf, sizeof buf, "dcls:sparse(%.3g of %lld cells,%s)", per_pair, static_cast<long long>(p.area),
                  p.avx512 ? "avx512" : "avx2");
    return buf;
}

void SparseConv::forward(const float *x, const float *kernel, const float *bias, float *y) {
    Impl &p = *impl_;
    p.pack_x(x);
    float *w = p.fwd_w.data();
    const int64_t *kidx = p.fwd_kidx.data();
#pragma omp parallel for schedule(static)
    for (int64_t z = 0; z < p.nnz; ++z) w[z] = kernel[kidx[z]];
    SparseRowsJob j = p.rows_job(false);
    j.bias = bias;
    if (p.avx512) sparse_rows_avx512(j);
    else sparse_rows_avx2(j);
    // yp [Cout][rows][ow N + n] -> y (N, Cout, rows, OW).
    const float *src = p.yp.get();
#pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < p.Cout; ++o)
        for (int64_t r = 0; r < p.rows; ++r) {
            transpose(src + (o * p.rows + r) * p.Jp, p.N, p.out[2], p.N, y + (o * p.rows + r) * p.out[2],
                      p.Cout * p.rows * p.out[2]);
        }
}

void SparseConv::backward_data(const float *grad_y, const float *kernel, float *grad_x) {
    Impl &p = *impl_;
    p.pack_y(grad_y, p.gyp.get(), p.gy_row, p.Lw);
    float *w = p.bwd_w.data();
    const int64_t *kidx = p.bwd_kidx.data();
#pragma omp parallel for schedule(static)
    for (int64_t z = 0; z < p.nnz; ++z) w[z] = kernel[kidx[z]];
    const SparseRowsJob j = p.rows_job(true);
    if (p.avx512) sparse_rows_avx512(j);
    else sparse_rows_avx2(j);
    // gxp [Cin][gx_ext0][gx_ext1][phase][q N + n] -> grad_x (zeros: the interior it holds), or the
    // padded gradient, then folded through the padding.
    const bool zeros = p.d.padding_mode == DCLS_PADDING_ZEROS;
    const float *gx = p.gxp.get();
    const int64_t *ext = p.gx_ext;
    float *dst_all = zeros ? grad_x : p.plain.get();
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < p.Cin; ++c)
        for (int64_t a = 0; a < ext[0]; ++a)
            for (int64_t b = 0; b < ext[1]; ++b) {
                const float *row = gx + ((c * ext[0] + a) * ext[1] + b) * p.s[2] * p.Jq;
                const int64_t *cols = p.col_gx.data() + p.gx_lo[2];
                if (p.s[2] == 1) {  // one phase: the columns are contiguous
                    transpose(row + p.gx_lo[2] * p.N, p.N, ext[2], p.N, dst_all + ((c * ext[0] + a) * ext[1] + b) * ext[2],
                              p.Cin * ext[0] * ext[1] * ext[2]);
                    continue;
                }
                for (int64_t n = 0; n < p.N; ++n) {
                    float *dst = dst_all + (((n * p.Cin + c) * ext[0] + a) * ext[1] + b) * ext[2];
                    const float *src = row + n;
                    for (int64_t e = 0; e < ext[2]; ++e) dst[e] = src[cols[e]];
                }
            }
    if (!zeros) {
        PadWindow win{p.d.ndim, p.N * p.Cin, {1, 1, 1}, {0, 0, 0}, {1, 1, 1}};
        for (int i = 0; i < p.d.ndim; ++i) {
            const int a = 3 - p.d.ndim + i;
            win.size[i] = p.in[a];
            win.start[i] = -p.pad[a];
            win.length[i] = p.P[a];
        }
        window_backward(win, static_cast<dcls_padding_mode>(p.d.padding_mode), p.plain.get(), grad_x);
    }
}

void SparseConv::backward_weights(const float *x, const float *grad_y, float *grad_kernel, float *grad_bias,
                                  bool accumulate) {
    Impl &p = *impl_;
    p.pack_x(x);
    p.pack_y(grad_y, p.yp.get(), p.w_row, p.w_margin);
    SparseWeightsJob j{};
    j.channels = p.Cout;
    j.rows = p.rows;
    j.blocks = p.w_blocks;
    j.Jp = p.Jp;
    j.out_h = p.out[1];
    j.s0 = p.s[0];
    j.s1 = p.s[1];
    j.P1 = p.P[1];
    j.src_row = p.x_row;
    j.gy_row = p.w_row;
    j.gy_margin = p.w_margin * p.N;
    j.start = p.w_start.data();
    j.item = p.w_item.data();
    j.split = p.w_split.data();
    j.end = p.w_end.data();
    j.run_floats = p.N;
    j.src = p.fwd_src.data();
    j.gy = p.yp.get();
    j.x = p.xp.get();
    j.grad = p.grad.data();
    j.threads = p.threads();
    if (p.avx512) sparse_weights_avx512(j);
    else sparse_weights_avx2(j);
    const int64_t kernel_size = p.Cout * p.Cig * p.area;
    if (!accumulate) std::memset(grad_kernel, 0, sizeof(float) * size_t(kernel_size));
    const int64_t *kidx = p.fwd_kidx.data();
    const double *g = p.grad.data();
    if (accumulate) {
#pragma omp parallel for schedule(static)
        for (int64_t z = 0; z < p.nnz; ++z) grad_kernel[kidx[z]] += float(g[z]);
    } else {
#pragma omp parallel for schedule(static)
        for (int64_t z = 0; z < p.nnz; ++z) grad_kernel[kidx[z]] = float(g[z]);
    }
    if (grad_bias != nullptr) {
        const float *gy = p.yp.get();
#pragma omp parallel for schedule(static)
        for (int64_t o = 0; o < p.Cout; ++o) {
            double sum = 0.0;
            for (int64_t i = 0; i < p.rows * p.w_row; ++i) sum += gy[o * p.rows * p.w_row + i];
            grad_bias[o] = accumulate ? grad_bias[o] + float(sum) : float(sum);
        }
    }
}

}  // namespace dcls
