// A convolution through cuDNN's legacy API (cudnnConvolutionForward / BackwardData /
// BackwardFilter / BackwardBias), see cudnn_conv.h.
//
// Math type: TF32 is an explicit switch of the context. Off (the default), every descriptor is
// set to CUDNN_FMA_MATH, which keeps float32 convolutions off the tensor cores (CUDNN_DEFAULT_MATH
// would let them use TF32 on Ampere and later), and algorithms that need tensor-op math are
// skipped. On, each pass uses the math type cuDNN reports for the chosen algorithm.
// Each pass has its own convolution descriptor, since the math type is a descriptor setting.
// Algorithms: cudnnGet*_v7 (heuristics) or, with the context's benchmark setting, cudnnFind*
// (timed); the first result that succeeded, fits the workspace limit (half the free device
// memory at plan creation) and respects the math setting wins.
#include "cudnn_conv.h"

#include <algorithm>
#include <string>
#include <vector>

#include "cudnn_handle.h"
#include "cudnn_loader.h"

namespace dcls {
namespace cuda {

#ifndef DCLS_CUDA_EMULATION

namespace {

const char *forward_algo_name(cudnnConvolutionFwdAlgo_t a) {
    switch (a) {
        case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM: return "IMPLICIT_GEMM";
        case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM: return "IMPLICIT_PRECOMP_GEMM";
        case CUDNN_CONVOLUTION_FWD_ALGO_GEMM: return "GEMM";
        case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT: return "DIRECT";
        case CUDNN_CONVOLUTION_FWD_ALGO_FFT: return "FFT";
        case CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING: return "FFT_TILING";
        case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD: return "WINOGRAD";
        case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED: return "WINOGRAD_NONFUSED";
        default: return "UNKNOWN";
    }
}

const char *backward_data_algo_name(cudnnConvolutionBwdDataAlgo_t a) {
    switch (a) {
        case CUDNN_CONVOLUTION_BWD_DATA_ALGO_0: return "ALGO_0";
        case CUDNN_CONVOLUTION_BWD_DATA_ALGO_1: return "ALGO_1";
        case CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT: return "FFT";
        case CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING: return "FFT_TILING";
        case CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD: return "WINOGRAD";
        case CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED: return "WINOGRAD_NONFUSED";
        default: return "UNKNOWN";
    }
}

const char *backward_filter_algo_name(cudnnConvolutionBwdFilterAlgo_t a) {
    switch (a) {
        case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0: return "ALGO_0";
        case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1: return "ALGO_1";
        case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT: return "FFT";
        case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3: return "ALGO_3";
        case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED: return "WINOGRAD_NONFUSED";
        case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING: return "FFT_TILING";
        default: return "UNKNOWN";
    }
}

const char *math_name(cudnnMathType_t m) {
    switch (m) {
        case CUDNN_DEFAULT_MATH: return "default";
        case CUDNN_TENSOR_OP_MATH: return "tensor-op";
        case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION: return "tensor-op-conversion";
        case CUDNN_FMA_MATH: return "fma";
        default: return "unknown";
    }
}

// The chosen algorithm of one pass.
template <typename Algo>
struct Choice {
    bool used = false;
    Algo algo{};
    cudnnMathType_t math = CUDNN_FMA_MATH;
    size_t workspace = 0;
    float ms = -1.f;  // measured by cudnnFind*, else -1
};

// Picks the first acceptable result of a cudnnGet*_v7 / cudnnFind* list.
template <typename Perf, typename Algo>
Choice<Algo> pick(const Perf *perf, int count, bool tf32, bool timed, size_t limit, const char *pass) {
    for (int i = 0; i < count; ++i) {
        const Perf &p = perf[i];
        if (p.status != CUDNN_STATUS_SUCCESS || p.memory > limit) continue;
        const bool tensor_op = p.mathType == CUDNN_TENSOR_OP_MATH || p.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
        if (!tf32 && tensor_op) continue;
        Choice<Algo> c;
        c.used = true;
        c.algo = p.algo;
        c.math = tf32 ? p.mathType : CUDNN_FMA_MATH;
        c.ms = timed ? p.time : -1.f;
        return c;
    }
    throw Error(DCLS_ERROR_BACKEND, std::string("cuDNN has no usable ") + pass + " algorithm for this shape");
}

}  // namespace

struct CudnnConv::Impl {
    dcls_cuda_context &ctx;
    ConvGeometry g;
    const CudnnApi &api;
    cudnnHandle_t handle = nullptr;
    cudnnTensorDescriptor_t x_desc = nullptr, y_desc = nullptr, b_desc = nullptr;
    cudnnFilterDescriptor_t w_desc = nullptr;
    cudnnConvolutionDescriptor_t conv_fwd = nullptr, conv_bwd_data = nullptr, conv_bwd_filter = nullptr;
    Choice<cudnnConvolutionFwdAlgo_t> fwd;
    Choice<cudnnConvolutionBwdDataAlgo_t> bwd_data;
    Choice<cudnnConvolutionBwdFilterAlgo_t> bwd_filter;
    DeviceBuffer workspace;
    size_t workspace_bytes = 0;

    Impl(dcls_cuda_context &c, const ConvGeometry &geometry) : ctx(c), g(geometry), api(cudnn()) {}
    ~Impl() {
        if (x_desc) api.cudnnDestroyTensorDescriptor(x_desc);
        if (y_desc) api.cudnnDestroyTensorDescriptor(y_desc);
        if (b_desc) api.cudnnDestroyTensorDescriptor(b_desc);
        if (w_desc) api.cudnnDestroyFilterDescriptor(w_desc);
        if (conv_fwd) api.cudnnDestroyConvolutionDescriptor(conv_fwd);
        if (conv_bwd_data) api.cudnnDestroyConvolutionDescriptor(conv_bwd_data);
        if (conv_bwd_filter) api.cudnnDestroyConvolutionDescriptor(conv_bwd_filter);
    }

    // 4D for 1D and 2D (1D as H = 1), 5D for 3D.
    int dims() const { return g.ndim == 3 ? 5 : 4; }

    void set_tensor(cudnnTensorDescriptor_t desc, int64_t n, int64_t c, const int64_t spatial[3], const char *what) {
        const int nb = dims();
        int d[5], s[5];
        d[0] = cudnn_int(n, what);
        d[1] = cudnn_int(c, what);
        for (int i = 2; i < nb; ++i) d[i] = cudnn_int(spatial[3 - (nb - i)], what);
        int64_t stride = 1;
        for (int i = nb - 1; i >= 0; --i) {
            s[i] = cudnn_int(stride, what);
            stride *= d[i];
        }
        cudnn_int(stride, what);
        check_cudnn(api.cudnnSetTensorNdDescriptor(desc, CUDNN_DATA_FLOAT, nb, d, s), "cudnnSetTensorNdDescriptor");
    }

    void make_conv(cudnnConvolutionDescriptor_t *desc) {
        const int nb = dims();
        int pad[3], stride[3], dilation[3];
        for (int i = 0; i < nb - 2; ++i) {
            const int a = 3 - (nb - 2) + i;
            pad[i] = cudnn_int(g.pad[a], "padding");
            stride[i] = cudnn_int(g.stride[a], "stride");
            dilation[i] = 1;
        }
        check_cudnn(api.cudnnCreateConvolutionDescriptor(desc), "cudnnCreateConvolutionDescriptor");
        check_cudnn(api.cudnnSetConvolutionNdDescriptor(*desc, nb - 2, pad, stride, dilation, CUDNN_CROSS_CORRELATION,
                                                        CUDNN_DATA_FLOAT),
                    "cudnnSetConvolutionNdDescriptor");
        check_cudnn(api.cudnnSetConvolutionGroupCount(*desc, cudnn_int(g.groups, "groups")), "cudnnSetConvolutionGroupCount");
        check_cudnn(api.cudnnSetConvolutionMathType(*desc, ctx.tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH),
                    "cudnnSetConvolutionMathType");
    }

    void setup(Passes passes) {
        handle = cudnn_handle(ctx);
        check_cudnn(api.cudnnCreateTensorDescriptor(&x_desc), "cudnnCreateTensorDescriptor");
        check_cudnn(api.cudnnCreateTensorDescriptor(&y_desc), "cudnnCreateTensorDescriptor");
        check_cudnn(api.cudnnCreateTensorDescriptor(&b_desc), "cudnnCreateTensorDescriptor");
        check_cudnn(api.cudnnCreateFilterDescriptor(&w_desc), "cudnnCreateFilterDescriptor");
        set_tensor(x_desc, g.batch, g.in_channels, g.in, "input");
        set_tensor(y_desc, g.batch, g.out_channels, g.out, "output");
        const int64_t ones[3] = {1, 1, 1};
        set_tensor(b_desc, 1, g.out_channels, ones, "bias");
        const int nb = dims();
        int wd[5];
        wd[0] = cudnn_int(g.out_channels, "out_channels");
        wd[1] = cudnn_int(g.in_channels / g.groups, "in_channels");
        for (int i = 2; i < nb; ++i) wd[i] = cudnn_int(g.k[3 - (nb - i)], "kernel");
        check_cudnn(api.cudnnSetFilterNdDescriptor(w_desc, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, nb, wd),
                    "cudnnSetFilterNdDescriptor");
        make_conv(&conv_fwd);
        make_conv(&conv_bwd_data);
        make_conv(&conv_bwd_filter);

        int out[5];
        check_cudnn(api.cudnnGetConvolutionNdForwardOutputDim(conv_fwd, x_desc, w_desc, nb, out),
                    "cudnnGetConvolutionNdForwardOutputDim");
        for (int i = 2; i < nb; ++i)
            if (out[i] != g.out[3 - (nb - i)])
                throw Error(DCLS_ERROR_INTERNAL, "cuDNN's output size differs from dcls4j's");

        size_t free_bytes = 0, total_bytes = 0;
        check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
        const size_t limit = free_bytes / 2;
        const bool timed = ctx.benchmark;
        const bool tf32 = ctx.tf32;

        if (passes.forward) {
            cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
            int n = 0;
            if (timed)
                check_cudnn(api.cudnnFindConvolutionForwardAlgorithm(handle, x_desc, w_desc, conv_fwd, y_desc,
                                                                     CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf),
                            "cudnnFindConvolutionForwardAlgorithm");
            else
                check_cudnn(api.cudnnGetConvolutionForwardAlgorithm_v7(handle, x_desc, w_desc, conv_fwd, y_desc,
                                                                       CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf),
                            "cudnnGetConvolutionForwardAlgorithm_v7");
            fwd = pick<cudnnConvolutionFwdAlgoPerf_t, cudnnConvolutionFwdAlgo_t>(perf, n, tf32, timed, limit, "forward");
            check_cudnn(api.cudnnSetConvolutionMathType(conv_fwd, fwd.math), "cudnnSetConvolutionMathType");
            check_cudnn(api.cudnnGetConvolutionForwardWorkspaceSize(handle, x_desc, w_desc, conv_fwd, y_desc, fwd.algo,
                                                                    &fwd.workspace),
                        "cudnnGetConvolutionForwardWorkspaceSize");
        }
        if (passes.backward_data) {
            cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
            int n = 0;
            if (timed)
                check_cudnn(api.cudnnFindConvolutionBackwardDataAlgorithm(handle, w_desc, y_desc, conv_bwd_data, x_desc,
                                                                          CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, perf),
                            "cudnnFindConvolutionBackwardDataAlgorithm");
            else
                check_cudnn(api.cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, w_desc, y_desc, conv_bwd_data, x_desc,
                                                                            CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, perf),
                            "cudnnGetConvolutionBackwardDataAlgorithm_v7");
            bwd_data = pick<cudnnConvolutionBwdDataAlgoPerf_t, cudnnConvolutionBwdDataAlgo_t>(perf, n, tf32, timed, limit,
                                                                                              "backward-data");
            check_cudnn(api.cudnnSetConvolutionMathType(conv_bwd_data, bwd_data.math), "cudnnSetConvolutionMathType");
            check_cudnn(api.cudnnGetConvolutionBackwardDataWorkspaceSize(handle, w_desc, y_desc, conv_bwd_data, x_desc,
                                                                         bwd_data.algo, &bwd_data.workspace),
                        "cudnnGetConvolutionBackwardDataWorkspaceSize");
        }
        if (passes.backward_weights) {
            cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
            int n = 0;
            if (timed)
                check_cudnn(api.cudnnFindConvolutionBackwardFilterAlgorithm(handle, x_desc, y_desc, conv_bwd_filter, w_desc,
                                                                            CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, perf),
                            "cudnnFindConvolutionBackwardFilterAlgorithm");
            else
                check_cudnn(api.cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, x_desc, y_desc, conv_bwd_filter, w_desc,
                                                                              CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, perf),
                            "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
            bwd_filter = pick<cudnnConvolutionBwdFilterAlgoPerf_t, cudnnConvolutionBwdFilterAlgo_t>(
                perf, n, tf32, timed, limit, "backward-weights");
            check_cudnn(api.cudnnSetConvolutionMathType(conv_bwd_filter, bwd_filter.math), "cudnnSetConvolutionMathType");
            check_cudnn(api.cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, x_desc, y_desc, conv_bwd_filter, w_desc,
                                                                           bwd_filter.algo, &bwd_filter.workspace),
                        "cudnnGetConvolutionBackwardFilterWorkspaceSize");
        }
    }

    void require_pass(bool used, const char *pass) const {
        if (!used) throw Error(DCLS_ERROR_INTERNAL, std::string("cuDNN ") + pass + " pass was not set up");
    }
};

CudnnConv::CudnnConv(dcls_cuda_context &ctx, const ConvGeometry &g, Passes passes) : impl_(new Impl(ctx, g)) {
    impl_->setup(passes);
}

CudnnConv::~CudnnConv() = default;

void CudnnConv::allocate_workspace(Passes used) {
    Impl &p = *impl_;
    size_t bytes = 0;
    if (used.forward && p.fwd.used) bytes = std::max(bytes, p.fwd.workspace);
    if (used.backward_data && p.bwd_data.used) bytes = std::max(bytes, p.bwd_data.workspace);
    if (used.backward_weights && p.bwd_filter.used) bytes = std::max(bytes, p.bwd_filter.workspace);
    p.workspace.reset();
    if (bytes > 0) p.workspace.allocate(p.ctx, bytes);
    p.workspace_bytes = bytes;
}

void CudnnConv::forward(const float *x, const float *w, const float *bias, float *y) {
    Impl &p = *impl_;
    p.require_pass(p.fwd.used, "forward");
    const float one = 1.f, zero = 0.f;
    check_cudnn(p.api.cudnnConvolutionForward(p.handle, &one, p.x_desc, x, p.w_desc, w, p.conv_fwd, p.fwd.algo,
                                              p.workspace.get(), p.workspace_bytes, &zero, p.y_desc, y),
                "cudnnConvolutionForward");
    if (bias) check_cudnn(p.api.cudnnAddTensor(p.handle, &one, p.b_desc, bias, &one, p.y_desc, y), "cudnnAddTensor");
}

void CudnnConv::backward_data(const float *grad_y, const float *w, float *grad_x) {
    Impl &p = *impl_;
    p.require_pass(p.bwd_data.used, "backward-data");
    const float one = 1.f, zero = 0.f;
    check_cudnn(p.api.cudnnConvolutionBackwardData(p.handle, &one, p.w_desc, w, p.y_desc, grad_y, p.conv_bwd_data,
                                                   p.bwd_data.algo, p.workspace.get(), p.workspace_bytes, &zero,
                                                   p.x_desc, grad_x),
                "cudnnConvolutionBackwardData");
}

void CudnnConv::backward_weights(const float *x, const float *grad_y, float *grad_w, float *grad_bias,
                                 bool accumulate) {
    Impl &p = *impl_;
    p.require_pass(p.bwd_filter.used, "backward-weights");
    const float one = 1.f, beta = accumulate ? 1.f : 0.f;
    check_cudnn(p.api.cudnnConvolutionBackwardFilter(p.handle, &one, p.x_desc, x, p.y_desc, grad_y, p.conv_bwd_filter,
                                                     p.bwd_filter.algo, p.workspace.get(), p.workspace_bytes, &beta,
                                                     p.w_desc, grad_w),
                "cudnnConvolutionBackwardFilter");
    if (grad_bias)
        check_cudnn(p.api.cudnnConvolutionBackwardBias(p.handle, &one, p.y_desc, grad_y, &beta, p.b_desc, grad_bias),
                    "cudnnConvolutionBackwardBias");
}

std::string CudnnConv::forward_info() const {
    return std::string("cudnn:") + forward_algo_name(impl_->fwd.algo) + "(" + math_name(impl_->fwd.math) + ")";
}
std::string CudnnConv::backward_data_info() const {
    return std::string("cudnn:") + backward_data_algo_name(impl_->bwd_data.algo) + "(" + math_name(impl_->bwd_data.math) + ")";
}
std::string CudnnConv::backward_weights_info() const {
    return std::string("cudnn:") + backward_filter_algo_name(impl_->bwd_filter.algo) + "(" +
           math_name(impl_->bwd_filter.math) + ")";
}
float CudnnConv::forward_ms() const { return impl_->fwd.ms; }
float CudnnConv::backward_data_ms() const { return impl_->bwd_data.ms; }
float CudnnConv::backward_weights_ms() const { return impl_->bwd_filter.ms; }

void CudnnConv::destroy_handle(dcls_cuda_context &ctx) noexcept {
    if (!ctx.cudnn) return;
    try {
        cudnn().cudnnDestroy(static_cast<cudnnHandle_t>(ctx.cudnn));
    } catch (...) {
    }
    ctx.cudnn = nullptr;
}

#else  // DCLS_CUDA_EMULATION: no cuDNN

struct CudnnConv::Impl {};

CudnnConv::CudnnConv(dcls_cuda_context &, const ConvGeometry &, Passes) {
    throw Error(DCLS_ERROR_BACKEND,
                "no cuDNN in the CPU emulation of CUDA: only depthwise convolutions (groups == in_channels) run there");
}
CudnnConv::~CudnnConv() = default;
void CudnnConv::allocate_workspace(Passes) {}
void CudnnConv::forward(const float *, const float *, const float *, float *) {}
void CudnnConv::backward_data(const float *, const float *, float *) {}
void CudnnConv::backward_weights(const float *, const float *, float *, float *, bool) {}
std::string CudnnConv::forward_info() const { return ""; }
std::string CudnnConv::backward_data_info() const { return ""; }
std::string CudnnConv::backward_weights_info() const { return ""; }
float CudnnConv::forward_ms() const { return -1.f; }
float CudnnConv::backward_data_ms() const { return -1.f; }
float CudnnConv::backward_weights_ms() const { return -1.f; }
void CudnnConv::destroy_handle(dcls_cuda_context &ctx) noexcept { ctx.cudnn = nullptr; }

#endif

}  // namespace cuda
}  // namespace dcls
