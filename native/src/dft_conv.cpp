// Convolution through DFTs computed as matrix products (see dft_conv.h).
//
// Conventions. Along h (T_h cells) the transform is the complex DFT, along w (T_w cells) the real
// one (B = T_w / 2 + 1 bins): X(f, b) = sum_{h,w} x[h][w] e^{-2 pi i (f h / T_h + b w / T_w)}.
// With x zero-padded into the padded frame (cell (h + ph, w + pw)) and T = the padded size:
//   forward           y = x corr k          Y  = X conj(K)      per bin: Y[n][o]  = sum_i X[n][i] conj(K[o][i])
//   backward data     gx = gy conv k        GX = GY K           per bin: GX[n][i] = sum_o GY[n][o] K[o][i]
//   backward weights  gk = x corr gy        GK = X conj(GY)     per bin: GK[o][i] = sum_n X[n][i] conj(GY[n][o])
// and no product wraps around (every index stays below T). A complex product per bin is one real
// matrix product (the "mixing" matmul, batched over bins): the small side (the batch's data) takes
// the 2x2 block form [[Re, Im], [Im, -Re]] (signs per pass), the large side (kernel-sized) holds
// each value once, [Re; Im].
//
// A forward transform of P planes of R x C cells (at offset r0, c0 in the frame), planes innermost:
//   1. A[j][p][h] = sum_w Mw^T[j][w] x[p][h][w]     Mw = [cos | -sin](2 pi (w + c0) b / T_w), j < 2B
//   2. U[j][k][p] = sum_h Mh^T[k][h] A[j][p][h]     Mh = [cos | sin](2 pi (h + r0) f / T_h), k < 2T_h
//   3. a loop combines U into Re/Im per bin and writes runs of planes where the mixing matmul wants
//      them (Layout).
// An inverse transform (to R x C cells at offset r0, c0) runs the same steps backwards, with the
// 1 / (T_h T_w) scale and the real transform's bin weights (1 for b = 0 and T_w / 2, else 2).
// Planes go in chunks so the intermediates stay near 1 MiB.
#include "dft_conv.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "cpu_kernels_common.h"
#include "dnnl.hpp"
#include "onednn_engine.h"
#include "padding.h"

namespace dcls {

namespace {

using dnnl::memory;
using dt = memory::data_type;

// Planes per chunk of a transform: keeps U (chunk x 2B x 2T_h floats) near 1 MiB.
int64_t chunk_planes(int64_t per_plane_floats) {
    return std::max<int64_t>(1, (int64_t(1) << 18) / std::max<int64_t>(per_plane_floats, 1));
}

// One oneDNN matmul of fixed shapes: dst = src * weights, with strides given per tensor.
struct Matmul {
    dnnl::matmul prim;
    memory src, weights, dst;

    Matmul() = default;
    Matmul(const memory::desc &s, const memory::desc &w, const memory::desc &d) {
        auto &eng = cpu_engine();
        dnnl::matmul::primitive_desc pd(eng, s, w, d);
        prim = dnnl::matmul(pd);
        src = memory(s, eng, DNNL_MEMORY_NONE);
        weights = memory(w, eng, DNNL_MEMORY_NONE);
        dst = memory(d, eng, DNNL_MEMORY_NONE);
    }
    void run(dnnl::stream &stream, const float *a, const float *b, float *c) {
        src.set_data_handle(const_cast<float *>(a));
        weights.set_data_handle(const_cast<float *>(b));
        dst.set_data_handle(c);
        prim.execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}});
    }
};

memory::desc plain(memory::dims dims) {
    memory::dims strides(dims.size(), 1);
    for (int i = int(dims.size()) - 2; i >= 0; --i) strides[i] = strides[i + 1] * dims[i + 1];
    return memory::desc(dims, dt::f32, strides);
}

// cos and sin of 2 pi a / t, with a reduced mod t first so large products stay exact.
double angle(int64_t a, int64_t t) {
    const int64_t r = ((a % t) + t) % t;
    return 2.0 * M_PI * double(r) / double(t);
}

// The shared geometry: frame T_h x T_w, B bins along w.
struct Frame {
    int64_t th, tw, b;
    int64_t bins() const { return th * b; }
};

// Where the (Re, Im) of plane q at a bin go in the mixing matmul's operand (or come from, in
// its result): base = bin * bin_stride + offset(q), plus up to four entries base + delta[e]
// = re_coef[e] * Re + im_coef[e] * Im (a complex number may appear twice, in a 2x2 block). Planes
// are (outer, inner) pairs, inner fastest; offset = outer * outer_stride + inner.
struct Layout {
    int64_t bin_stride = 0, inner = 1, outer_stride = 0;
    int entries = 0;
    int64_t delta[4] = {0, 0, 0, 0};
    float re_coef[4] = {0, 0, 0, 0}, im_coef[4] = {0, 0, 0, 0};

    Layout() = default;
    Layout(int64_t bin_stride_, int64_t inner_, int64_t outer_stride_)
        : bin_stride(bin_stride_), inner(inner_), outer_stride(outer_stride_) {}
    int64_t offset(int64_t q) const { return q / inner * outer_stride + q % inner; }
    Layout &entry(int64_t d, float re, float im) {
        delta[entries] = d;
        re_coef[entries] = re;
        im_coef[entries] = im;
        ++entries;
        return *this;
    }
    // Writes planes [p0, p0 + n) of one bin; value(p, re, im) gives plane p0 + p. Runs of planes
    // with consecutive offsets (the inner index) become plain vectorisable loops.
    template <typename Value>
    void write_run(float *dst, int64_t bin, int64_t p0, int64_t n, Value value) const {
        float *base = dst + bin * bin_stride;
        for (int64_t p = 0; p < n;) {
            const int64_t run = std::min(n - p, inner - (p0 + p) % inner);
            float *at = base + offset(p0 + p);
            for (int e = 0; e < entries; ++e) {
                float *out = at + delta[e];
                const float cr = re_coef[e], ci = im_coef[e];
                for (int64_t j = 0; j < run; ++j) {
                    float re, im;
                    value(p + j, re, im);
                    out[j] = cr * re + ci * im;
                }
            }
            p += run;
        }
    }
    // Reads planes [p0, p0 + n) of one bin into re[0, n) and im[0, n) (entry 0 is Re, 1 is Im).
    void read_run(const float *src, int64_t bin, int64_t p0, int64_t n, float *re, float *im) const {
        const float *base = src + bin * bin_stride;
        for (int64_t p = 0; p < n;) {
            const int64_t run = std::min(n - p, inner - (p0 + p) % inner);
            const float *at = base + offset(p0 + p);
            std::memcpy(re + p, at + delta[0], sizeof(float) * run);
            std::memcpy(im + p, at + delta[1], sizeof(float) * run);
            p += run;
        }
    }
};

// A forward transform of `planes` planes of R x C cells at offset (r0, c0) of the frame. Planes
// run along the innermost axis of the intermediates, so that the last loop reads and writes
// consecutive planes.
class ForwardTransform {
public:
    ForwardTransform() = default;
    ForwardTransform(const Frame &f, int64_t planes, int64_t rows, int64_t cols, int64_t r0, int64_t c0)
        : f_(f), planes_(planes), rows_(rows), cols_(cols) {
        const int64_t b2 = 2 * f.b, t2 = 2 * f.th;
        mw_.allocate(size_t(b2 * cols));  // Mw^T
        for (int64_t w = 0; w < cols; ++w)
            for (int64_t b = 0; b < f.b; ++b) {
                const double a = angle((w + c0) * b, f.tw);
                mw_.get()[b * cols + w] = float(std::cos(a));
                mw_.get()[(f.b + b) * cols + w] = float(-std::sin(a));
            }
        mh_.allocate(size_t(t2 * rows));  // Mh^T
        for (int64_t h = 0; h < rows; ++h)
            for (int64_t q = 0; q < f.th; ++q) {
                const double a = angle((h + r0) * q, f.th);
                mh_.get()[q * rows + h] = float(std::cos(a));
                mh_.get()[(f.th + q) * rows + h] = float(std::sin(a));
            }
        chunk_ = std::min(planes, chunk_planes(b2 * t2 + rows * b2));
        a_.allocate(size_t(chunk_ * rows * b2));
        u_.allocate(size_t(chunk_ * b2 * t2));
        make(full_, chunk_);
        if (planes % chunk_ != 0) make(tail_, planes % chunk_);
    }

    // Transforms planes (P x R x C floats) into `dst` through `layout`.
    void run(dnnl::stream &stream, const float *x, const Layout &layout, float *dst) {
        const int64_t B = f_.b, T = f_.th, t2 = 2 * T;
        for (int64_t p0 = 0; p0 < planes_; p0 += chunk_) {
            const int64_t n = std::min(chunk_, planes_ - p0);
            Stage &s = n == chunk_ ? full_ : tail_;
            // A[j][p][h] = sum_w Mw^T[j][w] x[p][h][w];  U[j][k][p] = sum_h Mh^T[k][h] A[j][p][h]
            s.w.run(stream, mw_.get(), x + p0 * rows_ * cols_, a_.get());
            s.h.run(stream, mh_.get(), a_.get(), u_.get());
            stream.wait();
            const float *u = u_.get();
            // j = b (Re of the w transform) or B + b (Im); k = f (cos) or T + f (sin).
#pragma omp parallel for collapse(2) schedule(static)
            for (int64_t b = 0; b < B; ++b)
                for (int64_t q = 0; q < T; ++q) {
                    const float *rc = u + (b * t2 + q) * n, *rs = u + (b * t2 + T + q) * n;
                    const float *ic = u + ((B + b) * t2 + q) * n, *is = u + ((B + b) * t2 + T + q) * n;
                    layout.write_run(dst, q * B + b, p0, n, [&](int64_t p, float &re, float &im) {
                        re = rc[p] + is[p];
                        im = ic[p] - rs[p];
                    });
                }
        }
    }

private:
    struct Stage {
        Matmul w, h;
    };
    void make(Stage &s, int64_t n) {
        const int64_t b2 = 2 * f_.b, t2 = 2 * f_.th, pr = n * rows_;
        // x viewed as (C x P R): column (p, h) is row h of plane p.
        s.w = Matmul(plain({b2, cols_}), memory::desc({cols_, pr}, dt::f32, {1, cols_}), plain({b2, pr}));
        // Per j, A[j] viewed as (R x P), against Mh^T broadcast.
        s.h = Matmul(plain({1, t2, rows_}), memory::desc({b2, rows_, n}, dt::f32, {pr, 1, rows_}),
                     plain({b2, t2, n}));
    }

    Frame f_{};
    int64_t planes_ = 0, rows_ = 0, cols_ = 0, chunk_ = 1;
    AlignedArray<float> mw_, mh_, a_, u_;
    Stage full_, tail_;
};

// An inverse transform to `planes` planes of R x C cells at offset (r0, c0) of the frame.
class InverseTransform {
public:
    InverseTransform() = default;
    InverseTransform(const Frame &f, int64_t planes, int64_t rows, int64_t cols, int64_t r0, int64_t c0)
        : f_(f), planes_(planes), rows_(rows), cols_(cols) {
        const int64_t b2 = 2 * f.b;
        mh_.allocate(size_t(2 * rows * f.th));  // [cos; sin](2 pi f (h + r0) / T_h), (2R x T_h)
        for (int64_t q = 0; q < f.th; ++q)
            for (int64_t h = 0; h < rows; ++h) {
                const double a = angle(q * (h + r0), f.th);
                mh_.get()[h * f.th + q] = float(std::cos(a));
                mh_.get()[(rows + h) * f.th + q] = float(std::sin(a));
            }
        mw_.allocate(size_t(b2 * cols));
        const double scale = 1.0 / double(f.th * f.tw);
        for (int64_t b = 0; b < f.b; ++b) {
            const double weight = (b == 0 || 2 * b == f.tw) ? scale : 2.0 * scale;
            for (int64_t w = 0; w < cols; ++w) {
                const double a = angle(b * (w + c0), f.tw);
                mw_.get()[b * cols + w] = float(weight * std::cos(a));
                mw_.get()[(f.b + b) * cols + w] = float(-weight * std::sin(a));
            }
        }
        chunk_ = std::min(planes, chunk_planes(b2 * f.th + b2 * 2 * rows));
        q_.allocate(size_t(chunk_ * b2 * f.th));
        u_.allocate(size_t(chunk_ * b2 * 2 * rows));
        z_.allocate(size_t(chunk_ * rows * b2));
        make(full_, chunk_);
        if (planes % chunk_ != 0) make(tail_, planes % chunk_);
    }

    // Reads every (plane, bin) from `src` through `layout` and writes the planes (P x R x C
    // floats) to y.
    void run(dnnl::stream &stream, const float *src, const Layout &layout, float *y) {
        const int64_t B = f_.b, T = f_.th, R = rows_, b2 = 2 * B, r2 = 2 * R;
        for (int64_t p0 = 0; p0 < planes_; p0 += chunk_) {
            const int64_t n = std::min(chunk_, planes_ - p0);
            Stage &s = n == chunk_ ? full_ : tail_;
            float *q = q_.get();
            // Q[j][f][p]: j = b (Re) or B + b (Im).
#pragma omp parallel for collapse(2) schedule(static)
            for (int64_t b = 0; b < B; ++b)
                for (int64_t f = 0; f < T; ++f)
                    layout.read_run(src, f * B + b, p0, n, q + (b * T + f) * n, q + ((B + b) * T + f) * n);
            // U[j][k][p] = sum_f [cos; sin][k][f] Q[j][f][p]
            s.h.run(stream, mh_.get(), q, u_.get());
            stream.wait();
            const float *u = u_.get();
            float *z = z_.get();
            // Z[p][h][j], k = h (cos) or R + h (sin).
#pragma omp parallel for schedule(static)
            for (int64_t h = 0; h < R; ++h)
                for (int64_t b = 0; b < B; ++b) {
                    const float *rc = u + (b * r2 + h) * n, *rs = u + (b * r2 + R + h) * n;
                    const float *ic = u + ((B + b) * r2 + h) * n, *is = u + ((B + b) * r2 + R + h) * n;
                    for (int64_t p = 0; p < n; ++p) {
                        z[(p * R + h) * b2 + b] = rc[p] - is[p];
                        z[(p * R + h) * b2 + B + b] = ic[p] + rs[p];
                    }
                }
            s.w.run(stream, z, mw_.get(), y + p0 * rows_ * cols_);
            stream.wait();
        }
    }

private:
    struct Stage {
        Matmul h, w;
    };
    void make(Stage &s, int64_t n) {
        const int64_t b2 = 2 * f_.b;
        s.h = Matmul(plain({1, 2 * rows_, f_.th}), plain({b2, f_.th, n}), plain({b2, 2 * rows_, n}));
        s.w = Matmul(plain({n * rows_, b2}), plain({b2, cols_}), plain({n * rows_, cols_}));
    }

    Frame f_{};
    int64_t planes_ = 0, rows_ = 0, cols_ = 0, chunk_ = 1;
    AlignedArray<float> mh_, mw_, q_, u_, z_;
    Stage full_, tail_;
};

// The shape on two axes (h, w): 1D shapes have h of one cell.
struct Geometry {
    int64_t n, ci, co, in[2], k[2], pad[2], out[2];
    explicit Geometry(const dcls_conv_desc &d) : n(d.batch), ci(d.in_channels), co(d.out_channels) {
        const int lead = 2 - d.ndim;
        for (int a = 0; a < 2; ++a) {
            const bool used = a >= lead;
            in[a] = used ? d.input_size[a - lead] : 1;
            k[a] = used ? d.kernel_size[a - lead] : 1;
            pad[a] = used ? d.padding[a - lead] : 0;
            out[a] = in[a] + 2 * pad[a] - k[a] + 1;
        }
    }
    Frame frame() const {
        const int64_t th = in[0] + 2 * pad[0], tw = in[1] + 2 * pad[1];
        return {th, tw, tw / 2 + 1};
    }
};

}  // namespace

bool DftConv::runs(const dcls_conv_desc &d) {
    if (d.ndim > 2 || d.groups != 1) return false;
    for (int i = 0; i < d.ndim; ++i)
        if (d.stride[i] != 1) return false;
    return true;
}

double DftConv::cost(const dcls_conv_desc &d) {
    const Geometry g(d);
    const Frame f = g.frame();
    const double bins = double(f.bins()), b2 = 2.0 * double(f.b), t2 = 2.0 * double(f.th);
    auto transform = [&](double planes, double rows, double cols) {
        return planes * (rows * cols * b2 + b2 * rows * t2);
    };
    // Multiply-adds of the three passes, each: transforms in and out, and the mixing, whose
    // per-bin matrices (bins x 2 Cin x Cout floats) are streamed through memory once or twice per
    // pass: counted as 100 multiply-adds per Cin x Cout entry and bin (fitted to measurements, see
    // BENCHMARKS.md).
    const double mixing = bins * double(g.ci) * double(g.co) * (4.0 * double(g.n) + 100.0);
    const double x = transform(double(g.n * g.ci), double(g.in[0]), double(g.in[1]));
    const double y = transform(double(g.n * g.co), double(g.out[0]), double(g.out[1]));
    const double k = transform(double(g.co * g.ci), double(g.k[0]), double(g.k[1]));
    return 3.0 * (x + y + k + mixing);
}

double DftConv::direct_cost(const dcls_conv_desc &d) {
    const Geometry g(d);
    return 3.0 * double(g.n * g.co * g.ci) * double(g.out[0] * g.out[1]) * double(g.k[0] * g.k[1]);
}

bool DftConv::fits(const dcls_conv_desc &d) {
    // The mixing operands hold bins x 2 Cin x Cout floats each: stay within 256 MiB.
    const Geometry g(d);
    return double(g.frame().bins()) * 16.0 * double(g.ci) * double(g.co) <= 256.0 * 1024 * 1024;
}

bool DftConv::applies(const dcls_conv_desc &d, EngineChoice choice) {
    if (choice == EngineChoice::Never || !runs(d)) return false;
    if (choice == EngineChoice::Always) return true;
    // oneDNN's direct convolution runs near the FMA peak, the DFT's small products and loops at a
    // fraction of it: ask for 2.3x fewer (weighted) multiply-adds.
    return direct_cost(d) >= kMargin * cost(d) && fits(d);
}

struct DftConv::Impl {
    Geometry g;
    Frame f;
    dcls_padding_mode mode;
    bool explicit_padding;
    PadShape pad_shape{};
    dnnl::stream stream;

    // Transforms: x (into the frame at its padding offset), gy (at 0), the kernel, and back.
    ForwardTransform x_in, gy_in, k_in;
    InverseTransform y_out, gx_out, gk_out;
    // Where each pass's operands go, per bin (see the passes below).
    Layout fwd_x, fwd_k, fwd_y, data_gy, data_k, data_gx, weights_gy, weights_x, weights_gk;
    // Per-bin operands of the mixing matmuls, the matmuls, and scratch.
    AlignedArray<float> src_bins, weight_bins, dst_bins, padded, kernel_t, grad_y_t, gk_buf;
    Matmul mix_fwd, mix_bwd_data, mix_bwd_weights;

    explicit Impl(const dcls_conv_desc &d)
        : g(d),
          f(g.frame()),
          mode(static_cast<dcls_padding_mode>(d.padding_mode)),
          explicit_padding(d.padding_mode != DCLS_PADDING_ZEROS),
          stream(cpu_engine()) {
        const int64_t bins = f.bins(), n = g.n, ci = g.ci, co = g.co;
        // With explicit padding, x is the padded frame itself (offset 0), and gx comes back as one.
        const int64_t xr = explicit_padding ? f.th : g.in[0], xc = explicit_padding ? f.tw : g.in[1];
        const int64_t r0 = explicit_padding ? 0 : g.pad[0], c0 = explicit_padding ? 0 : g.pad[1];
        x_in = ForwardTransform(f, n * ci, xr, xc, r0, c0);
        gy_in = ForwardTransform(f, n * co, g.out[0], g.out[1], 0, 0);
        k_in = ForwardTransform(f, co * ci, g.k[0], g.k[1], 0, 0);
        y_out = InverseTransform(f, n * co, g.out[0], g.out[1], 0, 0);
        gx_out = InverseTransform(f, n * ci, xr, xc, r0, c0);
        gk_out = InverseTransform(f, co * ci, g.k[0], g.k[1], 0, 0);

        // Forward, per bin: [[Xr, Xi], [Xi, -Xr]] (2n x 2ci) * [Kr^T; Ki^T] (2ci x co) = [Yr; Yi],
        // the kernel's planes taken transposed (i, o) so that they land contiguously.
        fwd_x = Layout(2 * n * 2 * ci, ci, 2 * ci)
                    .entry(0, 1, 0).entry(ci, 0, 1).entry(n * 2 * ci, 0, 1).entry(n * 2 * ci + ci, -1, 0);
        fwd_k = Layout(2 * ci * co, co, co).entry(0, 1, 0).entry(ci * co, 0, 1);
        fwd_y = Layout(2 * n * co, co, co).entry(0, 1, 0).entry(n * co, 0, 1);
        // Backward data: [[GYr, -GYi], [GYi, GYr]] (2n x 2co) * [Kr; Ki] (2co x ci) = [GXr; GXi].
        data_gy = Layout(2 * n * 2 * co, co, 2 * co)
                      .entry(0, 1, 0).entry(co, 0, -1).entry(n * 2 * co, 0, 1).entry(n * 2 * co + co, 1, 0);
        data_k = Layout(2 * co * ci, ci, ci).entry(0, 1, 0).entry(co * ci, 0, 1);
        data_gx = Layout(2 * n * ci, ci, ci).entry(0, 1, 0).entry(n * ci, 0, 1);
        // Backward weights: [[GYr^T, GYi^T], [-GYi^T, GYr^T]] (2co x 2n) * [Xr; Xi] (2n x ci) =
        // [GKr; GKi], grad_y's planes taken transposed (o, n).
        weights_gy = Layout(2 * co * 2 * n, n, 2 * n)
                         .entry(0, 1, 0).entry(n, 0, 1).entry(co * 2 * n, 0, -1).entry(co * 2 * n + n, 1, 0);
        weights_x = Layout(2 * n * ci, ci, ci).entry(0, 1, 0).entry(n * ci, 0, 1);
        weights_gk = Layout(2 * co * ci, ci, ci).entry(0, 1, 0).entry(co * ci, 0, 1);

        mix_fwd = Matmul(plain({bins, 2 * n, 2 * ci}), plain({bins, 2 * ci, co}), plain({bins, 2 * n, co}));
        mix_bwd_data = Matmul(plain({bins, 2 * n, 2 * co}), plain({bins, 2 * co, ci}), plain({bins, 2 * n, ci}));
        mix_bwd_weights = Matmul(plain({bins, 2 * co, 2 * n}), plain({bins, 2 * n, ci}), plain({bins, 2 * co, ci}));
        src_bins.allocate(size_t(bins * 4 * std::max(n * ci, n * co)));
        weight_bins.allocate(size_t(bins * 2 * std::max(ci * co, n * ci)));
        dst_bins.allocate(size_t(bins * 2 * std::max({n * co, n * ci, co * ci})));

        if (explicit_padding) {
            pad_shape.ndim = d.ndim;
            pad_shape.planes = n * ci;
            for (int i = 0; i < d.ndim; ++i) {
                pad_shape.size[i] = d.input_size[i];
                pad_shape.pad[i] = d.padding[i];
            }
            padded.allocate(size_t(n * ci * f.th * f.tw));
        }
        kernel_t.allocate(size_t(co * ci * g.k[0] * g.k[1]));
        grad_y_t.allocate(size_t(n * co * g.out[0] * g.out[1]));
        gk_buf.allocate(size_t(co * ci * g.k[0] * g.k[1]));
    }

    const float *frame_input(const float *x) {
        if (!explicit_padding) return x;
        pad_forward(pad_shape, mode, x, padded.get());
        return padded.get();
    }

    // dst (b, a, area) = src (a, b, area): swaps the two plane indices.
    static void swap_planes(const float *src, int64_t a, int64_t b, int64_t area, float *dst) {
#pragma omp parallel for collapse(2) schedule(static)
        for (int64_t j = 0; j < b; ++j)
            for (int64_t i = 0; i < a; ++i) std::memcpy(dst + (j * a + i) * area, src + (i * b + j) * area, sizeof(float) * area);
    }
};

std::unique_ptr<ConvEngine> DftConv::create(const dcls_conv_desc &desc, EngineChoice choice) {
    if (!applies(desc, choice)) return nullptr;
    return std::make_unique<DftConv>(desc);
}

DftConv::DftConv(const dcls_conv_desc &desc)
    : impl_(new Impl(desc)), speed_(direct_cost(desc) / (kMargin * cost(desc))) {}

std::string DftConv::info(Pass) const {
    return "dcls:dft(frame=" + std::to_string(impl_->f.th) + "x" + std::to_string(impl_->f.tw) + ")";
}

DftConv::~DftConv() = default;

void DftConv::forward(const float *x, const float *kernel, const float *bias, float *y) {
    Impl &p = *impl_;
    const int64_t n = p.g.n, ci = p.g.ci, co = p.g.co;
    p.x_in.run(p.stream, p.frame_input(x), p.fwd_x, p.src_bins.get());
    Impl::swap_planes(kernel, co, ci, p.g.k[0] * p.g.k[1], p.kernel_t.get());
    p.k_in.run(p.stream, p.kernel_t.get(), p.fwd_k, p.weight_bins.get());
    p.mix_fwd.run(p.stream, p.src_bins.get(), p.weight_bins.get(), p.dst_bins.get());
    p.stream.wait();
    p.y_out.run(p.stream, p.dst_bins.get(), p.fwd_y, y);
    const int64_t area = p.g.out[0] * p.g.out[1];
    if (bias != nullptr) {
#pragma omp parallel for schedule(static)
        for (int64_t plane = 0; plane < n * co; ++plane) {
            const float b = bias[plane % co];
            float *row = y + plane * area;
            for (int64_t j = 0; j < area; ++j) row[j] += b;
        }
    }
}

void DftConv::backward_data(const float *grad_y, const float *kernel, float *grad_x) {
    Impl &p = *impl_;
    p.gy_in.run(p.stream, grad_y, p.data_gy, p.src_bins.get());
    p.k_in.run(p.stream, kernel, p.data_k, p.weight_bins.get());
    p.mix_bwd_data.run(p.stream, p.src_bins.get(), p.weight_bins.get(), p.dst_bins.get());
    p.stream.wait();
    float *out = p.explicit_padding ? p.padded.get() : grad_x;
    p.gx_out.run(p.stream, p.dst_bins.get(), p.data_gx, out);
    if (p.explicit_padding) pad_backward(p.pad_shape, p.mode, out, grad_x);
}

void DftConv::backward_weights(const float *x, const float *grad_y, float *grad_kernel, float *grad_bias,
                               bool accumulate) {
    Impl &p = *impl_;
    const int64_t n = p.g.n, ci = p.g.ci, co = p.g.co, area = p.g.out[0] * p.g.out[1];
    Impl::swap_planes(grad_y, n, co, area, p.grad_y_t.get());
    p.gy_in.run(p.stream, p.grad_y_t.get(), p.weights_gy, p.src_bins.get());
    p.x_in.run(p.stream, p.frame_input(x), p.weights_x, p.weight_bins.get());
    p.mix_bwd_weights.run(p.stream, p.src_bins.get(), p.weight_bins.get(), p.dst_bins.get());
    p.stream.wait();
    float *gk = accumulate ? p.gk_buf.get() : grad_kernel;
    p.gk_out.run(p.stream, p.dst_bins.get(), p.weights_gk, gk);
    const int64_t kernel_size = co * ci * p.g.k[0] * p.g.k[1];
    if (accumulate)
        for (int64_t j = 0; j < kernel_size; ++j) grad_kernel[j] += gk[j];
    if (grad_bias != nullptr) {
        for (int64_t o = 0; o < co; ++o) {
            double sum = 0.0;
            for (int64_t b = 0; b < n; ++b) {
                const float *row = grad_y + (b * co + o) * area;
                for (int64_t j = 0; j < area; ++j) sum += row[j];
            }
            grad_bias[o] = float(accumulate ? grad_bias[o] + sum : sum);
        }
    }
}

}  // namespace dcls
