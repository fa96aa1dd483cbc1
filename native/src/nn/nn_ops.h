// The network-layer ops behind dcls_nn.h: one class per op, holding its oneDNN primitives, memory
// objects and scratch for one shape, all made in the constructor. Arguments are validated by the
// C ABI (nn_api.cpp); see dcls_nn.h for shapes and semantics.
#pragma once

#include <cstdint>
#include <vector>

#include "nn_common.h"

namespace dcls::nn {

class LinearPlan {
public:
    LinearPlan(int64_t batch, int64_t in, int64_t out, int64_t inner);
    void forward(const float *x, const float *weight, const float *bias, float *y);
    void backward_data(const float *grad_y, const float *weight, float *grad_x);
    void backward_weights(const float *x, const float *grad_y, float *grad_weight, float *grad_bias, bool accumulate);

private:
    int64_t batch_, in_, out_, inner_;
    dnnl::stream stream_;
    dnnl::matmul fwd_, fwd_bias_, bwd_data_, bwd_weights_;
    memory fwd_src_, fwd_wei_, fwd_bias_mem_, fwd_dst_;
    memory bd_src_, bd_wei_, bd_dst_;
    memory bw_src_, bw_wei_, bw_dst_;
    dnnl::reduction bias_sum_;
    memory bs_src_, bs_dst_;
    bool bias_copy_ = false;  // batch 1, S = 1: the bias gradient is grad_y itself
    dnnl::binary add_bias_;  // S > 1: y += bias (1, out, 1)
    memory ab_y_, ab_bias_;
    Scratch bias_scratch_;
};

class LayerNormPlan {
public:
    LayerNormPlan(int64_t batch, int64_t channels, int64_t inner, float eps);
    void forward(const float *x, const float *weight, const float *bias, float *y);
    void backward(const float *grad_y, const float *weight, float *grad_x, float *grad_weight, float *grad_bias,
                  bool accumulate);

private:
    int64_t channels_;
    bool transposed_;  // channels-first with inner > 1: runs on a (B, S, C) copy
    dnnl::stream stream_;
    dnnl::layer_normalization_forward fwd_;
    dnnl::layer_normalization_backward bwd_;
    dnnl::reorder to_rows_, from_rows_;  // (B, C, S) <-> (B, S, C)
    memory plain_in_, plain_out_, rows_in_, rows_out_;
    memory src_, dst_, scale_, shift_, mean_, var_, diff_dst_, diff_src_, diff_scale_, diff_shift_;
    Scratch x_rows_, y_rows_, mean_buf_, var_buf_, diff_scale_buf_, diff_shift_buf_, x_copy_;
    int64_t elements_;
};

class BatchNormPlan {
public:
    BatchNormPlan(int64_t batch, int64_t channels, int64_t inner, float eps);
    void forward(const float *x, const float *weight, const float *bias, float *running_mean, float *running_var,
                 float momentum, bool training, float *y);
    void backward(const float *x, const float *grad_y, const float *weight, float *grad_x, float *grad_weight,
                  float *grad_bias, bool accumulate);

private:
    int64_t channels_, reduced_;
    bool last_training_ = true;
    bool has_forward_ = false;
    dnnl::stream stream_;
    dnnl::batch_normalization_forward fwd_train_, fwd_eval_;
    dnnl::batch_normalization_backward bwd_train_, bwd_eval_;
    memory src_, dst_, scale_, shift_, mean_, var_, diff_dst_, diff_src_, diff_scale_, diff_shift_;
    Scratch mean_buf_, var_buf_, eval_mean_, eval_var_, diff_scale_buf_, diff_shift_buf_;
};

class ActivationPlan {
public:
    ActivationPlan(int32_t kind, int64_t count);
    void forward(const float *x, float *y);
    void backward(const float *x, const float *grad_y, float *grad_x);

private:
    dnnl::stream stream_;
    dnnl::eltwise_forward fwd_;
    dnnl::eltwise_backward bwd_;
    memory src_, dst_, diff_dst_, diff_src_;
};

class PoolPlan {
public:
    explicit PoolPlan(const dcls_pool_desc &desc);
    const int64_t *output_size() const { return out_; }
    void forward(const float *x, float *y);
    void backward(const float *grad_y, float *grad_x);

private:
    int64_t out_[3] = {1, 1, 1};
    dnnl::stream stream_;
    dnnl::pooling_forward fwd_;
    dnnl::pooling_backward bwd_;
    memory src_, dst_, diff_dst_, diff_src_, workspace_;
    bool has_workspace_ = false;
};

class BinaryPlan {
public:
    BinaryPlan(int32_t op, const memory::dims &a, const memory::dims &b);
    void execute(const float *a, const float *b, float *c);

private:
    dnnl::stream stream_;
    dnnl::binary prim_;
    memory a_, b_, c_;
};

class SumPlan {
public:
    SumPlan(const memory::dims &src, const memory::dims &dst);
    void execute(const float *src, float *dst, bool accumulate);

private:
    int64_t dst_count_;
    int64_t batch_ = 1, channels_ = 0;  // per-channel sums: the batch summed here
    bool identity_ = false;
    dnnl::stream stream_;
    dnnl::reduction prim_;
    memory src_, dst_;
    Scratch scratch_;
};

class CrossEntropyPlan {
public:
    CrossEntropyPlan(int64_t batch, int64_t classes);
    float forward(const float *logits, const int32_t *labels, float label_smoothing);
    void backward(float *grad_logits);

private:
    int64_t batch_, classes_;
    dnnl::stream stream_;
    dnnl::softmax_forward log_softmax_;
    memory src_, dst_;
    Scratch log_probs_;
    std::vector<int32_t> labels_;
    float smoothing_ = 0;
    bool has_forward_ = false;
};

}  // namespace dcls::nn
