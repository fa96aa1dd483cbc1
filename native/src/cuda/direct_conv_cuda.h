// A direct convolution of any shape (groups, strides, zero padding, 1 to 3 axes) in plain CUDA:
// the engine of a plan's passes where cuDNN cannot be loaded and dcls4j's depthwise kernels do not
// apply. Correct everywhere, but far slower than cuDNN on large layers; conv_plan_cuda.cpp names
// it "dcls:direct" in the plan's info, so that a user sees when it runs. With a kernel window
// (set_window), every pass loops over the window's cells only, reading and writing the kernel at
// their offsets in the whole kernel: no gathered copy of the box is needed.
#pragma once

#include <string>

#include "cuda_common.h"

namespace dcls {
namespace cuda {

// A box of kernel cells, [lo[a], lo[a] + size[a]) per axis (3 axes), passed to the kernels by value.
struct KernelBox {
    int64_t lo[3] = {0, 0, 0}, size[3] = {1, 1, 1};
    DCLS_HOST_DEVICE int64_t volume() const { return size[0] * size[1] * size[2]; }
};

class DirectConv {
public:
    DirectConv(dcls_cuda_context &ctx, const ConvGeometry &g);

    // The kernels given from now on are 0 outside the box [lo[a], lo[a] + size[a]) of each of the
    // 3 axes (validated by the caller); the whole kernel turns the window off. Backward weights then
    // computes the box's cells only and, overwriting, leaves 0 outside it (accumulating: unchanged).
    void set_window(const int64_t lo[3], const int64_t size[3]);

    // y = conv(x, w) + bias (bias may be null).
    void forward(const float *x, const float *w, const float *bias, float *y);
    // grad_x overwritten.
    void backward_data(const float *grad_y, const float *w, float *grad_x);
    // grad_w (and grad_bias, if not null) overwritten, or added to when accumulate.
    void backward_weights(const float *x, const float *grad_y, float *grad_w, float *grad_bias, bool accumulate);

    static std::string info() { return "dcls:direct"; }

private:
    dcls_cuda_context &ctx_;
    ConvGeometry g_;
    KernelBox box_;  // the whole kernel when no window is set
    bool windowed_ = false;
};

}  // namespace cuda
}  // namespace dcls
