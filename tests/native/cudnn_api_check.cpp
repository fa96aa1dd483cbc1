// The drift check of native/src/cuda/cudnn_api.h (dcls4j's own declarations of the cuDNN API it
// calls) against NVIDIA's cudnn.h: compiles only where both match. Every enumeration value our
// header declares, the algorithm-performance structs' layouts, CUDNN_BN_MIN_EPSILON, and, for every
// function the loader looks up (DCLS_CUDNN_FUNCTIONS and the layers' groups DCLS_CUDNN_POOLING_,
// _SOFTMAX_ and _BATCH_NORM_FUNCTIONS in cudnn_loader.h), the function's type: our pointer type, with
// our types replaced by cuDNN's, must be exactly the type of a pointer to cuDNN's function.
//
// Built as the CMake target dcls_cudnn_api_check where CUDNN_ROOT/include/cudnn.h exists
// (scripts/gpu-check.sh does, on the GPU host), or by hand:
//   g++ -std=c++17 -fsyntax-only -I native/src/cuda -I $CUDA/include -I $CUDNN_ROOT/include
//       tests/native/cudnn_api_check.cpp   (one line)
#include <cudnn.h>

#include <cstddef>
#include <type_traits>

#include "cudnn_api.h"
#include "cudnn_loader.h"

namespace {

namespace ours = dcls::cuda::cudnn_api;

// Map<T>: T with each of our cuDNN types replaced by cuDNN's, through pointers, const and
// function-pointer types.
template <class T>
struct Map {
    using type = T;
};
template <class T>
using map_t = typename Map<T>::type;
template <class T>
struct Map<T *> {
    using type = map_t<T> *;
};
template <class T>
struct Map<const T> {
    using type = const map_t<T>;
};
template <class R, class... A>
struct Map<R (*)(A...)> {
    using type = map_t<R> (*)(map_t<A>...);
};

#define DCLS_MAP(name)          \
    template <>                 \
    struct Map<ours::name> {    \
        using type = ::name;    \
    };
DCLS_MAP(cudnnContext)
DCLS_MAP(cudnnTensorStruct)
DCLS_MAP(cudnnFilterStruct)
DCLS_MAP(cudnnConvolutionStruct)
DCLS_MAP(cudnnPoolingStruct)
DCLS_MAP(cudnnStatus_t)
DCLS_MAP(cudnnDataType_t)
DCLS_MAP(cudnnTensorFormat_t)
DCLS_MAP(cudnnConvolutionMode_t)
DCLS_MAP(cudnnMathType_t)
DCLS_MAP(cudnnDeterminism_t)
DCLS_MAP(cudnnConvolutionFwdAlgo_t)
DCLS_MAP(cudnnConvolutionBwdDataAlgo_t)
DCLS_MAP(cudnnConvolutionBwdFilterAlgo_t)
DCLS_MAP(cudnnConvolutionFwdAlgoPerf_t)
DCLS_MAP(cudnnConvolutionBwdDataAlgoPerf_t)
DCLS_MAP(cudnnConvolutionBwdFilterAlgoPerf_t)
DCLS_MAP(cudnnNanPropagation_t)
DCLS_MAP(cudnnPoolingMode_t)
DCLS_MAP(cudnnSoftmaxAlgorithm_t)
DCLS_MAP(cudnnSoftmaxMode_t)
DCLS_MAP(cudnnBatchNormMode_t)
#undef DCLS_MAP

// The handle and descriptor types.
static_assert(std::is_same<map_t<ours::cudnnHandle_t>, ::cudnnHandle_t>::value, "cudnnHandle_t");
static_assert(std::is_same<map_t<ours::cudnnTensorDescriptor_t>, ::cudnnTensorDescriptor_t>::value,
              "cudnnTensorDescriptor_t");
static_assert(std::is_same<map_t<ours::cudnnFilterDescriptor_t>, ::cudnnFilterDescriptor_t>::value,
              "cudnnFilterDescriptor_t");
static_assert(std::is_same<map_t<ours::cudnnConvolutionDescriptor_t>, ::cudnnConvolutionDescriptor_t>::value,
              "cudnnConvolutionDescriptor_t");
static_assert(std::is_same<map_t<ours::cudnnPoolingDescriptor_t>, ::cudnnPoolingDescriptor_t>::value,
              "cudnnPoolingDescriptor_t");
static_assert(ours::kMajor == CUDNN_MAJOR, "cuDNN major version");
static_assert(ours::kBnMinEpsilon == CUDNN_BN_MIN_EPSILON, "CUDNN_BN_MIN_EPSILON");

// The enumerations: same size, same values.
#define DCLS_ENUM(type) static_assert(sizeof(ours::type) == sizeof(::type), "size of " #type);
DCLS_ENUM(cudnnStatus_t)
DCLS_ENUM(cudnnDataType_t)
DCLS_ENUM(cudnnTensorFormat_t)
DCLS_ENUM(cudnnConvolutionMode_t)
DCLS_ENUM(cudnnMathType_t)
DCLS_ENUM(cudnnDeterminism_t)
DCLS_ENUM(cudnnConvolutionFwdAlgo_t)
DCLS_ENUM(cudnnConvolutionBwdDataAlgo_t)
DCLS_ENUM(cudnnConvolutionBwdFilterAlgo_t)
DCLS_ENUM(cudnnNanPropagation_t)
DCLS_ENUM(cudnnPoolingMode_t)
DCLS_ENUM(cudnnSoftmaxAlgorithm_t)
DCLS_ENUM(cudnnSoftmaxMode_t)
DCLS_ENUM(cudnnBatchNormMode_t)
#undef DCLS_ENUM

#define DCLS_VALUE(name) static_assert(long(ours::name) == long(::name), #name);
DCLS_VALUE(CUDNN_STATUS_SUCCESS)
DCLS_VALUE(CUDNN_DATA_FLOAT)
DCLS_VALUE(CUDNN_TENSOR_NCHW)
DCLS_VALUE(CUDNN_CONVOLUTION)
DCLS_VALUE(CUDNN_CROSS_CORRELATION)
DCLS_VALUE(CUDNN_DEFAULT_MATH)
DCLS_VALUE(CUDNN_TENSOR_OP_MATH)
DCLS_VALUE(CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
DCLS_VALUE(CUDNN_FMA_MATH)
DCLS_VALUE(CUDNN_NON_DETERMINISTIC)
DCLS_VALUE(CUDNN_DETERMINISTIC)
DCLS_VALUE(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM)
DCLS_VALUE(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM)
DCLS_VALUE(CUDNN_CONVOLUTION_FWD_ALGO_GEMM)
DCLS_VALUE(CUDNN_CONVOLUTION_FWD_ALGO_DIRECT)
DCLS_VALUE(CUDNN_CONVOLUTION_FWD_ALGO_FFT)
DCLS_VALUE(CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING)
DCLS_VALUE(CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD)
DCLS_VALUE(CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED)
DCLS_VALUE(CUDNN_CONVOLUTION_FWD_ALGO_COUNT)
DCLS_VALUE(CUDNN_CONVOLUTION_BWD_DATA_ALGO_0)
DCLS_VALUE(CUDNN_CONVOLUTION_BWD_DATA_ALGO_1)
DCLS_VALUE(CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT)
DCLS_VALUE(CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING)
DCLS_VALUE(CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD)
DCLS_VALUE(CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED)
DCLS_VALUE(CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT)
DCLS_VALUE(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0)
DCLS_VALUE(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1)
DCLS_VALUE(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT)
DCLS_VALUE(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3)
DCLS_VALUE(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD)
DCLS_VALUE(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED)
DCLS_VALUE(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING)
DCLS_VALUE(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT)
DCLS_VALUE(CUDNN_NOT_PROPAGATE_NAN)
DCLS_VALUE(CUDNN_PROPAGATE_NAN)
DCLS_VALUE(CUDNN_POOLING_MAX)
DCLS_VALUE(CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING)
DCLS_VALUE(CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING)
DCLS_VALUE(CUDNN_POOLING_MAX_DETERMINISTIC)
DCLS_VALUE(CUDNN_SOFTMAX_FAST)
DCLS_VALUE(CUDNN_SOFTMAX_ACCURATE)
DCLS_VALUE(CUDNN_SOFTMAX_LOG)
DCLS_VALUE(CUDNN_SOFTMAX_MODE_INSTANCE)
DCLS_VALUE(CUDNN_SOFTMAX_MODE_CHANNEL)
DCLS_VALUE(CUDNN_BATCHNORM_PER_ACTIVATION)
DCLS_VALUE(CUDNN_BATCHNORM_SPATIAL)
DCLS_VALUE(CUDNN_BATCHNORM_SPATIAL_PERSISTENT)
#undef DCLS_VALUE

// The performance structs: size, and each field's offset and type.
#define DCLS_FIELD(type, field)                                                                         \
    static_assert(offsetof(ours::type, field) == offsetof(::type, field), "offset of " #type "." #field); \
    static_assert(std::is_same<map_t<decltype(ours::type::field)>, decltype(::type::field)>::value,      \
                  "type of " #type "." #field);
#define DCLS_PERF(type)                                                    \
    static_assert(sizeof(ours::type) == sizeof(::type), "size of " #type); \
    DCLS_FIELD(type, algo)                                                 \
    DCLS_FIELD(type, status)                                               \
    DCLS_FIELD(type, time)                                                 \
    DCLS_FIELD(type, memory)                                               \
    DCLS_FIELD(type, determinism)                                          \
    DCLS_FIELD(type, mathType)                                             \
    DCLS_FIELD(type, reserved)
DCLS_PERF(cudnnConvolutionFwdAlgoPerf_t)
DCLS_PERF(cudnnConvolutionBwdDataAlgoPerf_t)
DCLS_PERF(cudnnConvolutionBwdFilterAlgoPerf_t)
#undef DCLS_PERF
#undef DCLS_FIELD

// Every function the loader looks up.
#define DCLS_FUNCTION(f) \
    static_assert(std::is_same<map_t<ours::f##_fn>, decltype(&::f)>::value, "the type of " #f);
DCLS_CUDNN_FUNCTIONS(DCLS_FUNCTION)
DCLS_CUDNN_POOLING_FUNCTIONS(DCLS_FUNCTION)
DCLS_CUDNN_SOFTMAX_FUNCTIONS(DCLS_FUNCTION)
DCLS_CUDNN_BATCH_NORM_FUNCTIONS(DCLS_FUNCTION)
#undef DCLS_FUNCTION

}  // namespace
