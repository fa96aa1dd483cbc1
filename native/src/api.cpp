// The C ABI (dcls.h): validates arguments, dispatches to the CPU kernels and oneDNN plans,
// and turns every C++ exception into a status plus a thread-local message.
#include <omp.h>

#include <cstdio>
#include <new>
#include <string>

#include "dnnl.hpp"

#include "construct_cpu.h"
#include "conv_plan.h"
#include "dcls.h"
#include "engine_options.h"
#include "error.h"
#include "positions.h"
#include "validate.h"

struct dcls_conv_plan {
    explicit dcls_conv_plan(const dcls_conv_desc &desc) : impl(desc) {}
    dcls::ConvPlan impl;
};

namespace {

thread_local std::string last_error;

// dcls::guarded, with oneDNN's errors reported as backend errors.
template <typename Body>
dcls_status guarded(const char *function, Body &&body) {
    return dcls::guarded(last_error, function, [&] {
        try {
            body();
        } catch (const dnnl::error &e) {
            throw dcls::Error(DCLS_ERROR_BACKEND, std::string("oneDNN: ") + e.what() + " (status " +
                                                      std::to_string(static_cast<int>(e.status)) + ")");
        }
    });
}

using dcls::has_sigma;
using dcls::require;
using dcls::require_count;
using dcls::require_pointer;
using dcls::validate;
using dcls::validate_kernel_cells;

dcls::ConvPlan &plan_of(dcls_conv_plan *plan) {
    require_pointer(plan, "plan");
    return plan->impl;
}

}  // namespace

extern "C" {

const char *dcls_last_error(void) { return last_error.c_str(); }

const char *dcls_version(void) { return DCLS_VERSION; }

dcls_status dcls_onednn_version(int32_t *major, int32_t *minor, int32_t *patch) {
    return guarded(__func__, [&] {
        require_pointer(major, "major");
        require_pointer(minor, "minor");
        require_pointer(patch, "patch");
        const dnnl_version_t *v = dnnl_version();
        *major = v->major;
        *minor = v->minor;
        *patch = v->patch;
    });
}

const char *dcls_cpu_isa(void) {
    try {
        switch (dnnl::get_effective_cpu_isa()) {
            case dnnl::cpu_isa::sse41: return "sse41";
            case dnnl::cpu_isa::avx: return "avx";
            case dnnl::cpu_isa::avx2: return "avx2";
            case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
            case dnnl::cpu_isa::avx2_vnni_2: return "avx2_vnni_2";
            case dnnl::cpu_isa::avx512_core: return "avx512_core";
            case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
            case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
            case dnnl::cpu_isa::avx10_1_512: return "avx10_1_512";
            case dnnl::cpu_isa::avx10_1_512_amx: return "avx10_1_512_amx";
            case dnnl::cpu_isa::avx10_1_512_amx_fp16: return "avx10_1_512_amx_fp16";
            default: return "other";
        }
    } catch (...) {
        return "unknown";
    }
}

dcls_status dcls_set_num_threads(int32_t num_threads) {
    return guarded(__func__, [&] { omp_set_num_threads(num_threads > 0 ? num_threads : omp_get_num_procs()); });
}

int32_t dcls_get_num_threads(void) { return omp_get_max_threads(); }

dcls_status dcls_set_engine_option(const char *name, const char *value) {
    return guarded(__func__, [&] { dcls::set_engine_option(name, value); });
}

dcls_status dcls_construct_forward(const dcls_construct_desc *desc, const float *weight,
                                   const float *positions, const float *sigma, float *kernel) {
    return guarded(__func__, [&] {
        dcls::validate_construct_forward(desc, weight, positions, sigma, kernel);
        dcls::construct_forward_cpu(*desc, weight, positions, has_sigma(desc) ? sigma : nullptr, kernel);
    });
}

dcls_status dcls_construct_backward(const dcls_construct_desc *desc, const float *weight,
                                    const float *positions, const float *sigma,
                                    const float *grad_kernel, float *grad_weight,
                                    float *grad_positions, float *grad_sigma, int32_t accumulate) {
    return guarded(__func__, [&] {
        dcls::validate_construct_backward(desc, weight, positions, sigma, grad_kernel, grad_sigma);
        dcls::construct_backward_cpu(*desc, weight, positions, has_sigma(desc) ? sigma : nullptr,
                                     grad_kernel, grad_weight, grad_positions, grad_sigma, accumulate != 0);
    });
}

dcls_status dcls_construct_kernel_window(const dcls_construct_desc *desc, const float *positions,
                                         const float *sigma, int64_t lo[3], int64_t hi[3]) {
    return guarded(__func__, [&] {
        validate(desc);
        require_pointer(positions, "positions");
        if (has_sigma(desc)) require_pointer(sigma, "sigma");
        require_pointer(lo, "lo");
        require_pointer(hi, "hi");
        dcls::construct_window_cpu(*desc, positions, has_sigma(desc) ? sigma : nullptr, lo, hi);
    });
}

dcls_status dcls_positions_clamp(const dcls_construct_desc *desc, float *positions) {
    return guarded(__func__, [&] {
        validate(desc);
        require_pointer(positions, "positions");
        dcls::clamp_positions_cpu(*desc, positions);
    });
}

dcls_status dcls_positions_round(const float *src, float *dst, int64_t count) {
    return guarded(__func__, [&] {
        require_count(count);
        if (count == 0) return;
        require_pointer(src, "src");
        require_pointer(dst, "dst");
        dcls::round_positions_cpu(src, dst, count);
    });
}

dcls_status dcls_conv_plan_create(const dcls_conv_desc *desc, dcls_conv_plan **plan) {
    return guarded(__func__, [&] {
        require_pointer(plan, "plan");
        *plan = nullptr;
        validate(desc);
        *plan = new dcls_conv_plan(dcls::normalised(*desc));  // see normalised: oneDNN and huge strides
    });
}

dcls_status dcls_conv_plan_destroy(dcls_conv_plan *plan) {
    return guarded(__func__, [&] { delete plan; });
}

dcls_status dcls_conv_plan_output_size(const dcls_conv_plan *plan, int64_t output_size[3]) {
    return guarded(__func__, [&] {
        require_pointer(plan, "plan");
        require_pointer(output_size, "output_size");
        const int64_t *out = plan->impl.output_size();
        for (int i = 0; i < 3; ++i) output_size[i] = i < plan->impl.desc().ndim ? out[i] : 1;
    });
}

dcls_status dcls_conv_plan_info(const dcls_conv_plan *plan, const char **info) {
    return guarded(__func__, [&] {
        require_pointer(plan, "plan");
        require_pointer(info, "info");
        *info = plan->impl.info().c_str();
    });
}

dcls_status dcls_conv_forward(dcls_conv_plan *plan, const float *x, const float *kernel,
                              const float *bias, float *y) {
    return guarded(__func__, [&] {
        dcls::ConvPlan &p = plan_of(plan);
        require_pointer(x, "x");
        require_pointer(kernel, "kernel");
        require_pointer(y, "y");
        p.forward(x, kernel, bias, y);
    });
}

dcls_status dcls_conv_backward_data(dcls_conv_plan *plan, const float *grad_y, const float *kernel,
                                    float *grad_x) {
    return guarded(__func__, [&] {
        dcls::ConvPlan &p = plan_of(plan);
        require_pointer(grad_y, "grad_y");
        require_pointer(kernel, "kernel");
        require_pointer(grad_x, "grad_x");
        p.backward_data(grad_y, kernel, grad_x);
    });
}

dcls_status dcls_conv_backward_weights(dcls_conv_plan *plan, const float *x, const float *grad_y,
                                       float *grad_kernel, float *grad_bias, int32_t accumulate) {
    return guarded(__func__, [&] {
        dcls::ConvPlan &p = plan_of(plan);
        require_pointer(x, "x");
        require_pointer(grad_y, "grad_y");
        require_pointer(grad_kernel, "grad_kernel");
        p.backward_weights(x, grad_y, grad_kernel, grad_bias, accumulate != 0);
    });
}

dcls_status dcls_conv_plan_set_kernel_window(dcls_conv_plan *plan, const int64_t lo[3],
                                             const int64_t hi[3]) {
    return guarded(__func__, [&] {
        dcls::ConvPlan &p = plan_of(plan);
        require_pointer(lo, "lo");
        require_pointer(hi, "hi");
        const dcls_conv_desc &d = p.desc();
        for (int i = 0; i < d.ndim; ++i)
            require(lo[i] >= 0 && lo[i] < hi[i] && hi[i] <= d.kernel_size[i],
                    "kernel window [" + std::to_string(lo[i]) + ", " + std::to_string(hi[i]) + ") of axis " +
                        std::to_string(i) + " is not a non-empty part of [0, " + std::to_string(d.kernel_size[i]) + ")");
        p.set_kernel_window(lo, hi);
    });
}

dcls_status dcls_conv_plan_set_kernel_cells(dcls_conv_plan *plan, const dcls_construct_desc *desc,
                                            const float *positions, const float *sigma, int32_t gradient) {
    return guarded(__func__, [&] {
        dcls::ConvPlan &p = plan_of(plan);
        validate_kernel_cells(desc, p.desc(), positions, sigma);
        p.set_kernel_cells(*desc, positions, has_sigma(desc) ? sigma : nullptr, gradient != 0);
    });
}

}  // extern "C"
