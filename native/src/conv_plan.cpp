// A convolution plan: the engine list (conv_engine_list.cpp) picks, once, an engine per pass for
// the whole kernel; everything those engines need (oneDNN primitives, packing buffers, scratch)
// is made then, and a call only runs the pass's engine.
//
// Kernel windows. Given a box of kernel cells outside which the kernel is 0, the passes run a
// plan for just the box when that pays (windowed_conv.cpp); the engines for the whole kernel
// stay, for when the box grows again.
#include "conv_plan.h"

#include <memory>
#include <string>

#include "conv_engine.h"
#include "conv_engine_list.h"
#include "windowed_conv.h"

namespace dcls {

struct ConvPlan::Impl {
    dcls_conv_desc d{};
    int64_t out[3] = {1, 1, 1};
    EngineSelection whole;  // for the whole kernel
    // The kernel window, when one is set and pays.
    std::unique_ptr<WindowedConv> window;
    bool windowed = false;
    ConvEngine *active[kPassCount] = {nullptr, nullptr, nullptr};
    std::string info;

    explicit Impl(const dcls_conv_desc &desc) : d(desc), whole(select_engines(desc)) {
        for (int i = 0; i < d.ndim; ++i)
            out[i] = (d.input_size[i] + 2 * d.padding[i] - d.kernel_size[i]) / d.stride[i] + 1;
        update();
    }

    // Points each pass at its engine now, and describes the choice.
    void update() {
        info.clear();
        for (int p = 0; p < kPassCount; ++p) {
            active[p] = windowed ? static_cast<ConvEngine *>(window.get()) : whole.pass[p];
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

void ConvPlan::set_kernel_window(const int64_t lo[3], const int64_t hi[3]) {
    Impl &p = *impl_;
    if (!p.window) p.window = std::make_unique<WindowedConv>(p.d);
    p.windowed = p.window->set_window(lo, hi);
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
