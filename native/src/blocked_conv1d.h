// Long 1D convolutions (audio, spiking nets: DCLS delays over 41 or more taps, thousands of steps)
// through the DFT, overlap-save: the padded signal is cut into blocks of `block` outputs plus the
// kernel's reach, all blocks of all signals run as one batch through DftConv (frames of block +
// kernel - 1 cells instead of the whole signal: the DFT matrices stay small), and the results are
// put back in place (backward data: blocks overlapping by kernel - 1 cells are added).
//
// Shapes: ndim 1, groups 1, stride 1, any padding mode; applies() picks the block size by DftConv's
// cost model and says whether it pays. All memory is allocated in the constructor; not safe for
// concurrent use.
#pragma once

#include <memory>

#include "conv_engine.h"
#include "dcls.h"
#include "engine_options.h"

namespace dcls {

class BlockedConv1d final : public ConvEngine {
public:
    // An engine where the shape can run here and (unless `choice`, the engine option dft_conv
    // read by the engine list, is Always) pays; nothing where it cannot or `choice` is Never.
    static std::unique_ptr<ConvEngine> create(const dcls_conv_desc &desc, EngineChoice choice);

    // `block`: outputs per block, from create's choice.
    BlockedConv1d(const dcls_conv_desc &desc, int64_t block);
    ~BlockedConv1d() override;
    BlockedConv1d(const BlockedConv1d &) = delete;
    BlockedConv1d &operator=(const BlockedConv1d &) = delete;

    void forward(const float *x, const float *kernel, const float *bias, float *y) override;
    void backward_data(const float *grad_y, const float *kernel, float *grad_x) override;
    void backward_weights(const float *x, const float *grad_y, float *grad_kernel, float *grad_bias,
                          bool accumulate) override;
    // Every pass.
    bool takes(Pass) const override { return true; }
    std::string info(Pass pass) const override;
    // What the cost model expects: the direct convolution's cost over kMargin times the blocks'.
    double speed(Pass) const override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dcls
