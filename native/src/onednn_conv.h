// oneDNN's direct convolution as an engine for any pass of any shape: the last entry of the
// engine list (conv_engine_list.cpp), which takes whatever dcls4j's own engines leave.
//
// Layouts. In oneDNN 3.13 a convolution on plain nchw/oihw memory runs reference code, 100 to
// 4000x slower, so each primitive is created with channels-last activations (nwc/nhwc/ndhwc;
// for depthwise this selects brdgmm_dw, and for dense and 1D shapes brgconv is as fast or faster
// than the blocked `any` layouts) and `any` weights. If that gives a reference implementation,
// `any` activations are tried too. Reorders then copy from/to the caller's ncw/nchw/ncdhw
// activations and oiw.../goiw... weights, where the grouped weights (Cout, Cin/g, k...) are
// viewed as (g, Cout/g, Cin/g, k...).
//
// Padding. Zero padding is the primitive's own. Reflect, replicate and circular padding pad the
// input explicitly into a scratch buffer, and the primitive convolves that with zero padding;
// backward-data computes the gradient of the padded input and folds it back (pad_backward).
//
// Scratch memory is shared between the passes, which never run at the same time (not safe for
// concurrent use): one buffer for the input-side activation in the primitive's layout (x, grad_x),
// one for the output side (y, grad_y), one for the weights, one for the padded input, and one
// oneDNN scratchpad (scratchpad mode user) for all primitives. Everything is made in prepare(),
// for the passes the plan handed this engine; a call only points memory objects at the caller's
// buffers and executes.
#pragma once

#include <memory>
#include <string>

#include "conv_engine.h"
#include "dcls.h"

namespace dcls {

class OnednnConv final : public ConvEngine {
public:
    // Always an engine: oneDNN runs every shape (reference code at worst).
    static std::unique_ptr<ConvEngine> create(const dcls_conv_desc &desc);
    // The implementation oneDNN picks for this shape's backward weights (its impl_info_str, e.g.
    // "gemm:jit"): the dense backward-weights engine runs where that is gemm or reference code.
    static std::string backward_weights_impl(const dcls_conv_desc &desc);

    explicit OnednnConv(const dcls_conv_desc &desc);
    ~OnednnConv() override;
    OnednnConv(const OnednnConv &) = delete;
    OnednnConv &operator=(const OnednnConv &) = delete;

    bool takes(Pass) const override { return true; }
    void prepare(const bool passes[kPassCount]) override;
    std::string info(Pass pass) const override;

    void forward(const float *x, const float *kernel, const float *bias, float *y) override;
    void backward_data(const float *grad_y, const float *kernel, float *grad_x) override;
    void backward_weights(const float *x, const float *grad_y, float *grad_kernel, float *grad_bias,
                          bool accumulate) override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dcls
