// The kernel cells a DCLS construction can make non-zero, per (out, in/groups) pair: what the
// tap-sparse convolution (sparse_conv.h) computes on instead of the whole kernel. From positions
// and sigma, never from the kernel's values: a weight of exactly 0 still needs its gradient cells.
#pragma once

#include <cstdint>
#include <vector>

#include "dcls.h"

namespace dcls {

struct KernelCells {
    int ndim = 1;
    int64_t pairs = 0;                // Cout * Cin/g
    int64_t size[3] = {1, 1, 1};      // the kernel's cells per axis, as 3D (leading axes of 1)
    int64_t elements_per_pair = 0;    // kernel_count
    std::vector<int64_t> start;       // pairs + 1: pair p's cells are cell[start[p], start[p + 1])
    std::vector<int32_t> cell;        // offsets within the pair's kernel plane, ascending, distinct
                                      // (after kernel_cells_fill)
    int64_t lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1};  // the box around every cell, user axes (dcls.h)
    bool gradient = true;             // whether the gradient cells are included
    std::vector<int32_t> ranges;      // scratch: each element's [lo, hi) per 3D axis
    std::vector<int64_t> marks;       // scratch: a table of the plane's size per thread

    int64_t count() const { return start.empty() ? 0 : start.back(); }
};

// Fills `cells` for construction `desc` (validated by the caller). Per element and axis, the cells
// where its 1D factor, or with `gradient` one of the factor's derivatives, is not 0 (the factors
// construct_cpu.cpp evaluates, in double); for the Gaussian, the cells of math::axis_window (beyond
// it the factor is below 1e-45 of its peak, flushed to 0 in float, as dcls_construct_kernel_window).
// An element's cells are the product of its axes' cells (bilinear, triangle: at most 2 per axis;
// at rounded positions, triangle 1 and, without `gradient`, bilinear 1). Cells that elements share
// are listed once. The vectors keep their capacity from call to call.
//
// In two steps, so that a caller that only needs the counts and the box (the plan, when the
// tap-sparse engine loses) skips the second: kernel_cells_cpu counts each pair's cells and finds
// the box; kernel_cells_fill then lists them.
void kernel_cells_cpu(const dcls_construct_desc &desc, const float *positions, const float *sigma, bool gradient,
                      KernelCells &cells);
void kernel_cells_fill(KernelCells &cells);

}  // namespace dcls
