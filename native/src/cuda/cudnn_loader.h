// cuDNN, loaded at run time (dlopen), so that libdcls_cuda.so loads and runs its own kernels on
// machines without cuDNN, and the build needs only cuDNN's headers. Compiled with
// DCLS_HAVE_CUDNN=1 when the build found cudnn.h.
#pragma once

#include <cstdint>
#include <string>

#if DCLS_HAVE_CUDNN
#include <cudnn.h>

namespace dcls {
namespace cuda {

// The cuDNN functions dcls4j calls, one pointer each, typed from cudnn.h.
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

struct CudnnApi {
#define DCLS_CUDNN_POINTER(f) decltype(&::f) f = nullptr;
    DCLS_CUDNN_FUNCTIONS(DCLS_CUDNN_POINTER)
#undef DCLS_CUDNN_POINTER
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

}  // namespace cuda
}  // namespace dcls
