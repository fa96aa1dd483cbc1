// Passes over a box of kernel cells. Output o of axis i reads the padded input at o * s + t
// for kernel cells t; with the kernel 0 outside [lo, hi), that is a convolution, without padding,
// of the kernel's box (w = hi - lo cells) over the window of the padded input that starts at
// lo - pad and spans (out - 1) * s + w cells:
//   forward           y = conv(window(x), box(K)) + bias
//   backward data     grad_x = window^T(conv^T(grad_y, box(K)))   (the fold of padding.cpp)
//   backward weights  box(grad_K) = conv_w(window(x), grad_y)
// The window copy costs a pass over the input, so a box pays only when it is a good deal smaller
// than the kernel (kMaxFraction). Inner plans are cached per box size (its position only moves
// the window), a few at a time: positions drift slowly during training.
#include "windowed_conv.h"

#include <algorithm>
#include <cstring>

#include "conv_geometry.h"
#include "conv_plan.h"
#include "padding.h"

namespace dcls {

namespace {

constexpr size_t kMaxPlans = 4;
constexpr double kMaxFraction = 0.6;

dcls_conv_desc inner_desc(const dcls_conv_desc &full, const int64_t out[3], const int64_t len[3]) {
    dcls_conv_desc d = full;
    d.padding_mode = DCLS_PADDING_ZEROS;
    for (int i = 0; i < d.ndim; ++i) {
        d.kernel_size[i] = len[i];
        d.input_size[i] = (out[i] - 1) * d.stride[i] + len[i];
        d.padding[i] = 0;
    }
    return d;
}

// Copies between a kernel (pairs, k...) and its box (pairs, w...); `add` accumulates into the kernel.
void copy_box(const dcls_conv_desc &d, const int64_t lo[3], const int64_t len[3], const float *from, float *to,
              bool to_box, bool add) {
    int64_t k[3] = {1, 1, 1}, l[3] = {0, 0, 0}, w[3] = {1, 1, 1};
    for (int i = 0; i < d.ndim; ++i) {
        k[3 - d.ndim + i] = d.kernel_size[i];
        l[3 - d.ndim + i] = lo[i];
        w[3 - d.ndim + i] = len[i];
    }
    const int64_t pairs = d.out_channels * (d.in_channels / d.groups);
    const int64_t area = k[0] * k[1] * k[2], box = w[0] * w[1] * w[2];
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < pairs; ++p)
        for (int64_t z = 0; z < w[0]; ++z)
            for (int64_t y = 0; y < w[1]; ++y) {
                float *kr = const_cast<float *>(to_box ? from : to) + p * area + ((l[0] + z) * k[1] + l[1] + y) * k[2] + l[2];
                float *br = const_cast<float *>(to_box ? to : from) + p * box + (z * w[1] + y) * w[2];
                if (to_box) std::memcpy(br, kr, sizeof(float) * w[2]);
                else if (add)
                    for (int64_t x = 0; x < w[2]; ++x) kr[x] += br[x];
                else std::memcpy(kr, br, sizeof(float) * w[2]);
            }
}

}  // namespace

struct WindowedConv::Inner {
    int64_t len[3];
    ConvPlan plan;
    Inner(const int64_t l[3], const dcls_conv_desc &d) : len{l[0], l[1], l[2]}, plan(d) {}
};

WindowedConv::WindowedConv(const dcls_conv_desc &full) : full_(full) {}

WindowedConv::~WindowedConv() = default;

bool WindowedConv::set_window(const int64_t lo[3], const int64_t hi[3]) {
    double fraction = 1.0;
    for (int i = 0; i < 3; ++i) {
        lo_[i] = i < full_.ndim ? lo[i] : 0;
        len_[i] = i < full_.ndim ? hi[i] - lo[i] : 1;
        if (i < full_.ndim) fraction *= double(len_[i]) / double(full_.kernel_size[i]);
    }
    if (fraction > kMaxFraction) return false;
    inner();
    return true;
}

double WindowedConv::speed(Pass pass) const { return plans_.back()->plan.speed(pass); }

std::string WindowedConv::info(Pass pass) const {
    std::string box;
    for (int i = 0; i < full_.ndim; ++i) box += (i ? "x" : "") + std::to_string(len_[i]);
    return "dcls:window(" + box + ")>" + plans_.back()->plan.info(pass);
}

WindowedConv::Inner &WindowedConv::inner() {
    auto same = [&](const std::unique_ptr<Inner> &e) {
        return std::equal(e->len, e->len + 3, len_);
    };
    auto it = std::find_if(plans_.begin(), plans_.end(), same);
    if (it != plans_.end()) {
        std::rotate(it, it + 1, plans_.end());
    } else {
        if (plans_.size() == kMaxPlans) plans_.erase(plans_.begin());
        int64_t out[3];
        conv_output_size(full_, out);
        plans_.push_back(std::make_unique<Inner>(len_, inner_desc(full_, out, len_)));
    }
    Inner &in = *plans_.back();
    const dcls_conv_desc &d = in.plan.desc();
    size_t x_size = size_t(d.batch * d.in_channels), k_size = size_t(d.out_channels * (d.in_channels / d.groups));
    for (int i = 0; i < d.ndim; ++i) {
        x_size *= size_t(d.input_size[i]);
        k_size *= size_t(d.kernel_size[i]);
    }
    if (x_size > x_window_size_) {
        x_window_.allocate(x_size);
        x_window_size_ = x_size;
    }
    if (k_size > kernel_box_size_) {
        kernel_box_.allocate(k_size);
        kernel_box_size_ = k_size;
    }
    return in;
}

void WindowedConv::crop_kernel(const float *kernel) {
    copy_box(full_, lo_, len_, kernel, kernel_box_.get(), true, false);
}

PadWindow WindowedConv::input_window() const {
    PadWindow w{full_.ndim, full_.batch * full_.in_channels, {1, 1, 1}, {0, 0, 0}, {1, 1, 1}};
    const dcls_conv_desc &inner = plans_.back()->plan.desc();
    for (int i = 0; i < full_.ndim; ++i) {
        w.size[i] = full_.input_size[i];
        w.start[i] = lo_[i] - full_.padding[i];
        w.length[i] = inner.input_size[i];
    }
    return w;
}

void WindowedConv::forward(const float *x, const float *kernel, const float *bias, float *y) {
    Inner &in = inner();
    window_forward(input_window(), mode(), x, x_window_.get());
    crop_kernel(kernel);
    in.plan.forward(x_window_.get(), kernel_box_.get(), bias, y);
}

void WindowedConv::backward_data(const float *grad_y, const float *kernel, float *grad_x) {
    Inner &in = inner();
    crop_kernel(kernel);
    in.plan.backward_data(grad_y, kernel_box_.get(), x_window_.get());
    window_backward(input_window(), mode(), x_window_.get(), grad_x);
}

void WindowedConv::backward_weights(const float *x, const float *grad_y, float *grad_kernel, float *grad_bias,
                                    bool accumulate) {
    Inner &in = inner();
    window_forward(input_window(), mode(), x, x_window_.get());
    // The inner plan accumulates the bias gradient; its kernel gradient starts from 0.
    if (accumulate) std::memset(kernel_box_.get(), 0, sizeof(float) * kernel_box_size_);
    in.plan.backward_weights(x_window_.get(), grad_y, kernel_box_.get(), grad_bias, accumulate);
    if (!accumulate) {
        size_t size = size_t(full_.out_channels * (full_.in_channels / full_.groups));
        for (int i = 0; i < full_.ndim; ++i) size *= size_t(full_.kernel_size[i]);
        std::memset(grad_kernel, 0, sizeof(float) * size);
    }
    copy_box(full_, lo_, len_, kernel_box_.get(), grad_kernel, false, accumulate);
}

}  // namespace dcls
