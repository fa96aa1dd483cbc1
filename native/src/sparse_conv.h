// The tap-sparse convolution: every pass computed from the non-zero cells of each (out, in/groups)
// kernel pair only (kernel_cells.h), so that its cost follows the cells DCLS's elements touch, not
// the box they span (after training, or from the start for learnable delays, that box is the whole
// kernel).
//
// The method. Activations are packed with the batch innermost and the last spatial axis split
// into its stride's phases, x as [Cin][d][h][phase][w / stride][N] (padding applied), so that for
// any kernel cell the inputs one output row reads, over all of its outputs and images, are one
// contiguous run. Then
//   forward           y row (o, od, oh) = bias + sum over o's cells: weight * shifted x run
//   backward data     grad_x row (c, id, ih, phase) = sum over c's cells whose grad_y row exists:
//                     weight * shifted run of grad_y (packed with zero margins); folded back
//                     through the padding
//   backward weights  per cell: the dot product of grad_y's rows with the shifted x runs
// with a row tile in registers (sparse_conv_impl.h), AVX-512 or AVX2 chosen at run time. For the
// learnable-delay layer (Dcls1d, groups 1, a tap or a few per synapse over a long time axis) this is
// one shifted multiply-add of whole input rows per cell: N x L_out FMAs per cell and pass.
//
// Channels are taken in blocks (input channels for forward and backward weights, output channels
// for backward data) so that the runs a block reads stay in cache while every row uses them.
//
// Cells change as positions move: set_cells rebuilds the non-zero lists (no new memory once the
// lists have reached their size); the packed activations are made in the constructor. Not safe for
// concurrent use.
#pragma once

#include <memory>
#include <string>

#include "conv_engine.h"
#include "dcls.h"
#include "kernel_cells.h"

namespace dcls {

class SparseConv final : public ConvEngine {
public:
    explicit SparseConv(const dcls_conv_desc &desc);
    ~SparseConv() override;
    SparseConv(const SparseConv &) = delete;
    SparseConv &operator=(const SparseConv &) = delete;

    // The cells of every pair (of this shape: Cout x Cin/g pairs of the kernel's size), from
    // kernel_cells_cpu; they hold until the next call. Backward weights needs cells.gradient;
    // backward data needs `backward_data` (its own lists, made only then).
    void set_cells(const KernelCells &cells, bool backward_data);

    // The cost of a pass on `cells` cells in all, in multiply-adds of oneDNN's direct convolution:
    // the plan's cost model (conv_engine_list.cpp) weighs it against the dense engines'.
    double cost(Pass pass, int64_t cells) const;

    bool takes(Pass pass) const override;
    std::string info(Pass pass) const override;
    void forward(const float *x, const float *kernel, const float *bias, float *y) override;
    void backward_data(const float *grad_y, const float *kernel, float *grad_x) override;
    // grad_kernel outside the cells: 0 when overwriting, left as it is when accumulating.
    void backward_weights(const float *x, const float *grad_y, float *grad_kernel, float *grad_bias,
                          bool accumulate) override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dcls
