// A convolution plan: the engine list (conv_engine_list.cpp) picks, once, an engine per pass for
// the whole kernel; everything those engines need (oneDNN primitives, packing buffers, scratch)
// is made then, and a call only runs the pass's engine.
//
// Kernel windows. Given a box of kernel cells outside which the kernel is 0, the passes run a
// plan for just the box when that pays (windowed_conv.cpp); the engines for the whole kernel
// stay, for when the box grows again.
//
// Kernel cells. Given the construction's cells (kernel_cells.h), the box is set as above, and then
// each pass runs the tap-sparse engine (sparse_conv.h) where the cost model says it beats the
// box's or the whole kernel's engine (prefer_sparse, conv_engine_list.cpp). Positions move during
// training, so the choice is made again at every call, with the same engines.
#include "conv_plan.h"

#include <algorithm>
#include <memory>
#include <string>

#include "conv_engine.h"
#include "conv_engine_list.h"
#include "conv_geometry.h"
#include "kernel_cells.h"
#include "sparse_conv.h"
#include "windowed_conv.h"

namespace dcls {

struct ConvPlan::Impl {
    dcls_conv_desc d{};
    int64_t out[3] = {1, 1, 1};
    EngineSelection whole;  // for the whole kernel
    // The kernel window, when one is set and pays.
    std::unique_ptr<WindowedConv> window;
    bool windowed = false;
    // The kernel cells, and the passes the tap-sparse engine runs on them.
    KernelCells cells;
    std::unique_ptr<SparseConv> sparse;
    bool sparse_pass[kPassCount] = {false, false, false};
    ConvEngine *active[kPassCount] = {nullptr, nullptr, nullptr};
    std::string info;

    explicit Impl(const dcls_conv_desc &desc) : d(desc), whole(select_engines(desc)) {
        conv_output_size(d, out);
        update();
    }

    // Points each pass at its engine now, and describes the choice.
    void update() {
        info.clear();
        for (int p = 0; p < kPassCount; ++p) {
            active[p] = sparse_pass[p] ? sparse.get() : windowed ? static_cast<ConvEngine *>(window.get()) : whole.pass[p];
            info += std::string(p ? " " : "") + pass_name(Pass(p)) + "=" + active[p]->info(Pass(p));
        }
    }
};

ConvPlan::ConvPlan(const dcls_conv_desc &desc) : impl_(new Impl(desc)) {}

ConvPlan::~ConvPlan() = default;

const dcls_conv_desc &ConvPlan::desc() const { return impl_->d; }

const int64_t *ConvPlan::output_size() const { return impl_->out; }

const std::string &ConvPlan::info() const { return impl_->info; }

std::string ConvPlan::info(Pass pass) const { return impl_->active[int(pass)]->info(pass); }

double ConvPlan::speed(Pass pass) const { return impl_->active[int(pass)]->speed(pass); }

void ConvPlan::set_kernel_window(const int64_t lo[3], const int64_t hi[3]) {
    Impl &p = *impl_;
    if (!p.window) p.window = std::make_unique<WindowedConv>(p.d);
    p.windowed = p.window->set_window(lo, hi);
    std::fill(p.sparse_pass, p.sparse_pass + kPassCount, false);
    p.update();
}

void ConvPlan::set_kernel_cells(const dcls_construct_desc &desc, const float *positions, const float *sigma,
                                bool gradient) {
    Impl &p = *impl_;
    kernel_cells_cpu(desc, positions, sigma, gradient, p.cells);
    if (!p.window) p.window = std::make_unique<WindowedConv>(p.d);
    p.windowed = p.window->set_window(p.cells.lo, p.cells.hi);
    // The dense engines' multiply-adds: the box's cells for every pair, image and output.
    double dense_macs = double(p.d.batch) * double(p.d.out_channels) * double(p.d.in_channels / p.d.groups);
    for (int i = 0; i < p.d.ndim; ++i)
        dense_macs *= double(p.out[i]) * double(p.windowed ? p.cells.hi[i] - p.cells.lo[i] : p.d.kernel_size[i]);
    bool any = false;
    for (int q = 0; q < kPassCount; ++q) {
        const Pass pass = Pass(q);
        p.sparse_pass[q] = false;
        if (!sparse_allowed() || (pass == Pass::BackwardWeights && !gradient)) continue;
        if (!p.sparse) p.sparse = std::make_unique<SparseConv>(p.d);
        const ConvEngine &dense = p.windowed ? *p.window : *p.whole.pass[q];
        p.sparse_pass[q] = prefer_sparse(pass, *p.sparse, p.cells.count(), dense, dense_macs);
        any = any || p.sparse_pass[q];
    }
    // The non-zero lists only when the engine runs (they cost a pass over the cells).
    if (any) {
        kernel_cells_fill(p.cells);
        p.sparse->set_cells(p.cells, p.sparse_pass[int(Pass::BackwardData)]);
    }
    p.update();
}

void ConvPlan::forward(const float *x, const float *kernel, const float *bias, float *y) {
    impl_->active[int(Pass::Forward)]->forward(x, kernel, bias, y);
}

void ConvPlan::backward_data(const float *grad_y, const float *kernel, float *grad_x) {
    impl_->active[int(Pass::BackwardData)]->backward_data(grad_y, kernel, grad_x);
}

void ConvPlan::backward_weights(const float *x, const float *grad_y, float *grad_kernel, float *grad_bias,
                                bool accumulate) {
    impl_->active[int(Pass::BackwardWeights)]->backward_weights(x, grad_y, grad_kernel, grad_bias, accumulate);
}

}  // namespace dcls
