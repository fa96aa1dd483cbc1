// Forward and backward-data passes of a depthwise convolution with channel multiplier 1
// (groups == in_channels == out_channels): our own kernel, in place of oneDNN's (brdgmm_dw,
// jit_dw), which run wide kernels at half of the FMA peak or less.
//
//   forward:        y[n][c][o]  = bias[c] + sum_k kernel[c][k] * xpad[n][c][o * s + k]
//   backward data:  gx = the adjoint, for stride 1 only: the correlation of grad_y, padded by
//                   k - 1, with the flipped kernel, folded back through the padding.
//
// Every plane (image, block of 16 or 8 channels) is packed channels-last with its padding into a
// per-thread buffer and computed with a block of outputs and of kernel columns in registers
// (depthwise_conv_impl.h), then transposed back. AVX-512 or AVX2, chosen at run time (as the
// backward-weights kernels); OpenMP over planes and, for few planes, row ranges.
//
// All memory is allocated in the constructor. Not safe for concurrent use.
#pragma once

#include <memory>

#include "conv_engine.h"
#include "dcls.h"

namespace dcls {

class DepthwiseConv final : public ConvEngine {
public:
    // An engine where applies(), else nothing.
    static std::unique_ptr<ConvEngine> create(const dcls_conv_desc &desc);

    // Whether the shape is depthwise with channel multiplier 1 (forward), and also has stride 1
    // on every axis (backward data).
    static bool applies(const dcls_conv_desc &desc);
    static bool backward_data_applies(const dcls_conv_desc &desc);

    explicit DepthwiseConv(const dcls_conv_desc &desc);
    ~DepthwiseConv() override;
    DepthwiseConv(const DepthwiseConv &) = delete;
    DepthwiseConv &operator=(const DepthwiseConv &) = delete;

    // y (N, C, out...) = conv(x (N, C, in...), kernel (C, 1, k...)) + bias (C, or null).
    void forward(const float *x, const float *kernel, const float *bias, float *y) override;
    // grad_x (N, C, in...), overwritten, from grad_y (N, C, out...). Needs backward_data_applies.
    void backward_data(const float *grad_y, const float *kernel, float *grad_x) override;

    // Forward, and backward data where backward_data_applies.
    bool takes(Pass pass) const override;
    std::string info(Pass pass) const override;
    // 17x17, 96 channels: 1.6x oneDNN's brdgmm_dw / jit_dw (BENCHMARKS.md).
    double speed(Pass) const override { return 1.6; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dcls
