// Element-wise add and multiply with broadcasting (oneDNN binary), and sums over axes (oneDNN
// reduction): the residual add, layer scale, DropPath's per-sample mask and their gradients.
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

SumPlan::SumPlan(const memory::dims &src, const memory::dims &dst) : stream_(cpu_engine()) {
    dst_count_ = 1;
    for (auto d : dst) dst_count_ *= d;
    const memory::desc src_md = plain(src), dst_md = plain(dst);
    prim_ = dnnl::reduction(dnnl::reduction::primitive_desc(cpu_engine(), dnnl::algorithm::reduction_sum, src_md,
                                                            dst_md, 0.f, 0.f));
    src_ = user_memory(src_md);
    dst_ = user_memory(dst_md);
    scratch_.allocate(static_cast<size_t>(dst_count_));
}

void SumPlan::execute(const float *src, float *dst, bool accumulate) {
    prim_.execute(stream_, {{DNNL_ARG_SRC, bind(src_, src)}, {DNNL_ARG_DST, bind(dst_, scratch_.get())}});
    stream_.wait();
    fold(scratch_.get(), dst, dst_count_, accumulate);
}

}  // namespace dcls::nn
