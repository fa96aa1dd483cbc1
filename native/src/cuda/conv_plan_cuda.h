// A convolution plan on a CUDA context: the engine of each pass (cuDNN, dcls4j's depthwise
// kernels, or the direct convolution where cuDNN is missing; the tap-sparse engine once kernel cells
// are set), explicit padding for reflect / replicate / circular, and the scratch memory.
// The descriptor is validated by the caller (cuda_api.cpp).
#pragma once

#include <memory>
#include <string>

#include "cuda_common.h"
#include "padding.h"

namespace dcls {
namespace cuda {

class CudnnConv;
class DepthwiseConv;
class DirectConv;
class HostKernelCells;
class SparseConvCuda;

class ConvPlanCuda {
public:
    ConvPlanCuda(dcls_cuda_context &ctx, const dcls_conv_desc &desc);
    ~ConvPlanCuda();
    ConvPlanCuda(const ConvPlanCuda &) = delete;
    ConvPlanCuda &operator=(const ConvPlanCuda &) = delete;

    const dcls_conv_desc &desc() const { return d_; }
    const int64_t *output_size() const { return out_; }
    const std::string &info() const { return info_; }
    dcls_cuda_context &context() const { return ctx_; }

    // The kernels given from now on are 0 outside the box [lo[d], hi[d]) of each axis d < ndim
    // (validated by the caller). The passes on dcls4j's depthwise kernels then run on the box only
    // (a convolution with the box as its kernel), the direct convolution's loop over the box's cells;
    // cuDNN's passes ignore it. Appends the window to the plan's info.
    void set_kernel_window(const int64_t lo[3], const int64_t hi[3]);

    // The construction that will make the kernels (dcls.h, dcls_cuda_conv_plan_set_kernel_cells;
    // validated by the caller, positions and sigma in device memory): its cells' box becomes the
    // kernel window, and the tap-sparse engine runs the passes the context's sparse mode and the
    // cost model (prefer_sparse) give it. Appends both to the plan's info.
    // host: positions and sigma are in host memory (dcls_cuda_conv_plan_set_kernel_cells_host), so they are
    // read in place, without a copy or a wait for the stream.
    void set_kernel_cells(const dcls_construct_desc &desc, const float *positions, const float *sigma, bool gradient,
                          bool host = false);

    void forward(const float *x, const float *kernel, const float *bias, float *y);
    void backward_data(const float *grad_y, const float *kernel, float *grad_x);
    void backward_weights(const float *x, const float *grad_y, float *grad_kernel, float *grad_bias, bool accumulate);

private:
    enum class Engine { Cudnn, Depthwise, Direct };

    void choose_engines();
    // set_kernel_window's work, leaving the tap-sparse passes as they are.
    void apply_window(const int64_t lo[3], const int64_t hi[3]);
    // Whether the tap-sparse engine should run pass p on `per_pair` cells per pair (AUTO mode).
    bool prefer_sparse(int p, double per_pair) const;
    // info_ from the passes' engines, the tail and the window.
    void compose_info();
    // Times dcls4j's depthwise kernels per pass (ms), on scratch tensors.
    void time_depthwise(float ms[3]);
    const float *padded_input(const float *x);
    // The kernel's box, gathered into window_.sub.
    const float *window_kernel(const float *kernel);

    dcls_cuda_context &ctx_;
    dcls_conv_desc d_;
    int64_t out_[3] = {1, 1, 1};
    ConvGeometry g_;  // the convolution proper: padded input and no padding when explicit
    bool explicit_padding_ = false;
    PadShape pad_shape_{};
    DeviceBuffer pad_buf_;  // the padded input, or the gradient of the padded input
    Engine engine_[3] = {Engine::Cudnn, Engine::Cudnn, Engine::Cudnn};  // forward, backward data, weights
    std::unique_ptr<CudnnConv> cudnn_;
    std::unique_ptr<DepthwiseConv> depthwise_;
    std::unique_ptr<DirectConv> direct_;  // where cuDNN cannot be loaded
    std::string info_;
    std::string what_[3], tail_, window_info_;  // the dense engines per pass, the notes, the window
    // The kernel window, when on: the box (3 axes), the depthwise kernels for it, and the boxes of
    // the kernel (or of its gradient) gathered. The direct convolution keeps its own copy of the box.
    struct Window {
        bool on = false;
        int64_t lo[3] = {0, 0, 0}, size[3] = {1, 1, 1};
        std::unique_ptr<DepthwiseConv> depthwise;
        DeviceBuffer sub;
    };
    Window window_;
    // The kernel cells (host lists), the tap-sparse engine on them, and the passes it runs.
    std::unique_ptr<HostKernelCells> cells_;
    std::unique_ptr<SparseConvCuda> sparse_;
    bool sparse_pass_[3] = {false, false, false};
};

}  // namespace cuda
}  // namespace dcls
