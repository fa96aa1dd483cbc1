// ReLU and exact GELU with oneDNN's eltwise primitives; backward from the input.
#include "nn_ops.h"

namespace dcls::nn {

ActivationPlan::ActivationPlan(int32_t kind, int64_t count) : stream_(cpu_engine()) {
    const auto alg = kind == DCLS_ACTIVATION_RELU ? dnnl::algorithm::eltwise_relu : dnnl::algorithm::eltwise_gelu_erf;
    const memory::desc md = plain({count});
    auto fpd = dnnl::eltwise_forward::primitive_desc(cpu_engine(), dnnl::prop_kind::forward_training, alg, md, md,
                                                     0.f, 0.f);
    fwd_ = dnnl::eltwise_forward(fpd);
    bwd_ = dnnl::eltwise_backward(dnnl::eltwise_backward::primitive_desc(cpu_engine(), alg, md, md, md, 0.f, 0.f, fpd));
    src_ = user_memory(md);
    dst_ = user_memory(md);
    diff_dst_ = user_memory(md);
    diff_src_ = user_memory(md);
}

void ActivationPlan::forward(const float *x, float *y) {
    fwd_.execute(stream_, {{DNNL_ARG_SRC, bind(src_, x)}, {DNNL_ARG_DST, bind(dst_, y)}});
    stream_.wait();
}

void ActivationPlan::backward(const float *x, const float *grad_y, float *grad_x) {
    bwd_.execute(stream_, {{DNNL_ARG_SRC, bind(src_, x)}, {DNNL_ARG_DIFF_DST, bind(diff_dst_, grad_y)},
                           {DNNL_ARG_DIFF_SRC, bind(diff_src_, grad_x)}});
    stream_.wait();
}

}  // namespace dcls::nn
