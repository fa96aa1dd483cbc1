// Depthwise forward and backward data: geometry, index tables, weight packing, scratch, the
// choice of instruction set and the work split. The kernel is in depthwise_conv_impl.h.
#include "depthwise_conv.h"

#include <omp.h>

#include <algorithm>

#include "cpu_kernels_common.h"
#include "depthwise_conv_job.h"
#include "padding.h"

namespace dcls {

namespace {

// One pass: its job and the index tables the job points at.
struct PassJob {
    DwConvJob job{};
    std::vector<int64_t> src[3];
};

}  // namespace

struct DepthwiseConv::Impl {
    bool avx512 = false, backward = false;
    int threads_alloc = 1;
    dcls_padding_mode mode = DCLS_PADDING_ZEROS;
    int64_t in[3], k[3], s[3], pad[3], out[3];
    PadShape pad_shape{};
    PassJob fwd, bwd;
    AlignedArray<float> planes, wpack, bpack, padded;

    // The row splits for nt threads: whole planes when there are enough of them.
    static int64_t row_splits(const DwConvJob &j, int nt) {
        const int64_t units = j.N * j.CB, rows = j.out[0] * j.out[1];
        return units >= 2 * nt ? 1 : std::min<int64_t>(rows, ceil_div(4 * int64_t(nt), units));
    }

    // Fills the geometry of a pass reading a source plane of size src_in through tables that
    // map packed position j to j - shift (mode for what falls outside), producing out.
    void setup(PassJob &p, const int64_t src_in[3], const int64_t shift[3], dcls_padding_mode m, const int64_t stride[3],
               const int64_t o[3], int64_t lanes, int64_t kb_max, const dcls_conv_desc &d) {
        DwConvJob &j = p.job;
        j.N = d.batch;
        j.C = d.in_channels;
        j.V = lanes;
        j.CB = ceil_div(j.C, lanes);
        for (int i = 0; i < 3; ++i) {
            j.src_in[i] = src_in[i];
            j.k[i] = k[i];
            j.s[i] = stride[i];
            j.out[i] = o[i];
        }
        j.nb = ceil_div(k[2], kb_max);
        j.kb = ceil_div(k[2], j.nb);
        j.kwp = j.nb * j.kb;
        int64_t lo = 0, hi = 0;
        for (int i = 0; i < 3; ++i) {
            const int64_t used = (o[i] - 1) * j.s[i] + k[i];  // packed positions the kernel reads
            j.xp[i] = i < 2 ? used : used - k[2] + j.kwp;     // plus the zero-weight columns
            p.src[i] = source_table(j.xp[i], used, src_in[i], shift[i], m, lo, hi);
        }
        j.row_src_d = p.src[0].data();
        j.row_src_h = p.src[1].data();
        j.col_src_w = p.src[2].data();
        j.col_lo = lo;
        j.col_hi = hi;
        j.x_plane = (j.xp[0] * j.xp[1] * j.xp[2] * lanes + 15) / 16 * 16;
        j.plane_stride = j.x_plane + (o[0] * o[1] * o[2] * lanes + 15) / 16 * 16;
    }

    // Packs kernel (C, 1, k...) to [CB][k0 * k1][kwp][V], flipped on every axis when asked.
    void pack_weights(const DwConvJob &j, const float *kernel, bool flip) {
        float *w = wpack.get();
        const int64_t V = j.V, K = k[0] * k[1] * k[2];
        for (int64_t cb = 0; cb < j.CB; ++cb)
            for (int64_t kd = 0; kd < k[0]; ++kd)
                for (int64_t kh = 0; kh < k[1]; ++kh)
                    for (int64_t kw = 0; kw < j.kwp; ++kw) {
                        float *dst = w + (((cb * k[0] + kd) * k[1] + kh) * j.kwp + kw) * V;
                        for (int64_t v = 0; v < V; ++v) {
                            const int64_t c = cb * V + v;
                            float value = 0.f;
                            if (c < j.C && kw < k[2]) {
                                const int64_t q = flip ? ((k[0] - 1 - kd) * k[1] + k[1] - 1 - kh) * k[2] + k[2] - 1 - kw
                                                       : (kd * k[1] + kh) * k[2] + kw;
                                value = kernel[c * K + q];
                            }
                            dst[v] = value;
                        }
                    }
    }

    void run(DwConvJob &j) {
        const int nt = std::max(1, std::min(omp_get_max_threads(), threads_alloc));
        j.threads = nt;
        j.RS = row_splits(j, nt);
        j.planes = planes.get();
        j.wpack = wpack.get();
        j.bpack = bpack.get();
        if (avx512) depthwise_conv_avx512(j);
        else depthwise_conv_avx2(j);
    }
};

bool DepthwiseConv::applies(const dcls_conv_desc &d) {
    return d.groups == d.in_channels && d.groups == d.out_channels;
}

bool DepthwiseConv::backward_data_applies(const dcls_conv_desc &d) {
    if (!applies(d)) return false;
    for (int i = 0; i < d.ndim; ++i)
        if (d.stride[i] != 1) return false;
    return true;
}

std::unique_ptr<ConvEngine> DepthwiseConv::create(const dcls_conv_desc &d) {
    if (!applies(d)) return nullptr;
    return std::make_unique<DepthwiseConv>(d);
}

bool DepthwiseConv::takes(Pass pass) const {
    return pass == Pass::Forward || (pass == Pass::BackwardData && impl_->backward);
}

std::string DepthwiseConv::info(Pass pass) const {
    const std::string isa = impl_->avx512 ? "(avx512)" : "(avx2)";
    return pass == Pass::Forward ? "dcls:depthwise" + isa : "dcls:depthwise-flipped" + isa;
}

DepthwiseConv::DepthwiseConv(const dcls_conv_desc &d) : impl_(new Impl) {
    Impl &p = *impl_;
    p.avx512 = use_avx512();
    p.backward = backward_data_applies(d);
    p.mode = static_cast<dcls_padding_mode>(d.padding_mode);
    const int lead = 3 - d.ndim;
    for (int i = 0; i < 3; ++i) {
        const bool used = i >= lead;
        p.in[i] = used ? d.input_size[i - lead] : 1;
        p.k[i] = used ? d.kernel_size[i - lead] : 1;
        p.s[i] = used ? d.stride[i - lead] : 1;
        p.pad[i] = used ? d.padding[i - lead] : 0;
        p.out[i] = (p.in[i] + 2 * p.pad[i] - p.k[i]) / p.s[i] + 1;
    }
    const int64_t lanes = p.avx512 ? kDwConvAvx512Lanes : kDwConvAvx2Lanes;
    const int64_t kb_max = p.avx512 ? kDwConvAvx512KbMax : kDwConvAvx2KbMax;

    // Forward: x read through its padding.
    p.setup(p.fwd, p.in, p.pad, p.mode, p.s, p.out, lanes, kb_max, d);

    // Backward data (stride 1): grad_y placed at offset k - 1 - off in a zero-padded plane,
    // correlated with the flipped kernel. With zero padding the output is grad_x itself (padded
    // positions [pad, pad + in), off = pad); otherwise it is the gradient of the whole padded
    // input (off = 0), folded back by pad_backward.
    size_t plane_stride = size_t(p.fwd.job.plane_stride);
    if (p.backward) {
        const bool zeros = p.mode == DCLS_PADDING_ZEROS;
        const int64_t unit[3] = {1, 1, 1};
        int64_t shift[3], o[3];
        for (int i = 0; i < 3; ++i) {
            shift[i] = p.k[i] - 1 - (zeros ? p.pad[i] : 0);
            o[i] = zeros ? p.in[i] : p.in[i] + 2 * p.pad[i];
        }
        p.setup(p.bwd, p.out, shift, DCLS_PADDING_ZEROS, unit, o, lanes, kb_max, d);
        plane_stride = std::max(plane_stride, size_t(p.bwd.job.plane_stride));
        if (!zeros) {
            p.pad_shape.ndim = d.ndim;
            p.pad_shape.planes = d.batch * d.in_channels;
            for (int i = 0; i < d.ndim; ++i) {
                p.pad_shape.size[i] = d.input_size[i];
                p.pad_shape.pad[i] = d.padding[i];
            }
            p.padded.allocate(size_t(d.batch * d.in_channels * o[0] * o[1] * o[2]));
        }
    }

    p.threads_alloc = std::max(omp_get_max_threads(), omp_get_num_procs());
    p.planes.allocate(plane_stride * p.threads_alloc);
    const DwConvJob &j = p.fwd.job;
    p.wpack.allocate(size_t(j.CB * p.k[0] * p.k[1] * j.kwp * j.V));
    p.bpack.allocate(size_t(j.CB * j.V));
}

DepthwiseConv::~DepthwiseConv() = default;

void DepthwiseConv::forward(const float *x, const float *kernel, const float *bias, float *y) {
    Impl &p = *impl_;
    DwConvJob &j = p.fwd.job;
    p.pack_weights(j, kernel, false);
    float *b = p.bpack.get();
    for (int64_t c = 0; c < j.CB * j.V; ++c) b[c] = bias != nullptr && c < j.C ? bias[c] : 0.f;
    j.src = x;
    j.dst = y;
    p.run(j);
}

void DepthwiseConv::backward_data(const float *grad_y, const float *kernel, float *grad_x) {
    Impl &p = *impl_;
    DwConvJob &j = p.bwd.job;
    p.pack_weights(j, kernel, true);
    std::fill(p.bpack.get(), p.bpack.get() + j.CB * j.V, 0.f);
    j.src = grad_y;
    j.dst = p.mode == DCLS_PADDING_ZEROS ? grad_x : p.padded.get();
    p.run(j);
    if (p.mode != DCLS_PADDING_ZEROS) pad_backward(p.pad_shape, p.mode, p.padded.get(), grad_x);
}

}  // namespace dcls
