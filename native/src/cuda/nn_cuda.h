// The network layers' kernels on a CUDA device (dcls_cuda_nn.h), one launcher per pass. The C ABI
// (nn_api_cuda.cpp) validates the arguments and owns the scratch memory; these only enqueue work
// on a stream. The shapes are the ones of dcls_nn.h: (B, C, S) for the channel ops, rank <= 6 for
// the broadcast ones.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "nn/nn_validate.h"
#include "nn/pool_geometry.h"

namespace dcls {
namespace cuda {
namespace nn {

using dcls::nn::kMaxRank;

// ---- element-wise (nn_elementwise_cuda.cu) ----------------------------------------------------

void activation_forward(cudaStream_t stream, int kind, int64_t count, const float *x, float *y);
void activation_backward(cudaStream_t stream, int kind, int64_t count, const float *x, const float *grad_y,
                         float *grad_x);

// c = a op b over a's dims; b's strides are 0 on its broadcast axes.
struct Broadcast {
    int rank = 0;
    int64_t dims[kMaxRank] = {};
    int64_t b_strides[kMaxRank] = {};
    int64_t count = 0;
};
Broadcast broadcast_shape(int rank, const int64_t *a_dims, const int64_t *b_dims);
void binary(cudaStream_t stream, int op, const Broadcast &shape, const float *a, const float *b, float *c);

// ---- reductions (nn_reduce_cuda.cu) -----------------------------------------------------------

// dst (kept axes) = the sum of src over the reduced axes. An index over the kept (or reduced) axes
// is taken apart from the last axis to the first; each axis has its size and src stride.
struct Reduction {
    int kept_rank = 0, reduced_rank = 0;
    int64_t kept_dims[kMaxRank] = {}, kept_strides[kMaxRank] = {};
    int64_t reduced_dims[kMaxRank] = {}, reduced_strides[kMaxRank] = {};
    int64_t kept = 1, reduced = 1;  // element counts
};
Reduction reduction_shape(int rank, const int64_t *src_dims, const int64_t *dst_dims);
void sum(cudaStream_t stream, const Reduction &shape, const float *src, float *dst, bool accumulate);

// ---- layer normalisation (nn_layer_norm_cuda.cu) -----------------------------------------------

struct ChannelShape {
    int64_t batch = 0, channels = 0, inner = 0;
};
// mean and rstd (B * S) are written for the backward pass.
void layer_norm_forward(cudaStream_t stream, ChannelShape s, float eps, const float *x, const float *weight,
                        const float *bias, float *y, float *mean, float *rstd);
void layer_norm_backward(cudaStream_t stream, ChannelShape s, const float *x, const float *mean, const float *rstd,
                         const float *grad_y, const float *weight, float *grad_x, float *grad_weight,
                         float *grad_bias, bool accumulate);
// The forward's mean and rstd alone (the same values), for a LayerNorm fused into the next GEMM.
void layer_norm_statistics(cudaStream_t stream, ChannelShape s, float eps, const float *x, float *mean, float *rstd);

// ---- batch normalisation (nn_batch_norm_cuda.cu) -----------------------------------------------

// mean and rstd (C): the statistics used (the batch's in training, the running ones else), for backward.
void batch_norm_forward(cudaStream_t stream, ChannelShape s, float eps, float momentum, bool training, const float *x,
                        const float *weight, const float *bias, float *running_mean, float *running_var, float *y,
                        float *mean, float *rstd);
// batch_stats: the last forward was a training one (its statistics depend on x).
void batch_norm_backward(cudaStream_t stream, ChannelShape s, bool batch_stats, const float *x, const float *grad_y,
                         const float *weight, const float *mean, const float *rstd, float *grad_x, float *grad_weight,
                         float *grad_bias, bool accumulate);
// mean and rstd (C) from the running statistics, as the evaluation forward sets them (for the
// evaluation forward on cuDNN, whose backward then runs here).
void batch_norm_running_stats(cudaStream_t stream, int64_t channels, float eps, const float *running_mean,
                              const float *running_var, float *mean, float *rstd);

// ---- linear (nn_linear_cuda.cu): y (B, out, S) = weight (out, in) . x (B, in, S) + bias ----------

struct LinearShape {
    int64_t batch = 0, in = 0, out = 0, inner = 0;
};
void linear_forward(cudaStream_t stream, LinearShape s, const float *x, const float *weight, const float *bias,
                    float *y);
void linear_backward_data(cudaStream_t stream, LinearShape s, const float *grad_y, const float *weight,
                          float *grad_x);
// grad_bias (or null) is the sum of grad_y over (B, S).
void linear_backward_weights(cudaStream_t stream, LinearShape s, const float *x, const float *grad_y,
                             float *grad_weight, float *grad_bias, bool accumulate);

// The same GEMMs with a GELU fused into their epilogue: z (B, out, S) = the linear forward, y = gelu(z),
// both written by the GEMM; grad_z (B, in, S) = (the linear backward data of grad_y) * gelu'(z).
void linear_forward_gelu(cudaStream_t stream, LinearShape s, const float *x, const float *weight, const float *bias,
                         float *z, float *y);
void linear_backward_data_gelu(cudaStream_t stream, LinearShape s, const float *grad_y, const float *weight,
                               const float *z, float *grad_z);

// A channels-first LayerNorm before the layer fused into the GEMMs that read x: x (B, in, S) is
// normalised as it is loaded, (x - mean[b, s]) * rstd[b, s] * gamma[i] + beta[i], with mean and
// rstd (B * S) from layer_norm_statistics. Forward: z and y = gelu(z) as linear_forward_gelu, of
// the normalised x. Weights: grad_weight (and grad_bias) as linear_backward_weights of it.
void linear_forward_norm_gelu(cudaStream_t stream, LinearShape s, const float *x, const float *mean,
                              const float *rstd, const float *gamma, const float *beta, const float *weight,
                              const float *bias, float *z, float *y);
void linear_backward_weights_norm(cudaStream_t stream, LinearShape s, const float *x, const float *mean,
                                  const float *rstd, const float *gamma, const float *beta, const float *grad_y,
                                  float *grad_weight, float *grad_bias, bool accumulate);

// ---- pooling (nn_pool_cuda.cu) -----------------------------------------------------------------

using dcls::nn::PoolGeometry;
// argmax (one int32 per output element, max pooling only): where each maximum was in its input plane.
void pool_forward(cudaStream_t stream, const PoolGeometry &g, const float *x, float *y, int32_t *argmax);
void pool_backward(cudaStream_t stream, const PoolGeometry &g, const float *grad_y, const int32_t *argmax,
                   float *grad_x);

// ---- cross-entropy (nn_cross_entropy_cuda.cu) -------------------------------------------------

// log_probs (B, classes) and the per-sample losses row_loss (B) are scratch the backward pass reads.
void cross_entropy_forward(cudaStream_t stream, int64_t batch, int64_t classes, const float *logits,
                           const int32_t *labels, float label_smoothing, float *log_probs, float *row_loss,
                           float *loss);
void cross_entropy_backward(cudaStream_t stream, int64_t batch, int64_t classes, const float *log_probs,
                            const int32_t *labels, float label_smoothing, float *grad_logits);
// The forward pass from log_probs already computed (by cuDNN's log-softmax): row_loss and the mean loss.
void cross_entropy_loss(cudaStream_t stream, int64_t batch, int64_t classes, const float *log_probs,
                        const int32_t *labels, float label_smoothing, float *row_loss, float *loss);

// ---- optimizer updates (nn_optim_cuda.cu) ------------------------------------------------------

// One AdamW step's scalars: p = p * decay - step_size * m / (sqrt(v or vmax) * inv_sqrt_bias2 + eps).
struct AdamWStep {
    float decay, beta1, one_minus_beta1, beta2, one_minus_beta2, step_size, inv_sqrt_bias2, eps;
};
// max_exp_avg_sq null: no AMSGrad.
void adamw_update(cudaStream_t stream, int64_t count, float *param, const float *grad, float *exp_avg,
                  float *exp_avg_sq, float *max_exp_avg_sq, const AdamWStep &s);

// One SGD step's scalars; keep = 1 - dampening; first: the momentum buffer starts as the gradient.
struct SgdStep {
    float lr, weight_decay, momentum, keep;
    int first, nesterov;
};
// momentum_buffer null: no momentum.
void sgd_update(cudaStream_t stream, int64_t count, float *param, const float *grad, float *momentum_buffer,
                const SgdStep &s);

// ---- a dilated convolution's spread kernel (nn_spread_cuda.cu) -----------------------------------

// weight (pairs, kernel...) and spread (pairs, spread...), spread[d] = (kernel[d] - 1) * dilation[d] + 1,
// over the first ndim (1 to 3) axes. Each thread finds its cell (or weight) from its own index.
struct KernelSpread {
    int ndim = 0;
    int64_t pairs = 0;
    int64_t kernel[3] = {1, 1, 1}, dilation[3] = {1, 1, 1}, spread[3] = {1, 1, 1};
    int64_t taps = 1, cells = 1;  // per pair: weights, spread cells
};
// The taps of spread = weight; the gaps are not written.
void kernel_spread(cudaStream_t stream, const KernelSpread &s, const float *weight, float *spread);
// grad_weight += grad_spread at the taps; every cell of grad_spread is zeroed.
void kernel_gather_add(cudaStream_t stream, const KernelSpread &s, float *grad_spread, float *grad_weight);

}  // namespace nn
}  // namespace cuda
}  // namespace dcls
