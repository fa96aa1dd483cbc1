// Backward weights of a dense convolution (groups == 1): our own kernel, for the shapes where
// oneDNN 3.13 falls back to gemm (1D convolutions with wide kernels, for one).
//
//   grad_kernel[o][c][kd][kh][kw] = sum_{n, od, oh, ow} gy[n][o][od][oh][ow] * xpad[n][c][od*sd+kd][oh*sh+kh][ow*sw+kw]
//   grad_bias[o]                  = sum_{n, od, oh, ow} gy[n][o][od][oh][ow]
//
// xpad is x padded with any of the four padding modes. Per image, the padded input and the
// output gradient are packed channels-last into per-thread buffers; every kernel position is
// then an implicit GEMM over the output positions, in register tiles of output channels by
// vectors of input channels (dense_backward_weights_impl.h). AVX-512 or AVX2, chosen at run
// time; multi-threaded with OpenMP over batch splits and (kernel position, channel tile) items,
// each unit summing into its own partial buffer, with no atomics; the partials are summed in a
// fixed order.
//
// All memory is allocated in the constructor. Not safe for concurrent use.
#pragma once

#include <memory>

#include "conv_engine.h"
#include "dcls.h"

namespace dcls {

class DenseBackwardWeights final : public ConvEngine {
public:
    // An engine where applies(), else nothing.
    static std::unique_ptr<ConvEngine> create(const dcls_conv_desc &desc);

    // Whether the shape is dense (one group).
    static bool applies(const dcls_conv_desc &desc);

    explicit DenseBackwardWeights(const dcls_conv_desc &desc);
    ~DenseBackwardWeights() override;
    DenseBackwardWeights(const DenseBackwardWeights &) = delete;
    DenseBackwardWeights &operator=(const DenseBackwardWeights &) = delete;

    // x (N, Cin, in...), grad_y (N, Cout, out...) -> grad_kernel (Cout, Cin, k...), grad_bias
    // (Cout, or null to skip); accumulate adds to both, else overwrites.
    void run(const float *x, const float *grad_y, float *grad_kernel, float *grad_bias, bool accumulate);

    // Backward weights only.
    bool takes(Pass pass) const override { return pass == Pass::BackwardWeights; }
    std::string info(Pass pass) const override;
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
