// The tap-sparse convolution in CUDA: the CUDA counterpart of sparse_conv.h. Each (out, in/groups)
// pair of the kernel has its own list of cells (kernel_cells.h) outside which the kernel is 0, and
// every pass loops over those cells only, so its cost follows the cells (a DCLS kernel's few
// interpolated taps), not the kernel's volume. Any shape (groups, strides, zero padding, 1 to 3
// axes); the geometry is the convolution proper's (explicit padding already applied).
#pragma once

#include <string>
#include <vector>

#include "../kernel_cells.h"
#include "cuda_common.h"

namespace dcls {
namespace cuda {

class SparseConvCuda {
public:
    SparseConvCuda(dcls_cuda_context &ctx, const ConvGeometry &g) : ctx_(ctx), g_(g) {}

    // Uploads the listed cells (kernel_cells_fill done) of the plan's kernel: pairs = Cout * Cin/g,
    // planes of g.k. Device memory grows only when the cells outgrow it.
    void set_cells(const KernelCells &cells);

    // y = conv(x, w) + bias (bias may be null), w 0 outside the cells.
    void forward(const float *x, const float *w, const float *bias, float *y);
    // grad_x (overwritten).
    void backward_data(const float *grad_y, const float *w, float *grad_x);
    // grad_w at the cells, 0 elsewhere (accumulating: added at the cells only, the rest unchanged);
    // grad_bias (null to skip) overwritten or accumulated.
    void backward_weights(const float *x, const float *grad_y, float *grad_w, float *grad_bias, bool accumulate);

    // "dcls:sparse(2 of 25 cells,cuda)": cells per pair on average, of the kernel's.
    std::string info() const;
    int64_t cell_count() const { return count_; }

private:
    dcls_cuda_context &ctx_;
    ConvGeometry g_;
    int64_t pairs_ = 0, count_ = 0;
    std::vector<int32_t> pair_host_;  // the pair of each cell, for the weights kernel's blocks
    DeviceBuffer start_;  // int64_t, pairs + 1: pair p's cells are cell_[start[p], start[p + 1])
    DeviceBuffer cell_;   // int32_t offsets in the pair's kernel plane
    DeviceBuffer pair_;   // int32_t, per cell
};

}  // namespace cuda
}  // namespace dcls
