// Backward weights of a depthwise convolution (groups == in_channels == out_channels): our own
// kernel, for the shapes oneDNN 3.13 serves badly (its depthwise backward-weights kernel takes
// kernels up to 3 wide; wider ones fall back to gemm at a few GFLOP/s).
//
//   grad_kernel[c][kd][kh][kw] = sum_{n, od, oh, ow} gy[n][c][od][oh][ow] * xpad[n][c][od*sd+kd][oh*sh+kh][ow*sw+kw]
//   grad_bias[c]               = sum_{n, od, oh, ow} gy[n][c][od][oh][ow]
//
// xpad is x padded with any of the four padding modes. The operands are the caller's plain
// C-order tensors; every plane (image, block of channels) is packed channels-last with its
// padding into a per-thread buffer, then reduced over all output positions with the kernel
// columns in registers (depthwise_backward_weights_impl.h). AVX-512 or AVX2, chosen at run
// time; multi-threaded with OpenMP over channel blocks, batch splits and kernel rows, each
// thread summing into its own partial buffer, with no atomics; the partials are summed in a
// fixed order, so a result depends only on the shape and the thread count.
//
// All memory is allocated in the constructor. Not safe for concurrent use.
#pragma once

#include <memory>

#include "conv_engine.h"
#include "dcls.h"

namespace dcls {

class DepthwiseBackwardWeights final : public ConvEngine {
public:
    // An engine where applies(), else nothing.
    static std::unique_ptr<ConvEngine> create(const dcls_conv_desc &desc);

    // Whether the shape is depthwise with channel multiplier 1.
    static bool applies(const dcls_conv_desc &desc);

    explicit DepthwiseBackwardWeights(const dcls_conv_desc &desc);
    ~DepthwiseBackwardWeights() override;
    DepthwiseBackwardWeights(const DepthwiseBackwardWeights &) = delete;
    DepthwiseBackwardWeights &operator=(const DepthwiseBackwardWeights &) = delete;

    // x (N, C, in...), grad_y (N, C, out...) -> grad_kernel (C, 1, k...), grad_bias (C, or
    // null to skip); accumulate adds to both, else overwrites.
    void run(const float *x, const float *grad_y, float *grad_kernel, float *grad_bias, bool accumulate);

    // Backward weights only.
    bool takes(Pass pass) const override { return pass == Pass::BackwardWeights; }
    std::string info(Pass pass) const override;
    // About the depthwise forward kernel's (85% of the FMA peak).
    double speed(Pass) const override { return 1.6; }
    void backward_weights(const float *x, const float *grad_y, float *grad_kernel, float *grad_bias,
                          bool accumulate) override {
        run(x, grad_y, grad_kernel, grad_bias, accumulate);
    }

    // "avx512" or "avx2".
    const char *isa() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dcls
