// The tap-sparse convolution (sparse_conv.h): geometry, packing, the non-zero lists, the choice of
// instruction set and the folding of results. The kernels are in sparse_conv_impl.h.
#include "sparse_conv.h"

#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "cpu_kernels_common.h"
#include "error.h"
#include "padding.h"
#include "sparse_conv_job.h"

namespace dcls {

namespace {

inline int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// Bytes of source runs a block of channels should keep in cache (a share of a 1 MiB L2).
constexpr int64_t kBlockBytes = 256 * 1024;

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
    int64_t in_blocks, in_block, out_blocks, out_block;
    std::vector<int64_t> src_d, src_h, src_w;  // padding sources per padded position (-1: zero)

    AlignedArray<float> xp, yp, gyp, gxp, plain;  // packed x / y and grad_y / margined grad_y / grad_x / padded grad_x
    // Current cells: forward order (pairs, cells; KernelCells's own order) and backward-data
    // order (input channel, phase, output-channel block, o).
    bool have_cells = false, gradient = false;
    int64_t nnz = 0;
    std::vector<int64_t> fwd_start, fwd_src, fwd_kidx, bwd_start, bwd_src, bwd_kidx;
    std::vector<int32_t> bwd_kd, bwd_kh;
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
        Jq = round_up(Wq * N, V);
        // Blocks: a channel's runs for one row tile (forward) or one row (weights) times the
        // kernel rows it spans; the larger of the two decides.
        const int64_t tile = (avx512 ? 16 : 8) * V;
        const int64_t run = std::max(tile, Jp) + k[2] / s[2] * N;
        in_block = std::clamp<int64_t>(kBlockBytes / (4 * run * k[0] * k[1]), 1, Cig);
        in_blocks = ceil_div(Cig, in_block);
        const int64_t gy_run = tile + Lw * N;
        out_block = std::clamp<int64_t>(kBlockBytes / (4 * gy_run * k[0] * k[1]), 1, Cog);
        out_blocks = ceil_div(Cog, out_block);

        // The buffers; each is read up to a tile past its end.
        const int64_t slack = tile + V;
        xp.allocate(size_t(Cin * x_chan + slack));
        yp.allocate(size_t(Cout * rows * Jp + slack));
        gyp.allocate(size_t(Cout * rows * gy_row + slack));
        gxp.allocate(size_t(Cin * P[0] * P[1] * s[2] * Jq + slack));
        if (d.padding_mode != DCLS_PADDING_ZEROS) plain.allocate(size_t(N * Cin * P[0] * P[1] * P[2]));
        fwd_start.resize(size_t(Cout * (in_blocks + 1)));
        bwd_start.resize(size_t(Cin * s[2] * (out_blocks + 1)));
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
                    for (int64_t n = 0; n < N; ++n) {
                        const float *src = x + (((n * Cin + c) * in[0] + sd) * in[1] + sh) * in[2];
                        for (int64_t w = 0; w < P[2]; ++w) {
                            const int64_t sw = src_w[size_t(w)];
                            row[((w % s[2]) * Wq + w / s[2]) * N + n] = sw < 0 ? 0.f : src[sw];
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
                for (int64_t n = 0; n < N; ++n) {
                    const float *src = gy + ((n * Cout + o) * rows + r) * out[2];
                    for (int64_t ow = 0; ow < out[2]; ++ow) row[ow * N + n] = src[ow];
                }
            }
    }

    int64_t pair_source(int64_t pair, int32_t cell) const {
        const int64_t o = pair / Cig, i = pair % Cig, c = (o / Cog) * Cig + i;
        const int64_t kd = cell / (k[1] * k[2]), kh = cell / k[2] % k[1], kw = cell % k[2];
        return c * x_chan + (kd * P[1] + kh) * x_row + ((kw % s[2]) * Wq + kw / s[2]) * N;
    }

    void set_cells(const KernelCells &cells);
    SparseRowsJob rows_job(bool backward) const;
};

void SparseConv::Impl::set_cells(const KernelCells &cells) {
    if (cells.pairs != Cout * Cig || cells.size[0] != k[0] || cells.size[1] != k[1] || cells.size[2] != k[2])
        throw Error(DCLS_ERROR_INVALID_ARGUMENT, "kernel cells of another shape than the plan's kernel");
    nnz = cells.count();
    gradient = cells.gradient;
    const int64_t pairs = cells.pairs;
    fwd_src.resize(size_t(nnz));
    fwd_kidx.resize(size_t(nnz));
    fwd_w.resize(size_t(nnz));
    grad.resize(size_t(nnz));
    // Forward order: the cells' own; block b of output channel o starts at pair o Cig + b in_block.
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < pairs; ++p)
        for (int64_t z = cells.start[size_t(p)]; z < cells.start[size_t(p + 1)]; ++z) {
            fwd_src[size_t(z)] = pair_source(p, cells.cell[size_t(z)]);
            fwd_kidx[size_t(z)] = p * area + cells.cell[size_t(z)];
        }
    for (int64_t o = 0; o < Cout; ++o)
        for (int64_t b = 0; b <= in_blocks; ++b)
            fwd_start[size_t(o * (in_blocks + 1) + b)] = cells.start[size_t(o * Cig + std::min(b * in_block, Cig))];

    // Backward-data order: per input channel c and phase, its pairs' cells by output-channel
    // block, then o. Counted per (c, phase, block) in parallel over c, then placed.
    bwd_src.resize(size_t(nnz));
    bwd_kidx.resize(size_t(nnz));
    bwd_kd.resize(size_t(nnz));
    bwd_kh.resize(size_t(nnz));
    bwd_w.resize(size_t(nnz));
    const int64_t S2 = s[2], B = out_blocks;
    std::fill(bwd_start.begin(), bwd_start.end(), 0);
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < Cin; ++c) {
        const int64_t g = c / Cig, i = c % Cig;
        int64_t *count = bwd_start.data() + c * S2 * (B + 1);
        for (int64_t oo = 0; oo < Cog; ++oo) {
            const int64_t p = (g * Cog + oo) * Cig + i, b = oo / out_block;
            for (int64_t z = cells.start[size_t(p)]; z < cells.start[size_t(p + 1)]; ++z)
                ++count[(cells.cell[size_t(z)] % k[2] % S2) * (B + 1) + b + 1];
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
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < Cin; ++c) {
        const int64_t g = c / Cig, i = c % Cig;
        std::vector<int64_t> at(size_t(S2 * B));
        for (int64_t ph = 0; ph < S2; ++ph)
            for (int64_t b = 0; b < B; ++b) at[size_t(ph * B + b)] = bwd_start[size_t((c * S2 + ph) * (B + 1) + b)];
        for (int64_t oo = 0; oo < Cog; ++oo) {
            const int64_t o = g * Cog + oo, p = o * Cig + i, b = oo / out_block;
            for (int64_t z = cells.start[size_t(p)]; z < cells.start[size_t(p + 1)]; ++z) {
                const int32_t cell = cells.cell[size_t(z)];
                const int64_t kd = cell / (k[1] * k[2]), kh = cell / k[2] % k[1], kw = cell % k[2];
                const int64_t e = at[size_t((kw % S2) * B + b)]++;
                bwd_src[size_t(e)] = o * rows * gy_row + (Lw - kw / S2) * N;
                bwd_kidx[size_t(e)] = p * area + cell;
                bwd_kd[size_t(e)] = int32_t(kd);
                bwd_kh[size_t(e)] = int32_t(kh);
            }
        }
    }
    have_cells = true;
}

SparseRowsJob SparseConv::Impl::rows_job(bool backward) const {
    SparseRowsJob j{};
    j.backward = backward;
    j.s0 = s[0];
    j.s1 = s[1];
    j.P1 = P[1];
    j.OD = out[0];
    j.OH = out[1];
    j.out_h = out[1];
    j.threads = threads();
    if (!backward) {
        j.units = Cout * rows;
        j.rows = rows;
        j.phases = 1;
        j.blocks = in_blocks;
        j.Jp = Jp;
        j.src_row = x_row;
        j.dst_unit = Jp;
        j.start = fwd_start.data();
        j.src = fwd_src.data();
        j.w = fwd_w.data();
        j.src_base = xp.get();
        j.dst = yp.get();
    } else {
        j.units = Cin * P[0] * P[1] * s[2];
        j.rows = P[0] * P[1];
        j.phases = s[2];
        j.blocks = out_blocks;
        j.Jp = Jq;
        j.src_row = gy_row;
        j.dst_unit = Jq;
        j.start = bwd_start.data();
        j.src = bwd_src.data();
        j.kd = bwd_kd.data();
        j.kh = bwd_kh.data();
        j.w = bwd_w.data();
        j.src_base = gyp.get();
        j.dst = gxp.get();
    }
    return j;
}

SparseConv::SparseConv(const dcls_conv_desc &desc) : impl_(new Impl(desc)) {}

SparseConv::~SparseConv() = default;

void SparseConv::set_cells(const KernelCells &cells) { impl_->set_cells(cells); }

double SparseConv::cost(Pass pass, int64_t cells) const {
    const Impl &p = *impl_;
    // The multiply-adds (rows are computed to whole vectors), at kSpeed of oneDNN's rate, plus the
    // packing: each pass moves its activations through memory twice or three times, a few
    // multiply-adds' time per float.
    constexpr double kSpeed = 0.8, kPerFloat = 4.0;
    const double x = double(p.N * p.Cin * p.P[0] * p.P[1] * p.P[2]), y = double(p.N * p.Cout * p.rows * p.out[2]);
    const double runs = pass == Pass::BackwardData ? double(p.P[0] * p.P[1]) * double(p.Jq) / double(p.s[0] * p.s[1])
                                                   : double(p.rows) * double(p.Jp);
    return double(cells) * runs / kSpeed + kPerFloat * (x + y);
}

bool SparseConv::takes(Pass pass) const {
    return impl_->have_cells && (pass != Pass::BackwardWeights || impl_->gradient);
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
            const float *row = src + (o * p.rows + r) * p.Jp;
            for (int64_t n = 0; n < p.N; ++n) {
                float *dst = y + ((n * p.Cout + o) * p.rows + r) * p.out[2];
                for (int64_t ow = 0; ow < p.out[2]; ++ow) dst[ow] = row[ow * p.N + n];
            }
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
    // gxp [Cin][P0][P1][phase][q N + n] -> the padded gradient, then folded through the padding
    // (zeros: just the interior, straight into grad_x).
    const bool zeros = p.d.padding_mode == DCLS_PADDING_ZEROS;
    const float *gx = p.gxp.get();
    const int64_t lo[3] = {zeros ? p.pad[0] : 0, zeros ? p.pad[1] : 0, zeros ? p.pad[2] : 0};
    const int64_t ext[3] = {zeros ? p.in[0] : p.P[0], zeros ? p.in[1] : p.P[1], zeros ? p.in[2] : p.P[2]};
    float *dst_all = zeros ? grad_x : p.plain.get();
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < p.Cin; ++c)
        for (int64_t a = 0; a < ext[0]; ++a)
            for (int64_t b = 0; b < ext[1]; ++b) {
                const int64_t id = a + lo[0], ih = b + lo[1];
                const float *row = gx + ((c * p.P[0] + id) * p.P[1] + ih) * p.s[2] * p.Jq;
                for (int64_t n = 0; n < p.N; ++n) {
                    float *dst = dst_all + (((n * p.Cin + c) * ext[0] + a) * ext[1] + b) * ext[2];
                    for (int64_t e = 0; e < ext[2]; ++e) {
                        const int64_t w = e + lo[2];
                        dst[e] = row[(w % p.s[2]) * p.Jq + (w / p.s[2]) * p.N + n];
                    }
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
    p.pack_y(grad_y, p.yp.get(), p.Jp, 0);
    SparseWeightsJob j{};
    j.channels = p.Cout;
    j.rows = p.rows;
    j.blocks = p.in_blocks;
    j.Jp = p.Jp;
    j.out_h = p.out[1];
    j.s0 = p.s[0];
    j.s1 = p.s[1];
    j.P1 = p.P[1];
    j.src_row = p.x_row;
    j.start = p.fwd_start.data();
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
            for (int64_t i = 0; i < p.rows * p.Jp; ++i) sum += gy[o * p.rows * p.Jp + i];
            grad_bias[o] = accumulate ? grad_bias[o] + float(sum) : float(sum);
        }
    }
}

}  // namespace dcls
