// Kernel cells from device positions (kernel_cells_cuda.h).
#include "kernel_cells_cuda.h"

namespace dcls {
namespace cuda {

void HostKernelCells::count(cudaStream_t stream, const dcls_construct_desc &desc, const float *positions,
                            const float *sigma, bool gradient) {
    const size_t n = size_t(desc.ndim * desc.out_channels * desc.in_per_group * desc.kernel_count);
    positions_.resize(n);
    sigma_.resize(sigma ? n : 0);
    if (n > 0) {
        check(cudaMemcpyAsync(positions_.data(), positions, n * sizeof(float), cudaMemcpyDeviceToHost, stream),
              "cudaMemcpyAsync");
        if (sigma)
            check(cudaMemcpyAsync(sigma_.data(), sigma, n * sizeof(float), cudaMemcpyDeviceToHost, stream),
                  "cudaMemcpyAsync");
        check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    }
    kernel_cells_cpu(desc, positions_.data(), sigma ? sigma_.data() : nullptr, gradient, cells_);
}

}  // namespace cuda
}  // namespace dcls
