// Batch normalisation over (B, S) for each channel of (B, C, S), as torch.nn.BatchNormNd. Training:
// a block per channel takes the batch mean and variance (two passes, fixed-order sums), updates
// the running statistics (the unbiased variance, as torch) and normalises the channel. Evaluation:
// an element-wise pass with the running statistics. Backward: a block per channel; the batch
// statistics' terms only after a training forward.
#include <cmath>

#include "block_cuda.h"
#include "nn_cuda.h"

namespace dcls {
namespace cuda {
namespace nn {
namespace {

// The offset of element j (over B * S) of channel c.
__device__ inline int64_t at(const ChannelShape &s, int64_t c, int64_t j) {
    return (j / s.inner) * s.channels * s.inner + c * s.inner + j % s.inner;
}

__global__ void batch_norm_train_kernel(ChannelShape s, float eps, float momentum, const float *x,
                                        const float *weight, const float *bias, float *running_mean,
                                        float *running_var, float *y, float *mean_out, float *rstd_out) {
    __shared__ float partial[kBlock];
    const int64_t m = s.batch * s.inner;
    for (int64_t c = blockIdx.x; c < s.channels; c += gridDim.x) {
        float v = 0.f;
        for (int64_t j = threadIdx.x; j < m; j += blockDim.x) v += x[at(s, c, j)];
        const float mean = block_sum(v, partial) / float(m);
        v = 0.f;
        for (int64_t j = threadIdx.x; j < m; j += blockDim.x) {
            const float d = x[at(s, c, j)] - mean;
            v += d * d;
        }
        const float var = block_sum(v, partial) / float(m);
        const float rstd = 1.f / sqrtf(var + eps);
        const float scale = weight[c] * rstd, shift = bias[c] - mean * scale;
        for (int64_t j = threadIdx.x; j < m; j += blockDim.x) y[at(s, c, j)] = x[at(s, c, j)] * scale + shift;
        if (threadIdx.x == 0) {
            mean_out[c] = mean;
            rstd_out[c] = rstd;
            const float unbias = m > 1 ? float(m) / float(m - 1) : 1.f;
            running_mean[c] = (1 - momentum) * running_mean[c] + momentum * mean;
            running_var[c] = (1 - momentum) * running_var[c] + momentum * var * unbias;
        }
    }
}

// The running statistics as the plan's mean and rstd, for the evaluation forward and its backward.
__global__ void batch_norm_running_kernel(int64_t channels, float eps, const float *running_mean,
                                          const float *running_var, float *mean_out, float *rstd_out) {
    for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < channels; c += int64_t(gridDim.x) * blockDim.x)
    {
        mean_out[c] = running_mean[c];
        rstd_out[c] = 1.f / sqrtf(running_var[c] + eps);
    }
}

__global__ void batch_norm_eval_kernel(ChannelShape s, const float *x, const float *weight, const float *bias,
                                       const float *mean, const float *rstd, float *y) {
    const int64_t total = s.batch * s.channels * s.inner;
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x)
    {
        const int64_t c = (i / s.inner) % s.channels;
        y[i] = (x[i] - mean[c]) * rstd[c] * weight[c] + bias[c];
    }
}

__global__ void batch_norm_backward_kernel(ChannelShape s, int batch_stats, const float *x, const float *grad_y,
                                           const float *weight, const float *mean_in, const float *rstd_in,
                                           float *grad_x, float *grad_weight, float *grad_bias, int accumulate) {
    __shared__ float partial[kBlock];
    const int64_t m = s.batch * s.inner;
    for (int64_t c = blockIdx.x; c < s.channels; c += gridDim.x) {
        const float mean = mean_in[c], rstd = rstd_in[c];
        float g = 0.f, gx = 0.f;
        for (int64_t j = threadIdx.x; j < m; j += blockDim.x) {
            const int64_t i = at(s, c, j);
            g += grad_y[i];
            gx += grad_y[i] * (x[i] - mean) * rstd;
        }
        const float sum_g = block_sum(g, partial), sum_gx = block_sum(gx, partial);
        const float k = weight[c] * rstd;
        const float g_mean = batch_stats ? sum_g / float(m) : 0.f, gx_mean = batch_stats ? sum_gx / float(m) : 0.f;
        for (int64_t j = threadIdx.x; j < m; j += blockDim.x) {
            const int64_t i = at(s, c, j);
            grad_x[i] = k * (grad_y[i] - g_mean - (x[i] - mean) * rstd * gx_mean);
        }
        if (threadIdx.x == 0) {
            grad_weight[c] = accumulate ? grad_weight[c] + sum_gx : sum_gx;
            grad_bias[c] = accumulate ? grad_bias[c] + sum_g : sum_g;
        }
    }
}

int channel_blocks(int64_t channels) { return int(std::min<int64_t>(channels, 1 << 20)); }

}  // namespace

void batch_norm_forward(cudaStream_t stream, ChannelShape s, float eps, float momentum, bool training, const float *x,
                        const float *weight, const float *bias, float *running_mean, float *running_var, float *y,
                        float *mean, float *rstd) {
    if (s.channels == 0) return;
    if (training) {
        DCLS_LAUNCH(batch_norm_train_kernel, channel_blocks(s.channels), kBlock, 0, stream)(
            s, eps, momentum, x, weight, bias, running_mean, running_var, y, mean, rstd);
        check_launch("batch_norm_train_kernel");
        return;
    }
    DCLS_LAUNCH(batch_norm_running_kernel, grid_for(s.channels), kBlock, 0, stream)(s.channels, eps, running_mean,
                                                                                    running_var, mean, rstd);
    check_launch("batch_norm_running_kernel");
    const int64_t total = s.batch * s.channels * s.inner;
    if (total == 0) return;
    DCLS_LAUNCH(batch_norm_eval_kernel, grid_for(total), kBlock, 0, stream)(s, x, weight, bias, mean, rstd, y);
    check_launch("batch_norm_eval_kernel");
}

void batch_norm_backward(cudaStream_t stream, ChannelShape s, bool batch_stats, const float *x, const float *grad_y,
                         const float *weight, const float *mean, const float *rstd, float *grad_x, float *grad_weight,
                         float *grad_bias, bool accumulate) {
    if (s.channels == 0) return;
    DCLS_LAUNCH(batch_norm_backward_kernel, channel_blocks(s.channels), kBlock, 0, stream)(
        s, batch_stats ? 1 : 0, x, grad_y, weight, mean, rstd, grad_x, grad_weight, grad_bias, accumulate ? 1 : 0);
    check_launch("batch_norm_backward_kernel");
}

void batch_norm_running_stats(cudaStream_t stream, int64_t channels, float eps, const float *running_mean,
                              const float *running_var, float *mean, float *rstd) {
    if (channels == 0) return;
    DCLS_LAUNCH(batch_norm_running_kernel, grid_for(channels), kBlock, 0, stream)(channels, eps, running_mean,
                                                                                  running_var, mean, rstd);
    check_launch("batch_norm_running_kernel");
}

}  // namespace nn
}  // namespace cuda
}  // namespace dcls
