// A convolution plan on a CUDA context (see conv_plan_cuda.h).
//
// Engines. dcls4j's depthwise kernels apply when groups == in_channels. Per the context's
// depthwise mode:
//   NEVER  - cuDNN for every pass;
//   ALWAYS - the depthwise kernels for every pass of a depthwise shape;
//   AUTO   - with benchmark off, the depthwise kernels for large depthwise kernels (volume >= 49
//            or an axis >= 7: DCLS's dilated kernels) and cuDNN otherwise; with benchmark on,
//            whichever of the two is faster, per pass, timed now.
// Where cuDNN is unavailable (not loadable; always in the CPU emulation), depthwise shapes fall back to the
// depthwise kernels in AUTO mode, and every other pass to the direct convolution (direct_conv_cuda.h):
// slow, but no shape is refused for want of cuDNN. Its info says "dcls:direct".
//
// Padding. Zero padding is the convolution's own. Reflect, replicate and circular pad the input
// into a scratch buffer first; backward data computes the gradient of the padded input there and
// folds it back. Every pass is enqueued on the context's stream, so the buffer is never used by
// two passes at once.
#include "conv_plan_cuda.h"

#include <algorithm>
#include <string>

#include "../conv_geometry.h"
#include "cudnn_conv.h"
#include "depthwise_cuda.h"
#include "direct_conv_cuda.h"
#include "padding_cuda.h"

namespace dcls {
namespace cuda {

namespace {

const char *const kPassNames[3] = {"forward", "backward_data", "backward_weights"};

bool large_kernel(const ConvGeometry &g) {
    return g.k_volume() >= 49 || std::max({g.k[0], g.k[1], g.k[2]}) >= 7;
}

// Milliseconds per call of `body` on the stream: one warm-up, then the mean of `reps`.
template <typename Body>
float time_ms(cudaStream_t stream, int reps, Body body) {
    cudaEvent_t start = nullptr, stop = nullptr;
    check(cudaEventCreate(&start), "cudaEventCreate");
    const cudaError_t e = cudaEventCreate(&stop);
    if (e != cudaSuccess) {
        cudaEventDestroy(start);
        check(e, "cudaEventCreate");
    }
    float ms = 0.f;
    try {
        body();
        check(cudaEventRecord(start, stream), "cudaEventRecord");
        for (int i = 0; i < reps; ++i) body();
        check(cudaEventRecord(stop, stream), "cudaEventRecord");
        check(cudaEventSynchronize(stop), "cudaEventSynchronize");
        check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    } catch (...) {
        cudaEventDestroy(start);
        cudaEventDestroy(stop);
        throw;
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return ms / float(reps);
}

}  // namespace

ConvPlanCuda::ConvPlanCuda(dcls_cuda_context &ctx, const dcls_conv_desc &desc) : ctx_(ctx), d_(desc) {
    explicit_padding_ = d_.padding_mode != DCLS_PADDING_ZEROS;
    g_.ndim = d_.ndim;
    g_.batch = d_.batch;
    g_.in_channels = d_.in_channels;
    g_.out_channels = d_.out_channels;
    g_.groups = d_.groups;
    const int lead = 3 - d_.ndim;
    pad_shape_.ndim = d_.ndim;
    pad_shape_.planes = d_.batch * d_.in_channels;
    for (int i = 0; i < d_.ndim; ++i) {
        out_[i] = conv_output_length(d_.input_size[i], d_.padding[i], d_.kernel_size[i], d_.stride[i]);
        const int a = lead + i;
        g_.in[a] = explicit_padding_ ? d_.input_size[i] + 2 * d_.padding[i] : d_.input_size[i];
        g_.out[a] = out_[i];
        g_.k[a] = d_.kernel_size[i];
        g_.stride[a] = d_.stride[i];
        g_.pad[a] = explicit_padding_ ? 0 : d_.padding[i];
        pad_shape_.size[i] = d_.input_size[i];
        pad_shape_.pad[i] = d_.padding[i];
    }
    if (explicit_padding_) pad_buf_.allocate(ctx_, size_t(g_.batch * g_.in_channels * g_.in_plane()) * sizeof(float));
    choose_engines();
}

ConvPlanCuda::~ConvPlanCuda() = default;

void ConvPlanCuda::choose_engines() {
    const bool eligible = DepthwiseConv::eligible(g_);
    const int mode = ctx_.depthwise_mode;
    bool use_depthwise[3] = {false, false, false};
    std::string cudnn_error;

    auto make_cudnn = [&]() {
        try {
            cudnn_.reset(new CudnnConv(ctx_, g_, CudnnConv::Passes{}));
        } catch (const Error &e) {
            cudnn_error = e.what();
        }
    };

    if (eligible && mode == DCLS_CUDA_DEPTHWISE_ALWAYS) {
        use_depthwise[0] = use_depthwise[1] = use_depthwise[2] = true;
    } else if (eligible && mode == DCLS_CUDA_DEPTHWISE_AUTO) {
        if (ctx_.benchmark) {
            make_cudnn();
            depthwise_.reset(new DepthwiseConv(ctx_, g_));
            float ours[3];
            time_depthwise(ours);
            const float theirs[3] = {cudnn_ ? cudnn_->forward_ms() : -1.f, cudnn_ ? cudnn_->backward_data_ms() : -1.f,
                                     cudnn_ ? cudnn_->backward_weights_ms() : -1.f};
            for (int p = 0; p < 3; ++p) use_depthwise[p] = !cudnn_ || theirs[p] < 0.f || ours[p] <= theirs[p];
        } else if (large_kernel(g_)) {
            use_depthwise[0] = use_depthwise[1] = use_depthwise[2] = true;
        } else {
            make_cudnn();
            if (!cudnn_) use_depthwise[0] = use_depthwise[1] = use_depthwise[2] = true;  // no cuDNN: ours
        }
    } else {
        make_cudnn();
    }

    const bool any_depthwise = use_depthwise[0] || use_depthwise[1] || use_depthwise[2];
    const bool any_other = !(use_depthwise[0] && use_depthwise[1] && use_depthwise[2]);
    if (any_depthwise && !depthwise_) depthwise_.reset(new DepthwiseConv(ctx_, g_));
    if (!any_depthwise) depthwise_.reset();
    if (any_other && !cudnn_) make_cudnn();
    if (any_other && !cudnn_) direct_.reset(new DirectConv(ctx_, g_));  // cuDNN missing: cudnn_error says why
    if (!any_other) cudnn_.reset();
    if (cudnn_) cudnn_->allocate_workspace(CudnnConv::Passes{!use_depthwise[0], !use_depthwise[1], !use_depthwise[2]});

    info_.clear();
    for (int p = 0; p < 3; ++p) {
        engine_[p] = use_depthwise[p] ? Engine::Depthwise : cudnn_ ? Engine::Cudnn : Engine::Direct;
        std::string what;
        if (engine_[p] == Engine::Depthwise)
            what = p == 0 ? depthwise_->forward_info() : p == 1 ? depthwise_->backward_data_info()
                                                                  : depthwise_->backward_weights_info();
        else if (engine_[p] == Engine::Cudnn)
            what = p == 0 ? cudnn_->forward_info() : p == 1 ? cudnn_->backward_data_info() : cudnn_->backward_weights_info();
        else
            what = DirectConv::info();
        info_ += std::string(p ? " " : "") + kPassNames[p] + "=" + what;
    }
    if (direct_) info_ += " (no cuDNN: " + cudnn_error + ")";
    if (explicit_padding_) info_ += " padding=explicit";
    base_info_ = info_;
}

void ConvPlanCuda::set_kernel_window(const int64_t lo[3], const int64_t hi[3]) {
    Window &w = window_;
    const int lead = 3 - d_.ndim;
    bool whole = true;
    for (int a = 0; a < 3; ++a) {
        const int i = a - lead;
        w.lo[a] = i >= 0 ? lo[i] : 0;
        w.size[a] = i >= 0 ? hi[i] - lo[i] : 1;
        whole = whole && w.lo[a] == 0 && w.size[a] == g_.k[a];
    }
    const bool any_depthwise =
        engine_[0] == Engine::Depthwise || engine_[1] == Engine::Depthwise || engine_[2] == Engine::Depthwise;
    w.on = false;
    w.depthwise.reset();
    w.sub.reset();
    info_ = base_info_;
    if (whole || !any_depthwise) return;
    // The convolution with the box as its kernel: the same output, the input shifted by lo.
    ConvGeometry gw = g_;
    for (int a = 0; a < 3; ++a) {
        gw.k[a] = w.size[a];
        gw.pad[a] = g_.pad[a] - w.lo[a];
    }
    w.depthwise.reset(new DepthwiseConv(ctx_, gw));
    w.sub.allocate(ctx_, size_t(g_.out_channels * gw.k_volume()) * sizeof(float));
    w.on = true;
    info_ += " window=";
    for (int i = 0; i < d_.ndim; ++i)
        info_ += (i ? "x" : "") + std::string("[") + std::to_string(lo[i]) + "," + std::to_string(hi[i]) + ")";
    info_ += " window_backward_weights=" + w.depthwise->backward_weights_info();
}

const float *ConvPlanCuda::window_kernel(const float *kernel) {
    kernel_window_gather(ctx_.stream, g_.out_channels, g_.k, window_.lo, window_.size, kernel, window_.sub.floats());
    return window_.sub.floats();
}

void ConvPlanCuda::time_depthwise(float ms[3]) {
    const size_t x_count = size_t(g_.batch * g_.in_channels * g_.in_plane());
    const size_t y_count = size_t(g_.batch * g_.out_channels * g_.out_plane());
    const size_t w_count = size_t(g_.out_channels * g_.k_volume());
    DeviceBuffer x, y, w;
    x.allocate(ctx_, x_count * sizeof(float));
    y.allocate(ctx_, y_count * sizeof(float));
    w.allocate(ctx_, w_count * sizeof(float));
    check(cudaMemsetAsync(x.get(), 0, x_count * sizeof(float), ctx_.stream), "cudaMemsetAsync");
    check(cudaMemsetAsync(y.get(), 0, y_count * sizeof(float), ctx_.stream), "cudaMemsetAsync");
    check(cudaMemsetAsync(w.get(), 0, w_count * sizeof(float), ctx_.stream), "cudaMemsetAsync");
    DepthwiseConv &dw = *depthwise_;
    ms[0] = time_ms(ctx_.stream, 3, [&] { dw.forward(x.floats(), w.floats(), nullptr, y.floats()); });
    ms[1] = time_ms(ctx_.stream, 3, [&] { dw.backward_data(y.floats(), w.floats(), x.floats()); });
    ms[2] = time_ms(ctx_.stream, 3, [&] { dw.backward_weights(x.floats(), y.floats(), w.floats(), nullptr, false); });
}

const float *ConvPlanCuda::padded_input(const float *x) {
    if (!explicit_padding_) return x;
    pad_forward(ctx_.stream, pad_shape_, static_cast<dcls_padding_mode>(d_.padding_mode), x, pad_buf_.floats());
    return pad_buf_.floats();
}

void ConvPlanCuda::forward(const float *x, const float *kernel, const float *bias, float *y) {
    const float *in = padded_input(x);
    if (engine_[0] == Engine::Depthwise && window_.on) window_.depthwise->forward(in, window_kernel(kernel), bias, y);
    else if (engine_[0] == Engine::Depthwise) depthwise_->forward(in, kernel, bias, y);
    else if (engine_[0] == Engine::Direct) direct_->forward(in, kernel, bias, y);
    else cudnn_->forward(in, kernel, bias, y);
}

void ConvPlanCuda::backward_data(const float *grad_y, const float *kernel, float *grad_x) {
    float *out = explicit_padding_ ? pad_buf_.floats() : grad_x;
    if (engine_[1] == Engine::Depthwise && window_.on) window_.depthwise->backward_data(grad_y, window_kernel(kernel), out);
    else if (engine_[1] == Engine::Depthwise) depthwise_->backward_data(grad_y, kernel, out);
    else if (engine_[1] == Engine::Direct) direct_->backward_data(grad_y, kernel, out);
    else cudnn_->backward_data(grad_y, kernel, out);
    if (explicit_padding_)
        pad_backward(ctx_.stream, pad_shape_, static_cast<dcls_padding_mode>(d_.padding_mode), pad_buf_.floats(), grad_x);
}

void ConvPlanCuda::backward_weights(const float *x, const float *grad_y, float *grad_kernel, float *grad_bias,
                                    bool accumulate) {
    const float *in = padded_input(x);
    if (engine_[2] == Engine::Depthwise && window_.on) {
        // The box's gradient into sub (from 0 when accumulating, for the bias's sake), then into
        // grad_kernel, 0 outside the box (accumulating: unchanged outside).
        Window &w = window_;
        if (accumulate) check(cudaMemsetAsync(w.sub.get(), 0, w.sub.size(), ctx_.stream), "cudaMemsetAsync");
        w.depthwise->backward_weights(in, grad_y, w.sub.floats(), grad_bias, accumulate);
        kernel_window_scatter(ctx_.stream, g_.out_channels, g_.k, w.lo, w.size, w.sub.floats(), grad_kernel, accumulate);
    } else if (engine_[2] == Engine::Depthwise) {
        depthwise_->backward_weights(in, grad_y, grad_kernel, grad_bias, accumulate);
    } else if (engine_[2] == Engine::Direct) {
        direct_->backward_weights(in, grad_y, grad_kernel, grad_bias, accumulate);
    } else {
        cudnn_->backward_weights(in, grad_y, grad_kernel, grad_bias, accumulate);
    }
}

}  // namespace cuda
}  // namespace dcls
