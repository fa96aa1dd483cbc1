/*
 * dcls_nn.h - the network layers around DCLS (io.dcls4j.nn): linear, layer and batch
 * normalisation, activations, pooling, element-wise binary ops, reductions and the
 * cross-entropy loss, on oneDNN primitives, defined in libdcls.so.
 *
 * Conventions as in dcls.h: plain C, every function returns a dcls_status; on failure
 * dcls_nn_last_error() gives the message for the calling thread. Tensors are float32, C order,
 * dense, 4-byte aligned. Each op has a plan made once per shape: it holds the primitives and the
 * scratch memory (the statistics, workspace and transposed copies a backward pass needs from the
 * last forward), so a plan is not safe for concurrent use and a backward call belongs to the
 * forward call made before it on the same plan. Destroying null is accepted and ignored.
 */
#ifndef DCLS_NN_H
#define DCLS_NN_H

#include <stdint.h>

#include "dcls.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The message of the last failure of a dcls_nn function on the calling thread; "" when none. */
DCLS_API const char *dcls_nn_last_error(void);

/* ---- linear ---------------------------------------------------------------------------
 * y (B, out, S) = weight (out, in) . x (B, in, S) + bias (out): a torch.nn.Linear on the channel
 * axis of (B, in, S); S = 1 is the plain (B, in) -> (B, out). */
typedef struct dcls_linear_plan dcls_linear_plan;

DCLS_API dcls_status dcls_linear_plan_create(int64_t batch, int64_t in_features, int64_t out_features,
                                             int64_t inner, dcls_linear_plan **plan);
DCLS_API dcls_status dcls_linear_plan_destroy(dcls_linear_plan *plan);
/* bias may be null. */
DCLS_API dcls_status dcls_linear_forward(dcls_linear_plan *plan, const float *x, const float *weight,
                                         const float *bias, float *y);
/* grad_x (B, in, S), overwritten. */
DCLS_API dcls_status dcls_linear_backward_data(dcls_linear_plan *plan, const float *grad_y, const float *weight,
                                               float *grad_x);
/* grad_weight (out, in) and grad_bias (out, or null): added to when accumulate != 0, else overwritten. */
DCLS_API dcls_status dcls_linear_backward_weights(dcls_linear_plan *plan, const float *x, const float *grad_y,
                                                  float *grad_weight, float *grad_bias, int32_t accumulate);

/* ---- layer normalisation ----------------------------------------------------------------
 * Over the channel axis of (B, C, S): y = (x - mean) / sqrt(var + eps) * weight + bias, the
 * statistics per (b, s). S = 1 is torch.nn.LayerNorm(C) on (B, C); S > 1 ConvNeXt's
 * channels-first LayerNorm. */
typedef struct dcls_layer_norm_plan dcls_layer_norm_plan;

DCLS_API dcls_status dcls_layer_norm_plan_create(int64_t batch, int64_t channels, int64_t inner, float eps,
                                                 dcls_layer_norm_plan **plan);
DCLS_API dcls_status dcls_layer_norm_plan_destroy(dcls_layer_norm_plan *plan);
/* Keeps the input and the statistics for the backward pass. */
DCLS_API dcls_status dcls_layer_norm_forward(dcls_layer_norm_plan *plan, const float *x, const float *weight,
                                             const float *bias, float *y);
/* grad_x overwritten; grad_weight, grad_bias (C) added to when accumulate != 0, else overwritten. */
DCLS_API dcls_status dcls_layer_norm_backward(dcls_layer_norm_plan *plan, const float *grad_y, const float *weight,
                                              float *grad_x, float *grad_weight, float *grad_bias,
                                              int32_t accumulate);

/* ---- batch normalisation ----------------------------------------------------------------
 * Over (B, S) for each channel of (B, C, S), as torch.nn.BatchNormNd. */
typedef struct dcls_batch_norm_plan dcls_batch_norm_plan;

DCLS_API dcls_status dcls_batch_norm_plan_create(int64_t batch, int64_t channels, int64_t inner, float eps,
                                                 dcls_batch_norm_plan **plan);
DCLS_API dcls_status dcls_batch_norm_plan_destroy(dcls_batch_norm_plan *plan);
/* training != 0: normalises with the batch statistics and updates running_mean and running_var
 * (C) in place, running = (1 - momentum) * running + momentum * batch (the unbiased variance, as
 * PyTorch); training == 0: normalises with the running statistics. Keeps what backward needs. */
DCLS_API dcls_status dcls_batch_norm_forward(dcls_batch_norm_plan *plan, const float *x, const float *weight,
                                             const float *bias, float *running_mean, float *running_var,
                                             float momentum, int32_t training, float *y);
/* The gradient of the last forward (batch or running statistics as it used). x as given to it.
 * grad_x overwritten; grad_weight, grad_bias added to when accumulate != 0, else overwritten. */
DCLS_API dcls_status dcls_batch_norm_backward(dcls_batch_norm_plan *plan, const float *x, const float *grad_y,
                                              const float *weight, float *grad_x, float *grad_weight,
                                              float *grad_bias, int32_t accumulate);

/* ---- activations ------------------------------------------------------------------------ */
typedef enum dcls_activation {
    DCLS_ACTIVATION_RELU = 0,
    DCLS_ACTIVATION_GELU_ERF = 1 /* torch.nn.GELU() (exact, erf) */
} dcls_activation;

typedef struct dcls_activation_plan dcls_activation_plan;

DCLS_API dcls_status dcls_activation_plan_create(int32_t kind, int64_t count, dcls_activation_plan **plan);
DCLS_API dcls_status dcls_activation_plan_destroy(dcls_activation_plan *plan);
DCLS_API dcls_status dcls_activation_forward(dcls_activation_plan *plan, const float *x, float *y);
/* grad_x (overwritten) of sum(y * grad_y), from the input x. */
DCLS_API dcls_status dcls_activation_backward(dcls_activation_plan *plan, const float *x, const float *grad_y,
                                              float *grad_x);

/* ---- pooling ---------------------------------------------------------------------------- */
typedef enum dcls_pool_kind {
    DCLS_POOL_MAX = 0,                   /* padding never wins */
    DCLS_POOL_AVG_INCLUDE_PADDING = 1,   /* torch's AvgPool default, count_include_pad=True */
    DCLS_POOL_AVG_EXCLUDE_PADDING = 2
} dcls_pool_kind;

typedef struct dcls_pool_desc {
    int32_t ndim;          /* 1, 2 or 3 */
    int32_t kind;          /* dcls_pool_kind */
    int64_t batch;
    int64_t channels;
    int64_t input_size[3]; /* first ndim entries used */
    int64_t kernel_size[3];
    int64_t stride[3];
    int64_t padding[3];    /* both sides, at most kernel_size / 2 */
} dcls_pool_desc;

typedef struct dcls_pool_plan dcls_pool_plan;

DCLS_API dcls_status dcls_pool_plan_create(const dcls_pool_desc *desc, dcls_pool_plan **plan);
DCLS_API dcls_status dcls_pool_plan_destroy(dcls_pool_plan *plan);
/* (input + 2 * padding - kernel) / stride + 1 per axis (floor, as torch's ceil_mode=False). */
DCLS_API dcls_status dcls_pool_plan_output_size(const dcls_pool_plan *plan, int64_t output_size[3]);
/* Max pooling keeps where each maximum was for the backward pass. */
DCLS_API dcls_status dcls_pool_forward(dcls_pool_plan *plan, const float *x, float *y);
DCLS_API dcls_status dcls_pool_backward(dcls_pool_plan *plan, const float *grad_y, float *grad_x);

/* ---- element-wise binary ops and sums --------------------------------------------------- */
typedef enum dcls_binary_op {
    DCLS_BINARY_ADD = 0,
    DCLS_BINARY_MUL = 1
} dcls_binary_op;

/* c = a op b, for a of dims a_dims (rank 1 to 6) and b of dims b_dims: each b dim equals a's or
 * is 1 (broadcast). c has a's dims and may be a (in place). */
typedef struct dcls_binary_plan dcls_binary_plan;

DCLS_API dcls_status dcls_binary_plan_create(int32_t op, int32_t rank, const int64_t *a_dims,
                                             const int64_t *b_dims, dcls_binary_plan **plan);
DCLS_API dcls_status dcls_binary_plan_destroy(dcls_binary_plan *plan);
DCLS_API dcls_status dcls_binary_execute(dcls_binary_plan *plan, const float *a, const float *b, float *c);

/* dst = the sum of src over the axes where dst_dims is 1 and src_dims is not (rank 1 to 6); added
 * to dst when accumulate != 0, else overwritten. */
typedef struct dcls_sum_plan dcls_sum_plan;

DCLS_API dcls_status dcls_sum_plan_create(int32_t rank, const int64_t *src_dims, const int64_t *dst_dims,
                                          dcls_sum_plan **plan);
DCLS_API dcls_status dcls_sum_plan_destroy(dcls_sum_plan *plan);
DCLS_API dcls_status dcls_sum_execute(dcls_sum_plan *plan, const float *src, float *dst, int32_t accumulate);

/* ---- cross-entropy loss ------------------------------------------------------------------
 * torch.nn.CrossEntropyLoss(reduction="mean", label_smoothing) on logits (B, classes) and class
 * indices (B). */
typedef struct dcls_cross_entropy_plan dcls_cross_entropy_plan;

DCLS_API dcls_status dcls_cross_entropy_plan_create(int64_t batch, int64_t classes,
                                                    dcls_cross_entropy_plan **plan);
DCLS_API dcls_status dcls_cross_entropy_plan_destroy(dcls_cross_entropy_plan *plan);
/* Labels must be in [0, classes); label_smoothing in [0, 1]. Keeps the log-probabilities. */
DCLS_API dcls_status dcls_cross_entropy_forward(dcls_cross_entropy_plan *plan, const float *logits,
                                                const int32_t *labels, float label_smoothing, float *loss);
/* grad_logits (B, classes), overwritten: the gradient of the last forward's mean loss. */
DCLS_API dcls_status dcls_cross_entropy_backward(dcls_cross_entropy_plan *plan, float *grad_logits);

#ifdef __cplusplus
}
#endif

#endif /* DCLS_NN_H */
