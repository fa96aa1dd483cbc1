// A convolution through cuDNN's legacy API: NCHW / NCDHW float32, groups as a group count, 1D as
// 2D with H = 1. Algorithms are chosen once (by heuristics, or by timing with the context's
// benchmark setting), and one workspace holds what the chosen algorithms need.
// In the CPU emulation of CUDA (DCLS_CUDA_EMULATION), constructing one throws: no cuDNN there.
#pragma once

#include <memory>
#include <string>

#include "cuda_common.h"

namespace dcls {
namespace cuda {

class CudnnConv {
public:
    // The passes to set up; the others are never called.
    struct Passes {
        bool forward = true, backward_data = true, backward_weights = true;
    };

    // Throws dcls::Error (DCLS_ERROR_BACKEND) when cuDNN is unavailable or rejects the shape.
    CudnnConv(dcls_cuda_context &ctx, const ConvGeometry &g, Passes passes);
    ~CudnnConv();
    CudnnConv(const CudnnConv &) = delete;
    CudnnConv &operator=(const CudnnConv &) = delete;

    // Allocates the workspace for the passes that will run (after the engine choice).
    void allocate_workspace(Passes used);

    void forward(const float *x, const float *w, const float *bias, float *y);
    void backward_data(const float *grad_y, const float *w, float *grad_x);
    void backward_weights(const float *x, const float *grad_y, float *grad_w, float *grad_bias, bool accumulate);

    // e.g. "cudnn:IMPLICIT_PRECOMP_GEMM(fma)"; the timings (ms) when cudnnFind* measured them, else -1.
    std::string forward_info() const;
    std::string backward_data_info() const;
    std::string backward_weights_info() const;
    float forward_ms() const;
    float backward_data_ms() const;
    float backward_weights_ms() const;

    // Destroys the context's cuDNN handle, if any (at context destruction).
    static void destroy_handle(dcls_cuda_context &ctx) noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace cuda
}  // namespace dcls
