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
// Kernel cells. Given the construction's cells (kernel_cells.h, listed on the host from the
// positions), their box is set as a kernel window, and each pass runs the tap-sparse engine
// (sparse_conv_cuda.h) where the context's sparse mode and the cost model (prefer_sparse) choose it;
// the choice is made again at every call, as positions move during training.
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
#include "kernel_cells_cuda.h"
#include "padding_cuda.h"
#include "sparse_conv_cuda.h"

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

    for (int p = 0; p < 3; ++p) {
        engine_[p] = use_depthwise[p] ? Engine::Depthwise : cudnn_ ? Engine::Cudnn : Engine::Direct;
        std::string &what = what_[p];
        if (engine_[p] == Engine::Depthwise)
            what = p == 0 ? depthwise_->forward_info() : p == 1 ? depthwise_->backward_data_info()
                                                                  : depthwise_->backward_weights_info();
        else if (engine_[p] == Engine::Cudnn)
            what = p == 0 ? cudnn_->forward_info() : p == 1 ? cudnn_->backward_data_info() : cudnn_->backward_weights_info();
        else
            what = DirectConv::info();
    }
    tail_.clear();
    if (direct_) tail_ += " (no cuDNN: " + cudnn_error + ")";
    if (explicit_padding_) tail_ += " padding=explicit";
    compose_info();
}

void ConvPlanCuda::compose_info() {
    info_.clear();
    for (int p = 0; p < 3; ++p)
        info_ += std::string(p ? " " : "") + kPassNames[p] + "=" + (sparse_pass_[p] ? sparse_->info() : what_[p]);
    info_ += tail_ + window_info_;
}

void ConvPlanCuda::set_kernel_window(const int64_t lo[3], const int64_t hi[3]) {
    for (bool &sparse : sparse_pass_) sparse = false;  // the cells no longer hold
    apply_window(lo, hi);
    compose_info();
}

void ConvPlanCuda::apply_window(const int64_t lo[3], const int64_t hi[3]) {
    Window &w = window_;
    const int lead = 3 - d_.ndim;
    bool whole = true, same = true;
    for (int a = 0; a < 3; ++a) {
        const int i = a - lead;
        const int64_t box_lo = i >= 0 ? lo[i] : 0, box_size = i >= 0 ? hi[i] - lo[i] : 1;
        same = same && w.lo[a] == box_lo && w.size[a] == box_size;
        w.lo[a] = box_lo;
        w.size[a] = box_size;
        whole = whole && box_lo == 0 && box_size == g_.k[a];
    }
    // The same box again (kernel cells are set at every training step): keep what was made for it.
    if (same && (w.on || whole)) return;
    auto runs = [&](Engine e) { return engine_[0] == e || engine_[1] == e || engine_[2] == e; };
    const bool any_depthwise = runs(Engine::Depthwise), any_direct = runs(Engine::Direct);
    w.on = false;
    w.depthwise.reset();
    w.sub.reset();
    if (direct_) {
        const int64_t all_lo[3] = {0, 0, 0};
        direct_->set_window(all_lo, g_.k);
    }
    window_info_.clear();
    // cuDNN's passes keep the whole kernel: a window there would be a second cuDNN convolution
    // (descriptors, algorithm search, workspace) per box, made again whenever the box changes
    // during training, and untestable here (no cuDNN in the emulation).
    if (whole || !(any_depthwise || any_direct)) return;
    if (any_depthwise) {
        // The convolution with the box as its kernel: the same output, the input shifted by lo.
        ConvGeometry gw = g_;
        for (int a = 0; a < 3; ++a) {
            gw.k[a] = w.size[a];
            gw.pad[a] = g_.pad[a] - w.lo[a];
        }
        w.depthwise.reset(new DepthwiseConv(ctx_, gw));
        w.sub.allocate(ctx_, size_t(g_.out_channels * gw.k_volume()) * sizeof(float));
    }
    if (any_direct) direct_->set_window(w.lo, w.size);  // loops over the box, no gathered copy
    w.on = true;
    window_info_ = " window=";
    for (int i = 0; i < d_.ndim; ++i)
        window_info_ += (i ? "x" : "") + std::string("[") + std::to_string(lo[i]) + "," + std::to_string(hi[i]) + ")";
    if (any_depthwise) window_info_ += " window_backward_weights=" + w.depthwise->backward_weights_info();
}

// The cost model (AUTO mode). Per output element (forward), input element (backward data) or
// output position (backward weights), the tap-sparse kernels do one multiply-add per cell of the
// pair, the dense engine one per cell of its box (the window, or the whole kernel for cuDNN, which
// takes no window). A sparse tap costs more than a dense one: its cell is read from the list and
// decoded into kernel offsets, and the input reads it makes follow the cells, where cuDNN's and the
// depthwise kernels' tiles read contiguous rows through shared memory. We count a sparse tap as
// kSparseTapCost dense taps against those engines, and as 2 against the direct convolution (the
// same loops over the box, without the list). Both factors are unmeasured on hardware (the engine
// was written and tested over the CPU emulation only): a guess, meant to be replaced by timings
// (benchmark mode times the depthwise kernels the same way). With DCLS's kernels the choice is
// rarely close: a learnable-delay kernel of 4 bilinear taps has at most 8 cells in a box of
// hundreds.
bool ConvPlanCuda::prefer_sparse(int p, double per_pair) const {
    constexpr double kSparseTapCost = 4.0;
    const bool windowed = window_.on && engine_[p] != Engine::Cudnn;
    const double dense_taps = windowed ? double(window_.size[0] * window_.size[1] * window_.size[2])
                                       : double(g_.k_volume());
    const double cost = engine_[p] == Engine::Direct ? 2.0 : kSparseTapCost;
    return per_pair * cost <= dense_taps;
}

void ConvPlanCuda::set_kernel_cells(const dcls_construct_desc &desc, const float *positions, const float *sigma,
                                    bool gradient, bool host) {
    if (!cells_) cells_.reset(new HostKernelCells());
    if (host) cells_->count_host(desc, positions, sigma, gradient);
    else cells_->count(ctx_.stream, desc, positions, sigma, gradient);
    const KernelCells &cells = cells_->cells();
    apply_window(cells.lo, cells.hi);
    const int mode = ctx_.sparse_mode;
    const double per_pair = cells.pairs > 0 ? double(cells.count()) / double(cells.pairs) : 0.0;
    bool any = false;
    for (int p = 0; p < 3; ++p) {
        sparse_pass_[p] = mode != DCLS_CUDA_SPARSE_NEVER && (p != 2 || gradient) &&
                          (mode == DCLS_CUDA_SPARSE_ALWAYS || prefer_sparse(p, per_pair));
        any = any || sparse_pass_[p];
    }
    // The lists only when the engine runs (they cost a pass over the cells and an upload).
    if (any) {
        cells_->fill();
        if (!sparse_) sparse_.reset(new SparseConvCuda(ctx_, g_));
        sparse_->set_cells(cells_->cells());
    }
    compose_info();
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
    if (sparse_pass_[0]) sparse_->forward(in, kernel, bias, y);
    else if (engine_[0] == Engine::Depthwise && window_.on) window_.depthwise->forward(in, window_kernel(kernel), bias, y);
    else if (engine_[0] == Engine::Depthwise) depthwise_->forward(in, kernel, bias, y);
    else if (engine_[0] == Engine::Direct) direct_->forward(in, kernel, bias, y);
    else cudnn_->forward(in, kernel, bias, y);
}

void ConvPlanCuda::backward_data(const float *grad_y, const float *kernel, float *grad_x) {
    float *out = explicit_padding_ ? pad_buf_.floats() : grad_x;
    if (sparse_pass_[1]) sparse_->backward_data(grad_y, kernel, out);
    else if (engine_[1] == Engine::Depthwise && window_.on) window_.depthwise->backward_data(grad_y, window_kernel(kernel), out);
    else if (engine_[1] == Engine::Depthwise) depthwise_->backward_data(grad_y, kernel, out);
    else if (engine_[1] == Engine::Direct) direct_->backward_data(grad_y, kernel, out);
    else cudnn_->backward_data(grad_y, kernel, out);
    if (explicit_padding_)
        pad_backward(ctx_.stream, pad_shape_, static_cast<dcls_padding_mode>(d_.padding_mode), pad_buf_.floats(), grad_x);
}

void ConvPlanCuda::backward_weights(const float *x, const float *grad_y, float *grad_kernel, float *grad_bias,
                                    bool accumulate) {
    const float *in = padded_input(x);
    if (sparse_pass_[2]) {
        sparse_->backward_weights(in, grad_y, grad_kernel, grad_bias, accumulate);
    } else if (engine_[2] == Engine::Depthwise && window_.on) {
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
