// The CUDA part of the C ABI (dcls.h, "CUDA" section), exported by libdcls_cuda.so: validates
// arguments, makes the context's device current, enqueues the work on the context's stream, and
// turns every C++ exception into a status plus a thread-local message (dcls_cuda_last_error).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <utility>

#include "construct_cuda.h"
#include "conv_plan_cuda.h"
#include "cuda_common.h"
#include "cudnn_conv.h"
#include "cudnn_loader.h"
#include "dcls.h"
#include "error.h"
#include "kernel_cells_cuda.h"
#include "positions_cuda.h"
#include "validate.h"

struct dcls_cuda_conv_plan {
    dcls_cuda_conv_plan(dcls_cuda_context &ctx, const dcls_conv_desc &desc) : impl(ctx, desc) {}
    dcls::cuda::ConvPlanCuda impl;
};

namespace dcls {
namespace cuda {

std::string &last_error() {
    thread_local std::string message;
    return message;
}

// ---- device memory (cuda_common.h) ----------------------------------------------------------------

void *device_alloc(dcls_cuda_context &ctx, size_t bytes) {
    if (bytes == 0) return nullptr;
    void *p = nullptr;
    if (ctx.stream_ordered_pool) check(cudaMallocAsync(&p, bytes, ctx.stream), "cudaMallocAsync");
    else check(cudaMalloc(&p, bytes), "cudaMalloc");
    return p;
}

void device_free(dcls_cuda_context &ctx, void *ptr) noexcept {
    if (!ptr) return;
    if (ctx.stream_ordered_pool) (void)cudaFreeAsync(ptr, ctx.stream);
    else (void)cudaFree(ptr);
}

void DeviceBuffer::allocate(dcls_cuda_context &ctx, size_t bytes) {
    reset();
    ptr_ = device_alloc(ctx, bytes);
    ctx_ = &ctx;
    bytes_ = bytes;
}

void DeviceBuffer::reset() noexcept {
    if (ptr_ && ctx_) device_free(*ctx_, ptr_);
    ptr_ = nullptr;
    bytes_ = 0;
}

}  // namespace cuda
}  // namespace dcls

namespace {

using dcls::Error;
using dcls::has_sigma;
using dcls::require;
using dcls::require_pointer;
using dcls::validate;
using dcls::validate_kernel_cells;
using dcls::cuda::check;
using dcls::cuda::DeviceGuard;

using dcls::cuda::guarded;

dcls_cuda_context &context_of(dcls_cuda_context *ctx) {
    require_pointer(ctx, "ctx");
    return *ctx;
}

dcls::cuda::ConvPlanCuda &plan_of(dcls_cuda_conv_plan *plan) {
    require_pointer(plan, "plan");
    return plan->impl;
}

}  // namespace

extern "C" {

const char *dcls_cuda_last_error(void) { return dcls::cuda::last_error().c_str(); }

dcls_status dcls_cuda_device_count(int32_t *count) {
    return guarded(__func__, [&] {
        require_pointer(count, "count");
        int n = 0;
        const cudaError_t e = cudaGetDeviceCount(&n);
        if (e != cudaSuccess) {
            (void)cudaGetLastError();
            dcls::cuda::last_error() = std::string("dcls_cuda_device_count: no CUDA device: ") + cudaGetErrorName(e) + ": " + cudaGetErrorString(e);
            n = 0;
        }
        *count = n;
    });
}

dcls_status dcls_cuda_device_info(int32_t device, char *name, int64_t capacity, int32_t *compute_capability) {
    return guarded(__func__, [&] {
        int n = 0;
        check(cudaGetDeviceCount(&n), "cudaGetDeviceCount");
        require(device >= 0 && device < n, "device " + std::to_string(device) + " out of range (" + std::to_string(n) +
                                               " devices)");
        cudaDeviceProp prop;
        check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
        if (name && capacity > 0) {
            const size_t len = std::min<size_t>(std::strlen(prop.name), size_t(capacity - 1));
            std::memcpy(name, prop.name, len);
            name[len] = '\0';
        }
        if (compute_capability) *compute_capability = prop.major * 10 + prop.minor;
    });
}

dcls_status dcls_cuda_cudnn_version(int32_t *version) {
    return guarded(__func__, [&] {
        require_pointer(version, "version");
        std::string why;
        *version = dcls::cuda::cudnn_version(&why);
        if (*version == 0) dcls::cuda::last_error() = "dcls_cuda_cudnn_version: " + why;
    });
}

dcls_status dcls_cuda_context_create(int32_t device, dcls_cuda_context **ctx) {
    return guarded(__func__, [&] {
        require_pointer(ctx, "ctx");
        *ctx = nullptr;
        int n = 0;
        check(cudaGetDeviceCount(&n), "cudaGetDeviceCount");
        require(device >= 0 && device < n, "device " + std::to_string(device) + " out of range (" + std::to_string(n) +
                                               " devices)");
        DeviceGuard guard(device);
        dcls_cuda_context *c = new dcls_cuda_context();
        c->device = device;
        const cudaError_t e = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking);
        if (e != cudaSuccess) {
            delete c;
            check(e, "cudaStreamCreateWithFlags");
        }
        int pools = 0, sms = 1;
        if (cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, device) != cudaSuccess) pools = 0;
        if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess) sms = 1;
        (void)cudaGetLastError();
        c->sm_count = sms;
        if (pools) {
            // Keep freed memory in the device's pool for reuse instead of returning it at every
            // synchronisation (allocations per training step are then cheap).
            cudaMemPool_t pool = nullptr;
            if (cudaDeviceGetDefaultMemPool(&pool, device) == cudaSuccess) {
                uint64_t threshold = UINT64_MAX;
                (void)cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold);
                c->stream_ordered_pool = true;
            }
            (void)cudaGetLastError();
        }
        *ctx = c;
    });
}

dcls_status dcls_cuda_context_destroy(dcls_cuda_context *ctx) {
    if (!ctx) return DCLS_OK;
    return guarded(__func__, [&] {
        cudaError_t sync = cudaSuccess;
        {
            DeviceGuard guard(ctx->device);
            sync = cudaStreamSynchronize(ctx->stream);
            dcls::cuda::CudnnConv::destroy_handle(*ctx);
            (void)cudaStreamDestroy(ctx->stream);
        }
        delete ctx;
        check(sync, "cudaStreamSynchronize");
    });
}

dcls_status dcls_cuda_synchronize(dcls_cuda_context *ctx) {
    return guarded(__func__, [&] {
        dcls_cuda_context &c = context_of(ctx);
        DeviceGuard guard(c.device);
        check(cudaStreamSynchronize(c.stream), "cudaStreamSynchronize");
    });
}

dcls_status dcls_cuda_context_stream(dcls_cuda_context *ctx, void **stream) {
    return guarded(__func__, [&] {
        require_pointer(stream, "stream");
        *stream = static_cast<void *>(context_of(ctx).stream);
    });
}

dcls_status dcls_cuda_set_tf32(dcls_cuda_context *ctx, int32_t enabled) {
    return guarded(__func__, [&] { context_of(ctx).tf32 = enabled != 0; });
}

dcls_status dcls_cuda_set_benchmark(dcls_cuda_context *ctx, int32_t enabled) {
    return guarded(__func__, [&] { context_of(ctx).benchmark = enabled != 0; });
}

dcls_status dcls_cuda_set_depthwise_mode(dcls_cuda_context *ctx, int32_t mode) {
    return guarded(__func__, [&] {
        dcls_cuda_context &c = context_of(ctx);
        require(mode >= DCLS_CUDA_DEPTHWISE_AUTO && mode <= DCLS_CUDA_DEPTHWISE_ALWAYS,
                "unknown depthwise mode " + std::to_string(mode));
        c.depthwise_mode = mode;
    });
}

dcls_status dcls_cuda_set_depthwise_weights_kernel(dcls_cuda_context *ctx, int32_t kernel) {
    return guarded(__func__, [&] {
        dcls_cuda_context &c = context_of(ctx);
        require(kernel >= DCLS_CUDA_DEPTHWISE_WEIGHTS_AUTO && kernel <= DCLS_CUDA_DEPTHWISE_WEIGHTS_ROWS,
                "unknown depthwise weights kernel " + std::to_string(kernel));
        c.depthwise_weights_kernel = kernel;
    });
}

dcls_status dcls_cuda_set_sparse_mode(dcls_cuda_context *ctx, int32_t mode) {
    return guarded(__func__, [&] {
        dcls_cuda_context &c = context_of(ctx);
        require(mode >= DCLS_CUDA_SPARSE_AUTO && mode <= DCLS_CUDA_SPARSE_ALWAYS,
                "unknown sparse mode " + std::to_string(mode));
        c.sparse_mode = mode;
    });
}

dcls_status dcls_cuda_malloc(dcls_cuda_context *ctx, int64_t bytes, void **ptr) {
    return guarded(__func__, [&] {
        dcls_cuda_context &c = context_of(ctx);
        require_pointer(ptr, "ptr");
        *ptr = nullptr;
        require(bytes >= 0, "bytes must be >= 0");
        DeviceGuard guard(c.device);
        *ptr = dcls::cuda::device_alloc(c, size_t(bytes));
    });
}

dcls_status dcls_cuda_free(dcls_cuda_context *ctx, void *ptr) {
    return guarded(__func__, [&] {
        dcls_cuda_context &c = context_of(ctx);
        if (!ptr) return;
        DeviceGuard guard(c.device);
        if (c.stream_ordered_pool) check(cudaFreeAsync(ptr, c.stream), "cudaFreeAsync");
        else check(cudaFree(ptr), "cudaFree");
    });
}

dcls_status dcls_cuda_malloc_host(dcls_cuda_context *ctx, int64_t bytes, void **ptr) {
    return guarded(__func__, [&] {
        dcls_cuda_context &c = context_of(ctx);
        require_pointer(ptr, "ptr");
        *ptr = nullptr;
        require(bytes >= 0, "bytes must be >= 0");
        if (bytes == 0) return;
        DeviceGuard guard(c.device);
        check(cudaMallocHost(ptr, size_t(bytes)), "cudaMallocHost");
    });
}

dcls_status dcls_cuda_free_host(dcls_cuda_context *ctx, void *ptr) {
    return guarded(__func__, [&] {
        dcls_cuda_context &c = context_of(ctx);
        if (!ptr) return;
        DeviceGuard guard(c.device);
        check(cudaFreeHost(ptr), "cudaFreeHost");
    });
}

dcls_status dcls_cuda_memcpy(dcls_cuda_context *ctx, void *dst, const void *src, int64_t bytes, int32_t kind) {
    return guarded(__func__, [&] {
        dcls_cuda_context &c = context_of(ctx);
        require(bytes >= 0, "bytes must be >= 0");
        require(kind >= DCLS_CUDA_MEMCPY_HOST_TO_DEVICE && kind <= DCLS_CUDA_MEMCPY_DEFAULT,
                "unknown memcpy kind " + std::to_string(kind));
        if (bytes == 0) return;
        require_pointer(dst, "dst");
        require_pointer(src, "src");
        // dcls_cuda_memcpy_kind has cudaMemcpyKind's values.
        const cudaMemcpyKind k = kind == DCLS_CUDA_MEMCPY_HOST_TO_DEVICE   ? cudaMemcpyHostToDevice
                                 : kind == DCLS_CUDA_MEMCPY_DEVICE_TO_HOST ? cudaMemcpyDeviceToHost
                                 : kind == DCLS_CUDA_MEMCPY_DEVICE_TO_DEVICE ? cudaMemcpyDeviceToDevice
                                                                             : cudaMemcpyDefault;
        DeviceGuard guard(c.device);
        check(cudaMemcpyAsync(dst, src, size_t(bytes), k, c.stream), "cudaMemcpyAsync");
    });
}

dcls_status dcls_cuda_memset(dcls_cuda_context *ctx, void *ptr, int32_t value, int64_t bytes) {
    return guarded(__func__, [&] {
        dcls_cuda_context &c = context_of(ctx);
        require(bytes >= 0, "bytes must be >= 0");
        if (bytes == 0) return;
        require_pointer(ptr, "ptr");
        DeviceGuard guard(c.device);
        check(cudaMemsetAsync(ptr, value, size_t(bytes), c.stream), "cudaMemsetAsync");
    });
}

dcls_status dcls_cuda_construct_forward(dcls_cuda_context *ctx, const dcls_construct_desc *desc,
                                        const float *weight, const float *positions, const float *sigma,
                                        float *kernel) {
    return guarded(__func__, [&] {
        dcls_cuda_context &c = context_of(ctx);
        dcls::validate_construct_forward(desc, weight, positions, sigma, kernel);
        DeviceGuard guard(c.device);
        dcls::cuda::construct_forward(c.stream, *desc, weight, positions, has_sigma(desc) ? sigma : nullptr, kernel);
    });
}

dcls_status dcls_cuda_construct_backward(dcls_cuda_context *ctx, const dcls_construct_desc *desc,
                                         const float *weight, const float *positions, const float *sigma,
                                         const float *grad_kernel, float *grad_weight, float *grad_positions,
                                         float *grad_sigma, int32_t accumulate) {
    return guarded(__func__, [&] {
        dcls_cuda_context &c = context_of(ctx);
        dcls::validate_construct_backward(desc, weight, positions, sigma, grad_kernel, grad_sigma);
        DeviceGuard guard(c.device);
        dcls::cuda::construct_backward(c.stream, *desc, weight, positions, has_sigma(desc) ? sigma : nullptr,
                                       grad_kernel, grad_weight, grad_positions, grad_sigma, accumulate != 0);
    });
}

dcls_status dcls_cuda_construct_kernel_window(dcls_cuda_context *ctx, const dcls_construct_desc *desc,
                                              const float *positions, const float *sigma, int64_t lo[3],
                                              int64_t hi[3]) {
    return guarded(__func__, [&] {
        dcls_cuda_context &c = context_of(ctx);
        validate(desc);
        require_pointer(positions, "positions");
        if (has_sigma(desc)) require_pointer(sigma, "sigma");
        require_pointer(lo, "lo");
        require_pointer(hi, "hi");
        DeviceGuard guard(c.device);
        dcls::cuda::HostKernelCells cells;
        cells.count(c.stream, *desc, positions, has_sigma(desc) ? sigma : nullptr, true);
        for (int d = 0; d < 3; ++d) {
            lo[d] = cells.cells().lo[d];
            hi[d] = cells.cells().hi[d];
        }
    });
}

dcls_status dcls_cuda_positions_clamp(dcls_cuda_context *ctx, const dcls_construct_desc *desc, float *positions) {
    return guarded(__func__, [&] {
        dcls_cuda_context &c = context_of(ctx);
        dcls::validate(desc);
        dcls::require_pointer(positions, "positions");
        DeviceGuard guard(c.device);
        dcls::cuda::clamp_positions(c.stream, *desc, positions);
    });
}

dcls_status dcls_cuda_positions_round(dcls_cuda_context *ctx, const float *src, float *dst, int64_t count) {
    return guarded(__func__, [&] {
        dcls_cuda_context &c = context_of(ctx);
        dcls::require_count(count);
        if (count == 0) return;
        dcls::require_pointer(src, "src");
        dcls::require_pointer(dst, "dst");
        DeviceGuard guard(c.device);
        dcls::cuda::round_positions(c.stream, src, dst, count);
    });
}

dcls_status dcls_cuda_conv_plan_create(dcls_cuda_context *ctx, const dcls_conv_desc *desc,
                                       dcls_cuda_conv_plan **plan) {
    return guarded(__func__, [&] {
        require_pointer(plan, "plan");
        *plan = nullptr;
        dcls_cuda_context &c = context_of(ctx);
        validate(desc);
        DeviceGuard guard(c.device);
        *plan = new dcls_cuda_conv_plan(c, dcls::normalised(*desc));  // as the CPU library
    });
}

dcls_status dcls_cuda_conv_plan_destroy(dcls_cuda_conv_plan *plan) {
    if (!plan) return DCLS_OK;
    return guarded(__func__, [&] {
        DeviceGuard guard(plan->impl.context().device);
        delete plan;  // device memory is freed in order on the context's stream
    });
}

dcls_status dcls_cuda_conv_plan_output_size(const dcls_cuda_conv_plan *plan, int64_t output_size[3]) {
    return guarded(__func__, [&] {
        require_pointer(plan, "plan");
        require_pointer(output_size, "output_size");
        const int64_t *out = plan->impl.output_size();
        for (int i = 0; i < 3; ++i) output_size[i] = i < plan->impl.desc().ndim ? out[i] : 1;
    });
}

dcls_status dcls_cuda_conv_plan_info(const dcls_cuda_conv_plan *plan, const char **info) {
    return guarded(__func__, [&] {
        require_pointer(plan, "plan");
        require_pointer(info, "info");
        *info = plan->impl.info().c_str();
    });
}

dcls_status dcls_cuda_conv_plan_set_kernel_window(dcls_cuda_conv_plan *plan, const int64_t lo[3], const int64_t hi[3]) {
    return guarded(__func__, [&] {
        dcls::cuda::ConvPlanCuda &p = plan_of(plan);
        require_pointer(lo, "lo");
        require_pointer(hi, "hi");
        const dcls_conv_desc &d = p.desc();
        for (int i = 0; i < d.ndim; ++i)
            require(lo[i] >= 0 && lo[i] < hi[i] && hi[i] <= d.kernel_size[i],
                    "kernel window [" + std::to_string(lo[i]) + ", " + std::to_string(hi[i]) + ") of axis " +
                        std::to_string(i) + " is not a non-empty part of [0, " + std::to_string(d.kernel_size[i]) + ")");
        DeviceGuard guard(p.context().device);
        p.set_kernel_window(lo, hi);
    });
}

dcls_status dcls_cuda_conv_plan_set_kernel_cells(dcls_cuda_conv_plan *plan, const dcls_construct_desc *desc,
                                                 const float *positions, const float *sigma, int32_t gradient) {
    return guarded(__func__, [&] {
        dcls::cuda::ConvPlanCuda &p = plan_of(plan);
        validate_kernel_cells(desc, p.desc(), positions, sigma);
        DeviceGuard guard(p.context().device);
        p.set_kernel_cells(*desc, positions, has_sigma(desc) ? sigma : nullptr, gradient != 0);
    });
}

dcls_status dcls_cuda_conv_plan_set_kernel_cells_host(dcls_cuda_conv_plan *plan, const dcls_construct_desc *desc,
                                                      const float *host_positions, const float *host_sigma,
                                                      int32_t gradient) {
    return guarded(__func__, [&] {
        dcls::cuda::ConvPlanCuda &p = plan_of(plan);
        validate_kernel_cells(desc, p.desc(), host_positions, host_sigma);
        DeviceGuard guard(p.context().device);
        p.set_kernel_cells(*desc, host_positions, has_sigma(desc) ? host_sigma : nullptr, gradient != 0, true);
    });
}

dcls_status dcls_cuda_conv_forward(dcls_cuda_conv_plan *plan, const float *x, const float *kernel, const float *bias,
                                   float *y) {
    return guarded(__func__, [&] {
        dcls::cuda::ConvPlanCuda &p = plan_of(plan);
        require_pointer(x, "x");
        require_pointer(kernel, "kernel");
        require_pointer(y, "y");
        DeviceGuard guard(p.context().device);
        p.forward(x, kernel, bias, y);
    });
}

dcls_status dcls_cuda_conv_backward_data(dcls_cuda_conv_plan *plan, const float *grad_y, const float *kernel,
                                         float *grad_x) {
    return guarded(__func__, [&] {
        dcls::cuda::ConvPlanCuda &p = plan_of(plan);
        require_pointer(grad_y, "grad_y");
        require_pointer(kernel, "kernel");
        require_pointer(grad_x, "grad_x");
        DeviceGuard guard(p.context().device);
        p.backward_data(grad_y, kernel, grad_x);
    });
}

dcls_status dcls_cuda_conv_backward_weights(dcls_cuda_conv_plan *plan, const float *x, const float *grad_y,
                                            float *grad_kernel, float *grad_bias, int32_t accumulate) {
    return guarded(__func__, [&] {
        dcls::cuda::ConvPlanCuda &p = plan_of(plan);
        require_pointer(x, "x");
        require_pointer(grad_y, "grad_y");
        require_pointer(grad_kernel, "grad_kernel");
        DeviceGuard guard(p.context().device);
        p.backward_weights(x, grad_y, grad_kernel, grad_bias, accumulate != 0);
    });
}

}  // extern "C"
