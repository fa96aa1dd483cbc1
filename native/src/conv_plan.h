// A convolution plan: the engines of one shape, one per pass, and what changes them as the kernel
// changes (a kernel window). The descriptor is validated by the caller (api.cpp); see dcls.h for
// shapes and conventions.
#pragma once

#include <memory>
#include <string>

#include "conv_engine.h"
#include "dcls.h"

namespace dcls {

class ConvPlan {
public:
    explicit ConvPlan(const dcls_conv_desc &desc);
    ~ConvPlan();
    ConvPlan(const ConvPlan &) = delete;
    ConvPlan &operator=(const ConvPlan &) = delete;

    const dcls_conv_desc &desc() const;
    // Spatial output size, first ndim entries.
    const int64_t *output_size() const;

    void forward(const float *x, const float *kernel, const float *bias, float *y);
    void backward_data(const float *grad_y, const float *kernel, float *grad_x);
    void backward_weights(const float *x, const float *grad_y, float *grad_kernel,
                          float *grad_bias, bool accumulate);
    // The box of kernel cells outside which the kernels will be 0 (dcls.h,
    // dcls_conv_plan_set_kernel_window); validated by the caller.
    void set_kernel_window(const int64_t lo[3], const int64_t hi[3]);
    // The construction that will make the kernels (dcls.h, dcls_conv_plan_set_kernel_cells):
    // its cells and their box; validated by the caller.
    void set_kernel_cells(const dcls_construct_desc &desc, const float *positions, const float *sigma, bool gradient);

    // Which engine runs each pass now: "forward=... backward_data=... backward_weights=...".
    const std::string &info() const;
    // The engine of one pass now, e.g. "dcls:depthwise(avx512)".
    std::string info(Pass pass) const;
    // The engine of one pass's speed (ConvEngine::speed).
    double speed(Pass pass) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dcls
