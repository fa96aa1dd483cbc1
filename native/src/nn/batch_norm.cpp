// Batch normalisation with oneDNN's batch_normalization on (B, C, S, 1) (plain nchw). Training
// normalises with the batch statistics (kept for backward) and then updates the running ones as
// torch does (the unbiased variance); evaluation uses the running statistics (use_global_stats),
// copied for its backward pass.
#include <cstring>

#include "nn_ops.h"

namespace dcls::nn {

namespace {
using flags = dnnl::normalization_flags;
const auto kAffine = flags::use_scale | flags::use_shift;
const auto kGlobal = flags::use_scale | flags::use_shift | flags::use_global_stats;
}  // namespace

BatchNormPlan::BatchNormPlan(int64_t batch, int64_t channels, int64_t inner, float eps)
    : channels_(channels), reduced_(batch * inner), stream_(cpu_engine()) {
    const memory::desc data = plain({batch, channels, inner, 1});
    using fwd = dnnl::batch_normalization_forward;
    using bwd = dnnl::batch_normalization_backward;
    auto train_pd = fwd::primitive_desc(cpu_engine(), dnnl::prop_kind::forward_training, data, data, eps, kAffine);
    auto eval_pd = fwd::primitive_desc(cpu_engine(), dnnl::prop_kind::forward_training, data, data, eps, kGlobal);
    fwd_train_ = fwd(train_pd);
    fwd_eval_ = fwd(eval_pd);
    bwd_train_ = bwd(bwd::primitive_desc(cpu_engine(), dnnl::prop_kind::backward, data, data, data, eps, kAffine,
                                         train_pd));
    bwd_eval_ = bwd(bwd::primitive_desc(cpu_engine(), dnnl::prop_kind::backward, data, data, data, eps, kGlobal,
                                        eval_pd));
    const memory::desc per_channel = plain({channels});
    for (Scratch *s : {&mean_buf_, &var_buf_, &eval_mean_, &eval_var_, &diff_scale_buf_, &diff_shift_buf_})
        s->allocate(static_cast<size_t>(channels));
    src_ = user_memory(data);
    dst_ = user_memory(data);
    diff_dst_ = user_memory(data);
    diff_src_ = user_memory(data);
    scale_ = user_memory(per_channel);
    shift_ = user_memory(per_channel);
    mean_ = user_memory(per_channel);
    var_ = user_memory(per_channel);
    diff_scale_ = user_memory(per_channel);
    diff_shift_ = user_memory(per_channel);
}

void BatchNormPlan::forward(const float *x, const float *weight, const float *bias, float *running_mean,
                            float *running_var, float momentum, bool training, float *y) {
    const size_t bytes = sizeof(float) * static_cast<size_t>(channels_);
    if (!training) {
        std::memcpy(eval_mean_.get(), running_mean, bytes);
        std::memcpy(eval_var_.get(), running_var, bytes);
    }
    float *mean = training ? mean_buf_.get() : eval_mean_.get();
    float *var = training ? var_buf_.get() : eval_var_.get();
    (training ? fwd_train_ : fwd_eval_)
        .execute(stream_, {{DNNL_ARG_SRC, bind(src_, x)}, {DNNL_ARG_DST, bind(dst_, y)},
                           {DNNL_ARG_SCALE, bind(scale_, weight)}, {DNNL_ARG_SHIFT, bind(shift_, bias)},
                           {DNNL_ARG_MEAN, bind(mean_, mean)}, {DNNL_ARG_VARIANCE, bind(var_, var)}});
    stream_.wait();
    if (training) {
        const float unbias = reduced_ > 1 ? static_cast<float>(reduced_) / static_cast<float>(reduced_ - 1) : 1.f;
        for (int64_t c = 0; c < channels_; ++c) {
            running_mean[c] = (1 - momentum) * running_mean[c] + momentum * mean[c];
            running_var[c] = (1 - momentum) * running_var[c] + momentum * var[c] * unbias;
        }
    }
    last_training_ = training;
    has_forward_ = true;
}

void BatchNormPlan::backward(const float *x, const float *grad_y, const float *weight, float *grad_x,
                             float *grad_weight, float *grad_bias, bool accumulate) {
    require(has_forward_, "backward before any forward on this plan");
    float *mean = last_training_ ? mean_buf_.get() : eval_mean_.get();
    float *var = last_training_ ? var_buf_.get() : eval_var_.get();
    (last_training_ ? bwd_train_ : bwd_eval_)
        .execute(stream_, {{DNNL_ARG_SRC, bind(src_, x)}, {DNNL_ARG_DIFF_DST, bind(diff_dst_, grad_y)},
                           {DNNL_ARG_MEAN, bind(mean_, mean)}, {DNNL_ARG_VARIANCE, bind(var_, var)},
                           {DNNL_ARG_SCALE, bind(scale_, weight)}, {DNNL_ARG_DIFF_SRC, bind(diff_src_, grad_x)},
                           {DNNL_ARG_DIFF_SCALE, bind(diff_scale_, diff_scale_buf_.get())},
                           {DNNL_ARG_DIFF_SHIFT, bind(diff_shift_, diff_shift_buf_.get())}});
    stream_.wait();
    fold(diff_scale_buf_.get(), grad_weight, channels_, accumulate);
    fold(diff_shift_buf_.get(), grad_bias, channels_, accumulate);
}

}  // namespace dcls::nn
