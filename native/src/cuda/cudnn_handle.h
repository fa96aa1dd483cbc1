// A context's cuDNN handle, created on first use and bound to the context's stream, the check of a
// cuDNN status, and the narrowing of a size to the int cuDNN's legacy calls take, for every part of
// libdcls_cuda.so that calls cuDNN (cudnn_conv.cpp, cudnn_nn.cpp). Not in the CPU emulation of
// CUDA, which has no cuDNN.
#pragma once

#ifndef DCLS_CUDA_EMULATION
#include <string>

#include "cuda_common.h"
#include "cudnn_loader.h"

namespace dcls {
namespace cuda {

// Throws dcls::Error (DCLS_ERROR_BACKEND) naming the call and cuDNN's message unless status is success.
inline void check_cudnn(cudnnStatus_t status, const char *what) {
    if (status == CUDNN_STATUS_SUCCESS) return;
    throw Error(DCLS_ERROR_BACKEND, std::string(what) + ": cuDNN error " + std::to_string(int(status)) + ": " +
                                        cudnn().cudnnGetErrorString(status));
}

// v as the int a legacy cuDNN call takes; DCLS_ERROR_BACKEND naming `what` where it does not fit.
inline int cudnn_int(int64_t v, const char *what) {
    require(v >= 0 && v <= 0x7fffffff, std::string(what) + " too large for cuDNN");
    return int(v);
}

// The context's handle (ctx.cudnn), made on its stream the first time; destroyed with the context
// (CudnnConv::destroy_handle).
inline cudnnHandle_t cudnn_handle(dcls_cuda_context &ctx) {
    if (!ctx.cudnn) {
        const CudnnApi &api = cudnn();
        cudnnHandle_t h = nullptr;
        check_cudnn(api.cudnnCreate(&h), "cudnnCreate");
        const cudnnStatus_t st = api.cudnnSetStream(h, ctx.stream);
        if (st != CUDNN_STATUS_SUCCESS) {
            api.cudnnDestroy(h);
            check_cudnn(st, "cudnnSetStream");
        }
        ctx.cudnn = h;
    }
    return static_cast<cudnnHandle_t>(ctx.cudnn);
}

}  // namespace cuda
}  // namespace dcls
#endif
