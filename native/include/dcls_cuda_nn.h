/*
 * dcls_cuda_nn.h - the network layers' ops of dcls_nn.h on a CUDA device, defined in
 * libdcls_cuda.so: linear, layer and batch normalisation, activations, element-wise binary ops and
 * sums, pooling, the cross-entropy loss, and the optimizers' updates.
 *
 * Each op has the meaning, the layouts and the plan rules of its dcls_nn.h twin, so that a layer
 * of io.dcls4j.nn runs the same code on either device. The differences:
 * - a plan is made on a context (dcls.h, "CUDA") and runs on its stream: a call enqueues the work
 *   and returns; tensors are device memory of the context's device;
 * - on failure dcls_cuda_last_error() gives the message, as for every dcls_cuda_* function;
 * - the cross-entropy takes its labels from host memory (checked there, before any kernel runs)
 *   and writes its loss to one float of device memory.
 * These ops are dcls4j's own kernels, and need no cuDNN, except where cuDNN is loaded and has the
 * same semantics (see "which implementation" at the end): average pooling's forward pass, batch
 * normalisation and the cross-entropy's log-softmax. Sums over many elements are tree reductions
 * in a fixed order, so that a result does not change from run to run.
 */
#ifndef DCLS_CUDA_NN_H
#define DCLS_CUDA_NN_H

#include <stdint.h>

#include "dcls.h"
#include "dcls_nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- linear: y (B, out, S) = weight (out, in) . x (B, in, S) + bias (out), as dcls_linear_* ---- */
typedef struct dcls_cuda_linear_plan dcls_cuda_linear_plan;

DCLS_API dcls_status dcls_cuda_linear_plan_create(dcls_cuda_context *ctx, int64_t batch, int64_t in_features,
                                                  int64_t out_features, int64_t inner,
                                                  dcls_cuda_linear_plan **plan);
DCLS_API dcls_status dcls_cuda_linear_plan_destroy(dcls_cuda_linear_plan *plan);
/* bias may be null. */
DCLS_API dcls_status dcls_cuda_linear_forward(dcls_cuda_linear_plan *plan, const float *x, const float *weight,
                                              const float *bias, float *y);
/* grad_x (B, in, S), overwritten. */
DCLS_API dcls_status dcls_cuda_linear_backward_data(dcls_cuda_linear_plan *plan, const float *grad_y,
                                                    const float *weight, float *grad_x);
/* grad_weight (out, in) and grad_bias (out, or null): added to when accumulate != 0, else overwritten. */
DCLS_API dcls_status dcls_cuda_linear_backward_weights(dcls_cuda_linear_plan *plan, const float *x,
                                                       const float *grad_y, float *grad_weight, float *grad_bias,
                                                       int32_t accumulate);

/* ---- linear with the exact (erf) GELU fused into its GEMM, on a linear plan ------------------
 * For Linear -> GELU -> Linear (ConvNeXt's pointwise layers): the same values as the unfused ops
 * (the activation kernel's formula), without a pass of their own over the activations. */
/* z (B, out, S) = weight . x + bias (bias may be null), y (B, out, S) = gelu(z): both written by
 * the GEMM; z is what dcls_cuda_linear_backward_data_gelu needs. */
DCLS_API dcls_status dcls_cuda_linear_forward_gelu(dcls_cuda_linear_plan *plan, const float *x, const float *weight,
                                                   const float *bias, float *z, float *y);
/* grad_z (B, in, S), overwritten: (weight^T . grad_y) * gelu'(z), where z (B, in, S) is the GELU's
 * input: the gradient with respect to z of a layer whose input was gelu(z). */
DCLS_API dcls_status dcls_cuda_linear_backward_data_gelu(dcls_cuda_linear_plan *plan, const float *grad_y,
                                                         const float *weight, const float *z, float *grad_z);

/* ---- layer normalisation over the channel axis of (B, C, S), as dcls_layer_norm_* ---------- */
typedef struct dcls_cuda_layer_norm_plan dcls_cuda_layer_norm_plan;

DCLS_API dcls_status dcls_cuda_layer_norm_plan_create(dcls_cuda_context *ctx, int64_t batch, int64_t channels,
                                                      int64_t inner, float eps, dcls_cuda_layer_norm_plan **plan);
DCLS_API dcls_status dcls_cuda_layer_norm_plan_destroy(dcls_cuda_layer_norm_plan *plan);
/* Keeps the input's address and the statistics for the backward pass: x must still hold the
 * same values when backward runs. */
DCLS_API dcls_status dcls_cuda_layer_norm_forward(dcls_cuda_layer_norm_plan *plan, const float *x,
                                                  const float *weight, const float *bias, float *y);
/* grad_x overwritten; grad_weight, grad_bias (C) added to when accumulate != 0, else overwritten. */
DCLS_API dcls_status dcls_cuda_layer_norm_backward(dcls_cuda_layer_norm_plan *plan, const float *grad_y,
                                                   const float *weight, float *grad_x, float *grad_weight,
                                                   float *grad_bias, int32_t accumulate);

/* ---- a layer norm fused into the next linear's GEMMs (ConvNeXt's norm -> pwconv1 -> GELU) -----
 * The layer norm's output is never written: the GEMMs normalise x as they load it, from the
 * statistics that dcls_cuda_layer_norm_statistics keeps in the layer norm plan. The linear plan's
 * in_features, batch and inner must be the layer norm plan's channels, batch and inner, and both
 * plans on one context; x is the layer norm's input (B, C, S). Backward: grad_h =
 * dcls_cuda_linear_backward_data (the gradient at the layer norm's output), then
 * dcls_cuda_layer_norm_backward, which needs only x and the kept statistics. */
/* The forward's per-column mean and rstd (the same values), kept in the plan with x's address as
 * dcls_cuda_layer_norm_forward keeps them; no output is written. */
DCLS_API dcls_status dcls_cuda_layer_norm_statistics(dcls_cuda_layer_norm_plan *plan, const float *x);
/* z (B, out, S) = weight . layer_norm(x) + bias (bias may be null), y = gelu(z), as
 * dcls_cuda_linear_forward_gelu of the layer norm's output with weight gamma and bias beta (C).
 * x must be the input of the layer norm plan's last statistics. */
DCLS_API dcls_status dcls_cuda_linear_forward_norm_gelu(dcls_cuda_linear_plan *plan,
                                                        dcls_cuda_layer_norm_plan *norm_plan, const float *x,
                                                        const float *gamma, const float *beta, const float *weight,
                                                        const float *bias, float *z, float *y);
/* As dcls_cuda_linear_backward_weights with the layer norm's output as the layer's input, recomputed
 * from x, the plan's statistics, gamma and beta: grad_weight (out, in), grad_bias (out, or null). */
DCLS_API dcls_status dcls_cuda_linear_backward_weights_norm(dcls_cuda_linear_plan *plan,
                                                            dcls_cuda_layer_norm_plan *norm_plan, const float *x,
                                                            const float *gamma, const float *beta,
                                                            const float *grad_z, float *grad_weight,
                                                            float *grad_bias, int32_t accumulate);

/* ---- batch normalisation over (B, S) for each channel of (B, C, S), as dcls_batch_norm_* ---- */
typedef struct dcls_cuda_batch_norm_plan dcls_cuda_batch_norm_plan;

DCLS_API dcls_status dcls_cuda_batch_norm_plan_create(dcls_cuda_context *ctx, int64_t batch, int64_t channels,
                                                      int64_t inner, float eps, dcls_cuda_batch_norm_plan **plan);
DCLS_API dcls_status dcls_cuda_batch_norm_plan_destroy(dcls_cuda_batch_norm_plan *plan);
DCLS_API dcls_status dcls_cuda_batch_norm_forward(dcls_cuda_batch_norm_plan *plan, const float *x,
                                                  const float *weight, const float *bias, float *running_mean,
                                                  float *running_var, float momentum, int32_t training, float *y);
DCLS_API dcls_status dcls_cuda_batch_norm_backward(dcls_cuda_batch_norm_plan *plan, const float *x,
                                                   const float *grad_y, const float *weight, float *grad_x,
                                                   float *grad_weight, float *grad_bias, int32_t accumulate);

/* ---- activations (kind: a dcls_activation of dcls_nn.h) ------------------------------------ */
typedef struct dcls_cuda_activation_plan dcls_cuda_activation_plan;

DCLS_API dcls_status dcls_cuda_activation_plan_create(dcls_cuda_context *ctx, int32_t kind, int64_t count,
                                                      dcls_cuda_activation_plan **plan);
DCLS_API dcls_status dcls_cuda_activation_plan_destroy(dcls_cuda_activation_plan *plan);
DCLS_API dcls_status dcls_cuda_activation_forward(dcls_cuda_activation_plan *plan, const float *x, float *y);
DCLS_API dcls_status dcls_cuda_activation_backward(dcls_cuda_activation_plan *plan, const float *x,
                                                   const float *grad_y, float *grad_x);

/* ---- element-wise binary ops and sums (op: a dcls_binary_op of dcls_nn.h) ------------------ */
typedef struct dcls_cuda_binary_plan dcls_cuda_binary_plan;

/* c = a op b, b broadcast to a's dims (each b dim equals a's or is 1), rank 1 to 6; c may be a. */
DCLS_API dcls_status dcls_cuda_binary_plan_create(dcls_cuda_context *ctx, int32_t op, int32_t rank,
                                                  const int64_t *a_dims, const int64_t *b_dims,
                                                  dcls_cuda_binary_plan **plan);
DCLS_API dcls_status dcls_cuda_binary_plan_destroy(dcls_cuda_binary_plan *plan);
DCLS_API dcls_status dcls_cuda_binary_execute(dcls_cuda_binary_plan *plan, const float *a, const float *b,
                                              float *c);

typedef struct dcls_cuda_sum_plan dcls_cuda_sum_plan;

/* dst = the sum of src over the axes where dst_dims is 1 and src_dims is not (rank 1 to 6); added
 * to dst when accumulate != 0, else overwritten. */
DCLS_API dcls_status dcls_cuda_sum_plan_create(dcls_cuda_context *ctx, int32_t rank, const int64_t *src_dims,
                                               const int64_t *dst_dims, dcls_cuda_sum_plan **plan);
DCLS_API dcls_status dcls_cuda_sum_plan_destroy(dcls_cuda_sum_plan *plan);
DCLS_API dcls_status dcls_cuda_sum_execute(dcls_cuda_sum_plan *plan, const float *src, float *dst,
                                           int32_t accumulate);

/* ---- pooling (desc: a dcls_pool_desc of dcls_nn.h), as dcls_pool_* ------------------------ */
typedef struct dcls_cuda_pool_plan dcls_cuda_pool_plan;

DCLS_API dcls_status dcls_cuda_pool_plan_create(dcls_cuda_context *ctx, const dcls_pool_desc *desc,
                                                dcls_cuda_pool_plan **plan);
DCLS_API dcls_status dcls_cuda_pool_plan_destroy(dcls_cuda_pool_plan *plan);
DCLS_API dcls_status dcls_cuda_pool_plan_output_size(const dcls_cuda_pool_plan *plan, int64_t output_size[3]);
/* Max pooling keeps where each maximum was for the backward pass. */
DCLS_API dcls_status dcls_cuda_pool_forward(dcls_cuda_pool_plan *plan, const float *x, float *y);
DCLS_API dcls_status dcls_cuda_pool_backward(dcls_cuda_pool_plan *plan, const float *grad_y, float *grad_x);

/* ---- cross-entropy loss on logits (B, classes), as dcls_cross_entropy_* -------------------- */
typedef struct dcls_cuda_cross_entropy_plan dcls_cuda_cross_entropy_plan;

DCLS_API dcls_status dcls_cuda_cross_entropy_plan_create(dcls_cuda_context *ctx, int64_t batch, int64_t classes,
                                                         dcls_cuda_cross_entropy_plan **plan);
DCLS_API dcls_status dcls_cuda_cross_entropy_plan_destroy(dcls_cuda_cross_entropy_plan *plan);
/* logits: device; labels: host memory, B class indices in [0, classes), checked before any kernel
 * runs and copied, so the host array may be reused when the call returns; label_smoothing in
 * [0, 1]; loss: one float of device memory, the mean loss. Keeps the log-probabilities. */
DCLS_API dcls_status dcls_cuda_cross_entropy_forward(dcls_cuda_cross_entropy_plan *plan, const float *logits,
                                                     const int32_t *labels, float label_smoothing, float *loss);
/* grad_logits (B, classes), device, overwritten: the gradient of the last forward's mean loss. */
DCLS_API dcls_status dcls_cuda_cross_entropy_backward(dcls_cuda_cross_entropy_plan *plan, float *grad_logits);

/* ---- optimizer updates on the device, as io.dcls4j.optim's host loops ---------------------
 * The step's scalars are computed by the caller, once per step, as for the host:
 * AdamW: m = beta1 m + one_minus_beta1 g; v = beta2 v + one_minus_beta2 g^2; vmax = max(vmax, v)
 *        (AMSGrad, when max_exp_avg_sq is not null); p = p decay - step_size m / (sqrt(v or vmax)
 *        inv_sqrt_bias2 + eps).
 * SGD:   d = g + weight_decay p; with a momentum buffer, buf = first ? d : momentum buf + keep d and
 *        d = nesterov ? d + momentum buf : buf; p -= lr d.
 * Every array has `count` floats on the context's device. */
DCLS_API dcls_status dcls_cuda_adamw_update(dcls_cuda_context *ctx, int64_t count, float *param, const float *grad,
                                            float *exp_avg, float *exp_avg_sq, float *max_exp_avg_sq, float decay,
                                            float beta1, float one_minus_beta1, float beta2, float one_minus_beta2,
                                            float step_size, float inv_sqrt_bias2, float eps);
DCLS_API dcls_status dcls_cuda_sgd_update(dcls_cuda_context *ctx, int64_t count, float *param, const float *grad,
                                          float *momentum_buffer, float lr, float weight_decay, float momentum,
                                          float keep, int32_t first, int32_t nesterov);

/* ---- the spread kernel of a dilated convolution ---------------------------------------------
 * A convolution dilated by dilation[d] runs as the dense convolution of its spread kernel: weight
 * (pairs, k_0, ..., k_{ndim-1}) and spread (pairs, s_0, ..., s_{ndim-1}), s_d = (k_d - 1) dilation_d
 * + 1, both row-major on the context's device (pairs: out_channels x in_channels / groups); weight
 * (p, j_0, ...) sits at spread cell (p, j_0 dilation_0, ...), the taps; the cells between them are
 * the gaps. ndim 1 to 3; kernel_size and dilation: host arrays of ndim entries, each >= 1. */
/* The taps of spread = weight. The gaps are not written: the caller zeroes spread once, when it
 * allocates it, and they stay zero. */
DCLS_API dcls_status dcls_cuda_kernel_spread(dcls_cuda_context *ctx, int64_t pairs, int32_t ndim,
                                             const int64_t *kernel_size, const int64_t *dilation,
                                             const float *weight, float *spread);
/* grad_weight (pairs, k...) += grad_spread at the taps; then every cell of grad_spread, gaps
 * included, is zero: ready for the next backward pass to accumulate into. */
DCLS_API dcls_status dcls_cuda_kernel_gather_add(dcls_cuda_context *ctx, int64_t pairs, int32_t ndim,
                                                 const int64_t *kernel_size, const int64_t *dilation,
                                                 float *grad_spread, float *grad_weight);

/* ---- which implementation the layers' plans run --------------------------------------------
 * Chosen when a plan is made: cuDNN where it is loaded (dcls_cuda_cudnn_version), has the op, the
 * context lets the layers use it, and its documented semantics are exactly the ones above for the
 * plan's shape and options; dcls4j's kernels otherwise:
 * - pooling: average pooling's forward pass on cuDNN; its backward and all of max pooling on
 *   dcls4j's kernels (cuDNN's backward needs the forward's x and y, and documents no rule for tied
 *   maxima, where dcls4j's gradient goes to the first, as torch's);
 * - batch norm: on cuDNN where each channel has at least two values (its running variance is the
 *   unbiased one, as torch's), except the backward after an evaluation forward;
 * - cross-entropy: the log-softmax on cuDNN; the loss and the gradient on dcls4j's kernels.
 * The info names each pass's implementation, "cudnn" or "dcls", then in parentheses why not cuDNN
 * where it does not run, e.g. "forward=dcls backward=dcls (max pooling: ...)"; pooling
 * "forward= backward=", batch norm "training= evaluation= backward= evaluation_backward=",
 * cross-entropy "log_softmax= loss= backward=". The string is owned by the plan, valid until it is
 * destroyed. */
/* enabled 0: plans made on ctx from now on run dcls4j's kernels only (to compare); 1 (the default): as above. */
DCLS_API dcls_status dcls_cuda_nn_set_cudnn(dcls_cuda_context *ctx, int32_t enabled);
DCLS_API dcls_status dcls_cuda_pool_plan_info(const dcls_cuda_pool_plan *plan, const char **info);
DCLS_API dcls_status dcls_cuda_batch_norm_plan_info(const dcls_cuda_batch_norm_plan *plan, const char **info);
DCLS_API dcls_status dcls_cuda_cross_entropy_plan_info(const dcls_cuda_cross_entropy_plan *plan, const char **info);

#ifdef __cplusplus
}
#endif

#endif /* DCLS_CUDA_NN_H */
