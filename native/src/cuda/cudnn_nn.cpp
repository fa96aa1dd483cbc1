// The layers' ops through cuDNN's legacy API (cudnnPoolingForward, cudnnBatchNormalization*,
// cudnnSoftmaxForward), see cudnn_nn.h; nn_engine.h says where they run and why there only.
#include "cudnn_nn.h"

#include <string>
#include <vector>

#include "cudnn_handle.h"
#include "cudnn_loader.h"

namespace dcls {
namespace cuda {

#ifndef DCLS_CUDA_EMULATION

namespace {

// A dense float tensor descriptor of the given dims (C order), destroyed with its owner.
class TensorDesc {
public:
    TensorDesc(const CudnnApi &api, const std::vector<int64_t> &dims) : api_(api) {
        check_cudnn(api.cudnnCreateTensorDescriptor(&desc_), "cudnnCreateTensorDescriptor");
        std::vector<int> d(dims.size()), s(dims.size());
        int64_t stride = 1;
        for (size_t i = dims.size(); i-- > 0;) {
            d[i] = cudnn_int(dims[i], "tensor size");
            s[i] = cudnn_int(stride, "tensor size");
            stride *= dims[i];
        }
        cudnn_int(stride, "tensor size");
        check_cudnn(api.cudnnSetTensorNdDescriptor(desc_, CUDNN_DATA_FLOAT, int(dims.size()), d.data(), s.data()),
                    "cudnnSetTensorNdDescriptor");
    }
    ~TensorDesc() {
        if (desc_) api_.cudnnDestroyTensorDescriptor(desc_);
    }
    TensorDesc(const TensorDesc &) = delete;
    TensorDesc &operator=(const TensorDesc &) = delete;
    cudnnTensorDescriptor_t get() const { return desc_; }

private:
    const CudnnApi &api_;
    cudnnTensorDescriptor_t desc_ = nullptr;
};

void require_group(bool present, const char *group) {
    if (!present) throw Error(DCLS_ERROR_BACKEND, std::string("the loaded cuDNN lacks its ") + group + " functions");
}

}  // namespace

// ---- average pooling, forward

struct CudnnPoolForward::Impl {
    const CudnnApi &api;
    cudnnHandle_t handle;
    std::unique_ptr<TensorDesc> x_desc, y_desc;
    cudnnPoolingDescriptor_t pool = nullptr;

    Impl(dcls_cuda_context &ctx, const dcls::nn::PoolGeometry &g) : api(cudnn()), handle(nullptr) {
        require_group(api.pooling, "pooling");
        require(g.kind != DCLS_POOL_MAX, "max pooling does not run on cuDNN");
        handle = cudnn_handle(ctx);
        // 1D and 2D as 4D (N, 1, h, w) with h = 1 for 1D; 3D as 5D: the geometry's unused axes are 1.
        const int spatial = g.in[0] > 1 || g.k[0] > 1 || g.pad[0] > 0 ? 3 : 2;
        const int first = 3 - spatial;
        std::vector<int64_t> xd = {g.planes, 1}, yd = {g.planes, 1};
        int window[3], padding[3], stride[3];
        for (int a = first; a < 3; ++a) {
            xd.push_back(g.in[a]);
            yd.push_back(g.out[a]);
            window[a - first] = cudnn_int(g.k[a], "kernel");
            padding[a - first] = cudnn_int(g.pad[a], "padding");
            stride[a - first] = cudnn_int(g.stride[a], "stride");
        }
        x_desc.reset(new TensorDesc(api, xd));
        y_desc.reset(new TensorDesc(api, yd));
        check_cudnn(api.cudnnCreatePoolingDescriptor(&pool), "cudnnCreatePoolingDescriptor");
        const cudnnPoolingMode_t mode = g.kind == DCLS_POOL_AVG_INCLUDE_PADDING
                                            ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                            : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
        check_cudnn(api.cudnnSetPoolingNdDescriptor(pool, mode, CUDNN_NOT_PROPAGATE_NAN, spatial, window, padding,
                                                    stride),
                    "cudnnSetPoolingNdDescriptor");
        int out[5];
        check_cudnn(api.cudnnGetPoolingNdForwardOutputDim(pool, x_desc->get(), spatial + 2, out),
                    "cudnnGetPoolingNdForwardOutputDim");
        for (int i = 0; i < spatial + 2; ++i)
            if (out[i] != int(yd[size_t(i)]))
                throw Error(DCLS_ERROR_INTERNAL, "cuDNN's pooling output size differs from dcls4j's");
    }
    ~Impl() {
        if (pool) api.cudnnDestroyPoolingDescriptor(pool);
    }
};

CudnnPoolForward::CudnnPoolForward(dcls_cuda_context &ctx, const dcls::nn::PoolGeometry &g) : impl_(new Impl(ctx, g)) {}
CudnnPoolForward::~CudnnPoolForward() = default;

void CudnnPoolForward::forward(const float *x, float *y) {
    Impl &p = *impl_;
    const float one = 1.f, zero = 0.f;
    check_cudnn(p.api.cudnnPoolingForward(p.handle, p.pool, &one, p.x_desc->get(), x, &zero, p.y_desc->get(), y),
                "cudnnPoolingForward");
}

// ---- batch normalisation

struct CudnnBatchNorm::Impl {
    const CudnnApi &api;
    cudnnHandle_t handle = nullptr;
    double eps;
    TensorDesc x_desc, c_desc;  // (B, C, S, 1) and (1, C, 1, 1)

    Impl(dcls_cuda_context &ctx, nn::ChannelShape s, float e)
        : api(cudnn()),
          eps(e),
          x_desc(api, {s.batch, s.channels, s.inner, 1}),
          c_desc(api, {1, s.channels, 1, 1}) {
        require_group(api.batch_norm, "batch normalisation");
        require(eps >= cudnn_api::kBnMinEpsilon, "eps below cuDNN's CUDNN_BN_MIN_EPSILON");
        handle = cudnn_handle(ctx);
    }
};

CudnnBatchNorm::CudnnBatchNorm(dcls_cuda_context &ctx, nn::ChannelShape s, float eps) : impl_(new Impl(ctx, s, eps)) {}
CudnnBatchNorm::~CudnnBatchNorm() = default;

void CudnnBatchNorm::forward_training(const float *x, const float *weight, const float *bias, float momentum,
                                      float *running_mean, float *running_var, float *y, float *mean, float *rstd) {
    Impl &p = *impl_;
    const float one = 1.f, zero = 0.f;
    // exponentialAverageFactor is torch's momentum: running = (1 - factor) running + factor batch.
    check_cudnn(p.api.cudnnBatchNormalizationForwardTraining(
                    p.handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero, p.x_desc.get(), x, p.x_desc.get(), y,
                    p.c_desc.get(), weight, bias, double(momentum), running_mean, running_var, p.eps, mean, rstd),
                "cudnnBatchNormalizationForwardTraining");
}

void CudnnBatchNorm::forward_inference(const float *x, const float *weight, const float *bias,
                                       const float *running_mean, const float *running_var, float *y) {
    Impl &p = *impl_;
    const float one = 1.f, zero = 0.f;
    check_cudnn(p.api.cudnnBatchNormalizationForwardInference(p.handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero,
                                                              p.x_desc.get(), x, p.x_desc.get(), y, p.c_desc.get(),
                                                              weight, bias, running_mean, running_var, p.eps),
                "cudnnBatchNormalizationForwardInference");
}

void CudnnBatchNorm::backward(const float *x, const float *grad_y, const float *weight, const float *mean,
                              const float *rstd, float *grad_x, float *grad_weight, float *grad_bias,
                              bool accumulate) {
    Impl &p = *impl_;
    const float one = 1.f, zero = 0.f;
    // grad_x overwritten (beta 0); grad_weight and grad_bias blended with beta 1 to accumulate.
    check_cudnn(p.api.cudnnBatchNormalizationBackward(p.handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one,
                                                      accumulate ? &one : &zero, p.x_desc.get(), x, p.x_desc.get(),
                                                      grad_y, p.x_desc.get(), grad_x, p.c_desc.get(), weight,
                                                      grad_weight, grad_bias, p.eps, mean, rstd),
                "cudnnBatchNormalizationBackward");
}

// ---- log-softmax

struct CudnnLogSoftmax::Impl {
    const CudnnApi &api;
    cudnnHandle_t handle = nullptr;
    TensorDesc desc;  // (B, classes, 1, 1): INSTANCE mode takes each n over C, H, W

    Impl(dcls_cuda_context &ctx, int64_t batch, int64_t classes) : api(cudnn()), desc(api, {batch, classes, 1, 1}) {
        require_group(api.softmax, "softmax");
        handle = cudnn_handle(ctx);
    }
};

CudnnLogSoftmax::CudnnLogSoftmax(dcls_cuda_context &ctx, int64_t batch, int64_t classes)
    : impl_(new Impl(ctx, batch, classes)) {}
CudnnLogSoftmax::~CudnnLogSoftmax() = default;

void CudnnLogSoftmax::forward(const float *logits, float *log_probs) {
    Impl &p = *impl_;
    const float one = 1.f, zero = 0.f;
    check_cudnn(p.api.cudnnSoftmaxForward(p.handle, CUDNN_SOFTMAX_LOG, CUDNN_SOFTMAX_MODE_INSTANCE, &one,
                                          p.desc.get(), logits, &zero, p.desc.get(), log_probs),
                "cudnnSoftmaxForward");
}

#else  // DCLS_CUDA_EMULATION: no cuDNN

namespace {
[[noreturn]] void no_cudnn() { throw Error(DCLS_ERROR_BACKEND, "no cuDNN in the CPU emulation of CUDA"); }
}  // namespace

struct CudnnPoolForward::Impl {};
CudnnPoolForward::CudnnPoolForward(dcls_cuda_context &, const dcls::nn::PoolGeometry &) { no_cudnn(); }
CudnnPoolForward::~CudnnPoolForward() = default;
void CudnnPoolForward::forward(const float *, float *) { no_cudnn(); }

struct CudnnBatchNorm::Impl {};
CudnnBatchNorm::CudnnBatchNorm(dcls_cuda_context &, nn::ChannelShape, float) { no_cudnn(); }
CudnnBatchNorm::~CudnnBatchNorm() = default;
void CudnnBatchNorm::forward_training(const float *, const float *, const float *, float, float *, float *, float *,
                                      float *, float *) {
    no_cudnn();
}
void CudnnBatchNorm::forward_inference(const float *, const float *, const float *, const float *, const float *,
                                       float *) {
    no_cudnn();
}
void CudnnBatchNorm::backward(const float *, const float *, const float *, const float *, const float *, float *,
                              float *, float *, bool) {
    no_cudnn();
}

struct CudnnLogSoftmax::Impl {};
CudnnLogSoftmax::CudnnLogSoftmax(dcls_cuda_context &, int64_t, int64_t) { no_cudnn(); }
CudnnLogSoftmax::~CudnnLogSoftmax() = default;
void CudnnLogSoftmax::forward(const float *, float *) { no_cudnn(); }

#endif

}  // namespace cuda
}  // namespace dcls
