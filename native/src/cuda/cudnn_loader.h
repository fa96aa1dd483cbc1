// cuDNN, loaded at run time (dlopen), so that libdcls_cuda.so loads and runs its own kernels on
// machines without cuDNN, and the build needs no cuDNN at all: the API is declared by
// cudnn_api.h. The CPU emulation of CUDA (tests/native/test_cuda_emu, DCLS_CUDA_EMULATION) has no
// cuDNN: there cudnn_version reports 0 and the cuDNN plans report DCLS_ERROR_BACKEND.
#pragma once

#include <cstdint>
#include <string>

#ifndef DCLS_CUDA_EMULATION
#include "cudnn_api.h"

namespace dcls {
namespace cuda {

using namespace cudnn_api;  // cuDNN's names, as in cudnn.h

// The cuDNN functions dcls4j calls, one pointer each, typed by cudnn_api.h (f -> f_fn).
#define DCLS_CUDNN_FUNCTIONS(X)                      \
    X(cudnnGetVersion)                               \
    X(cudnnGetErrorString)                           \
    X(cudnnCreate)                                   \
    X(cudnnDestroy)                                  \
    X(cudnnSetStream)                                \
    X(cudnnCreateTensorDescriptor)                   \
    X(cudnnDestroyTensorDescriptor)                  \
    X(cudnnSetTensorNdDescriptor)                    \
    X(cudnnCreateFilterDescriptor)                   \
    X(cudnnDestroyFilterDescriptor)                  \
    X(cudnnSetFilterNdDescriptor)                    \
    X(cudnnCreateConvolutionDescriptor)              \
    X(cudnnDestroyConvolutionDescriptor)             \
    X(cudnnSetConvolutionNdDescriptor)               \
    X(cudnnSetConvolutionGroupCount)                 \
    X(cudnnSetConvolutionMathType)                   \
    X(cudnnGetConvolutionNdForwardOutputDim)         \
    X(cudnnGetConvolutionForwardAlgorithm_v7)        \
    X(cudnnFindConvolutionForwardAlgorithm)          \
    X(cudnnGetConvolutionForwardWorkspaceSize)       \
    X(cudnnConvolutionForward)                       \
    X(cudnnGetConvolutionBackwardDataAlgorithm_v7)   \
    X(cudnnFindConvolutionBackwardDataAlgorithm)     \
    X(cudnnGetConvolutionBackwardDataWorkspaceSize)  \
    X(cudnnConvolutionBackwardData)                  \
    X(cudnnGetConvolutionBackwardFilterAlgorithm_v7) \
    X(cudnnFindConvolutionBackwardFilterAlgorithm)   \
    X(cudnnGetConvolutionBackwardFilterWorkspaceSize) \
    X(cudnnConvolutionBackwardFilter)                \
    X(cudnnConvolutionBackwardBias)                  \
    X(cudnnAddTensor)

// The layers' ops, in groups the loader looks up separately: a cuDNN that lacks a group still runs
// convolutions, and that group's layers run on dcls4j's kernels (CudnnApi's flags).
#define DCLS_CUDNN_POOLING_FUNCTIONS(X) \
    X(cudnnCreatePoolingDescriptor)     \
    X(cudnnDestroyPoolingDescriptor)    \
    X(cudnnSetPoolingNdDescriptor)      \
    X(cudnnGetPoolingNdForwardOutputDim) \
    X(cudnnPoolingForward)
#define DCLS_CUDNN_SOFTMAX_FUNCTIONS(X) X(cudnnSoftmaxForward)
#define DCLS_CUDNN_BATCH_NORM_FUNCTIONS(X)     \
    X(cudnnBatchNormalizationForwardTraining)  \
    X(cudnnBatchNormalizationForwardInference) \
    X(cudnnBatchNormalizationBackward)

struct CudnnApi {
#define DCLS_CUDNN_POINTER(f) cudnn_api::f##_fn f = nullptr;
    DCLS_CUDNN_FUNCTIONS(DCLS_CUDNN_POINTER)
    DCLS_CUDNN_POOLING_FUNCTIONS(DCLS_CUDNN_POINTER)
    DCLS_CUDNN_SOFTMAX_FUNCTIONS(DCLS_CUDNN_POINTER)
    DCLS_CUDNN_BATCH_NORM_FUNCTIONS(DCLS_CUDNN_POINTER)
#undef DCLS_CUDNN_POINTER
    // Whether every function of the group was found.
    bool pooling = false, softmax = false, batch_norm = false;
};

// The loaded API; loads cuDNN on the first call (thread-safe). Throws dcls::Error
// (DCLS_ERROR_BACKEND) saying what was tried when cuDNN cannot be loaded.
const CudnnApi &cudnn();

}  // namespace cuda
}  // namespace dcls
#endif

namespace dcls {
namespace cuda {

// The cuDNN version in use (e.g. 91000), loading it if needed; 0 when unavailable, with the
// reason in *why.
int32_t cudnn_version(std::string *why);

// Which of the layers' op groups the cuDNN in use provides, loading it if needed; none when cuDNN
// cannot be loaded (always in the CPU emulation).
struct CudnnLayerOps {
    bool pooling = false, softmax = false, batch_norm = false;
};
CudnnLayerOps cudnn_layer_ops();

}  // namespace cuda
}  // namespace dcls
