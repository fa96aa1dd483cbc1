// Depthwise backward weights: geometry, padding tables, scratch, the choice of instruction set,
// the work split, and the final sums of the partials. The kernels are in
// depthwise_backward_weights_impl.h.
#include "depthwise_backward_weights.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "depthwise_backward_weights_job.h"

namespace dcls {

namespace {

// A 64-byte aligned array, zero-filled.
template <typename T>
class Aligned {
public:
    void allocate(size_t count) {
        const size_t bytes = (std::max<size_t>(count * sizeof(T), 1) + 63) / 64 * 64;
        void *p = std::aligned_alloc(64, bytes);
        if (p == nullptr) throw std::bad_alloc();
        std::memset(p, 0, bytes);
        data_.reset(static_cast<T *>(p));
    }
    T *get() const { return data_.get(); }

private:
    struct Free {
        void operator()(T *p) const { std::free(p); }
    };
    std::unique_ptr<T, Free> data_;
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The unpadded index of padded position j along an axis of n cells padded by p, or -1 for a
// zero (PyTorch semantics, as padding.cpp).
int64_t source_index(int64_t j, int64_t n, int64_t p, dcls_padding_mode mode) {
    int64_t i = j - p;
    if (i >= 0 && i < n) return i;
    switch (mode) {
        case DCLS_PADDING_REFLECT:
            if (n == 1) return 0;
            while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
            return i;
        case DCLS_PADDING_REPLICATE: return i < 0 ? 0 : n - 1;
        case DCLS_PADDING_CIRCULAR: return ((i % n) + n) % n;
        default: return -1;
    }
}

bool has_avx512() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

}  // namespace

struct DepthwiseBackwardWeights::Impl {
    DwJob job{};
    bool avx512 = false;
    int threads_alloc = 1;
    std::vector<int64_t> src_d, src_h, src_w;
    Aligned<float> planes, part;
    Aligned<double> bias_part;

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

DepthwiseBackwardWeights::DepthwiseBackwardWeights(const dcls_conv_desc &d) : impl_(new Impl) {
    Impl &p = *impl_;
    DwJob &j = p.job;

    // Instruction set: AVX-512 where the CPU has it; DCLS_DEPTHWISE_ISA=avx2 forces AVX2 (for tests).
    const char *forced = std::getenv("DCLS_DEPTHWISE_ISA");
    p.avx512 = has_avx512() && !(forced != nullptr && std::strcmp(forced, "avx2") == 0);
    j.V = p.avx512 ? kDwAvx512Lanes : kDwAvx2Lanes;
    j.kb_max = p.avx512 ? kDwAvx512KbMax : kDwAvx2KbMax;

    // Geometry on three axes.
    j.N = d.batch;
    j.C = d.in_channels;
    j.CB = ceil_div(j.C, j.V);
    const int lead = 3 - d.ndim;
    int64_t pad[3];
    for (int i = 0; i < 3; ++i) {
        const bool used = i >= lead;
        j.in[i] = used ? d.input_size[i - lead] : 1;
        j.k[i] = used ? d.kernel_size[i - lead] : 1;
        j.s[i] = used ? d.stride[i - lead] : 1;
        pad[i] = used ? d.padding[i - lead] : 0;
        j.out[i] = (j.in[i] + 2 * pad[i] - j.k[i]) / j.s[i] + 1;
        j.xp[i] = (j.out[i] - 1) * j.s[i] + j.k[i];
    }
    const auto mode = static_cast<dcls_padding_mode>(d.padding_mode);
    std::vector<int64_t> *tables[3] = {&p.src_d, &p.src_h, &p.src_w};
    for (int i = 0; i < 3; ++i) {
        tables[i]->resize(j.xp[i]);
        for (int64_t q = 0; q < j.xp[i]; ++q) (*tables[i])[q] = source_index(q, j.in[i], pad[i], mode);
    }
    j.row_src_d = p.src_d.data();
    j.row_src_h = p.src_h.data();
    j.col_src_w = p.src_w.data();
    j.col_lo = std::min(pad[2], j.xp[2]);
    j.col_hi = std::max(j.col_lo, std::min(pad[2] + j.in[2], j.xp[2]));
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
