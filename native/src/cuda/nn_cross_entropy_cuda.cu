// Cross-entropy with label smoothing on logits (B, classes), as torch.nn.CrossEntropyLoss with
// reduction "mean": a thread per sample computes its log-softmax (max-shifted) and its loss, then
// one block takes the mean in a fixed order. The backward pass is (softmax - target) / B.
#include <cmath>

#include "block_cuda.h"
#include "nn_cuda.h"

namespace dcls {
namespace cuda {
namespace nn {
namespace {

__global__ void log_softmax_loss_kernel(int64_t batch, int64_t classes, const float *logits, const int32_t *labels,
                                        float smoothing, float *log_probs, float *row_loss) {
    for (int64_t b = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; b < batch; b += int64_t(gridDim.x) * blockDim.x)
    {
        const float *row = logits + b * classes;
        float top = row[0];
        for (int64_t k = 1; k < classes; ++k) top = fmaxf(top, row[k]);
        float total = 0.f;
        for (int64_t k = 0; k < classes; ++k) total += expf(row[k] - top);
        const float log_total = logf(total) + top;
        float *lp = log_probs + b * classes;
        float all = 0.f;
        for (int64_t k = 0; k < classes; ++k) {
            lp[k] = row[k] - log_total;
            all += lp[k];
        }
        row_loss[b] = -(1.f - smoothing) * lp[labels[b]] - smoothing * all / float(classes);
    }
}

// The per-sample losses from log-probabilities already computed (cuDNN's log-softmax).
__global__ void loss_from_log_probs_kernel(int64_t batch, int64_t classes, const float *log_probs,
                                           const int32_t *labels, float smoothing, float *row_loss) {
    for (int64_t b = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; b < batch; b += int64_t(gridDim.x) * blockDim.x)
    {
        const float *lp = log_probs + b * classes;
        float all = 0.f;
        for (int64_t k = 0; k < classes; ++k) all += lp[k];
        row_loss[b] = -(1.f - smoothing) * lp[labels[b]] - smoothing * all / float(classes);
    }
}

__global__ void mean_kernel(int64_t count, const float *values, float *mean) {
    __shared__ float partial[kBlock];
    float v = 0.f;
    for (int64_t i = threadIdx.x; i < count; i += blockDim.x) v += values[i];
    const float total = block_sum(v, partial);
    if (threadIdx.x == 0) *mean = total / float(count);
}

__global__ void cross_entropy_backward_kernel(int64_t batch, int64_t classes, const float *log_probs,
                                              const int32_t *labels, float smoothing, float *grad) {
    const int64_t count = batch * classes;
    const float off = smoothing / float(classes), inv_batch = 1.f / float(batch);
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x)
    {
        const int64_t b = i / classes, k = i % classes;
        const float target = off + (k == labels[b] ? 1.f - smoothing : 0.f);
        grad[i] = (expf(log_probs[i]) - target) * inv_batch;
    }
}

}  // namespace

void cross_entropy_forward(cudaStream_t stream, int64_t batch, int64_t classes, const float *logits,
                           const int32_t *labels, float label_smoothing, float *log_probs, float *row_loss,
                           float *loss) {
    DCLS_LAUNCH(log_softmax_loss_kernel, grid_for(batch), kBlock, 0, stream)(batch, classes, logits, labels,
                                                                             label_smoothing, log_probs, row_loss);
    check_launch("log_softmax_loss_kernel");
    DCLS_LAUNCH(mean_kernel, 1, kBlock, 0, stream)(batch, row_loss, loss);
    check_launch("mean_kernel");
}

void cross_entropy_backward(cudaStream_t stream, int64_t batch, int64_t classes, const float *log_probs,
                            const int32_t *labels, float label_smoothing, float *grad_logits) {
    DCLS_LAUNCH(cross_entropy_backward_kernel, grid_for(batch * classes), kBlock, 0, stream)(
        batch, classes, log_probs, labels, label_smoothing, grad_logits);
    check_launch("cross_entropy_backward_kernel");
}

void cross_entropy_loss(cudaStream_t stream, int64_t batch, int64_t classes, const float *log_probs,
                        const int32_t *labels, float label_smoothing, float *row_loss, float *loss) {
    DCLS_LAUNCH(loss_from_log_probs_kernel, grid_for(batch), kBlock, 0, stream)(batch, classes, log_probs, labels,
                                                                                label_smoothing, row_loss);
    check_launch("loss_from_log_probs_kernel");
    DCLS_LAUNCH(mean_kernel, 1, kBlock, 0, stream)(batch, row_loss, loss);
    check_launch("mean_kernel");
}

}  // namespace nn
}  // namespace cuda
}  // namespace dcls
