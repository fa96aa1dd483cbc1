// The part of cuDNN 9's C API that dcls4j calls, declared here from NVIDIA's documented
// signatures and enumeration values, so that libdcls_cuda.so builds without cuDNN's headers and
// loads libcudnn.so.9 at run time (cudnn_loader.cpp: dlopen, then dlsym into these pointer types).
//
// Everything is in namespace dcls::cuda::cudnn_api, with cuDNN's own names: the handle and
// descriptor types (pointers to opaque structs), the enumerations (only the values dcls4j uses or
// names, at their documented numbers), the algorithm-performance structs, and, per function, the
// type of a pointer to it (cudnnCreate -> cudnnCreate_fn). No function is declared, so this header
// and the real cudnn.h can be compiled together: tests/native/cudnn_api_check.cpp does, and checks
// with static_assert that every value, layout and function type here matches cuDNN's
// (scripts/gpu-check.sh compiles it against CUDNN_ROOT/include on the GPU host).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

namespace dcls {
namespace cuda {
namespace cudnn_api {

// The major version these declarations are for (libcudnn.so.9; cudnnGetVersion() / 10000).
constexpr size_t kMajor = 9;

// ---- handles and descriptors (opaque) ----
struct cudnnContext;
struct cudnnTensorStruct;
struct cudnnFilterStruct;
struct cudnnConvolutionStruct;
typedef cudnnContext *cudnnHandle_t;
typedef cudnnTensorStruct *cudnnTensorDescriptor_t;
typedef cudnnFilterStruct *cudnnFilterDescriptor_t;
typedef cudnnConvolutionStruct *cudnnConvolutionDescriptor_t;
struct cudnnPoolingStruct;
typedef cudnnPoolingStruct *cudnnPoolingDescriptor_t;

// ---- enumerations ----
// Status: only success is tested; any other value goes to cudnnGetErrorString.
typedef enum : int { CUDNN_STATUS_SUCCESS = 0 } cudnnStatus_t;

typedef enum : int { CUDNN_DATA_FLOAT = 0 } cudnnDataType_t;

typedef enum : int { CUDNN_TENSOR_NCHW = 0 } cudnnTensorFormat_t;

typedef enum : int { CUDNN_CONVOLUTION = 0, CUDNN_CROSS_CORRELATION = 1 } cudnnConvolutionMode_t;

typedef enum : int {
    CUDNN_DEFAULT_MATH = 0,
    CUDNN_TENSOR_OP_MATH = 1,
    CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION = 2,
    CUDNN_FMA_MATH = 3
} cudnnMathType_t;

typedef enum : int { CUDNN_NON_DETERMINISTIC = 0, CUDNN_DETERMINISTIC = 1 } cudnnDeterminism_t;

typedef enum : int {
    CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM = 0,
    CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM = 1,
    CUDNN_CONVOLUTION_FWD_ALGO_GEMM = 2,
    CUDNN_CONVOLUTION_FWD_ALGO_DIRECT = 3,
    CUDNN_CONVOLUTION_FWD_ALGO_FFT = 4,
    CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING = 5,
    CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD = 6,
    CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED = 7,
    CUDNN_CONVOLUTION_FWD_ALGO_COUNT = 8
} cudnnConvolutionFwdAlgo_t;

typedef enum : int {
    CUDNN_CONVOLUTION_BWD_DATA_ALGO_0 = 0,
    CUDNN_CONVOLUTION_BWD_DATA_ALGO_1 = 1,
    CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT = 2,
    CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING = 3,
    CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD = 4,
    CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED = 5,
    CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT = 6
} cudnnConvolutionBwdDataAlgo_t;

typedef enum : int {
    CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0 = 0,
    CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1 = 1,
    CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT = 2,
    CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3 = 3,
    CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD = 4,
    CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED = 5,
    CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING = 6,
    CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT = 7
} cudnnConvolutionBwdFilterAlgo_t;

// The layers' ops (cudnn_ops.h): pooling, softmax, batch normalisation.
typedef enum : int { CUDNN_NOT_PROPAGATE_NAN = 0, CUDNN_PROPAGATE_NAN = 1 } cudnnNanPropagation_t;

typedef enum : int {
    CUDNN_POOLING_MAX = 0,
    CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING = 1,
    CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING = 2,
    CUDNN_POOLING_MAX_DETERMINISTIC = 3
} cudnnPoolingMode_t;

typedef enum : int {
    CUDNN_SOFTMAX_FAST = 0,
    CUDNN_SOFTMAX_ACCURATE = 1,
    CUDNN_SOFTMAX_LOG = 2
} cudnnSoftmaxAlgorithm_t;

typedef enum : int { CUDNN_SOFTMAX_MODE_INSTANCE = 0, CUDNN_SOFTMAX_MODE_CHANNEL = 1 } cudnnSoftmaxMode_t;

typedef enum : int {
    CUDNN_BATCHNORM_PER_ACTIVATION = 0,
    CUDNN_BATCHNORM_SPATIAL = 1,
    CUDNN_BATCHNORM_SPATIAL_PERSISTENT = 2
} cudnnBatchNormMode_t;

// CUDNN_BN_MIN_EPSILON: the smallest epsilon the batch normalisation calls accept (0 since cuDNN 8;
// it was 1e-5 before).
constexpr double kBnMinEpsilon = 0.0;

// ---- algorithm search results ----
typedef struct {
    cudnnConvolutionFwdAlgo_t algo;
    cudnnStatus_t status;
    float time;  // milliseconds (cudnnFind*)
    size_t memory;
    cudnnDeterminism_t determinism;
    cudnnMathType_t mathType;
    int reserved[3];
} cudnnConvolutionFwdAlgoPerf_t;

typedef struct {
    cudnnConvolutionBwdDataAlgo_t algo;
    cudnnStatus_t status;
    float time;
    size_t memory;
    cudnnDeterminism_t determinism;
    cudnnMathType_t mathType;
    int reserved[3];
} cudnnConvolutionBwdDataAlgoPerf_t;

typedef struct {
    cudnnConvolutionBwdFilterAlgo_t algo;
    cudnnStatus_t status;
    float time;
    size_t memory;
    cudnnDeterminism_t determinism;
    cudnnMathType_t mathType;
    int reserved[3];
} cudnnConvolutionBwdFilterAlgoPerf_t;

// ---- the functions, as pointer types ----
typedef size_t (*cudnnGetVersion_fn)(void);
typedef const char *(*cudnnGetErrorString_fn)(cudnnStatus_t status);
typedef cudnnStatus_t (*cudnnCreate_fn)(cudnnHandle_t *handle);
typedef cudnnStatus_t (*cudnnDestroy_fn)(cudnnHandle_t handle);
typedef cudnnStatus_t (*cudnnSetStream_fn)(cudnnHandle_t handle, cudaStream_t stream);

typedef cudnnStatus_t (*cudnnCreateTensorDescriptor_fn)(cudnnTensorDescriptor_t *desc);
typedef cudnnStatus_t (*cudnnDestroyTensorDescriptor_fn)(cudnnTensorDescriptor_t desc);
typedef cudnnStatus_t (*cudnnSetTensorNdDescriptor_fn)(cudnnTensorDescriptor_t desc, cudnnDataType_t data_type,
                                                       int dims, const int dim_sizes[], const int strides[]);
typedef cudnnStatus_t (*cudnnCreateFilterDescriptor_fn)(cudnnFilterDescriptor_t *desc);
typedef cudnnStatus_t (*cudnnDestroyFilterDescriptor_fn)(cudnnFilterDescriptor_t desc);
typedef cudnnStatus_t (*cudnnSetFilterNdDescriptor_fn)(cudnnFilterDescriptor_t desc, cudnnDataType_t data_type,
                                                       cudnnTensorFormat_t format, int dims, const int dim_sizes[]);
typedef cudnnStatus_t (*cudnnCreateConvolutionDescriptor_fn)(cudnnConvolutionDescriptor_t *desc);
typedef cudnnStatus_t (*cudnnDestroyConvolutionDescriptor_fn)(cudnnConvolutionDescriptor_t desc);
typedef cudnnStatus_t (*cudnnSetConvolutionNdDescriptor_fn)(cudnnConvolutionDescriptor_t desc, int spatial_dims,
                                                            const int pad[], const int stride[], const int dilation[],
                                                            cudnnConvolutionMode_t mode, cudnnDataType_t compute_type);
typedef cudnnStatus_t (*cudnnSetConvolutionGroupCount_fn)(cudnnConvolutionDescriptor_t desc, int groups);
typedef cudnnStatus_t (*cudnnSetConvolutionMathType_fn)(cudnnConvolutionDescriptor_t desc, cudnnMathType_t math);
typedef cudnnStatus_t (*cudnnGetConvolutionNdForwardOutputDim_fn)(const cudnnConvolutionDescriptor_t conv,
                                                                  const cudnnTensorDescriptor_t x,
                                                                  const cudnnFilterDescriptor_t w, int dims,
                                                                  int out_sizes[]);

typedef cudnnStatus_t (*cudnnGetConvolutionForwardAlgorithm_v7_fn)(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t x, const cudnnFilterDescriptor_t w,
    const cudnnConvolutionDescriptor_t conv, const cudnnTensorDescriptor_t y, const int requested, int *returned,
    cudnnConvolutionFwdAlgoPerf_t *results);
typedef cudnnStatus_t (*cudnnFindConvolutionForwardAlgorithm_fn)(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t x, const cudnnFilterDescriptor_t w,
    const cudnnConvolutionDescriptor_t conv, const cudnnTensorDescriptor_t y, const int requested, int *returned,
    cudnnConvolutionFwdAlgoPerf_t *results);
typedef cudnnStatus_t (*cudnnGetConvolutionForwardWorkspaceSize_fn)(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t x, const cudnnFilterDescriptor_t w,
    const cudnnConvolutionDescriptor_t conv, const cudnnTensorDescriptor_t y, cudnnConvolutionFwdAlgo_t algo,
    size_t *bytes);
typedef cudnnStatus_t (*cudnnConvolutionForward_fn)(cudnnHandle_t handle, const void *alpha,
                                                    const cudnnTensorDescriptor_t x_desc, const void *x,
                                                    const cudnnFilterDescriptor_t w_desc, const void *w,
                                                    const cudnnConvolutionDescriptor_t conv,
                                                    cudnnConvolutionFwdAlgo_t algo, void *workspace,
                                                    size_t workspace_bytes, const void *beta,
                                                    const cudnnTensorDescriptor_t y_desc, void *y);

typedef cudnnStatus_t (*cudnnGetConvolutionBackwardDataAlgorithm_v7_fn)(
    cudnnHandle_t handle, const cudnnFilterDescriptor_t w, const cudnnTensorDescriptor_t dy,
    const cudnnConvolutionDescriptor_t conv, const cudnnTensorDescriptor_t dx, const int requested, int *returned,
    cudnnConvolutionBwdDataAlgoPerf_t *results);
typedef cudnnStatus_t (*cudnnFindConvolutionBackwardDataAlgorithm_fn)(
    cudnnHandle_t handle, const cudnnFilterDescriptor_t w, const cudnnTensorDescriptor_t dy,
    const cudnnConvolutionDescriptor_t conv, const cudnnTensorDescriptor_t dx, const int requested, int *returned,
    cudnnConvolutionBwdDataAlgoPerf_t *results);
typedef cudnnStatus_t (*cudnnGetConvolutionBackwardDataWorkspaceSize_fn)(
    cudnnHandle_t handle, const cudnnFilterDescriptor_t w, const cudnnTensorDescriptor_t dy,
    const cudnnConvolutionDescriptor_t conv, const cudnnTensorDescriptor_t dx, cudnnConvolutionBwdDataAlgo_t algo,
    size_t *bytes);
typedef cudnnStatus_t (*cudnnConvolutionBackwardData_fn)(cudnnHandle_t handle, const void *alpha,
                                                         const cudnnFilterDescriptor_t w_desc, const void *w,
                                                         const cudnnTensorDescriptor_t dy_desc, const void *dy,
                                                         const cudnnConvolutionDescriptor_t conv,
                                                         cudnnConvolutionBwdDataAlgo_t algo, void *workspace,
                                                         size_t workspace_bytes, const void *beta,
                                                         const cudnnTensorDescriptor_t dx_desc, void *dx);

typedef cudnnStatus_t (*cudnnGetConvolutionBackwardFilterAlgorithm_v7_fn)(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t x, const cudnnTensorDescriptor_t dy,
    const cudnnConvolutionDescriptor_t conv, const cudnnFilterDescriptor_t dw, const int requested, int *returned,
    cudnnConvolutionBwdFilterAlgoPerf_t *results);
typedef cudnnStatus_t (*cudnnFindConvolutionBackwardFilterAlgorithm_fn)(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t x, const cudnnTensorDescriptor_t dy,
    const cudnnConvolutionDescriptor_t conv, const cudnnFilterDescriptor_t dw, const int requested, int *returned,
    cudnnConvolutionBwdFilterAlgoPerf_t *results);
typedef cudnnStatus_t (*cudnnGetConvolutionBackwardFilterWorkspaceSize_fn)(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t x, const cudnnTensorDescriptor_t dy,
    const cudnnConvolutionDescriptor_t conv, const cudnnFilterDescriptor_t dw, cudnnConvolutionBwdFilterAlgo_t algo,
    size_t *bytes);
typedef cudnnStatus_t (*cudnnConvolutionBackwardFilter_fn)(cudnnHandle_t handle, const void *alpha,
                                                           const cudnnTensorDescriptor_t x_desc, const void *x,
                                                           const cudnnTensorDescriptor_t dy_desc, const void *dy,
                                                           const cudnnConvolutionDescriptor_t conv,
                                                           cudnnConvolutionBwdFilterAlgo_t algo, void *workspace,
                                                           size_t workspace_bytes, const void *beta,
                                                           const cudnnFilterDescriptor_t dw_desc, void *dw);
typedef cudnnStatus_t (*cudnnConvolutionBackwardBias_fn)(cudnnHandle_t handle, const void *alpha,
                                                         const cudnnTensorDescriptor_t dy_desc, const void *dy,
                                                         const void *beta, const cudnnTensorDescriptor_t db_desc,
                                                         void *db);
typedef cudnnStatus_t (*cudnnAddTensor_fn)(cudnnHandle_t handle, const void *alpha, const cudnnTensorDescriptor_t a_desc,
                                           const void *a, const void *beta, const cudnnTensorDescriptor_t c_desc,
                                           void *c);

// Pooling (the forward pass only: dcls4j's backward needs neither x nor y, cuDNN's takes both).
typedef cudnnStatus_t (*cudnnCreatePoolingDescriptor_fn)(cudnnPoolingDescriptor_t *desc);
typedef cudnnStatus_t (*cudnnDestroyPoolingDescriptor_fn)(cudnnPoolingDescriptor_t desc);
typedef cudnnStatus_t (*cudnnSetPoolingNdDescriptor_fn)(cudnnPoolingDescriptor_t desc, const cudnnPoolingMode_t mode,
                                                        const cudnnNanPropagation_t nan_propagation, int spatial_dims,
                                                        const int window[], const int padding[], const int stride[]);
typedef cudnnStatus_t (*cudnnGetPoolingNdForwardOutputDim_fn)(const cudnnPoolingDescriptor_t desc,
                                                              const cudnnTensorDescriptor_t x, int dims,
                                                              int out_sizes[]);
typedef cudnnStatus_t (*cudnnPoolingForward_fn)(cudnnHandle_t handle, const cudnnPoolingDescriptor_t desc,
                                                const void *alpha, const cudnnTensorDescriptor_t x_desc, const void *x,
                                                const void *beta, const cudnnTensorDescriptor_t y_desc, void *y);

// Softmax (the cross-entropy's log-softmax).
typedef cudnnStatus_t (*cudnnSoftmaxForward_fn)(cudnnHandle_t handle, cudnnSoftmaxAlgorithm_t algo,
                                                cudnnSoftmaxMode_t mode, const void *alpha,
                                                const cudnnTensorDescriptor_t x_desc, const void *x, const void *beta,
                                                const cudnnTensorDescriptor_t y_desc, void *y);

// Batch normalisation.
typedef cudnnStatus_t (*cudnnBatchNormalizationForwardTraining_fn)(
    cudnnHandle_t handle, cudnnBatchNormMode_t mode, const void *alpha, const void *beta,
    const cudnnTensorDescriptor_t x_desc, const void *x, const cudnnTensorDescriptor_t y_desc, void *y,
    const cudnnTensorDescriptor_t scale_bias_mean_var_desc, const void *scale, const void *bias,
    double exponential_average_factor, void *running_mean, void *running_variance, double epsilon,
    void *save_mean, void *save_inv_variance);
typedef cudnnStatus_t (*cudnnBatchNormalizationForwardInference_fn)(
    cudnnHandle_t handle, cudnnBatchNormMode_t mode, const void *alpha, const void *beta,
    const cudnnTensorDescriptor_t x_desc, const void *x, const cudnnTensorDescriptor_t y_desc, void *y,
    const cudnnTensorDescriptor_t scale_bias_mean_var_desc, const void *scale, const void *bias,
    const void *estimated_mean, const void *estimated_variance, double epsilon);
typedef cudnnStatus_t (*cudnnBatchNormalizationBackward_fn)(
    cudnnHandle_t handle, cudnnBatchNormMode_t mode, const void *alpha_data, const void *beta_data,
    const void *alpha_param, const void *beta_param, const cudnnTensorDescriptor_t x_desc, const void *x,
    const cudnnTensorDescriptor_t dy_desc, const void *dy, const cudnnTensorDescriptor_t dx_desc, void *dx,
    const cudnnTensorDescriptor_t scale_bias_diff_desc, const void *scale, void *scale_diff, void *bias_diff,
    double epsilon, const void *saved_mean, const void *saved_inv_variance);

}  // namespace cudnn_api
}  // namespace cuda
}  // namespace dcls
