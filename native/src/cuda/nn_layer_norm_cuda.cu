// Layer normalisation over the channel axis of (B, C, S). One thread per column (b, s): the C
// values of a column are S floats apart, so neighbouring threads read neighbouring floats when S > 1
// (ConvNeXt's channels-first layout). Two passes (mean, then the squared deviations), as accurate
// as the CPU's. The statistics alone (no y) serve a LayerNorm fused into the next Linear's GEMM,
// which normalises as it loads x (nn_linear_cuda.cu): the same kernel and formula, so the same
// mean and rstd. The per-channel gradients are one block per channel over (B, S), in a fixed order.
#include <cmath>

#include "block_cuda.h"
#include "nn_cuda.h"

namespace dcls {
namespace cuda {
namespace nn {
namespace {

// WritesY false: mean and rstd only (weight, bias and y unused).
template <bool WritesY>
__global__ void layer_norm_forward_kernel(ChannelShape s, float eps, const float *x, const float *weight,
                                          const float *bias, float *y, float *mean_out, float *rstd_out) {
    const int64_t columns = s.batch * s.inner;
    for (int64_t col = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; col < columns;
         col += int64_t(gridDim.x) * blockDim.x) {
        const int64_t b = col / s.inner, j = col % s.inner;
        const float *xc = x + b * s.channels * s.inner + j;
        float sum = 0.f;
        for (int64_t c = 0; c < s.channels; ++c) sum += xc[c * s.inner];
        const float mean = sum / float(s.channels);
        float squares = 0.f;
        for (int64_t c = 0; c < s.channels; ++c) {
            const float d = xc[c * s.inner] - mean;
            squares += d * d;
        }
        const float rstd = 1.f / sqrtf(squares / float(s.channels) + eps);
        if (WritesY) {
            float *yc = y + b * s.channels * s.inner + j;
            for (int64_t c = 0; c < s.channels; ++c)
                yc[c * s.inner] = (xc[c * s.inner] - mean) * rstd * weight[c] + bias[c];
        }
        mean_out[col] = mean;
        rstd_out[col] = rstd;
    }
}

// grad_x = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = grad_y * weight, over the column's C values.
__global__ void layer_norm_grad_x_kernel(ChannelShape s, const float *x, const float *mean_in, const float *rstd_in,
                                         const float *grad_y, const float *weight, float *grad_x) {
    const int64_t columns = s.batch * s.inner;
    for (int64_t col = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; col < columns;
         col += int64_t(gridDim.x) * blockDim.x) {
        const int64_t offset = (col / s.inner) * s.channels * s.inner + col % s.inner;
        const float *xc = x + offset;
        const float *gc = grad_y + offset;
        const float mean = mean_in[col], rstd = rstd_in[col];
        float g_sum = 0.f, gx_sum = 0.f;
        for (int64_t c = 0; c < s.channels; ++c) {
            const float g = gc[c * s.inner] * weight[c];
            g_sum += g;
            gx_sum += g * (xc[c * s.inner] - mean) * rstd;
        }
        const float g_mean = g_sum / float(s.channels), gx_mean = gx_sum / float(s.channels);
        float *out = grad_x + offset;
        for (int64_t c = 0; c < s.channels; ++c) {
            const float xhat = (xc[c * s.inner] - mean) * rstd;
            out[c * s.inner] = rstd * (gc[c * s.inner] * weight[c] - g_mean - xhat * gx_mean);
        }
    }
}

// grad_weight[c] = sum over (b, s) of grad_y * xhat; grad_bias[c] = sum of grad_y. A block per channel.
__global__ void layer_norm_grad_params_kernel(ChannelShape s, const float *x, const float *mean_in,
                                              const float *rstd_in, const float *grad_y, float *grad_weight,
                                              float *grad_bias, int accumulate) {
    __shared__ float partial[kBlock];
    const int64_t columns = s.batch * s.inner;
    for (int64_t c = blockIdx.x; c < s.channels; c += gridDim.x) {
        float gw = 0.f, gb = 0.f;
        for (int64_t col = threadIdx.x; col < columns; col += blockDim.x) {
            const int64_t i = (col / s.inner) * s.channels * s.inner + c * s.inner + col % s.inner;
            const float g = grad_y[i];
            gw += g * (x[i] - mean_in[col]) * rstd_in[col];
            gb += g;
        }
        gw = block_sum(gw, partial);
        gb = block_sum(gb, partial);
        if (threadIdx.x == 0) {
            grad_weight[c] = accumulate ? grad_weight[c] + gw : gw;
            grad_bias[c] = accumulate ? grad_bias[c] + gb : gb;
        }
    }
}

}  // namespace

void layer_norm_forward(cudaStream_t stream, ChannelShape s, float eps, const float *x, const float *weight,
                        const float *bias, float *y, float *mean, float *rstd) {
    const int64_t columns = s.batch * s.inner;
    if (columns == 0 || s.channels == 0) return;
    DCLS_LAUNCH(layer_norm_forward_kernel<true>, grid_for(columns), kBlock, 0, stream)(s, eps, x, weight, bias, y,
                                                                                       mean, rstd);
    check_launch("layer_norm_forward_kernel");
}

void layer_norm_statistics(cudaStream_t stream, ChannelShape s, float eps, const float *x, float *mean, float *rstd) {
    const int64_t columns = s.batch * s.inner;
    if (columns == 0 || s.channels == 0) return;
    DCLS_LAUNCH(layer_norm_forward_kernel<false>, grid_for(columns), kBlock, 0, stream)(s, eps, x, nullptr, nullptr,
                                                                                        nullptr, mean, rstd);
    check_launch("layer_norm_forward_kernel (statistics)");
}

void layer_norm_backward(cudaStream_t stream, ChannelShape s, const float *x, const float *mean, const float *rstd,
                         const float *grad_y, const float *weight, float *grad_x, float *grad_weight,
                         float *grad_bias, bool accumulate) {
    const int64_t columns = s.batch * s.inner;
    if (s.channels == 0) return;
    if (columns > 0) {
        DCLS_LAUNCH(layer_norm_grad_x_kernel, grid_for(columns), kBlock, 0, stream)(s, x, mean, rstd, grad_y, weight,
                                                                                    grad_x);
        check_launch("layer_norm_grad_x_kernel");
    }
    const int blocks = int(std::min<int64_t>(s.channels, 1 << 20));
    DCLS_LAUNCH(layer_norm_grad_params_kernel, blocks, kBlock, 0, stream)(s, x, mean, rstd, grad_y, grad_weight,
                                                                          grad_bias, accumulate ? 1 : 0);
    check_launch("layer_norm_grad_params_kernel");
}

}  // namespace nn
}  // namespace cuda
}  // namespace dcls
