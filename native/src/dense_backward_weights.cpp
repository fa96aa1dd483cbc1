// Dense backward weights: tiles, scratch, the choice of instruction set, the work split, and the
// final sums of the partials. The kernels are in dense_backward_weights_impl.h.
#include "dense_backward_weights.h"

#include <omp.h>

#include <algorithm>

#include "cpu_kernels_common.h"
#include "dense_backward_weights_job.h"

namespace dcls {

namespace {

// The most memory the partial sums of the batch splits may take, beyond one split.
constexpr size_t kPartialBytes = size_t(64) << 20;

}  // namespace

struct DenseBackwardWeights::Impl {
    DenseJob job{};
    bool avx512 = false;
    int threads_alloc = 1;
    int64_t ns_cap = 1;
    PaddedGeometry geometry;
    AlignedArray<float> planes, part;
    AlignedArray<double> bias_part;

    explicit Impl(const dcls_conv_desc &d) : geometry(d) {}

    // The batch and item splits for nt threads: a batch split per thread (each has its own
    // partial sums, so at most ns_cap of them), and item splits for at least two units per
    // thread, so that dynamic scheduling can even out the threads.
    void split(int nt, int64_t &ns, int64_t &ks) const {
        const int64_t items = job.k[0] * job.k[1] * job.k[2] * job.b_tiles * job.v_tiles;
        ns = std::min<int64_t>({job.N, int64_t(nt), ns_cap});
        ks = std::min<int64_t>(items, ceil_div(2 * int64_t(nt), ns));
    }
};

bool DenseBackwardWeights::applies(const dcls_conv_desc &d) { return d.groups == 1; }

DenseBackwardWeights::DenseBackwardWeights(const dcls_conv_desc &d) : impl_(new Impl(d)) {
    Impl &p = *impl_;
    DenseJob &j = p.job;
    const PaddedGeometry &g = p.geometry;
    p.avx512 = use_avx512();
    j.V = p.avx512 ? kDenseAvx512Lanes : kDenseAvx2Lanes;
    const int64_t ncv_max = p.avx512 ? kDenseAvx512NcvMax : kDenseAvx2NcvMax;
    j.N = d.batch;
    j.C = d.in_channels;
    j.O = d.out_channels;
    // The vector side: the channels that fill the lanes better (input channels on a tie).
    const auto fill = [&](int64_t channels) { return double(channels) / double(ceil_div(channels, j.V) * j.V); };
    j.vec_c = fill(j.C) >= fill(j.O);
    j.VB = ceil_div(j.vec_c ? j.C : j.O, j.V);
    j.B = j.vec_c ? j.O : j.C;
    j.Cx = j.vec_c ? j.VB * j.V : ceil_div(j.C, 8) * 8;
    j.Ox = j.vec_c ? ceil_div(j.O, 8) * 8 : j.VB * j.V;
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

    // Tiles: balanced vector-side tiles of at most ncv_max vectors, then broadcast-side tiles
    // as tall as the widest vector tile allows.
    j.v_tiles = ceil_div(j.VB, ncv_max);
    j.ncv_max = ceil_div(j.VB, j.v_tiles);
    j.mb_max = p.avx512 ? kDenseAvx512MoMax[j.ncv_max] : kDenseAvx2MoMax[j.ncv_max];
    j.b_tiles = ceil_div(j.B, j.mb_max);

    // Scratch for the most threads a call may use.
    const int64_t Q = j.k[0] * j.k[1] * j.k[2];
    const size_t part_floats = size_t(Q * j.B * j.VB * j.V);
    p.threads_alloc = std::max(omp_get_max_threads(), omp_get_num_procs());
    p.ns_cap = std::max<int64_t>(1, int64_t(kPartialBytes / (part_floats * sizeof(float))));
    int64_t ns_max, ks_max;
    p.split(p.threads_alloc, ns_max, ks_max);
    j.x_plane = (j.xp[0] * j.xp[1] * j.xp[2] * j.Cx + 15) / 16 * 16;
    j.plane_stride = j.x_plane + (j.out[0] * j.out[1] * j.out[2] * j.Ox + 15) / 16 * 16;
    p.planes.allocate(size_t(j.plane_stride) * p.threads_alloc);
    p.part.allocate(part_floats * ns_max);
    p.bias_part.allocate(size_t(ns_max * j.Ox));
    j.planes = p.planes.get();
    j.part = p.part.get();
    j.bias_part = p.bias_part.get();
}

DenseBackwardWeights::~DenseBackwardWeights() = default;

std::unique_ptr<ConvEngine> DenseBackwardWeights::create(const dcls_conv_desc &d) {
    if (!applies(d)) return nullptr;
    return std::make_unique<DenseBackwardWeights>(d);
}

std::string DenseBackwardWeights::info(Pass) const { return std::string("dcls:dense-backward-weights(") + isa() + ")"; }

const char *DenseBackwardWeights::isa() const { return impl_->avx512 ? "avx512" : "avx2"; }

void DenseBackwardWeights::run(const float *x, const float *grad_y, float *grad_kernel, float *grad_bias,
                               bool accumulate) {
    Impl &p = *impl_;
    DenseJob &j = p.job;
    const int nt = std::max(1, std::min(omp_get_max_threads(), p.threads_alloc));
    p.split(nt, j.NS, j.KS);
    j.threads = nt;
    j.x = x;
    j.gy = grad_y;
    j.want_bias = grad_bias != nullptr;
    if (p.avx512) dense_backward_weights_avx512(j);
    else dense_backward_weights_avx2(j);

    // Sum the partials over the batch splits, in order, and transpose part[ns][q][o][c] (vector
    // side c) or part[ns][q][c][o] (vector side o) to grad_kernel[o][c][q].
    const int64_t Q = j.k[0] * j.k[1] * j.k[2], O = j.O, C = j.C, B = j.B, VL = j.VB * j.V, NS = j.NS;
    const int64_t o_step = j.vec_c ? VL : 1, c_step = j.vec_c ? 1 : VL;
    const float *part = j.part;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t o = 0; o < O; ++o) {
        float *gk = grad_kernel + o * C * Q;  // this o's C * Q entries stay in L1 over the loop
        for (int64_t q = 0; q < Q; ++q)
            for (int64_t c = 0; c < C; ++c) {
                double sum = 0.0;
                for (int64_t ns = 0; ns < NS; ++ns) sum += part[(ns * Q + q) * B * VL + o * o_step + c * c_step];
                gk[c * Q + q] = accumulate ? float(gk[c * Q + q] + sum) : float(sum);
            }
    }
    if (grad_bias != nullptr)
        for (int64_t o = 0; o < O; ++o) {
            double sum = 0.0;
            for (int64_t ns = 0; ns < NS; ++ns) sum += j.bias_part[ns * j.Ox + o];
            grad_bias[o] = accumulate ? float(grad_bias[o] + sum) : float(sum);
        }
}

}  // namespace dcls
