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

/*
 * Engine choices for convolution plans created afterwards, process-wide (for measurements and
 * tests; by default each plan picks per shape). name / values:
 *   "dft_conv"                    auto | never | always   dense stride-1 convolution through DFTs
 *   "depthwise_conv"              auto | never            dcls4j's depthwise forward / backward data
 *   "depthwise_backward_weights"  auto | never            dcls4j's depthwise backward weights
 *   "dense_backward_weights"      auto | never | always   dcls4j's dense backward weights
 *   "sparse_conv"                 auto | never | always   the tap-sparse convolution, per pass, on
 *                                                         the cells of dcls_conv_plan_set_kernel_cells
 *                                                         (read at each such call)
 * "never" everywhere leaves oneDNN's own convolution. The environment variables DCLS_DFT_CONV,
 * DCLS_DEPTHWISE_CONV, DCLS_DEPTHWISE_BACKWARD_WEIGHTS, DCLS_DENSE_BACKWARD_WEIGHTS,
 * DCLS_SPARSE_CONV give the initial values.
 */
DCLS_API dcls_status dcls_set_engine_option(const char *name, const char *value);

/* ---- kernel construction ------------------------------------------------------------ */

typedef enum dcls_interpolation {
    DCLS_INTERPOLATION_BILINEAR = 0,               /* "v0" */
    DCLS_INTERPOLATION_TRIANGLE = 1,               /* "v1" */
    DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH = 2, /* "max": half-width |sigma| + 1 */
    DCLS_INTERPOLATION_GAUSSIAN = 3,               /* "gauss": std |sigma| + 0.27 */
    DCLS_INTERPOLATION_GAUSSIAN_UNIT_OFFSET = 4    /* "gauss" of the reference's Dcls2_1d: std |sigma| + 1 */
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

/*
 * The box of kernel cells the construction can touch: for each spatial axis d < ndim, the cells
 * [lo[d], hi[d]) outside which the constructed kernel is 0 and dcls_construct_backward reads no
 * gradient (for "gauss": where the Gaussian is below 1e-45 of its peak, flushed to 0 in float).
 * Never empty; entries d >= ndim are [0, 1). Give it to dcls_conv_plan_set_kernel_window.
 */
DCLS_API dcls_status dcls_construct_kernel_window(const dcls_construct_desc *desc,
                                                  const float *positions, const float *sigma,
                                                  int64_t lo[3], int64_t hi[3]);

/*
 * Position upkeep, on the construction's positions (ndim x Cout x Cin/groups x kernel_count):
 * dcls_positions_clamp clamps each component d in place into [-(L / 2), L / 2], L the axis's
 * dilated_kernel_size and L / 2 rounded down (the reference's clamp_parameters); NaN stays NaN.
 * dcls_positions_round writes count values of src, rounded to integers half to even (torch.round),
 * into dst (the same array allowed).
 */
DCLS_API dcls_status dcls_positions_clamp(const dcls_construct_desc *desc, float *positions);
DCLS_API dcls_status dcls_positions_round(const float *src, float *dst, int64_t count);

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

/*
 * A convolution plan: for one shape, the kernels of each pass (oneDNN primitives or the library's
 * own) and their scratch memory, created once, run many times. Not safe for concurrent use.
 */
typedef struct dcls_conv_plan dcls_conv_plan;

DCLS_API dcls_status dcls_conv_plan_create(const dcls_conv_desc *desc, dcls_conv_plan **plan);
/* Null is accepted and ignored. */
DCLS_API dcls_status dcls_conv_plan_destroy(dcls_conv_plan *plan);
/* The spatial output size, first ndim entries. */
DCLS_API dcls_status dcls_conv_plan_output_size(const dcls_conv_plan *plan, int64_t output_size[3]);

/*
 * What the plan runs for each pass now, e.g. "forward=dcls:depthwise(avx512)
 * backward_data=dcls:depthwise-flipped(avx512) backward_weights=onednn:brg_conv_bwd_w:avx512_core":
 * "pass=engine" for forward, backward_data and backward_weights, separated by single spaces, where
 * engine is "onednn:" and oneDNN's implementation name, or "dcls:" and one of dcls4j's engines
 * ("dcls:window(5x5)>" followed by the engine of the box's plan when a kernel window pays,
 * "dcls:sparse(2 of 25 cells,avx512)" for the tap-sparse convolution with 2 cells per pair on
 * average). The string is owned by the plan, valid until the plan is destroyed or its kernel window
 * or cells are set again.
 */
DCLS_API dcls_status dcls_conv_plan_info(const dcls_conv_plan *plan, const char **info);

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

/*
 * Tells the plan that the kernels it will be given are 0 outside the box of cells
 * [lo[d], hi[d]) of each spatial axis d < ndim (0 <= lo < hi <= kernel_size), until the next
 * call; the whole kernel is the default. Where the box is small enough to pay, every pass then
 * runs a convolution with only that part of the kernel. dcls_conv_backward_weights computes
 * grad_kernel inside the box only: outside it, the cells hold 0 or their true gradient when
 * overwriting, and get nothing or their true gradient when accumulating (callers that read
 * only the box, like dcls_construct_backward with dcls_construct_kernel_window, do not care).
 */
DCLS_API dcls_status dcls_conv_plan_set_kernel_window(dcls_conv_plan *plan, const int64_t lo[3],
                                                      const int64_t hi[3]);

/*
 * Tells the plan that its kernels will be made by dcls_construct_forward(desc, weight, positions,
 * sigma), for any weight, until the next call of this function or of
 * dcls_conv_plan_set_kernel_window. desc must be the plan's kernel: ndim, out_channels = Cout,
 * in_per_group = Cin / groups, dilated_kernel_size = kernel_size; sigma as for the construction
 * (null for bilinear and triangle). The plan takes, per (out, in/groups) pair, the kernel cells
 * the construction can make non-zero and, if gradient != 0, also those whose gradient
 * dcls_construct_backward reads (for "gauss", as dcls_construct_kernel_window: where the
 * Gaussian is above 1e-45 of its peak), and the box around them, which it uses as
 * dcls_conv_plan_set_kernel_window would. Then, per pass, it runs the tap-sparse convolution on
 * those cells (cost following the cells, not the box) where its cost model expects that to be
 * faster (see dcls_set_engine_option "sparse_conv"); dcls_conv_plan_info says which.
 * dcls_conv_backward_weights computes grad_kernel at those cells (gradient != 0; with
 * gradient == 0 it runs on the box) and outside them, as with a kernel window, the cells hold 0
 * or their true gradient when overwriting, and get nothing or their true gradient when
 * accumulating: dcls_construct_backward, which reads only those cells, gets its exact result.
 * Call it whenever positions or sigma change (each training step); it costs a pass over the
 * elements and, when the tap-sparse engine runs, one over the cells.
 */
DCLS_API dcls_status dcls_conv_plan_set_kernel_cells(dcls_conv_plan *plan, const dcls_construct_desc *desc,
                                                     const float *positions, const float *sigma,
                                                     int32_t gradient);

/* ---- CUDA (defined in libdcls_cuda.so, not in libdcls.so) ------------------------------
 *
 * Everything in this section is declared here but DEFINED in a separate library,
 * libdcls_cuda.so, which is built only where the CUDA toolkit is found. libdcls.so neither
 * contains these functions nor depends on CUDA; load libdcls_cuda.so (and look these symbols
 * up in it) only when a CUDA device is wanted. libdcls_cuda.so links the CUDA runtime
 * statically and needs only the driver's libcuda.so.1. cuDNN (libcudnn.so.9) is loaded when
 * the first convolution plan that needs it is made (or the first pooling, batch norm or
 * cross-entropy plan of dcls_cuda_nn.h, which use it where it fits): from the file named by
 * the environment variable DCLS_CUDNN_LIBRARY if set, else from the cuDNN folder the library
 * was built with, else by the dynamic linker's search (LD_LIBRARY_PATH).
 *
 * Errors: as above, every function returns a dcls_status, but the message of a failure is
 * given by dcls_cuda_last_error() (thread-local, in libdcls_cuda.so), not dcls_last_error().
 *
 * Pointers: tensors passed to the construction and convolution functions are device pointers
 * (from dcls_cuda_malloc, or any device memory of the context's device), with the shapes and
 * layouts documented for the CPU functions above.
 *
 * Ordering: a context owns one CUDA stream (and one cuDNN handle). Every function taking a
 * context, or a plan made on it, only enqueues work on that stream and returns: the work of one
 * context runs in the order it was enqueued. dcls_cuda_synchronize waits for all of it; an
 * error raised while the work runs (not while it is enqueued) is reported by the next call that
 * synchronizes. Host memory passed to dcls_cuda_memcpy may be reused when the call returns if
 * it is pageable; pinned memory (dcls_cuda_malloc_host) is read or written asynchronously, so
 * synchronize before touching it.
 *
 * Threading: a context, with its plans, must be used by one thread at a time. Different contexts
 * may be used concurrently. A plan must be destroyed before its context.
 */

/* A CUDA context: one device, one stream, one (lazily created) cuDNN handle, and settings. */
typedef struct dcls_cuda_context dcls_cuda_context;

/* A convolution plan on a CUDA context: algorithms, workspace and scratch for one shape. */
typedef struct dcls_cuda_conv_plan dcls_cuda_conv_plan;

typedef enum dcls_cuda_memcpy_kind {
    DCLS_CUDA_MEMCPY_HOST_TO_DEVICE = 1,
    DCLS_CUDA_MEMCPY_DEVICE_TO_HOST = 2,
    DCLS_CUDA_MEMCPY_DEVICE_TO_DEVICE = 3,
    DCLS_CUDA_MEMCPY_DEFAULT = 4 /* inferred from the pointers (unified addressing) */
} dcls_cuda_memcpy_kind;

/* Which implementation runs depthwise convolutions (groups == in_channels). */
typedef enum dcls_cuda_depthwise_mode {
    DCLS_CUDA_DEPTHWISE_AUTO = 0,  /* dcls4j's kernels for large kernels (volume >= 49 or a side >= 7) or without
                                      cuDNN, cuDNN otherwise; with benchmark on, the faster of the two per pass */
    DCLS_CUDA_DEPTHWISE_NEVER = 1, /* always cuDNN */
    DCLS_CUDA_DEPTHWISE_ALWAYS = 2 /* always dcls4j's kernels (they need no cuDNN) */
} dcls_cuda_depthwise_mode;

/* Which of dcls4j's depthwise backward-weights kernels runs, where dcls4j's depthwise kernels run
 * that pass (the plan's info names it: "dcls:depthwise-rows(...)", "-segments(...)", "-generic"). */
typedef enum dcls_cuda_depthwise_weights_kernel {
    DCLS_CUDA_DEPTHWISE_WEIGHTS_AUTO = 0,     /* "rows" where it applies and the output is at least 16 wide,
                                                 else "segments" (else "generic") */
    DCLS_CUDA_DEPTHWISE_WEIGHTS_SEGMENTS = 1, /* the segment kernel (else "generic") */
    DCLS_CUDA_DEPTHWISE_WEIGHTS_ROWS = 2      /* the tap-tile kernel wherever it applies (stride 1 along the
                                                 last two axes, a kernel at least 4 high), else as AUTO */
} dcls_cuda_depthwise_weights_kernel;

/* Whether a CUDA plan runs its tap-sparse engine (dcls_cuda_conv_plan_set_kernel_cells): the CUDA
 * counterpart of the CPU's engine option "sparse_conv", a setting of the context read at each
 * dcls_cuda_conv_plan_set_kernel_cells call. */
typedef enum dcls_cuda_sparse_mode {
    DCLS_CUDA_SPARSE_AUTO = 0,  /* per pass, where the cells per (out, in/groups) pair are few enough
                                   against the box the dense engine would run (the plan's cost model) */
    DCLS_CUDA_SPARSE_NEVER = 1, /* the dense engines on the cells' box, as a kernel window */
    DCLS_CUDA_SPARSE_ALWAYS = 2 /* every pass it can run (backward weights: with gradient cells only) */
} dcls_cuda_sparse_mode;

/* The message of the last failure of a dcls_cuda_* function on the calling thread; "" when none. */
DCLS_API const char *dcls_cuda_last_error(void);

/* The number of CUDA devices; 0 (and DCLS_OK) when there is no driver or no device (then
 * dcls_cuda_last_error() says why). */
DCLS_API dcls_status dcls_cuda_device_count(int32_t *count);

/* The device's name and compute capability (major * 10 + minor); name gets at most
 * capacity - 1 characters and a terminating 0. name may be null (capacity is then ignored). */
DCLS_API dcls_status dcls_cuda_device_info(int32_t device, char *name, int64_t capacity,
                                           int32_t *compute_capability);

/* The cuDNN version in use (e.g. 91000 for 9.10.0), loading cuDNN (libcudnn.so.9) if needed; 0 when
 * it cannot be loaded (dcls_cuda_last_error then says why). libdcls_cuda.so needs no cuDNN to be
 * built: it always uses cuDNN where libcudnn.so.9 can be loaded. */
DCLS_API dcls_status dcls_cuda_cudnn_version(int32_t *version);

/* Creates a context on `device` (0-based). */
DCLS_API dcls_status dcls_cuda_context_create(int32_t device, dcls_cuda_context **ctx);
/* Waits for the context's work, then frees it. Null is accepted and ignored. */
DCLS_API dcls_status dcls_cuda_context_destroy(dcls_cuda_context *ctx);
/* Waits until all the work enqueued on the context has finished. */
DCLS_API dcls_status dcls_cuda_synchronize(dcls_cuda_context *ctx);
/* The context's CUDA stream (a cudaStream_t), for other libraries' work on the same stream in order with
 * dcls4j's (e.g. an NCCL all-reduce of gradients). The stream belongs to the context: never destroy it. */
DCLS_API dcls_status dcls_cuda_context_stream(dcls_cuda_context *ctx, void **stream);

/* Settings, read when a plan is created (existing plans keep theirs). All off / AUTO by default.
 * tf32: let cuDNN use TF32 tensor cores for float32 convolutions (faster, ~1e-3 relative error).
 * benchmark: time the candidate algorithms when a plan is made (cudnnFind*, and dcls4j's
 *   depthwise kernels against cuDNN) instead of choosing by heuristics.
 * depthwise_mode: a dcls_cuda_depthwise_mode.
 * depthwise_weights_kernel: a dcls_cuda_depthwise_weights_kernel (to compare the kernels). */
DCLS_API dcls_status dcls_cuda_set_tf32(dcls_cuda_context *ctx, int32_t enabled);
DCLS_API dcls_status dcls_cuda_set_benchmark(dcls_cuda_context *ctx, int32_t enabled);
DCLS_API dcls_status dcls_cuda_set_depthwise_mode(dcls_cuda_context *ctx, int32_t mode);
DCLS_API dcls_status dcls_cuda_set_depthwise_weights_kernel(dcls_cuda_context *ctx, int32_t kernel);
/* mode: a dcls_cuda_sparse_mode; plans take it at their next dcls_cuda_conv_plan_set_kernel_cells. */
DCLS_API dcls_status dcls_cuda_set_sparse_mode(dcls_cuda_context *ctx, int32_t mode);

/* Device memory, allocated and freed in order on the context's stream (a stream-ordered pool
 * where the device supports it): a free takes effect after the work enqueued before it. bytes 0
 * gives null. dcls_cuda_free(ctx, null) is accepted and ignored. */
DCLS_API dcls_status dcls_cuda_malloc(dcls_cuda_context *ctx, int64_t bytes, void **ptr);
DCLS_API dcls_status dcls_cuda_free(dcls_cuda_context *ctx, void *ptr);
/* Pinned (page-locked) host memory, for fast asynchronous copies. The free waits for the device. */
DCLS_API dcls_status dcls_cuda_malloc_host(dcls_cuda_context *ctx, int64_t bytes, void **ptr);
DCLS_API dcls_status dcls_cuda_free_host(dcls_cuda_context *ctx, void *ptr);
/* Copies `bytes` bytes on the context's stream; kind is a dcls_cuda_memcpy_kind. */
DCLS_API dcls_status dcls_cuda_memcpy(dcls_cuda_context *ctx, void *dst, const void *src, int64_t bytes,
                                      int32_t kind);
/* Sets `bytes` bytes of device memory to the byte `value`, on the context's stream. */
DCLS_API dcls_status dcls_cuda_memset(dcls_cuda_context *ctx, void *ptr, int32_t value, int64_t bytes);

/* Kernel construction on the device: as dcls_construct_forward / dcls_construct_backward,
 * with device pointers, enqueued on the context's stream. */
DCLS_API dcls_status dcls_cuda_construct_forward(dcls_cuda_context *ctx, const dcls_construct_desc *desc,
                                                 const float *weight, const float *positions,
                                                 const float *sigma, float *kernel);
DCLS_API dcls_status dcls_cuda_construct_backward(dcls_cuda_context *ctx, const dcls_construct_desc *desc,
                                                  const float *weight, const float *positions,
                                                  const float *sigma, const float *grad_kernel,
                                                  float *grad_weight, float *grad_positions,
                                                  float *grad_sigma, int32_t accumulate);

/* Position upkeep on the device: as dcls_positions_clamp / dcls_positions_round, with device
 * pointers, enqueued on the context's stream. */
/* The CUDA counterpart of dcls_construct_kernel_window, with positions and sigma in device memory and
 * lo, hi in host memory: copies positions and sigma to the host, waiting for the context's stream
 * (the box is needed on the host, where plans are made), and returns a box that contains every cell
 * the construction can make non-zero or read the gradient of (kernel_cells.h's cells, the same
 * cells dcls_cuda_conv_plan_set_kernel_cells takes). */
DCLS_API dcls_status dcls_cuda_construct_kernel_window(dcls_cuda_context *ctx, const dcls_construct_desc *desc,
                                                       const float *positions, const float *sigma, int64_t lo[3],
                                                       int64_t hi[3]);
DCLS_API dcls_status dcls_cuda_positions_clamp(dcls_cuda_context *ctx, const dcls_construct_desc *desc,
                                               float *positions);
DCLS_API dcls_status dcls_cuda_positions_round(dcls_cuda_context *ctx, const float *src, float *dst,
                                               int64_t count);

/* Convolution plans on the device: the same shapes, padding modes and semantics as
 * dcls_conv_plan_* / dcls_conv_* above, with device pointers, enqueued on the plan's context. */
DCLS_API dcls_status dcls_cuda_conv_plan_create(dcls_cuda_context *ctx, const dcls_conv_desc *desc,
                                                dcls_cuda_conv_plan **plan);
/* Null is accepted and ignored. The plan's device memory is freed in order on the context's stream. */
DCLS_API dcls_status dcls_cuda_conv_plan_destroy(dcls_cuda_conv_plan *plan);
/* The spatial output size, first ndim entries (1 for the others). */
DCLS_API dcls_status dcls_cuda_conv_plan_output_size(const dcls_cuda_conv_plan *plan, int64_t output_size[3]);
/* What the plan runs, e.g. "forward=cudnn:IMPLICIT_PRECOMP_GEMM backward_data=dcls:depthwise ...":
 * a string owned by the plan, valid until it is destroyed or its kernel window is set. */
DCLS_API dcls_status dcls_cuda_conv_plan_info(const dcls_cuda_conv_plan *plan, const char **info);
/* The CUDA counterpart of dcls_conv_plan_set_kernel_window (same arguments and contract): the
 * kernels given from now on are 0 outside the box [lo[d], hi[d]) of each axis d < ndim. The passes
 * that run on dcls4j's depthwise kernels or on the direct convolution (no cuDNN) then run on the box
 * only (the plan's info gains "window=..."); cuDNN's passes run on the whole kernel. Overwriting,
 * backward weights leaves 0 in the cells outside the box (dcls4j's kernels) or their true gradient
 * (cuDNN); accumulating, they
 * get nothing or their true gradient. The whole kernel as the box turns the window off. Strings
 * from dcls_cuda_conv_plan_info before the call are invalid after it. */
DCLS_API dcls_status dcls_cuda_conv_plan_set_kernel_window(dcls_cuda_conv_plan *plan, const int64_t lo[3],
                                                           const int64_t hi[3]);
/* The CUDA counterpart of dcls_conv_plan_set_kernel_cells (same arguments and contract), with positions
 * and sigma in device memory: copies them to the host, waiting for the context's stream, lists the
 * cells of each (out, in/groups) pair there and uploads them. The box around the cells becomes the
 * plan's kernel window (dcls_cuda_conv_plan_set_kernel_window); then each pass runs the tap-sparse
 * CUDA engine ("dcls:sparse(2 of 25 cells,cuda)" in the plan's info: cells per pair on average, of
 * the kernel's) where the context's dcls_cuda_sparse_mode and, in AUTO, the cost model choose it.
 * Backward weights runs it only with gradient != 0; it then writes the gradient at the cells, 0
 * elsewhere (accumulating: adds at the cells only). Strings from dcls_cuda_conv_plan_info before the
 * call are invalid after it. */
DCLS_API dcls_status dcls_cuda_conv_plan_set_kernel_cells(dcls_cuda_conv_plan *plan, const dcls_construct_desc *desc,
                                                          const float *positions, const float *sigma,
                                                          int32_t gradient);
/* As dcls_cuda_conv_plan_set_kernel_cells (same arguments and contract), with positions and sigma in
 * host memory: the cells are listed from them in place, with no copy and no wait for the context's
 * stream (the cells' upload to the plan stays in order on the stream). For a caller that already holds
 * the values the next kernels will be built from on the host (a model that copies its layers'
 * positions over once per forward, instead of one wait per layer). */
DCLS_API dcls_status dcls_cuda_conv_plan_set_kernel_cells_host(dcls_cuda_conv_plan *plan,
                                                               const dcls_construct_desc *desc,
                                                               const float *host_positions,
                                                               const float *host_sigma, int32_t gradient);
DCLS_API dcls_status dcls_cuda_conv_forward(dcls_cuda_conv_plan *plan, const float *x, const float *kernel,
                                            const float *bias, float *y);
DCLS_API dcls_status dcls_cuda_conv_backward_data(dcls_cuda_conv_plan *plan, const float *grad_y,
                                                  const float *kernel, float *grad_x);
DCLS_API dcls_status dcls_cuda_conv_backward_weights(dcls_cuda_conv_plan *plan, const float *x,
                                                     const float *grad_y, float *grad_kernel,
                                                     float *grad_bias, int32_t accumulate);

#ifdef __cplusplus
}
#endif

#endif /* DCLS_H */
