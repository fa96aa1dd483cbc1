// The kernel cells (kernel_cells.h) of a construction whose positions and sigma are in device
// memory. They are listed on the host: the plan that takes them, its engine choice and its kernel
// window are made there, so the positions are copied over (the context's stream is waited for) and
// kernel_cells.h's enumeration, the CPU tap-sparse engine's, runs on them unchanged.
#pragma once

#include <vector>

#include "../kernel_cells.h"
#include "cuda_common.h"

namespace dcls {
namespace cuda {

class HostKernelCells {
public:
    // Copies positions and sigma (null for the interpolations without) on `stream`, waits for them
    // and counts each pair's cells and their box (kernel_cells_cpu). desc is validated by the caller.
    void count(cudaStream_t stream, const dcls_construct_desc &desc, const float *positions, const float *sigma,
               bool gradient);
    // As count, with positions and sigma already in host memory (dcls_cuda_conv_plan_set_kernel_cells_host):
    // no copy and no wait for the stream.
    void count_host(const dcls_construct_desc &desc, const float *positions, const float *sigma, bool gradient) {
        kernel_cells_cpu(desc, positions, sigma, gradient, cells_);
    }
    // Lists the counted cells (kernel_cells_fill).
    void fill() { kernel_cells_fill(cells_); }
    const KernelCells &cells() const { return cells_; }

private:
    std::vector<float> positions_, sigma_;  // host copies, kept for their capacity
    KernelCells cells_;
};

}  // namespace cuda
}  // namespace dcls
