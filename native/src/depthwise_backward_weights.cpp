// Depthwise backward weights: scratch, the choice of instruction set, the work split, and the
// final sums of the partials. The kernels are in depthwise_backward_weights_impl.h.
#include "depthwise_backward_weights.h"

#include <omp.h>

#include <algorithm>

#include "cpu_kernels_common.h"
#include "depthwise_backward_weights_job.h"

namespace dcls {

struct DepthwiseBackwardWeights::Impl {
    DwJob job{};
    bool avx512 = false;
    int threads_alloc = 1;
    PaddedGeometry geometry;
    AlignedArray<float> planes, part;
    AlignedArray<double> bias_part;

    explicit Impl(const dcls_conv_desc &d) : geometry(d) {}

    // The batch and item splits for nt threads: enough units to keep nt threads busy and
    // balanced under dynamic scheduling, preferring batch splits (no repeated packing).
    void split(int nt, int64_t &ns, int64_t &ks) const {
        const int64_t items = job.k[0] * job.k[1] * job.KWB;
        ns = std::min<int64_t>(job.N, ceil_div(8 * int64_t(nt), job.CB));
        const int64_t units = job.CB * ns;
        ks = units >= 2 * nt ? 1 : std::min<int64_t>(items, ceil_div(4 * int64_t(nt), units));
    }
};

bool DepthwiseBackwardWeights::applies(const dcls_conv_desc &d) {
    return d.groups == d.in_channels && d.groups == d.out_channels;
}

DepthwiseBackwardWeights::DepthwiseBackwardWeights(const dcls_conv_desc &d) : impl_(new Impl(d)) {
    Impl &p = *impl_;
    DwJob &j = p.job;
    const PaddedGeometry &g = p.geometry;
    p.avx512 = use_avx512();
    j.V = p.avx512 ? kDwAvx512Lanes : kDwAvx2Lanes;
    j.kb_max = p.avx512 ? kDwAvx512KbMax : kDwAvx2KbMax;
    j.N = d.batch;
    j.C = d.in_channels;
    j.CB = ceil_div(j.C, j.V);
    for (int i = 0; i < 3; ++i) {
        j.in[i] = g.in[i];
        j.out[i] = g.out[i];
        j.k[i] = g.k[i];
        j.s[i] = g.s[i];
        j.xp[i] = g.xp[i];
    }
    j.row_src_d = g.src[0].data();
    j.row_src_h = g.src[1].data();
    j.col_src_w = g.src[2].data();
    j.col_lo = g.col_lo;
    j.col_hi = g.col_hi;
    j.KWB = ceil_div(j.k[2], j.kb_max);

    // Scratch for the most threads a call may use.
    p.threads_alloc = std::max(omp_get_max_threads(), omp_get_num_procs());
    int64_t ns_max, ks_max;
    p.split(p.threads_alloc, ns_max, ks_max);
    j.x_plane = (j.xp[0] * j.xp[1] * j.xp[2] * j.V + 15) / 16 * 16;
    j.plane_stride = j.x_plane + (j.out[0] * j.out[1] * j.out[2] * j.V + 15) / 16 * 16;
    p.planes.allocate(size_t(j.plane_stride) * p.threads_alloc);
    p.part.allocate(size_t(ns_max * j.CB * j.k[0] * j.k[1] * j.k[2] * j.V));
    p.bias_part.allocate(size_t(ns_max * j.CB * j.V));
    j.planes = p.planes.get();
    j.part = p.part.get();
    j.bias_part = p.bias_part.get();
}

DepthwiseBackwardWeights::~DepthwiseBackwardWeights() = default;

std::unique_ptr<ConvEngine> DepthwiseBackwardWeights::create(const dcls_conv_desc &d) {
    if (!applies(d)) return nullptr;
    return std::make_unique<DepthwiseBackwardWeights>(d);
}

std::string DepthwiseBackwardWeights::info(Pass) const { return std::string("dcls:depthwise-backward-weights(") + isa() + ")"; }

const char *DepthwiseBackwardWeights::isa() const { return impl_->avx512 ? "avx512" : "avx2"; }

void DepthwiseBackwardWeights::run(const float *x, const float *grad_y, float *grad_kernel, float *grad_bias,
                                   bool accumulate) {
    Impl &p = *impl_;
    DwJob &j = p.job;
    const int nt = std::max(1, std::min(omp_get_max_threads(), p.threads_alloc));
    p.split(nt, j.NS, j.KS);
    j.threads = nt;
    j.x = x;
    j.gy = grad_y;
    j.want_bias = grad_bias != nullptr;
    if (p.avx512) depthwise_backward_weights_avx512(j);
    else depthwise_backward_weights_avx2(j);

    // Sum the partials over the batch splits, in order, and transpose part[ns][cb][k][v] to
    // grad_kernel[c][k].
    const int64_t V = j.V, K = j.k[0] * j.k[1] * j.k[2], C = j.C, CB = j.CB, NS = j.NS;
    const float *part = j.part;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t c = 0; c < C; ++c) {
        const int64_t cb = c / V, v = c % V;
        float *gk = grad_kernel + c * K;
        for (int64_t q = 0; q < K; ++q) {
            double sum = 0.0;
            for (int64_t ns = 0; ns < NS; ++ns) sum += part[((ns * CB + cb) * K + q) * V + v];
            gk[q] = accumulate ? float(gk[q] + sum) : float(sum);
        }
    }
    if (grad_bias != nullptr)
        for (int64_t c = 0; c < C; ++c) {
            double sum = 0.0;
            for (int64_t ns = 0; ns < NS; ++ns) sum += j.bias_part[(ns * CB + c / V) * V + c % V];
            grad_bias[c] = accumulate ? float(grad_bias[c] + sum) : float(sum);
        }
}

}  // namespace dcls
