// Element-wise add and multiply with broadcasting (oneDNN binary), and sums over axes (oneDNN
// reduction): the residual add, layer scale, DropPath's per-sample mask and their gradients.
#include <cstring>

#include "nn_ops.h"

namespace dcls::nn {

BinaryPlan::BinaryPlan(int32_t op, const memory::dims &a, const memory::dims &b) : stream_(cpu_engine()) {
    const auto alg = op == DCLS_BINARY_ADD ? dnnl::algorithm::binary_add : dnnl::algorithm::binary_mul;
    const memory::desc a_md = plain(a), b_md = plain(b);
    prim_ = dnnl::binary(dnnl::binary::primitive_desc(cpu_engine(), alg, a_md, b_md, a_md));
    a_ = user_memory(a_md);
    b_ = user_memory(b_md);
    c_ = user_memory(a_md);
}

void BinaryPlan::execute(const float *a, const float *b, float *c) {
    prim_.execute(stream_, {{DNNL_ARG_SRC_0, bind(a_, a)}, {DNNL_ARG_SRC_1, bind(b_, b)}, {DNNL_ARG_DST, bind(c_, c)}});
    stream_.wait();
}

SumPlan::SumPlan(const memory::dims &src_dims, const memory::dims &dst_dims) : stream_(cpu_engine()) {
    memory::dims src = src_dims, dst = dst_dims;
    dst_count_ = 1;
    for (auto d : dst) dst_count_ *= d;
    // Per-channel sums of (B, C, spatial...) into (1, C, 1...): oneDNN's fast reduction kernels want the
    // reduced axes innermost, so reduce (B, C, S) to (B, C, 1) there and the batch here.
    bool per_channel = src.size() >= 2 && dst[0] == 1 && dst[1] == src[1];
    for (size_t i = 2; i < dst.size(); ++i) per_channel = per_channel && dst[i] == 1;
    if (per_channel && src[0] > 1) {
        memory::dim inner = 1;
        for (size_t i = 2; i < src.size(); ++i) inner *= src[i];
        batch_ = src[0];
        channels_ = src[1];
        src = {src[0], src[1], inner};
        dst = {src[0], src[1], 1};
    }
    const memory::desc src_md = plain(src), dst_md = plain(dst);
    identity_ = src == dst;  // nothing to reduce (a 1x1 input): oneDNN has no such reduction, a copy does
    if (!identity_)
        prim_ = dnnl::reduction(dnnl::reduction::primitive_desc(cpu_engine(), dnnl::algorithm::reduction_sum, src_md,
                                                            dst_md, 0.f, 0.f));
    src_ = user_memory(src_md);
    dst_ = user_memory(dst_md);
    scratch_.allocate(static_cast<size_t>(dst_count_ * batch_));
}

void SumPlan::execute(const float *src, float *dst, bool accumulate) {
    if (identity_) {
        std::memcpy(scratch_.get(), src, sizeof(float) * static_cast<size_t>(dst_count_ * batch_));
    } else {
        prim_.execute(stream_, {{DNNL_ARG_SRC, bind(src_, src)}, {DNNL_ARG_DST, bind(dst_, scratch_.get())}});
        stream_.wait();
    }
    float *sums = scratch_.get();
    for (int64_t b = 1; b < batch_; ++b)
        for (int64_t c = 0; c < channels_; ++c) sums[c] += sums[b * channels_ + c];
    fold(sums, dst, dst_count_, accumulate);
}

}  // namespace dcls::nn
