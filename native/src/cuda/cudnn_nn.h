// The layers' ops through cuDNN's legacy API, where nn_engine.h chooses them: average pooling's
// forward pass, batch normalisation (training and evaluation forward, backward after a training
// forward) and the cross-entropy's log-softmax. float32, NCHW, on the context's stream and cuDNN
// handle. Constructing one throws dcls::Error (DCLS_ERROR_BACKEND) when cuDNN lacks the op or
// rejects the shape; in the CPU emulation of CUDA (DCLS_CUDA_EMULATION) always: no cuDNN there.
#pragma once

#include <cstdint>
#include <memory>

#include "cuda_common.h"
#include "nn_cuda.h"

namespace dcls {
namespace cuda {

// Average pooling's forward pass (cudnnPoolingForward): planes as N, one channel, (d,) h, w.
class CudnnPoolForward {
public:
    CudnnPoolForward(dcls_cuda_context &ctx, const dcls::nn::PoolGeometry &g);
    ~CudnnPoolForward();
    CudnnPoolForward(const CudnnPoolForward &) = delete;
    CudnnPoolForward &operator=(const CudnnPoolForward &) = delete;

    void forward(const float *x, float *y);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Batch normalisation of (B, C, S) as (B, C, S, 1), CUDNN_BATCHNORM_SPATIAL. mean and rstd (C) are
// the statistics of the last training forward (cuDNN's saved mean and inverse standard deviation,
// the same quantities as dcls4j's kernels keep).
class CudnnBatchNorm {
public:
    CudnnBatchNorm(dcls_cuda_context &ctx, nn::ChannelShape s, float eps);
    ~CudnnBatchNorm();
    CudnnBatchNorm(const CudnnBatchNorm &) = delete;
    CudnnBatchNorm &operator=(const CudnnBatchNorm &) = delete;

    void forward_training(const float *x, const float *weight, const float *bias, float momentum, float *running_mean,
                          float *running_var, float *y, float *mean, float *rstd);
    void forward_inference(const float *x, const float *weight, const float *bias, const float *running_mean,
                           const float *running_var, float *y);
    void backward(const float *x, const float *grad_y, const float *weight, const float *mean, const float *rstd,
                  float *grad_x, float *grad_weight, float *grad_bias, bool accumulate);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// log_probs (B, classes) = the log-softmax of each row of logits (CUDNN_SOFTMAX_LOG, INSTANCE).
class CudnnLogSoftmax {
public:
    CudnnLogSoftmax(dcls_cuda_context &ctx, int64_t batch, int64_t classes);
    ~CudnnLogSoftmax();
    CudnnLogSoftmax(const CudnnLogSoftmax &) = delete;
    CudnnLogSoftmax &operator=(const CudnnLogSoftmax &) = delete;

    void forward(const float *logits, float *log_probs);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace cuda
}  // namespace dcls
