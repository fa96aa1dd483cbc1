// A convolution whose kernel is known to be 0 outside a box of cells (dcls_conv_plan_set_kernel_window):
// each pass runs a plan for just the box, on a window of the padded input.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "conv_engine.h"
#include "cpu_kernels_common.h"
#include "dcls.h"
#include "padding.h"

namespace dcls {

class ConvPlan;

class WindowedConv final : public ConvEngine {
public:
    explicit WindowedConv(const dcls_conv_desc &full);
    ~WindowedConv() override;
    WindowedConv(const WindowedConv &) = delete;
    WindowedConv &operator=(const WindowedConv &) = delete;

    // Sets the box [lo, hi) (validated by the caller). Returns whether running on it pays (and
    // then makes the box's plan, if it has none cached); if not, the caller runs its whole-kernel
    // engines and this object does nothing.
    bool set_window(const int64_t lo[3], const int64_t hi[3]);

    // Every pass, on the box set last (which must pay); info: "dcls:window(5x5)>" and the box
    // plan's engine for the pass.
    bool takes(Pass) const override { return true; }
    std::string info(Pass pass) const override;
    double speed(Pass pass) const override;  // the box plan's engine's
    void forward(const float *x, const float *kernel, const float *bias, float *y) override;
    void backward_data(const float *grad_y, const float *kernel, float *grad_x) override;
    // grad_kernel outside the box: 0 when overwriting, left as it is when accumulating.
    void backward_weights(const float *x, const float *grad_y, float *grad_kernel, float *grad_bias,
                          bool accumulate) override;

private:
    // The plan of one box size (the box's position only moves the input window).
    struct Inner;

    Inner &inner();
    void crop_kernel(const float *kernel);
    // The window of the padded input the current inner plan reads.
    PadWindow input_window() const;
    dcls_padding_mode mode() const { return static_cast<dcls_padding_mode>(full_.padding_mode); }

    dcls_conv_desc full_;
    int64_t lo_[3] = {0, 0, 0}, len_[3] = {1, 1, 1};
    std::vector<std::unique_ptr<Inner>> plans_;  // most recently used last
    AlignedArray<float> x_window_, kernel_box_;
    size_t x_window_size_ = 0, kernel_box_size_ = 0;
};

}  // namespace dcls
