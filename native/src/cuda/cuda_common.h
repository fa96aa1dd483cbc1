// Shared by the CUDA library's sources: the context, CUDA error checks, device memory owned by a
// context, and the geometry of a convolution as the kernels see it.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "construct_math.h"  // DCLS_HOST_DEVICE
#include "dcls.h"
#include "error.h"

// Kernel launches and dynamic shared memory go through these two macros, so that the kernels can
// also be compiled as plain C++ and run by the CPU emulation of tests/native/test_cuda_emu (which
// defines both first). DCLS_LAUNCH(k, grid, block, shared_bytes, stream)(args...) launches k.
#ifndef DCLS_LAUNCH
#define DCLS_LAUNCH(kernel, grid, block, shared, stream) kernel<<<grid, block, shared, stream>>>
#endif
#ifndef DCLS_SHARED_FLOATS
#define DCLS_SHARED_FLOATS(name) extern __shared__ float name[]
#endif

namespace dcls {
namespace cuda {

// Throws dcls::Error unless `e` is cudaSuccess: DCLS_ERROR_OUT_OF_MEMORY for an allocation
// failure, else DCLS_ERROR_BACKEND. Clears the (non-sticky) error state.
inline void check(cudaError_t e, const char *what) {
    if (e == cudaSuccess) return;
    (void)cudaGetLastError();
    throw Error(e == cudaErrorMemoryAllocation ? DCLS_ERROR_OUT_OF_MEMORY : DCLS_ERROR_BACKEND,
                std::string(what) + ": CUDA error " + cudaGetErrorName(e) + ": " + cudaGetErrorString(e));
}

// The message of the calling thread's last failure in libdcls_cuda.so (dcls_cuda_last_error).
std::string &last_error();

// The C ABI's error boundary for every dcls_cuda_* function (dcls::guarded with last_error()).
template <typename Body>
dcls_status guarded(const char *function, Body &&body) {
    return dcls::guarded(last_error(), function, static_cast<Body &&>(body));
}

// After a kernel launch: a launch error (bad configuration, no image for the device).
inline void check_launch(const char *kernel) { check(cudaGetLastError(), kernel); }

// Makes the context's device current on the calling thread for the guard's lifetime.
class DeviceGuard {
public:
    explicit DeviceGuard(int device) {
        check(cudaGetDevice(&previous_), "cudaGetDevice");
        if (previous_ != device) check(cudaSetDevice(device), "cudaSetDevice");
    }
    ~DeviceGuard() {
        int now = -1;
        if (cudaGetDevice(&now) == cudaSuccess && now != previous_) (void)cudaSetDevice(previous_);
    }
    DeviceGuard(const DeviceGuard &) = delete;
    DeviceGuard &operator=(const DeviceGuard &) = delete;

private:
    int previous_ = 0;
};

}  // namespace cuda
}  // namespace dcls

// The context (opaque in dcls.h).
struct dcls_cuda_context {
    int device = 0;
    cudaStream_t stream = nullptr;
    bool stream_ordered_pool = false;  // cudaMallocAsync available
    bool tf32 = false;
    bool benchmark = false;
    int depthwise_mode = DCLS_CUDA_DEPTHWISE_AUTO;
    int depthwise_weights_kernel = DCLS_CUDA_DEPTHWISE_WEIGHTS_AUTO;
    int sparse_mode = DCLS_CUDA_SPARSE_AUTO;  // read by dcls_cuda_conv_plan_set_kernel_cells
    void *cudnn = nullptr;  // cudnnHandle_t, created on first use (cudnn_conv.cpp)
    int sm_count = 1;
    bool nn_cudnn = true;  // the layers' plans may use cuDNN (dcls_cuda_nn_set_cudnn, nn_engine.h)
};

namespace dcls {
namespace cuda {

// Device memory allocated on a context's stream and freed on it when the owner goes.
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    ~DeviceBuffer() { reset(); }
    DeviceBuffer(const DeviceBuffer &) = delete;
    DeviceBuffer &operator=(const DeviceBuffer &) = delete;

    void allocate(dcls_cuda_context &ctx, size_t bytes);
    void reset() noexcept;
    void *get() const { return ptr_; }
    float *floats() const { return static_cast<float *>(ptr_); }
    size_t size() const { return bytes_; }

private:
    dcls_cuda_context *ctx_ = nullptr;
    void *ptr_ = nullptr;
    size_t bytes_ = 0;
};

// Stream-ordered allocation where the device supports it, else cudaMalloc / cudaFree.
void *device_alloc(dcls_cuda_context &ctx, size_t bytes);
void device_free(dcls_cuda_context &ctx, void *ptr) noexcept;

// A convolution's shape as three spatial axes (d, h, w), unused leading axes of size 1:
// the input as the convolution itself sees it (after any explicit padding), its own zero padding.
struct ConvGeometry {
    int ndim = 0;
    int64_t batch = 0, in_channels = 0, out_channels = 0, groups = 0;
    int64_t in[3] = {1, 1, 1};   // input spatial size seen by the convolution
    int64_t out[3] = {1, 1, 1};  // output spatial size
    int64_t k[3] = {1, 1, 1};
    int64_t stride[3] = {1, 1, 1};
    int64_t pad[3] = {0, 0, 0};  // the convolution's own zero padding, both sides

    DCLS_HOST_DEVICE int64_t in_plane() const { return in[0] * in[1] * in[2]; }
    DCLS_HOST_DEVICE int64_t out_plane() const { return out[0] * out[1] * out[2]; }
    DCLS_HOST_DEVICE int64_t k_volume() const { return k[0] * k[1] * k[2]; }
};

}  // namespace cuda
}  // namespace dcls
