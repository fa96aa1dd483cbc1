// Linear on the channel axis of (B, in, S) with oneDNN matmul. For S = 1 (the (B, in) case) every
// pass is one 2D matmul, the transposes being strided views of the plain buffers. For S > 1 each
// pass runs B 2D matmuls, one per sample: W (out, in) . x[b] (in, S) forward, W^T . gy[b] backward
// data, and gy[b] (out, S) . x[b]^T (S, in) summed by the matmul's sum post-op for the weights. (A
// batched matmul broadcasting W over the batch runs oneDNN 3.13's reference code, 100x slower, and
// so does a matmul whose bias is per row: for S > 1 the bias is added by a binary primitive instead.)
#include <cstring>

#include "nn_ops.h"

namespace dcls::nn {

namespace {

dnnl::matmul make_matmul(const memory::desc &src, const memory::desc &wei, const memory::desc *bias,
                         const memory::desc &dst, bool accumulate) {
    dnnl::primitive_attr attr;
    if (accumulate) {
        dnnl::post_ops ops;
        ops.append_sum(1.0f);
        attr.set_post_ops(ops);
    }
    auto pd = bias ? dnnl::matmul::primitive_desc(cpu_engine(), src, wei, *bias, dst, attr)
                   : dnnl::matmul::primitive_desc(cpu_engine(), src, wei, dst, attr);
    return dnnl::matmul(pd);
}

}  // namespace

LinearPlan::LinearPlan(int64_t batch, int64_t in, int64_t out, int64_t inner)
    : batch_(batch), in_(in), out_(out), inner_(inner), stream_(cpu_engine()) {
    memory::desc f_src, f_wei, f_bias, f_dst, d_src, d_wei, d_dst, w_src, w_wei, w_dst, s_src, s_dst;
    if (inner == 1) {
        f_src = plain({batch, in});
        f_wei = strided({in, out}, {1, in});  // W^T
        f_bias = plain({1, out});
        f_dst = plain({batch, out});
        d_src = plain({batch, out});
        d_wei = plain({out, in});
        d_dst = plain({batch, in});
        w_src = strided({out, batch}, {1, out});  // gy^T
        w_wei = plain({batch, in});
        w_dst = plain({out, in});
        s_src = plain({batch, out});
        s_dst = plain({1, out});
    } else {
        f_src = plain({out, in});
        f_wei = plain({in, inner});   // x[b]
        f_bias = plain({out, 1});
        f_dst = plain({out, inner});  // y[b]
        d_src = strided({in, out}, {1, in});  // W^T
        d_wei = plain({out, inner});          // gy[b]
        d_dst = plain({in, inner});           // gx[b]
        w_src = plain({out, inner});                  // gy[b]
        w_wei = strided({inner, in}, {1, inner});     // x[b]^T
        w_dst = plain({out, in});
        s_src = plain({batch, out, inner});
        s_dst = plain({batch, out, 1});  // then summed over the batch here
    }
    fwd_ = make_matmul(f_src, f_wei, nullptr, f_dst, false);
    if (inner == 1) {
        fwd_bias_ = make_matmul(f_src, f_wei, &f_bias, f_dst, false);
    } else {
        const memory::desc all = plain({batch, out, inner});
        const memory::desc per_channel = plain({1, out, 1});
        add_bias_ = dnnl::binary(dnnl::binary::primitive_desc(cpu_engine(), dnnl::algorithm::binary_add, all,
                                                               per_channel, all));
        ab_y_ = user_memory(all);
        ab_bias_ = user_memory(per_channel);
    }
    bwd_data_ = make_matmul(d_src, d_wei, nullptr, d_dst, false);
    bwd_weights_ = make_matmul(w_src, w_wei, nullptr, w_dst, true);
    bias_copy_ = inner == 1 && batch == 1;  // oneDNN has no reduction that reduces nothing
    if (!bias_copy_)
        bias_sum_ = dnnl::reduction(dnnl::reduction::primitive_desc(cpu_engine(), dnnl::algorithm::reduction_sum, s_src,
                                                                 s_dst, 0.f, 0.f));
    fwd_src_ = user_memory(f_src);
    fwd_wei_ = user_memory(f_wei);
    fwd_bias_mem_ = user_memory(f_bias);
    fwd_dst_ = user_memory(f_dst);
    bd_src_ = user_memory(d_src);
    bd_wei_ = user_memory(d_wei);
    bd_dst_ = user_memory(d_dst);
    bw_src_ = user_memory(w_src);
    bw_wei_ = user_memory(w_wei);
    bw_dst_ = user_memory(w_dst);
    bs_src_ = user_memory(s_src);
    bs_dst_ = user_memory(s_dst);
    bias_scratch_.allocate(static_cast<size_t>(inner == 1 ? out : batch * out));
}

void LinearPlan::forward(const float *x, const float *weight, const float *bias, float *y) {
    // 2D: x . W^T; per sample: W . x[b]
    const int64_t steps = inner_ == 1 ? 1 : batch_;
    for (int64_t b = 0; b < steps; ++b) {
        const float *xb = x + b * in_ * inner_;
        const float *src = inner_ == 1 ? xb : weight;
        const float *wei = inner_ == 1 ? weight : xb;
        Args args{{DNNL_ARG_SRC, bind(fwd_src_, src)}, {DNNL_ARG_WEIGHTS, bind(fwd_wei_, wei)},
                  {DNNL_ARG_DST, bind(fwd_dst_, y + b * out_ * inner_)}};
        if (bias != nullptr && inner_ == 1) {
            args.insert({DNNL_ARG_BIAS, bind(fwd_bias_mem_, bias)});
            fwd_bias_.execute(stream_, args);
        } else {
            fwd_.execute(stream_, args);
        }
    }
    if (bias != nullptr && inner_ > 1) {
        add_bias_.execute(stream_, {{DNNL_ARG_SRC_0, bind(ab_y_, y)}, {DNNL_ARG_SRC_1, bind(ab_bias_, bias)},
                                    {DNNL_ARG_DST, ab_y_}});
    }
    stream_.wait();
}

void LinearPlan::backward_data(const float *grad_y, const float *weight, float *grad_x) {
    // 2D: gy . W; per sample: W^T . gy[b]
    const int64_t steps = inner_ == 1 ? 1 : batch_;
    for (int64_t b = 0; b < steps; ++b) {
        const float *gyb = grad_y + b * out_ * inner_;
        const float *src = inner_ == 1 ? gyb : weight;
        const float *wei = inner_ == 1 ? weight : gyb;
        bwd_data_.execute(stream_, {{DNNL_ARG_SRC, bind(bd_src_, src)},
                                    {DNNL_ARG_WEIGHTS, bind(bd_wei_, wei)},
                                    {DNNL_ARG_DST, bind(bd_dst_, grad_x + b * in_ * inner_)}});
    }
    stream_.wait();
}

void LinearPlan::backward_weights(const float *x, const float *grad_y, float *grad_weight, float *grad_bias,
                                  bool accumulate) {
    if (!accumulate) std::memset(grad_weight, 0, sizeof(float) * static_cast<size_t>(out_ * in_));
    const int64_t steps = inner_ == 1 ? 1 : batch_;
    for (int64_t b = 0; b < steps; ++b) {
        bwd_weights_.execute(stream_, {{DNNL_ARG_SRC, bind(bw_src_, grad_y + b * out_ * inner_)},
                                       {DNNL_ARG_WEIGHTS, bind(bw_wei_, x + b * in_ * inner_)},
                                       {DNNL_ARG_DST, bind(bw_dst_, grad_weight)}});
    }
    if (grad_bias != nullptr && bias_copy_) {
        std::memcpy(bias_scratch_.get(), grad_y, sizeof(float) * static_cast<size_t>(out_));
    } else if (grad_bias != nullptr) {
        bias_sum_.execute(stream_, {{DNNL_ARG_SRC, bind(bs_src_, grad_y)},
                                    {DNNL_ARG_DST, bind(bs_dst_, bias_scratch_.get())}});
    }
    stream_.wait();
    if (grad_bias != nullptr) {
        float *per_sample = bias_scratch_.get();
        for (int64_t b = 1; b < (inner_ == 1 ? 1 : batch_); ++b)
            for (int64_t o = 0; o < out_; ++o) per_sample[o] += per_sample[b * out_ + o];
        fold(per_sample, grad_bias, out_, accumulate);
    }
}

}  // namespace dcls::nn
