// The tap-sparse convolution (sparse_conv_cuda.h). The direct convolution's loops
// (direct_conv_cuda.cu) with each pair's cell list in place of the kernel's box. Forward: a thread
// per output element, over its input channels' pairs and their cells. Backward data: a thread per
// input element, gathering the outputs each cell of each pair reaches, so nothing is written twice.
// Backward weights: a block per listed cell, summing over the batch and the output positions in a
// fixed order (block_sum), after grad_w is zeroed when overwriting. The bias gradient is nn::sum.
#include "sparse_conv_cuda.h"

#include <cstdio>

#include "block_cuda.h"
#include "conv_cell_cuda.h"
#include "nn_cuda.h"

namespace dcls {
namespace cuda {
namespace {

__global__ void sparse_forward_kernel(ConvGeometry g, const int64_t *start, const int32_t *cell, const float *x,
                                      const float *w, const float *bias, float *y) {
    const int64_t ocg = g.out_channels / g.groups, icg = g.in_channels / g.groups;
    const int64_t total = g.batch * g.out_channels * g.out_plane();
    for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x)
    {
        const PlaneElement out = plane_element(e, g.out_channels, g.out);
        const int64_t oc = out.channel, n = out.n;
        const int64_t *o3 = out.at;
        const int64_t ic0 = (oc / ocg) * icg;
        float acc = bias ? bias[oc] : 0.f;
        for (int64_t c = 0; c < icg; ++c) {
            const int64_t p = oc * icg + c;
            const float *xp = x + (n * g.in_channels + ic0 + c) * g.in_plane();
            const float *wp = w + p * g.k_volume();
            for (int64_t j = start[p]; j < start[p + 1]; ++j) {
                int64_t k3[3];
                split3(cell[j], g.k, k3);
                const int64_t i = input_offset(g, o3, k3);
                if (i >= 0) acc += xp[i] * wp[cell[j]];
            }
        }
        y[e] = acc;
    }
}

__global__ void sparse_backward_data_kernel(ConvGeometry g, const int64_t *start, const int32_t *cell,
                                            const float *grad_y, const float *w, float *grad_x) {
    const int64_t ocg = g.out_channels / g.groups, icg = g.in_channels / g.groups;
    const int64_t total = g.batch * g.in_channels * g.in_plane();
    for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x)
    {
        const PlaneElement in = plane_element(e, g.in_channels, g.in);
        const int64_t ic = in.channel, n = in.n;
        const int64_t *i3 = in.at;
        const int64_t oc0 = (ic / icg) * ocg, c = ic % icg;
        float acc = 0.f;
        for (int64_t m = 0; m < ocg; ++m) {
            const int64_t oc = oc0 + m, p = oc * icg + c;
            const float *gyp = grad_y + (n * g.out_channels + oc) * g.out_plane();
            const float *wp = w + p * g.k_volume();
            for (int64_t j = start[p]; j < start[p + 1]; ++j) {
                int64_t k3[3];
                split3(cell[j], g.k, k3);
                const int64_t o0 = reached(i3[0], k3[0], g.stride[0], g.pad[0], g.out[0]);
                const int64_t o1 = reached(i3[1], k3[1], g.stride[1], g.pad[1], g.out[1]);
                const int64_t o2 = reached(i3[2], k3[2], g.stride[2], g.pad[2], g.out[2]);
                if (o0 < 0 || o1 < 0 || o2 < 0) continue;
                acc += gyp[(o0 * g.out[1] + o1) * g.out[2] + o2] * wp[cell[j]];
            }
        }
        grad_x[e] = acc;
    }
}

__global__ void sparse_backward_weights_kernel(ConvGeometry g, int64_t count, const int32_t *pair,
                                               const int32_t *cell, const float *x, const float *grad_y,
                                               float *grad_w, int accumulate) {
    __shared__ float partial[kBlock];
    const int64_t ocg = g.out_channels / g.groups, icg = g.in_channels / g.groups;
    for (int64_t j = blockIdx.x; j < count; j += gridDim.x) {
        const int64_t p = pair[j], oc = p / icg, c = p % icg, ic = (oc / ocg) * icg + c;
        int64_t k3[3];
        split3(cell[j], g.k, k3);
        const float total = cell_weight_gradient(g, x, grad_y, oc, ic, k3, partial);
        const int64_t e = p * g.k_volume() + cell[j];
        if (threadIdx.x == 0) grad_w[e] = accumulate ? grad_w[e] + total : total;
    }
}

// Grows `buffer` to at least `bytes` (by half again, so that cells that grow step by step during
// training reallocate rarely).
void reserve(dcls_cuda_context &ctx, DeviceBuffer &buffer, size_t bytes) {
    if (buffer.size() >= bytes) return;
    buffer.allocate(ctx, std::max(bytes, buffer.size() + buffer.size() / 2));
}

}  // namespace

void SparseConvCuda::set_cells(const KernelCells &cells) {
    pairs_ = cells.pairs;
    count_ = cells.count();
    pair_host_.resize(size_t(count_));
    for (int64_t p = 0; p < pairs_; ++p)
        for (int64_t j = cells.start[size_t(p)]; j < cells.start[size_t(p + 1)]; ++j) pair_host_[size_t(j)] = int32_t(p);
    reserve(ctx_, start_, size_t(pairs_ + 1) * sizeof(int64_t));
    reserve(ctx_, cell_, size_t(std::max<int64_t>(count_, 1)) * sizeof(int32_t));
    reserve(ctx_, pair_, size_t(std::max<int64_t>(count_, 1)) * sizeof(int32_t));
    // From pageable host memory: the copies have read it when they return (the vectors may change after).
    check(cudaMemcpyAsync(start_.get(), cells.start.data(), size_t(pairs_ + 1) * sizeof(int64_t),
                          cudaMemcpyHostToDevice, ctx_.stream), "cudaMemcpyAsync");
    if (count_ > 0) {
        check(cudaMemcpyAsync(cell_.get(), cells.cell.data(), size_t(count_) * sizeof(int32_t), cudaMemcpyHostToDevice,
                              ctx_.stream), "cudaMemcpyAsync");
        check(cudaMemcpyAsync(pair_.get(), pair_host_.data(), size_t(count_) * sizeof(int32_t),
                              cudaMemcpyHostToDevice, ctx_.stream), "cudaMemcpyAsync");
    }
}

void SparseConvCuda::forward(const float *x, const float *w, const float *bias, float *y) {
    const int64_t total = g_.batch * g_.out_channels * g_.out_plane();
    if (total == 0) return;
    DCLS_LAUNCH(sparse_forward_kernel, grid_for(total), kBlock, 0, ctx_.stream)(
        g_, static_cast<const int64_t *>(start_.get()), static_cast<const int32_t *>(cell_.get()), x, w, bias, y);
    check_launch("sparse_forward_kernel");
}

void SparseConvCuda::backward_data(const float *grad_y, const float *w, float *grad_x) {
    const int64_t total = g_.batch * g_.in_channels * g_.in_plane();
    if (total == 0) return;
    DCLS_LAUNCH(sparse_backward_data_kernel, grid_for(total), kBlock, 0, ctx_.stream)(
        g_, static_cast<const int64_t *>(start_.get()), static_cast<const int32_t *>(cell_.get()), grad_y, w, grad_x);
    check_launch("sparse_backward_data_kernel");
}

void SparseConvCuda::backward_weights(const float *x, const float *grad_y, float *grad_w, float *grad_bias,
                                      bool accumulate) {
    if (!accumulate && pairs_ > 0)
        check(cudaMemsetAsync(grad_w, 0, size_t(pairs_ * g_.k_volume()) * sizeof(float), ctx_.stream),
              "cudaMemsetAsync");
    if (count_ > 0) {
        const int blocks = int(std::min<int64_t>(count_, 1 << 20));
        DCLS_LAUNCH(sparse_backward_weights_kernel, blocks, kBlock, 0, ctx_.stream)(
            g_, count_, static_cast<const int32_t *>(pair_.get()), static_cast<const int32_t *>(cell_.get()), x, grad_y,
            grad_w, accumulate ? 1 : 0);
        check_launch("sparse_backward_weights_kernel");
    }
    if (grad_bias) {
        const int64_t src[3] = {g_.batch, g_.out_channels, g_.out_plane()}, dst[3] = {1, g_.out_channels, 1};
        nn::sum(ctx_.stream, nn::reduction_shape(3, src, dst), grad_y, grad_bias, accumulate);
    }
}

std::string SparseConvCuda::info() const {
    char buf[96];
    std::snprintf(buf, sizeof buf, "dcls:sparse(%.3g of %lld cells,cuda)",
                  pairs_ > 0 ? double(count_) / double(pairs_) : 0.0, static_cast<long long>(g_.k_volume()));
    return buf;
}

}  // namespace cuda
}  // namespace dcls
