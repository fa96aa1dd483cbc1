// Max and average pooling with oneDNN's pooling primitives on plain (B, C, spatial...) tensors.
// Max pooling's forward keeps oneDNN's workspace (where each maximum was) for the backward pass.
#include "nn_ops.h"

#include "../conv_geometry.h"

namespace dcls::nn {

namespace {
dnnl::algorithm algorithm_of(int32_t kind) {
    switch (kind) {
        case DCLS_POOL_MAX: return dnnl::algorithm::pooling_max;
        case DCLS_POOL_AVG_INCLUDE_PADDING: return dnnl::algorithm::pooling_avg_include_padding;
        default: return dnnl::algorithm::pooling_avg_exclude_padding;
    }
}
}  // namespace

PoolPlan::PoolPlan(const dcls_pool_desc &d) : stream_(cpu_engine()) {
    memory::dims src{d.batch, d.channels}, dst{d.batch, d.channels}, kernel, strides, dilation, pad;
    for (int i = 0; i < d.ndim; ++i) {
        out_[i] = conv_output_length(d.input_size[i], d.padding[i], d.kernel_size[i], d.stride[i]);
        src.push_back(d.input_size[i]);
        dst.push_back(out_[i]);
        kernel.push_back(d.kernel_size[i]);
        strides.push_back(d.stride[i]);
        dilation.push_back(0);
        // torch pads on the right only as far as the last window reaches
        pad.push_back(d.padding[i]);
    }
    memory::dims pad_r(pad.size());
    for (int i = 0; i < d.ndim; ++i)
        pad_r[i] = (out_[i] - 1) * d.stride[i] + d.kernel_size[i] - d.input_size[i] - d.padding[i];
    const auto alg = algorithm_of(d.kind);
    const memory::desc src_md = plain(src), dst_md = plain(dst);
    auto fpd = dnnl::pooling_forward::primitive_desc(cpu_engine(), dnnl::prop_kind::forward_training, alg, src_md,
                                                     dst_md, strides, kernel, dilation, pad, pad_r);
    fwd_ = dnnl::pooling_forward(fpd);
    bwd_ = dnnl::pooling_backward(dnnl::pooling_backward::primitive_desc(cpu_engine(), alg, src_md, dst_md, strides,
                                                                         kernel, dilation, pad, pad_r, fpd));
    src_ = user_memory(src_md);
    dst_ = user_memory(dst_md);
    diff_src_ = user_memory(src_md);
    diff_dst_ = user_memory(dst_md);
    has_workspace_ = fpd.workspace_desc().get_size() > 0;
    if (has_workspace_) workspace_ = memory(fpd.workspace_desc(), cpu_engine());  // allocated once, here
}

void PoolPlan::forward(const float *x, float *y) {
    Args args{{DNNL_ARG_SRC, bind(src_, x)}, {DNNL_ARG_DST, bind(dst_, y)}};
    if (has_workspace_) args.insert({DNNL_ARG_WORKSPACE, workspace_});
    fwd_.execute(stream_, args);
    stream_.wait();
}

void PoolPlan::backward(const float *grad_y, float *grad_x) {
    Args args{{DNNL_ARG_DIFF_DST, bind(diff_dst_, grad_y)}, {DNNL_ARG_DIFF_SRC, bind(diff_src_, grad_x)}};
    if (has_workspace_) args.insert({DNNL_ARG_WORKSPACE, workspace_});
    bwd_.execute(stream_, args);
    stream_.wait();
}

}  // namespace dcls::nn
