// Dense convolution through the discrete Fourier transform, for large kernels (DCLS's 9x9 to 23x23
// dense kernels): forward, backward data and backward weights, each as
//   transform the operands (real DFT along w, complex along h; a kernel or activation zero-padded
//   to the padded input's size T, so circular correlation equals the linear one), mix channels per
//   frequency (one small complex matrix product per frequency), transform back.
// The transforms are matrix products with DFT matrices (any size, no FFT library), so every heavy
// step is a oneDNN matmul. Cost per pass ~ T_h T_w (N Cin + N Cout + Cout Cin) (T_h + T_w) + bins N
// Cin Cout, against N Cout Cin out kernel for the direct convolution: for 64 -> 64, 9x9 on 32x32
// the DFT takes 7x fewer multiply-adds.
//
// Shapes: ndim 1 or 2, groups 1, stride 1 (applies() says when, and whether it pays). Padding
// modes other than zeros pad the input explicitly first. All memory is allocated in the
// constructor; not safe for concurrent use.
#pragma once

#include <memory>

#include "conv_engine.h"
#include "dcls.h"
#include "engine_options.h"

namespace dcls {

class DftConv final : public ConvEngine {
public:
    // An engine where the shape can run here and, unless `choice` (the engine option dft_conv,
    // read by the engine list) is Always, is expected to beat the direct convolution; nothing
    // where it cannot or `choice` is Never.
    static std::unique_ptr<ConvEngine> create(const dcls_conv_desc &desc, EngineChoice choice);
    static bool applies(const dcls_conv_desc &desc, EngineChoice choice);
    // The parts of that decision: whether the shape can run here at all;
    // the weighted multiply-adds of the three passes here and for the direct convolution; whether
    // the workspace stays within bounds; and the margin asked of the cost.
    static bool runs(const dcls_conv_desc &desc);
    static double cost(const dcls_conv_desc &desc);
    static double direct_cost(const dcls_conv_desc &desc);
    static bool fits(const dcls_conv_desc &desc);
    static constexpr double kMargin = 2.3;

    explicit DftConv(const dcls_conv_desc &desc);
    ~DftConv() override;
    DftConv(const DftConv &) = delete;
    DftConv &operator=(const DftConv &) = delete;

    void forward(const float *x, const float *kernel, const float *bias, float *y) override;
    void backward_data(const float *grad_y, const float *kernel, float *grad_x) override;
    void backward_weights(const float *x, const float *grad_y, float *grad_kernel, float *grad_bias,
                          bool accumulate) override;
    // Every pass.
    bool takes(Pass) const override { return true; }
    std::string info(Pass pass) const override;
    // What the cost model expects: direct_cost / (kMargin cost).
    double speed(Pass) const override { return speed_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    double speed_ = 1.0;
};

}  // namespace dcls
