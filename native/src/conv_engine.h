// An engine that runs all three passes of one convolution shape (dcls.h's conventions: plain C-order
// tensors, grad_x overwritten, accumulate for the kernel and bias gradients): what a ConvPlan hands
// a whole shape to when one of dcls4j's engines takes it (dft_conv.h, blocked_conv1d.h).
#pragma once

namespace dcls {

class ConvEngine {
public:
    virtual ~ConvEngine() = default;
    virtual void forward(const float *x, const float *kernel, const float *bias, float *y) = 0;
    virtual void backward_data(const float *grad_y, const float *kernel, float *grad_x) = 0;
    virtual void backward_weights(const float *x, const float *grad_y, float *grad_kernel, float *grad_bias,
                                  bool accumulate) = 0;
};

}  // namespace dcls
