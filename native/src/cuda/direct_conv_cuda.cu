// The direct convolution (direct_conv_cuda.h). Forward: a thread per output element. Backward
// data: a thread per input element, gathering the outputs its kernel cells reach, so nothing is
// written twice. Backward weights: a block per kernel element, summing over the batch and the
// output positions in a fixed order (block_sum). The bias gradient is nn::sum over (N, spatial).
// Every kernel loops over the box of kernel cells (the whole kernel, or the window), indexing the
// kernel at the cells' offsets in the whole kernel.
#include "direct_conv_cuda.h"

#include "block_cuda.h"
#include "conv_cell_cuda.h"
#include "nn_cuda.h"

namespace dcls {
namespace cuda {
namespace {

__global__ void direct_forward_kernel(ConvGeometry g, KernelBox box, const float *x, const float *w, const float *bias,
                                      float *y) {
    const int64_t ocg = g.out_channels / g.groups, icg = g.in_channels / g.groups;
    const int64_t total = g.batch * g.out_channels * g.out_plane();
    for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x)
    {
        const PlaneElement out = plane_element(e, g.out_channels, g.out);
        const int64_t oc = out.channel, n = out.n;
        const int64_t *oc3 = out.at;
        const int64_t ic0 = (oc / ocg) * icg;
        float acc = bias ? bias[oc] : 0.f;
        for (int64_t c = 0; c < icg; ++c) {
            const float *xp = x + (n * g.in_channels + ic0 + c) * g.in_plane();
            const float *wp = w + (oc * icg + c) * g.k_volume();
            for (int64_t k0 = box.lo[0]; k0 < box.lo[0] + box.size[0]; ++k0) {
                const int64_t i0 = oc3[0] * g.stride[0] - g.pad[0] + k0;
                if (i0 < 0 || i0 >= g.in[0]) continue;
                for (int64_t k1 = box.lo[1]; k1 < box.lo[1] + box.size[1]; ++k1) {
                    const int64_t i1 = oc3[1] * g.stride[1] - g.pad[1] + k1;
                    if (i1 < 0 || i1 >= g.in[1]) continue;
                    for (int64_t k2 = box.lo[2]; k2 < box.lo[2] + box.size[2]; ++k2) {
                        const int64_t i2 = oc3[2] * g.stride[2] - g.pad[2] + k2;
                        if (i2 < 0 || i2 >= g.in[2]) continue;
                        acc += xp[(i0 * g.in[1] + i1) * g.in[2] + i2] * wp[(k0 * g.k[1] + k1) * g.k[2] + k2];
                    }
                }
            }
        }
        y[e] = acc;
    }
}

__global__ void direct_backward_data_kernel(ConvGeometry g, KernelBox box, const float *grad_y, const float *w,
                                            float *grad_x) {
    const int64_t ocg = g.out_channels / g.groups, icg = g.in_channels / g.groups;
    const int64_t total = g.batch * g.in_channels * g.in_plane();
    for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x)
    {
        const PlaneElement in = plane_element(e, g.in_channels, g.in);
        const int64_t ic = in.channel, n = in.n;
        const int64_t *ic3 = in.at;
        const int64_t oc0 = (ic / icg) * ocg, c = ic % icg;
        float acc = 0.f;
        for (int64_t k0 = box.lo[0]; k0 < box.lo[0] + box.size[0]; ++k0) {
            const int64_t o0 = reached(ic3[0], k0, g.stride[0], g.pad[0], g.out[0]);
            if (o0 < 0) continue;
            for (int64_t k1 = box.lo[1]; k1 < box.lo[1] + box.size[1]; ++k1) {
                const int64_t o1 = reached(ic3[1], k1, g.stride[1], g.pad[1], g.out[1]);
                if (o1 < 0) continue;
                for (int64_t k2 = box.lo[2]; k2 < box.lo[2] + box.size[2]; ++k2) {
                    const int64_t o2 = reached(ic3[2], k2, g.stride[2], g.pad[2], g.out[2]);
                    if (o2 < 0) continue;
                    const int64_t o = (o0 * g.out[1] + o1) * g.out[2] + o2, kk = (k0 * g.k[1] + k1) * g.k[2] + k2;
                    for (int64_t m = 0; m < ocg; ++m) {
                        const int64_t oc = oc0 + m;
                        acc += grad_y[(n * g.out_channels + oc) * g.out_plane() + o] *
                               w[(oc * icg + c) * g.k_volume() + kk];
                    }
                }
            }
        }
        grad_x[e] = acc;
    }
}

// A block per cell of the box of each kernel (Cout x Cin/g x the box).
__global__ void direct_backward_weights_kernel(ConvGeometry g, KernelBox box, const float *x, const float *grad_y,
                                               float *grad_w, int accumulate) {
    __shared__ float partial[kBlock];
    const int64_t ocg = g.out_channels / g.groups, icg = g.in_channels / g.groups;
    const int64_t weights = g.out_channels * icg * box.volume();
    for (int64_t b = blockIdx.x; b < weights; b += gridDim.x) {
        const int64_t c = (b / box.volume()) % icg, oc = b / (box.volume() * icg);
        int64_t k3[3];
        split3(b % box.volume(), box.size, k3);
        for (int a = 0; a < 3; ++a) k3[a] += box.lo[a];
        const int64_t e = (oc * icg + c) * g.k_volume() + (k3[0] * g.k[1] + k3[1]) * g.k[2] + k3[2];
        const float total = cell_weight_gradient(g, x, grad_y, oc, (oc / ocg) * icg + c, k3, partial);
        if (threadIdx.x == 0) grad_w[e] = accumulate ? grad_w[e] + total : total;
    }
}

}  // namespace

DirectConv::DirectConv(dcls_cuda_context &ctx, const ConvGeometry &g) : ctx_(ctx), g_(g) {
    for (int a = 0; a < 3; ++a) box_.size[a] = g_.k[a];
}

void DirectConv::set_window(const int64_t lo[3], const int64_t size[3]) {
    windowed_ = false;
    for (int a = 0; a < 3; ++a) {
        box_.lo[a] = lo[a];
        box_.size[a] = size[a];
        windowed_ = windowed_ || lo[a] != 0 || size[a] != g_.k[a];
    }
}

void DirectConv::forward(const float *x, const float *w, const float *bias, float *y) {
    const int64_t total = g_.batch * g_.out_channels * g_.out_plane();
    if (total == 0) return;
    DCLS_LAUNCH(direct_forward_kernel, grid_for(total), kBlock, 0, ctx_.stream)(g_, box_, x, w, bias, y);
    check_launch("direct_forward_kernel");
}

void DirectConv::backward_data(const float *grad_y, const float *w, float *grad_x) {
    const int64_t total = g_.batch * g_.in_channels * g_.in_plane();
    if (total == 0) return;
    DCLS_LAUNCH(direct_backward_data_kernel, grid_for(total), kBlock, 0, ctx_.stream)(g_, box_, grad_y, w,
                                                                                     grad_x);
    check_launch("direct_backward_data_kernel");
}

void DirectConv::backward_weights(const float *x, const float *grad_y, float *grad_w, float *grad_bias,
                                  bool accumulate) {
    const int64_t kernels = g_.out_channels * (g_.in_channels / g_.groups), weights = kernels * box_.volume();
    // Overwriting with a window: 0 outside the box (the kernel below writes only the box).
    if (windowed_ && !accumulate && kernels > 0)
        check(cudaMemsetAsync(grad_w, 0, size_t(kernels * g_.k_volume()) * sizeof(float), ctx_.stream),
              "cudaMemsetAsync");
    if (weights > 0) {
        const int blocks = int(std::min<int64_t>(weights, 1 << 20));
        DCLS_LAUNCH(direct_backward_weights_kernel, blocks, kBlock, 0, ctx_.stream)(g_, box_, x, grad_y, grad_w,
                                                                                    accumulate ? 1 : 0);
        check_launch("direct_backward_weights_kernel");
    }
    if (grad_bias) {
        const int64_t src[3] = {g_.batch, g_.out_channels, g_.out_plane()}, dst[3] = {1, g_.out_channels, 1};
        nn::sum(ctx_.stream, nn::reduction_shape(3, src, dst), grad_y, grad_bias, accumulate);
    }
}

}  // namespace cuda
}  // namespace dcls
