/*
 * dcls.h - the C ABI of dcls4j's native core: Dilated Convolution with Learnable Spacings.
 *
 * Plain C, no C++ exception and no abort crosses it. Every function returns a dcls_status;
 * on failure, dcls_last_error() gives a message for the calling thread (valid until the
 * next failing call on that thread).
 *
 * Tensors are float32, C order, dense: activations (N, C, spatial...), kernels
 * (Cout, Cin/groups, spatial...), DCLS parameters as documented per function.
 * Pointers must be 4-byte aligned and must not overlap unless stated.
 *
 * Threading: the library uses OpenMP (the same runtime as oneDNN). A plan holds scratch
 * memory and is not safe for concurrent use; different plans may run concurrently.
 */
#ifndef DCLS_H
#define DCLS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define DCLS_API __declspec(dllexport)
#else
#define DCLS_API __attribute__((visibility("default")))
#endif

/* ---- status and diagnostics -------------------------------------------------------- */

typedef enum dcls_status {
    DCLS_OK = 0,
    DCLS_ERROR_INVALID_ARGUMENT = 1, /* a null pointer, a bad size or an unsupported setting */
    DCLS_ERROR_OUT_OF_MEMORY = 2,
    DCLS_ERROR_BACKEND = 3,          /* oneDNN (or cuDNN) reported an error */
    DCLS_ERROR_INTERNAL = 4          /* anything else: a bug */
} dcls_status;

/* The message of the last failure on the calling thread; "" when there was none. Never null. */
DCLS_API const char *dcls_last_error(void);

/* dcls4j's native version, e.g. "0.1.0". Never null. */
DCLS_API const char *dcls_version(void);

/* The oneDNN version the library runs with. */
DCLS_API dcls_status dcls_onednn_version(int32_t *major, int32_t *minor, int32_t *patch);

/* The CPU instruction set oneDNN dispatches to, e.g. "avx512_core". Never null. */
DCLS_API const char *dcls_cpu_isa(void);

/* Threads used by oneDNN and by dcls4j's own loops (OpenMP). 0 or less restores the default. */
DCLS_API dcls_status dcls_set_num_threads(int32_t num_threads);
DCLS_API int32_t dcls_get_num_threads(void);

/* ---- kernel construction ------------------------------------------------------------ */

typedef enum dcls_interpolation {
    DCLS_INTERPOLATION_BILINEAR = 0,               /* "v0" */
    DCLS_INTERPOLATION_TRIANGLE = 1,               /* "v1" */
    DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH = 2, /* "max": half-width |sigma| + 1 */
    DCLS_INTERPOLATION_GAUSSIAN = 3                /* "gauss": std |sigma| + 0.27 */
} dcls_interpolation;

/*
 * One kernel construction: for every (o, i) pair of `out_channels` x `in_per_group`,
 * `kernel_count` elements of weight W[o][i][k] at positions P[d][o][i][k] (d < ndim),
 * spread over a grid of `dilated_kernel_size`. P[d] moves along spatial axis d, relative to
 * the centre dilated_kernel_size[d] / 2 (integer division).
 */
typedef struct dcls_construct_desc {
    int32_t ndim;                   /* 1, 2 or 3 */
    int32_t interpolation;          /* dcls_interpolation */
    int64_t out_channels;           /* Cout */
    int64_t in_per_group;           /* Cin / groups */
    int64_t kernel_count;           /* K */
    int64_t dilated_kernel_size[3]; /* first ndim entries used, each >= 1 */
} dcls_construct_desc;

/*
 * kernel (Cout, Cin/g, dks...) = construct(weight (Cout, Cin/g, K), positions (ndim, Cout, Cin/g, K),
 * sigma (ndim, Cout, Cin/g, K), or null for bilinear and triangle).
 */
DCLS_API dcls_status dcls_construct_forward(const dcls_construct_desc *desc, const float *weight,
                                            const float *positions, const float *sigma,
                                            float *kernel);

/*
 * Gradients of sum(kernel * grad_kernel) with respect to weight, positions and sigma.
 * accumulate != 0 adds them to the outputs, 0 overwrites. grad_sigma may be null (and must be
 * for interpolations without sigma); the other outputs may be null to skip them.
 */
DCLS_API dcls_status dcls_construct_backward(const dcls_construct_desc *desc, const float *weight,
                                             const float *positions, const float *sigma,
                                             const float *grad_kernel, float *grad_weight,
                                             float *grad_positions, float *grad_sigma,
                                             int32_t accumulate);

/* ---- convolution -------------------------------------------------------------------- */

typedef enum dcls_padding_mode {
    DCLS_PADDING_ZEROS = 0,
    DCLS_PADDING_REFLECT = 1,
    DCLS_PADDING_REPLICATE = 2,
    DCLS_PADDING_CIRCULAR = 3
} dcls_padding_mode;

/*
 * One convolution shape: y = conv(pad(x), kernel) + bias, cross-correlation as torch.nn.functional.convNd.
 * Output size per axis: (input + 2 * padding - kernel) / stride + 1, which must be >= 1.
 */
typedef struct dcls_conv_desc {
    int32_t ndim;           /* 1, 2 or 3 */
    int32_t padding_mode;   /* dcls_padding_mode; reflect needs padding < input size */
    int64_t batch;          /* N */
    int64_t in_channels;    /* Cin */
    int64_t out_channels;   /* Cout */
    int64_t groups;         /* divides Cin and Cout */
    int64_t input_size[3];  /* spatial, first ndim entries used */
    int64_t kernel_size[3];
    int64_t stride[3];      /* >= 1 */
    int64_t padding[3];     /* >= 0, both sides */
} dcls_conv_desc;

/* A convolution plan: oneDNN primitives and scratch memory for one shape, created once, run many times. */
typedef struct dcls_conv_plan dcls_conv_plan;

DCLS_API dcls_status dcls_conv_plan_create(const dcls_conv_desc *desc, dcls_conv_plan **plan);
/* Null is accepted and ignored. */
DCLS_API dcls_status dcls_conv_plan_destroy(dcls_conv_plan *plan);
/* The spatial output size, first ndim entries. */
DCLS_API dcls_status dcls_conv_plan_output_size(const dcls_conv_plan *plan, int64_t output_size[3]);

/* y (N, Cout, out...) = conv(x (N, Cin, in...), kernel (Cout, Cin/g, k...)) + bias (Cout, or null). */
DCLS_API dcls_status dcls_conv_forward(dcls_conv_plan *plan, const float *x, const float *kernel,
                                       const float *bias, float *y);

/* grad_x (N, Cin, in...) of sum(y * grad_y); overwritten. */
DCLS_API dcls_status dcls_conv_backward_data(dcls_conv_plan *plan, const float *grad_y,
                                             const float *kernel, float *grad_x);

/*
 * grad_kernel (Cout, Cin/g, k...) and grad_bias (Cout, or null to skip) of sum(y * grad_y).
 * accumulate != 0 adds to both outputs, 0 overwrites.
 */
DCLS_API dcls_status dcls_conv_backward_weights(dcls_conv_plan *plan, const float *x,
                                                const float *grad_y, float *grad_kernel,
                                                float *grad_bias, int32_t accumulate);

#ifdef __cplusplus
}
#endif

#endif /* DCLS_H */
