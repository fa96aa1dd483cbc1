// Layer normalisation over the channel axis with oneDNN's layer_normalization, which normalises
// over the last (dense) axis: (B, C) runs as it is; channels-first (B, C, S) is reordered to
// (B*S, C) rows and back (oneDNN reorders), in both passes. The forward keeps its input rows
// and statistics in the plan for the backward pass.
#include <cstring>

#include "nn_ops.h"

namespace dcls::nn {

namespace {
const auto kFlags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
}

LayerNormPlan::LayerNormPlan(int64_t batch, int64_t channels, int64_t inner, float eps)
    : channels_(channels), transposed_(inner > 1), stream_(cpu_engine()), elements_(batch * channels * inner) {
    const memory::desc rows = plain({batch * inner, channels});
    auto fpd = dnnl::layer_normalization_forward::primitive_desc(
        cpu_engine(), dnnl::prop_kind::forward_training, rows, rows, eps, kFlags);
    auto bpd = dnnl::layer_normalization_backward::primitive_desc(
        cpu_engine(), dnnl::prop_kind::backward, rows, rows, rows, eps, kFlags, fpd);
    fwd_ = dnnl::layer_normalization_forward(fpd);
    bwd_ = dnnl::layer_normalization_backward(bpd);
    if (transposed_) {
        const memory::desc nchw = plain({batch, channels, inner});
        const memory::desc nhwc = strided({batch, channels, inner}, {channels * inner, 1, channels});
        to_rows_ = dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), nchw, cpu_engine(), nhwc));
        from_rows_ = dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), nhwc, cpu_engine(), nchw));
        plain_in_ = user_memory(nchw);
        plain_out_ = user_memory(nchw);
        rows_in_ = user_memory(nhwc);
        rows_out_ = user_memory(nhwc);
        y_rows_.allocate(static_cast<size_t>(elements_));
        x_copy_.allocate(static_cast<size_t>(elements_));
    }
    x_rows_.allocate(static_cast<size_t>(elements_));
    mean_buf_.allocate(static_cast<size_t>(fpd.mean_desc().get_size() / sizeof(float)));
    var_buf_.allocate(static_cast<size_t>(fpd.variance_desc().get_size() / sizeof(float)));
    diff_scale_buf_.allocate(static_cast<size_t>(channels));
    diff_shift_buf_.allocate(static_cast<size_t>(channels));
    const memory::desc per_channel = plain({channels});
    src_ = user_memory(rows);
    dst_ = user_memory(rows);
    diff_dst_ = user_memory(rows);
    diff_src_ = user_memory(rows);
    scale_ = user_memory(per_channel);
    shift_ = user_memory(per_channel);
    diff_scale_ = user_memory(per_channel);
    diff_shift_ = user_memory(per_channel);
    mean_ = user_memory(fpd.mean_desc());
    var_ = user_memory(fpd.variance_desc());
    bind(mean_, mean_buf_.get());
    bind(var_, var_buf_.get());
}

void LayerNormPlan::forward(const float *x, const float *weight, const float *bias, float *y) {
    if (transposed_) {
        to_rows_.execute(stream_, bind(plain_in_, x), bind(rows_in_, x_rows_.get()));
    } else {
        std::memcpy(x_rows_.get(), x, sizeof(float) * static_cast<size_t>(elements_));
    }
    float *out_rows = transposed_ ? y_rows_.get() : y;
    fwd_.execute(stream_, {{DNNL_ARG_SRC, bind(src_, x_rows_.get())}, {DNNL_ARG_DST, bind(dst_, out_rows)},
                           {DNNL_ARG_SCALE, bind(scale_, weight)}, {DNNL_ARG_SHIFT, bind(shift_, bias)},
                           {DNNL_ARG_MEAN, mean_}, {DNNL_ARG_VARIANCE, var_}});
    if (transposed_) from_rows_.execute(stream_, bind(rows_out_, y_rows_.get()), bind(plain_out_, y));
    stream_.wait();
}

void LayerNormPlan::backward(const float *grad_y, const float *weight, float *grad_x, float *grad_weight,
                             float *grad_bias, bool accumulate) {
    const float *gy_rows = grad_y;
    float *gx_rows = grad_x;
    if (transposed_) {
        to_rows_.execute(stream_, bind(plain_in_, grad_y), bind(rows_in_, y_rows_.get()));
        gy_rows = y_rows_.get();
        gx_rows = x_copy_.get();
    }
    bwd_.execute(stream_, {{DNNL_ARG_SRC, bind(src_, x_rows_.get())}, {DNNL_ARG_DIFF_DST, bind(diff_dst_, gy_rows)},
                           {DNNL_ARG_MEAN, mean_}, {DNNL_ARG_VARIANCE, var_}, {DNNL_ARG_SCALE, bind(scale_, weight)},
                           {DNNL_ARG_DIFF_SRC, bind(diff_src_, gx_rows)},
                           {DNNL_ARG_DIFF_SCALE, bind(diff_scale_, diff_scale_buf_.get())},
                           {DNNL_ARG_DIFF_SHIFT, bind(diff_shift_, diff_shift_buf_.get())}});
    if (transposed_) from_rows_.execute(stream_, bind(rows_out_, x_copy_.get()), bind(plain_out_, grad_x));
    stream_.wait();
    fold(diff_scale_buf_.get(), grad_weight, channels_, accumulate);
    fold(diff_shift_buf_.get(), grad_bias, channels_, accumulate);
}

}  // namespace dcls::nn
