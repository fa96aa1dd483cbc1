// A direct convolution of any shape (groups, strides, zero padding, 1 to 3 axes) in plain CUDA:
// the engine of a plan's passes where cuDNN cannot be loaded and dcls4j's depthwise kernels do not
// apply. Correct everywhere, but far slower than cuDNN on large layers; conv_plan_cuda.cpp names
// it "dcls:direct" in the plan's info, so that a user sees when it runs.
#pragma once

#include <string>

#include "cuda_common.h"

namespace dcls {
namespace cuda {

class DirectConv {
public:
    DirectConv(dcls_cuda_context &ctx, const ConvGeometry &g) : ctx_(ctx), g_(g) {}

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
};

}  // namespace cuda
}  // namespace dcls
