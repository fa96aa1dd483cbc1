// Tests of libdcls_cuda.so over its C ABI (dcls.h, CUDA section).
//
// Without a CUDA device it checks what needs none (device count, error statuses and messages,
// null handling), prints SKIPPED and exits 77, which ctest reports as skipped: never as passed.
// With a device (TF32 off):
// - construction, forward and backward (accumulate 0/1, null outputs), every ndim and
//   interpolation, random shapes and parameters, against the CPU construction (construct_cpu.cpp,
//   compiled into this test, so that it needs neither libdcls.so nor oneDNN);
// - convolution plans, forward (with and without bias), backward data and backward weights
//   (accumulate 0/1, with and without bias), random shapes over ndim 1-3, groups (dense, two groups,
//   depthwise with and without a channel multiplier), strides, padding and the four padding modes,
//   against a naive double-precision convolution; each shape with cuDNN (depthwise mode NEVER), or
//   without cuDNN (always in the emulation) with the direct convolution, and,
//   for depthwise shapes, with dcls4j's depthwise kernels (ALWAYS); fixed large depthwise shapes
//   (DCLS's 17x17, strided, 3D, 1D) and shapes that force the generic kernels; benchmark mode;
//   TF32 on (loose tolerance);
// - memory functions and error paths.
// Tolerance: max|got - ref| <= 1e-4 * max(1, max|ref|).
//
// Usage: test_cuda [seed [configs [quick]]]; quick leaves out the two huge shapes (for the CPU
// emulation, test_cuda_emu). Prints "N passed, M failed"; exits 1 on a failure.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "construct_cpu.h"
#include "conv_reference.h"
#include "cuda_test_support.h"
#include "dcls.h"

namespace {

using dcls_test::check;
using dcls_test::close;
using dcls_test::ctx;
using dcls_test::describe;
using dcls_test::Device;
using dcls_test::failed;
using dcls_test::has_message;
using dcls_test::make_desc;
using dcls_test::passed;
using dcls_test::Ref;
using dcls_test::Rng;
using dcls_test::to_double;

// ---- construction ------------------------------------------------------------------------------

const char *interp_name(int i) {
    static const char *names[] = {"bilinear", "triangle", "triangle_learned_width", "gaussian", "gaussian_unit_offset"};
    return i >= 0 && i < int(sizeof names / sizeof names[0]) ? names[i] : "unknown";
}

bool uses_sigma(int interp) {
    return interp == DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH || interp == DCLS_INTERPOLATION_GAUSSIAN ||
           interp == DCLS_INTERPOLATION_GAUSSIAN_UNIT_OFFSET;
}

void test_construct_config(const dcls_construct_desc &d, Rng &rng) {
    std::string name = std::string("construct ") + interp_name(d.interpolation) + " ndim=" + std::to_string(d.ndim) +
                       " dks=";
    int64_t area = 1;
    for (int i = 0; i < d.ndim; ++i) {
        name += (i ? "x" : "") + std::to_string(d.dilated_kernel_size[i]);
        area *= d.dilated_kernel_size[i];
    }
    name += " Cout=" + std::to_string(d.out_channels) + " Cin/g=" + std::to_string(d.in_per_group) +
            " K=" + std::to_string(d.kernel_count);
    const int64_t pairs = d.out_channels * d.in_per_group, params = pairs * d.kernel_count;
    const bool sig = uses_sigma(d.interpolation);

    std::vector<float> weight = rng.vec(params), positions(size_t(d.ndim * params)), sigma;
    const double spread = rng.uniform(0.0, 2.5);
    for (int dim = 0; dim < d.ndim; ++dim) {
        const double half = double(d.dilated_kernel_size[dim] / 2);
        for (int64_t e = 0; e < params; ++e) positions[size_t(dim * params + e)] = float(rng.uniform(-half - spread, half + spread));
    }
    if (sig) sigma = rng.vec(d.ndim * params, -2.0, 2.0);
    const std::vector<float> grad_kernel = rng.vec(pairs * area);

    // Forward.
    std::vector<float> ref_kernel(size_t(pairs * area));
    dcls::construct_forward_cpu(d, weight.data(), positions.data(), sig ? sigma.data() : nullptr, ref_kernel.data());
    Device dw(weight), dp(positions), ds(sig ? sigma : std::vector<float>(1)), dk(size_t(pairs * area)),
        dg(grad_kernel);
    bool st = dcls_cuda_construct_forward(ctx, &d, dw.get(), dp.get(), sig ? ds.get() : nullptr, dk.get()) == DCLS_OK;
    if (!st) std::printf("  %s\n", dcls_cuda_last_error());
    check(st && close(dk.download(), to_double(ref_kernel), "kernel"), name + ": forward");

    // Backward, overwrite then accumulate onto random values; then with null outputs.
    for (int accumulate = 0; accumulate <= 1; ++accumulate) {
        std::vector<float> gw = rng.vec(params), gp = rng.vec(d.ndim * params), gs = rng.vec(sig ? d.ndim * params : 0);
        Device dgw(gw), dgp(gp), dgs(sig ? gs : std::vector<float>(1));
        dcls::construct_backward_cpu(d, weight.data(), positions.data(), sig ? sigma.data() : nullptr, grad_kernel.data(),
                                     gw.data(), gp.data(), sig ? gs.data() : nullptr, accumulate != 0);
        st = dcls_cuda_construct_backward(ctx, &d, dw.get(), dp.get(), sig ? ds.get() : nullptr, dg.get(), dgw.get(),
                                          dgp.get(), sig ? dgs.get() : nullptr, accumulate) == DCLS_OK;
        if (!st) std::printf("  %s\n", dcls_cuda_last_error());
        bool ok = st && close(dgw.download(), to_double(gw), "grad_weight") &&
                  close(dgp.download(), to_double(gp), "grad_positions");
        if (sig) ok = ok && close(dgs.download(), to_double(gs), "grad_sigma");
        check(ok, name + ": backward accumulate=" + std::to_string(accumulate));
    }
    {
        std::vector<float> gp(size_t(d.ndim * params));
        Device dgp(gp);
        dcls::construct_backward_cpu(d, weight.data(), positions.data(), sig ? sigma.data() : nullptr, grad_kernel.data(),
                                     nullptr, gp.data(), nullptr, false);
        st = dcls_cuda_construct_backward(ctx, &d, dw.get(), dp.get(), sig ? ds.get() : nullptr, dg.get(), nullptr,
                                          dgp.get(), nullptr, 0) == DCLS_OK;
        check(st && close(dgp.download(), to_double(gp), "grad_positions"), name + ": backward positions only");
    }
}

void test_construct(Rng &rng, int configs) {
    for (int ndim = 1; ndim <= 3; ++ndim)
        for (int interp = 0; interp <= DCLS_INTERPOLATION_GAUSSIAN_UNIT_OFFSET; ++interp)
            for (int trial = 0; trial < std::max(1, configs / 12); ++trial) {
                dcls_construct_desc d{};
                d.ndim = ndim;
                d.interpolation = interp;
                d.out_channels = rng.integer(1, 6);
                d.in_per_group = rng.integer(1, 4);
                d.kernel_count = rng.integer(1, trial == 0 ? 40 : 12);
                const int64_t max_size = ndim == 1 ? 40 : ndim == 2 ? 19 : 9;
                for (int i = 0; i < ndim; ++i) d.dilated_kernel_size[i] = rng.integer(1, max_size);
                test_construct_config(d, rng);
            }
    // DCLS's usual shapes, and more elements than one forward chunk (256).
    dcls_construct_desc big{2, DCLS_INTERPOLATION_GAUSSIAN, 8, 1, 34, {17, 17, 0}};
    test_construct_config(big, rng);
    big.interpolation = DCLS_INTERPOLATION_BILINEAR;
    test_construct_config(big, rng);
    dcls_construct_desc many{1, DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH, 2, 2, 300, {33, 0, 0}};
    test_construct_config(many, rng);
    dcls_construct_desc cube{3, DCLS_INTERPOLATION_GAUSSIAN, 3, 2, 27, {7, 9, 11}};
    test_construct_config(cube, rng);
}

bool cudnn_available = false;
int rows_plans = 0, segments_plans = 0;  // plans whose backward weights ran each depthwise kernel

// One shape on the current settings of the context; `tol` loosens the comparison (TF32).
void test_conv_config(const dcls_conv_desc &d, Rng &rng, const std::string &engine, double tol = 1e-4) {
    const std::string name = describe(d) + " [" + engine + "]";
    dcls_cuda_conv_plan *plan = nullptr;
    if (dcls_cuda_conv_plan_create(ctx, &d, &plan) != DCLS_OK || plan == nullptr) {
        check(false, name + ": plan_create: " + dcls_cuda_last_error());
        return;
    }
    const char *info = nullptr;
    check(dcls_cuda_conv_plan_info(plan, &info) == DCLS_OK && info && info[0], name + ": info");
    const bool want_dcls = engine == "dcls", want_cudnn = engine == "cudnn";
    if (info && (want_dcls || want_cudnn)) {
        const bool has_dcls = std::strstr(info, "dcls:") != nullptr, has_cudnn = std::strstr(info, "cudnn:") != nullptr;
        check(want_dcls ? has_dcls && !has_cudnn : has_cudnn && !has_dcls,
              name + ": engine as asked (" + std::string(info) + ")");
    }
    if (info && engine == "direct") {
        const char *first = std::strstr(info, "dcls:direct");
        const char *second = first ? std::strstr(first + 1, "dcls:direct") : nullptr;
        check(second && std::strstr(second + 1, "dcls:direct"),
              name + ": every pass on the direct convolution (" + std::string(info) + ")");
    }
    if (info && std::strstr(info, "depthwise-rows")) ++rows_plans;
    if (info && std::strstr(info, "depthwise-segments")) ++segments_plans;
    const Ref ref(d);
    int64_t out[3];
    bool ok = dcls_cuda_conv_plan_output_size(plan, out) == DCLS_OK;
    for (int i = 0; i < 3; ++i) ok = ok && out[i] == (i < d.ndim ? ref.out[3 - d.ndim + i] : 1);
    check(ok, name + ": output_size");

    const std::vector<float> x = rng.vec(ref.x_count()), w = rng.vec(ref.w_count()), b = rng.vec(d.out_channels),
                             gy = rng.vec(ref.y_count());
    Device dx(x), dw(w), db(b), dgy(gy), dy(size_t(ref.y_count())), dgx(size_t(ref.x_count()));
    auto report = [&](dcls_status s) {
        if (s != DCLS_OK) std::printf("  %s\n", dcls_cuda_last_error());
        return s == DCLS_OK;
    };

    bool st = report(dcls_cuda_conv_forward(plan, dx.get(), dw.get(), db.get(), dy.get()));
    check(st && close(dy.download(), ref.forward(x, w, b.data()), "forward", tol), name + ": forward with bias");
    st = report(dcls_cuda_conv_forward(plan, dx.get(), dw.get(), nullptr, dy.get()));
    check(st && close(dy.download(), ref.forward(x, w, nullptr), "forward", tol), name + ": forward without bias");

    dgx.upload(std::vector<float>(size_t(ref.x_count()), 7.f));
    st = report(dcls_cuda_conv_backward_data(plan, dgy.get(), dw.get(), dgx.get()));
    check(st && close(dgx.download(), ref.grad_x(gy, w), "grad_x", tol), name + ": backward_data");

    const std::vector<double> gw_ref = ref.grad_w(x, gy), gb_ref = ref.grad_b(gy);
    for (int accumulate = 0; accumulate <= 1; ++accumulate)
        for (int with_bias = 0; with_bias <= 1; ++with_bias) {
            const std::vector<float> gw0 = rng.vec(ref.w_count()), gb0 = rng.vec(d.out_channels);
            std::vector<double> gw_want(gw_ref), gb_want(gb_ref);
            if (accumulate) {
                for (size_t i = 0; i < gw_want.size(); ++i) gw_want[i] += gw0[i];
                for (size_t i = 0; i < gb_want.size(); ++i) gb_want[i] += gb0[i];
            }
            Device dgw(gw0), dgb(gb0);
            st = report(dcls_cuda_conv_backward_weights(plan, dx.get(), dgy.get(), dgw.get(), with_bias ? dgb.get() : nullptr,
                                                        accumulate));
            bool good = st && close(dgw.download(), gw_want, "grad_kernel", tol);
            if (with_bias) good = good && close(dgb.download(), gb_want, "grad_bias", tol);
            else good = good && close(dgb.download(), to_double(gb0), "grad_bias untouched", 0.0);
            check(good, name + ": backward_weights accumulate=" + std::to_string(accumulate) +
                            (with_bias ? " with bias" : " without bias"));
        }
    check(dcls_cuda_conv_plan_destroy(plan) == DCLS_OK, name + ": destroy");
}

// Runs a shape with cuDNN and, for depthwise shapes, with dcls4j's kernels.
void test_conv_engines(const dcls_conv_desc &d, Rng &rng) {
    const bool depthwise = d.groups == d.in_channels;
    if (cudnn_available) {
        dcls_cuda_set_depthwise_mode(ctx, DCLS_CUDA_DEPTHWISE_NEVER);
        test_conv_config(d, rng, "cudnn");
    } else {
        // Without cuDNN every pass that is not depthwise runs the direct convolution.
        dcls_cuda_set_depthwise_mode(ctx, DCLS_CUDA_DEPTHWISE_NEVER);
        test_conv_config(d, rng, "direct");
    }
    if (depthwise) {
        // Each backward-weights kernel: the tap tiles wherever they apply, then the segments.
        dcls_cuda_set_depthwise_mode(ctx, DCLS_CUDA_DEPTHWISE_ALWAYS);
        dcls_cuda_set_depthwise_weights_kernel(ctx, DCLS_CUDA_DEPTHWISE_WEIGHTS_ROWS);
        test_conv_config(d, rng, "dcls");
        dcls_cuda_set_depthwise_weights_kernel(ctx, DCLS_CUDA_DEPTHWISE_WEIGHTS_SEGMENTS);
        test_conv_config(d, rng, "dcls");
        dcls_cuda_set_depthwise_weights_kernel(ctx, DCLS_CUDA_DEPTHWISE_WEIGHTS_AUTO);
    }
    dcls_cuda_set_depthwise_mode(ctx, DCLS_CUDA_DEPTHWISE_AUTO);
}

dcls_conv_desc random_conv(Rng &rng) {
    for (;;) {
        dcls_conv_desc d{};
        d.ndim = int32_t(rng.integer(1, 3));
        d.padding_mode = int32_t(rng.integer(0, 3));
        d.batch = rng.integer(1, 3);
        switch (rng.integer(0, 3)) {
            case 0:
                d.groups = 1;
                d.in_channels = rng.integer(1, 6) * (rng.integer(0, 3) == 0 ? 4 : 1);
                d.out_channels = rng.integer(1, 6) * (rng.integer(0, 3) == 0 ? 4 : 1);
                break;
            case 1:
                d.groups = 2;
                d.in_channels = 2 * rng.integer(1, 4);
                d.out_channels = 2 * rng.integer(1, 4);
                break;
            default:  // depthwise, half the time with a channel multiplier
                d.in_channels = d.groups = rng.integer(1, 12);
                d.out_channels = d.in_channels * (rng.integer(0, 1) == 0 ? 1 : rng.integer(2, 3));
                break;
        }
        const int64_t max_size = d.ndim == 1 ? 40 : d.ndim == 2 ? 14 : 7;
        const int64_t max_kernel = d.ndim == 1 ? 11 : d.ndim == 2 ? 7 : 3;
        bool valid = true;
        for (int i = 0; i < d.ndim; ++i) {
            d.input_size[i] = rng.integer(1, max_size);
            d.kernel_size[i] = rng.integer(1, max_kernel);
            d.stride[i] = rng.integer(0, 2) == 0 ? rng.integer(2, 3) : 1;
            d.padding[i] = rng.integer(0, d.kernel_size[i]);  // sometimes more than k - 1
            if (d.padding_mode == DCLS_PADDING_REFLECT) d.padding[i] = std::min(d.padding[i], d.input_size[i] - 1);
            if (d.padding_mode == DCLS_PADDING_CIRCULAR) d.padding[i] = std::min(d.padding[i], d.input_size[i]);
            valid = valid && d.input_size[i] + 2 * d.padding[i] >= d.kernel_size[i];
        }
        if (valid) return d;
    }
}


// A kernel window (dcls_cuda_conv_plan_set_kernel_window) on dcls4j's depthwise kernels (mode
// ALWAYS) or, without cuDNN and with mode NEVER, on the direct convolution: kernels 0 outside the
// box [lo, hi) of each axis; every pass against the reference on the whole kernel, the gradient
// outside the box 0 (overwriting) or untouched (accumulating).
void test_window(const dcls_conv_desc &d, const int64_t lo[3], const int64_t hi[3], Rng &rng,
                 int mode = DCLS_CUDA_DEPTHWISE_ALWAYS) {
    std::string name = describe(d) + (mode == DCLS_CUDA_DEPTHWISE_ALWAYS ? " [window" : " [direct window");
    for (int i = 0; i < d.ndim; ++i) name += " " + std::to_string(lo[i]) + ":" + std::to_string(hi[i]);
    name += "]";
    dcls_cuda_set_depthwise_mode(ctx, mode);
    dcls_cuda_conv_plan *plan = nullptr;
    const bool created = dcls_cuda_conv_plan_create(ctx, &d, &plan) == DCLS_OK;
    dcls_cuda_set_depthwise_mode(ctx, DCLS_CUDA_DEPTHWISE_AUTO);
    if (!created) {
        check(false, name + ": plan_create: " + dcls_cuda_last_error());
        return;
    }
    const Ref ref(d);
    const int lead = 3 - d.ndim;
    auto inside = [&](int64_t cell) {  // cell of one kernel, in Ref's 3-axis layout
        const int64_t c[3] = {cell / (ref.k[1] * ref.k[2]), (cell / ref.k[2]) % ref.k[1], cell % ref.k[2]};
        for (int a = lead; a < 3; ++a)
            if (c[a] < lo[a - lead] || c[a] >= hi[a - lead]) return false;
        return true;
    };
    std::vector<float> w = rng.vec(ref.w_count());
    for (size_t i = 0; i < w.size(); ++i)
        if (!inside(int64_t(i) % ref.k_plane())) w[i] = 0.f;
    const std::vector<float> x = rng.vec(ref.x_count()), b = rng.vec(d.out_channels), gy = rng.vec(ref.y_count());
    Device dx(x), dw(w), db(b), dgy(gy), dy(size_t(ref.y_count())), dgx(size_t(ref.x_count()));

    check(dcls_cuda_conv_plan_set_kernel_window(plan, lo, hi) == DCLS_OK, name + ": set_kernel_window");
    const char *info = nullptr;
    check(dcls_cuda_conv_plan_info(plan, &info) == DCLS_OK && info && std::strstr(info, "window="),
          name + ": info names the window (" + std::string(info ? info : "") + ")");
    if (mode != DCLS_CUDA_DEPTHWISE_ALWAYS)
        check(info && std::strstr(info, "dcls:direct"), name + ": on the direct convolution (" +
                                                            std::string(info ? info : "") + ")");

    check(dcls_cuda_conv_forward(plan, dx.get(), dw.get(), db.get(), dy.get()) == DCLS_OK &&
              close(dy.download(), ref.forward(x, w, b.data()), "forward"),
          name + ": forward");
    check(dcls_cuda_conv_backward_data(plan, dgy.get(), dw.get(), dgx.get()) == DCLS_OK &&
              close(dgx.download(), ref.grad_x(gy, w), "grad_x"),
          name + ": backward_data");
    const std::vector<double> gw_ref = ref.grad_w(x, gy), gb_ref = ref.grad_b(gy);
    for (int accumulate = 0; accumulate <= 1; ++accumulate) {
        const std::vector<float> gw0 = rng.vec(ref.w_count()), gb0 = rng.vec(d.out_channels);
        std::vector<double> gw_want(gw_ref.size()), gb_want(gb_ref);
        for (size_t i = 0; i < gw_want.size(); ++i)
            gw_want[i] = (inside(int64_t(i) % ref.k_plane()) ? gw_ref[i] : 0.0) + (accumulate ? gw0[i] : 0.0);
        if (accumulate)
            for (size_t i = 0; i < gb_want.size(); ++i) gb_want[i] += gb0[i];
        Device dgw(gw0), dgb(gb0);
        const bool st =
            dcls_cuda_conv_backward_weights(plan, dx.get(), dgy.get(), dgw.get(), dgb.get(), accumulate) == DCLS_OK;
        check(st && close(dgw.download(), gw_want, "grad_kernel") && close(dgb.download(), gb_want, "grad_bias"),
              name + ": backward_weights accumulate=" + std::to_string(accumulate));
    }

    // The whole kernel turns the window off; a box outside the kernel is refused.
    int64_t all_lo[3] = {0, 0, 0}, all_hi[3] = {1, 1, 1}, bad_hi[3] = {1, 1, 1};
    for (int i = 0; i < d.ndim; ++i) {
        all_hi[i] = d.kernel_size[i];
        bad_hi[i] = d.kernel_size[i] + 1;
    }
    check(dcls_cuda_conv_plan_set_kernel_window(plan, all_lo, all_hi) == DCLS_OK &&
              dcls_cuda_conv_plan_info(plan, &info) == DCLS_OK && !std::strstr(info, "window="),
          name + ": the whole kernel turns the window off");
    check(dcls_cuda_conv_forward(plan, dx.get(), dw.get(), db.get(), dy.get()) == DCLS_OK &&
              close(dy.download(), ref.forward(x, w, b.data()), "forward"),
          name + ": forward without the window");
    check(dcls_cuda_conv_plan_set_kernel_window(plan, all_lo, bad_hi) == DCLS_ERROR_INVALID_ARGUMENT && has_message(),
          name + ": a window past the kernel is refused");
    check(dcls_cuda_conv_plan_destroy(plan) == DCLS_OK, name + ": destroy");
}

// ---- the tap-sparse engine (dcls_cuda_conv_plan_set_kernel_cells) ----------------------------------

// Counts the passes the plan's info puts on the tap-sparse engine.
int sparse_passes(dcls_cuda_conv_plan *plan) {
    const char *info = nullptr;
    if (dcls_cuda_conv_plan_info(plan, &info) != DCLS_OK || !info) return -1;
    int n = 0;
    for (const char *at = std::strstr(info, "dcls:sparse("); at; at = std::strstr(at + 1, "dcls:sparse(")) ++n;
    return n;
}

// The kernels of construction `cd` (random weights, positions and sigma; sigma in [-s, s]) convolved
// by plan `d`, which is told their cells, in sparse mode `mode`: every pass against the float64
// reference on the dense kernel (conv_reference.h). The kernel gradient, overwriting and
// accumulating, must be the reference's or untouched (0 when overwriting) at every cell, the
// reference's wherever the kernel is not 0, and give the CPU construction's backward the reference's
// result. `want_sparse`: the passes that must run on the tap-sparse engine (-1: unchecked).
void test_sparse(const dcls_conv_desc &d, int interp, int64_t kernel_count, int mode, bool gradient, int want_sparse,
                 Rng &rng, double s = 0.3) {
    const char *modes[] = {"auto", "never", "always"};
    const std::string name = describe(d) + " [sparse " + modes[mode] + ", " + interp_name(interp) + ", K=" +
                             std::to_string(kernel_count) + (gradient ? "" : ", no gradient") + "]";
    dcls_construct_desc cd{};
    cd.ndim = d.ndim;
    cd.interpolation = interp;
    cd.out_channels = d.out_channels;
    cd.in_per_group = d.in_channels / d.groups;
    cd.kernel_count = kernel_count;
    for (int i = 0; i < d.ndim; ++i) cd.dilated_kernel_size[i] = d.kernel_size[i];
    const int64_t elements = cd.out_channels * cd.in_per_group * kernel_count;
    std::vector<float> positions(size_t(d.ndim * elements));
    for (int i = 0; i < d.ndim; ++i) {
        const double half = double(d.kernel_size[i] / 2);
        for (int64_t e = 0; e < elements; ++e) positions[size_t(i * elements + e)] = float(rng.uniform(-half, half));
    }
    const bool with_sigma = uses_sigma(interp);
    const std::vector<float> weight = rng.vec(elements),
                             sigma = with_sigma ? rng.vec(d.ndim * elements, -s, s) : std::vector<float>();
    const Ref ref(d);
    std::vector<float> w(size_t(ref.w_count()));
    dcls::construct_forward_cpu(cd, weight.data(), positions.data(), with_sigma ? sigma.data() : nullptr, w.data());

    dcls_cuda_conv_plan *plan = nullptr;
    if (dcls_cuda_conv_plan_create(ctx, &d, &plan) != DCLS_OK) {
        check(false, name + ": plan_create: " + dcls_cuda_last_error());
        return;
    }
    Device dpos(positions), dsigma(with_sigma ? sigma : std::vector<float>(1));
    dcls_cuda_set_sparse_mode(ctx, mode);
    const dcls_status st = dcls_cuda_conv_plan_set_kernel_cells(plan, &cd, dpos.get(), with_sigma ? dsigma.get() : nullptr,
                                                                gradient ? 1 : 0);
    dcls_cuda_set_sparse_mode(ctx, DCLS_CUDA_SPARSE_AUTO);
    const char *info = nullptr;
    dcls_cuda_conv_plan_info(plan, &info);
    const std::string shown(info ? info : "");
    check(st == DCLS_OK, name + ": set_kernel_cells " + (st == DCLS_OK ? "" : dcls_cuda_last_error()));
    const int n_sparse = sparse_passes(plan);
    if (want_sparse >= 0) check(n_sparse == want_sparse, name + ": " + std::to_string(want_sparse) + " passes on the tap-sparse engine (" + shown + ")");
    if (mode == DCLS_CUDA_SPARSE_NEVER) check(n_sparse == 0, name + ": none on the tap-sparse engine (" + shown + ")");
    // The host entry on the same positions and sigma, in host memory: the same cells, so the same plan
    // (info) and, below, the same results bit for bit.
    dcls_cuda_conv_plan *twin = nullptr;
    bool twin_ok = dcls_cuda_conv_plan_create(ctx, &d, &twin) == DCLS_OK;
    dcls_cuda_set_sparse_mode(ctx, mode);
    twin_ok = twin_ok && dcls_cuda_conv_plan_set_kernel_cells_host(twin, &cd, positions.data(),
                                                                   with_sigma ? sigma.data() : nullptr,
                                                                   gradient ? 1 : 0) == DCLS_OK;
    dcls_cuda_set_sparse_mode(ctx, DCLS_CUDA_SPARSE_AUTO);
    const char *twin_info = nullptr;
    if (twin_ok) dcls_cuda_conv_plan_info(twin, &twin_info);
    const std::string twin_shown(twin_info ? twin_info : "");
    check(twin_ok && twin_shown == shown, name + ": the host entry makes the same plan (" + twin_shown + ")");

    const std::vector<float> x = rng.vec(ref.x_count()), b = rng.vec(d.out_channels), gy = rng.vec(ref.y_count());
    Device dx(x), dw(w), db(b), dgy(gy), dy(size_t(ref.y_count())), dgx(size_t(ref.x_count()));
    check(dcls_cuda_conv_forward(plan, dx.get(), dw.get(), db.get(), dy.get()) == DCLS_OK &&
              close(dy.download(), ref.forward(x, w, b.data()), "forward"),
          name + ": forward");
    if (twin) {
        const std::vector<float> zeros(size_t(ref.w_count()), 0.f);
        Device dy_twin(size_t(ref.y_count())), dgw_plan(zeros), dgw_twin(zeros);
        const bool ran =
            dcls_cuda_conv_forward(twin, dx.get(), dw.get(), db.get(), dy_twin.get()) == DCLS_OK &&
            dcls_cuda_conv_backward_weights(plan, dx.get(), dgy.get(), dgw_plan.get(), nullptr, 0) == DCLS_OK &&
            dcls_cuda_conv_backward_weights(twin, dx.get(), dgy.get(), dgw_twin.get(), nullptr, 0) == DCLS_OK;
        check(ran && dy_twin.download() == dy.download() && dgw_twin.download() == dgw_plan.download(),
              name + ": the host entry's plan computes the same, bit for bit");
        check(dcls_cuda_conv_plan_destroy(twin) == DCLS_OK, name + ": destroy the host entry's plan");
    }
    dgx.upload(std::vector<float>(size_t(ref.x_count()), 7.f));
    check(dcls_cuda_conv_backward_data(plan, dgy.get(), dw.get(), dgx.get()) == DCLS_OK &&
              close(dgx.download(), ref.grad_x(gy, w), "grad_x"),
          name + ": backward_data");

    const std::vector<double> gw_ref = ref.grad_w(x, gy), gb_ref = ref.grad_b(gy);
    double scale = 1.0;
    for (double v : gw_ref) scale = std::max(scale, std::fabs(v));
    // What the construction's backward makes of a kernel gradient (float64 comparison of its outputs).
    auto construction_grads = [&](const std::vector<float> &grad_kernel) {
        std::vector<float> gweight(static_cast<size_t>(elements)), gpos(positions.size()), gsig(sigma.size());
        dcls::construct_backward_cpu(cd, weight.data(), positions.data(), with_sigma ? sigma.data() : nullptr,
                                     grad_kernel.data(), gweight.data(), gpos.data(),
                                     with_sigma ? gsig.data() : nullptr, false);
        gweight.insert(gweight.end(), gpos.begin(), gpos.end());
        gweight.insert(gweight.end(), gsig.begin(), gsig.end());
        return gweight;
    };
    const std::vector<float> gw_ref_f(gw_ref.begin(), gw_ref.end());
    const std::vector<double> want_construction = to_double(construction_grads(gw_ref_f));
    for (int accumulate = 0; accumulate <= 1; ++accumulate) {
        const std::vector<float> gw0 = rng.vec(ref.w_count()), gb0 = rng.vec(d.out_channels);
        Device dgw(gw0), dgb(gb0);
        const bool ok = dcls_cuda_conv_backward_weights(plan, dx.get(), dgy.get(), dgw.get(), dgb.get(), accumulate) == DCLS_OK;
        const std::vector<float> got = dgw.download();
        std::vector<float> added(got.size());
        int64_t wrong = 0, missing = 0;
        for (size_t i = 0; i < got.size(); ++i) {
            added[i] = accumulate ? got[i] - gw0[i] : got[i];
            const bool right = std::fabs(double(added[i]) - gw_ref[i]) <= 1e-4 * scale;
            const bool untouched = accumulate ? got[i] == gw0[i] : got[i] == 0.f;
            if (!right && !untouched) ++wrong;
            if (!right && w[i] != 0.f) ++missing;
        }
        if (wrong || missing)
            std::printf("  grad_kernel: %lld cells neither right nor untouched, %lld non-zero kernel cells wrong\n",
                        static_cast<long long>(wrong), static_cast<long long>(missing));
        std::vector<double> gb_want(gb_ref);
        if (accumulate)
            for (size_t i = 0; i < gb_want.size(); ++i) gb_want[i] += gb0[i];
        check(ok && wrong == 0 && missing == 0 && close(dgb.download(), gb_want, "grad_bias") &&
                  // without gradient cells, the construction may read cells the plan was not told of
                  (!gradient || close(construction_grads(added), want_construction, "construction's gradients", 1e-3)),
              name + ": backward_weights accumulate=" + std::to_string(accumulate));
    }
    // A kernel window ends the cells (here the whole kernel: no window either).
    int64_t all_lo[3] = {0, 0, 0}, all_hi[3] = {1, 1, 1};
    for (int i = 0; i < d.ndim; ++i) all_hi[i] = d.kernel_size[i];
    check(dcls_cuda_conv_plan_set_kernel_window(plan, all_lo, all_hi) == DCLS_OK && sparse_passes(plan) == 0 &&
              dcls_cuda_conv_forward(plan, dx.get(), dw.get(), db.get(), dy.get()) == DCLS_OK &&
              close(dy.download(), ref.forward(x, w, b.data()), "forward"),
          name + ": a kernel window ends the tap-sparse passes");
    check(dcls_cuda_conv_plan_destroy(plan) == DCLS_OK, name + ": destroy");
}

void test_sparse_all(Rng &rng) {
    const int auto_ = DCLS_CUDA_SPARSE_AUTO, never = DCLS_CUDA_SPARSE_NEVER, always = DCLS_CUDA_SPARSE_ALWAYS;
    const int bilinear = DCLS_INTERPOLATION_BILINEAR, gauss = DCLS_INTERPOLATION_GAUSSIAN;
    // Learnable delays: 1D, groups 1, 1 to 4 elements per pair along a long axis.
    const dcls_conv_desc delay = make_desc(1, DCLS_PADDING_ZEROS, 2, 3, 4, 1, 120, 61, 1, 30);
    for (int64_t k : {1, 2, 4}) {
        test_sparse(delay, bilinear, k, always, true, 3, rng);
        test_sparse(delay, gauss, k, always, true, 3, rng);
    }
    // AUTO takes a few bilinear taps on a long axis (at most 8 cells per pair in a box of about 60).
    test_sparse(delay, bilinear, 4, auto_, true, 3, rng);
    test_sparse(delay, bilinear, 2, never, true, 0, rng);
    test_sparse(delay, bilinear, 2, always, false, 2, rng);  // inference: backward weights on the box
    test_sparse(make_desc(1, DCLS_PADDING_REFLECT, 2, 2, 3, 1, 50, 21, 2, 10), bilinear, 3, always, true, 3, rng);
    // 2D depthwise, with and without a channel multiplier; 3D with groups.
    const dcls_conv_desc dw = make_desc(2, DCLS_PADDING_ZEROS, 2, 4, 4, 4, 16, 9, 1, 4);
    test_sparse(dw, bilinear, 3, always, true, 3, rng);
    test_sparse(dw, gauss, 3, always, true, 3, rng);
    test_sparse(dw, bilinear, 3, never, true, 0, rng);
    test_sparse(make_desc(2, DCLS_PADDING_CIRCULAR, 1, 3, 6, 3, 14, 7, 2, 3), bilinear, 2, always, true, 3, rng);
    test_sparse(make_desc(3, DCLS_PADDING_ZEROS, 1, 4, 4, 2, 7, 5, 1, 2), gauss, 2, always, true, 3, rng, 0.1);

    // The checks: a construction of another kernel and a bad mode are refused.
    const dcls_conv_desc d = make_desc(1, DCLS_PADDING_ZEROS, 1, 2, 2, 1, 20, 9, 1, 4);
    dcls_cuda_conv_plan *plan = nullptr;
    check(dcls_cuda_conv_plan_create(ctx, &d, &plan) == DCLS_OK, "sparse checks: plan_create");
    const dcls_construct_desc other{1, DCLS_INTERPOLATION_BILINEAR, 2, 2, 1, {11, 0, 0}};
    Device pos(std::vector<float>(2 * 2 * 1, 0.f));
    check(dcls_cuda_conv_plan_set_kernel_cells(plan, &other, pos.get(), nullptr, 1) == DCLS_ERROR_INVALID_ARGUMENT &&
              has_message(),
          "sparse checks: another kernel's construction is refused");
    const std::vector<float> host_pos(2 * 2 * 1, 0.f);
    check(dcls_cuda_conv_plan_set_kernel_cells_host(plan, &other, host_pos.data(), nullptr, 1) ==
                  DCLS_ERROR_INVALID_ARGUMENT && has_message(),
          "sparse checks: the host entry refuses another kernel's construction");
    const dcls_construct_desc same{1, DCLS_INTERPOLATION_BILINEAR, 2, 2, 1, {9, 0, 0}};
    check(dcls_cuda_conv_plan_set_kernel_cells_host(plan, &same, nullptr, nullptr, 1) == DCLS_ERROR_INVALID_ARGUMENT &&
              has_message(),
          "sparse checks: the host entry refuses null positions");
    check(dcls_cuda_conv_plan_set_kernel_cells_host(plan, &same, host_pos.data(), nullptr, 1) == DCLS_OK,
          "sparse checks: the host entry takes host positions");
    check(dcls_cuda_set_sparse_mode(ctx, 3) == DCLS_ERROR_INVALID_ARGUMENT && has_message(),
          "sparse checks: an unknown sparse mode is refused");
    check(dcls_cuda_conv_plan_destroy(plan) == DCLS_OK, "sparse checks: destroy");
}

void test_conv(Rng &rng, int configs, bool quick) {
    const dcls_conv_desc fixed[] = {
        make_desc(2, DCLS_PADDING_ZEROS, 2, 8, 8, 8, 28, 17, 1, 8),         // DCLS's depthwise 17x17
        make_desc(2, DCLS_PADDING_ZEROS, 2, 3, 6, 3, 45, 13, 1, 6),         // 13x13, multiplier 2, two column chunks
        make_desc(2, DCLS_PADDING_ZEROS, 1, 2, 2, 2, 40, 35, 1, 17),        // 35x35: several tap groups
        make_desc(2, DCLS_PADDING_REFLECT, 2, 6, 6, 6, 20, 9, 1, 4),        // reflect
        make_desc(2, DCLS_PADDING_ZEROS, 2, 4, 8, 4, 23, 7, 2, 3),          // strided, multiplier 2
        make_desc(2, DCLS_PADDING_CIRCULAR, 1, 4, 4, 4, 70, 11, 1, 5),      // wide rows (R = 4)
        make_desc(1, DCLS_PADDING_ZEROS, 2, 8, 8, 8, 300, 31, 1, 15),       // 1D depthwise
        make_desc(1, DCLS_PADDING_REPLICATE, 2, 8, 8, 8, 100, 9, 3, 4),     // 1D strided
        make_desc(3, DCLS_PADDING_ZEROS, 1, 4, 4, 4, 9, 5, 1, 2),           // 3D depthwise
        make_desc(3, DCLS_PADDING_REFLECT, 1, 4, 8, 4, 8, 3, 2, 1),         // 3D strided
        make_desc(2, DCLS_PADDING_ZEROS, 2, 16, 32, 1, 12, 5, 1, 2),        // dense
        make_desc(2, DCLS_PADDING_ZEROS, 2, 8, 8, 2, 10, 3, 1, 1),          // two groups
        make_desc(2, DCLS_PADDING_ZEROS, 1, 2, 2, 2, 130, 121, 1, 0),       // huge kernel: generic forward
        make_desc(1, DCLS_PADDING_ZEROS, 1, 1, 1, 1, 12410, 12400, 1, 0),   // 1D huge: generic weights
    };
    const size_t huge = 2;  // the last two, left out by a quick run
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] - (quick ? huge : 0); ++i) test_conv_engines(fixed[i], rng);
    for (int i = 0; i < configs; ++i) test_conv_engines(random_conv(rng), rng);

    std::printf("backward weights: %d plans on the tap-tile kernel, %d on the segment kernel\n", rows_plans,
                segments_plans);
    check(rows_plans > 0, "the tap-tile backward-weights kernel was tested");

    // Kernel windows: DCLS's 17x17 (both backward-weights kernels), multiplier and stride, padding
    // modes, 1D and 3D.
    {
        const int64_t lo17[3] = {3, 5, 0}, hi17[3] = {14, 12, 1};
        test_window(fixed[0], lo17, hi17, rng);
        dcls_cuda_set_depthwise_weights_kernel(ctx, DCLS_CUDA_DEPTHWISE_WEIGHTS_SEGMENTS);
        test_window(fixed[0], lo17, hi17, rng);
        dcls_cuda_set_depthwise_weights_kernel(ctx, DCLS_CUDA_DEPTHWISE_WEIGHTS_AUTO);
        const int64_t lo13[3] = {0, 6, 0}, hi13[3] = {13, 13, 1};
        test_window(fixed[1], lo13, hi13, rng);
        const int64_t lo9[3] = {2, 1, 0}, hi9[3] = {7, 9, 1};
        test_window(make_desc(2, DCLS_PADDING_REFLECT, 2, 6, 6, 6, 20, 9, 1, 4), lo9, hi9, rng);
        const int64_t lo7[3] = {1, 3, 0}, hi7[3] = {4, 6, 1};
        test_window(make_desc(2, DCLS_PADDING_ZEROS, 2, 4, 8, 4, 23, 7, 2, 3), lo7, hi7, rng);
        const int64_t lo31[3] = {10, 0, 0}, hi31[3] = {21, 1, 1};
        test_window(make_desc(1, DCLS_PADDING_ZEROS, 2, 8, 8, 8, 300, 31, 1, 15), lo31, hi31, rng);
        const int64_t lo5[3] = {1, 0, 2}, hi5[3] = {3, 5, 4};
        test_window(make_desc(3, DCLS_PADDING_ZEROS, 1, 4, 4, 4, 9, 5, 1, 2), lo5, hi5, rng);
        // The direct convolution (where cuDNN is missing): dense, grouped and depthwise kernels,
        // strides, padding modes, 1D to 3D.
        if (!cudnn_available) {
            const int never = DCLS_CUDA_DEPTHWISE_NEVER;
            test_window(make_desc(2, DCLS_PADDING_ZEROS, 2, 4, 6, 1, 12, 7, 1, 3), lo7, hi7, rng, never);
            test_window(make_desc(2, DCLS_PADDING_REFLECT, 2, 4, 6, 2, 11, 9, 2, 4), lo9, hi9, rng, never);
            test_window(make_desc(2, DCLS_PADDING_ZEROS, 2, 6, 6, 6, 20, 9, 1, 4), lo9, hi9, rng, never);
            test_window(make_desc(1, DCLS_PADDING_CIRCULAR, 2, 3, 5, 1, 90, 31, 2, 15), lo31, hi31, rng, never);
            test_window(make_desc(3, DCLS_PADDING_ZEROS, 1, 2, 4, 2, 9, 5, 1, 2), lo5, hi5, rng, never);
        }
    }

    test_sparse_all(rng);

    // Benchmark mode (cudnnFind* and timing of the depthwise kernels) and TF32.
    dcls_cuda_set_benchmark(ctx, 1);
    test_conv_config(fixed[0], rng, "benchmark");
    if (cudnn_available) test_conv_config(fixed[10], rng, "benchmark");
    dcls_cuda_set_benchmark(ctx, 0);
    if (cudnn_available) {
        dcls_cuda_set_tf32(ctx, 1);
        dcls_cuda_set_depthwise_mode(ctx, DCLS_CUDA_DEPTHWISE_NEVER);
        test_conv_config(fixed[10], rng, "cudnn-tf32", 1e-2);
        dcls_cuda_set_tf32(ctx, 0);
        dcls_cuda_set_depthwise_mode(ctx, DCLS_CUDA_DEPTHWISE_AUTO);
    }
}

// ---- memory and errors -----------------------------------------------------------------------------

void test_memory() {
    void *d = nullptr, *h = nullptr;
    check(dcls_cuda_malloc(ctx, 1024, &d) == DCLS_OK && d != nullptr, "malloc");
    check(dcls_cuda_malloc_host(ctx, 1024, &h) == DCLS_OK && h != nullptr, "malloc_host");
    if (d && h) {
        std::memset(h, 0x5a, 1024);
        check(dcls_cuda_memset(ctx, d, 0x11, 1024) == DCLS_OK, "memset");
        check(dcls_cuda_memcpy(ctx, h, d, 512, DCLS_CUDA_MEMCPY_DEFAULT) == DCLS_OK, "memcpy default");
        check(dcls_cuda_synchronize(ctx) == DCLS_OK, "synchronize");
        const unsigned char *b = static_cast<const unsigned char *>(h);
        check(b[0] == 0x11 && b[511] == 0x11 && b[512] == 0x5a, "memset + memcpy contents");
    }
    check(dcls_cuda_free(ctx, d) == DCLS_OK && dcls_cuda_free_host(ctx, h) == DCLS_OK, "free");
    void *z = &z;
    check(dcls_cuda_malloc(ctx, 0, &z) == DCLS_OK && z == nullptr, "malloc 0 gives null");
    check(dcls_cuda_malloc(ctx, -1, &z) == DCLS_ERROR_INVALID_ARGUMENT && has_message(), "malloc -1");
    check(dcls_cuda_memcpy(ctx, &z, &z, 8, 9) == DCLS_ERROR_INVALID_ARGUMENT, "memcpy with a bad kind");
    check(dcls_cuda_set_depthwise_mode(ctx, 7) == DCLS_ERROR_INVALID_ARGUMENT, "bad depthwise mode");
    check(dcls_cuda_set_depthwise_weights_kernel(ctx, 3) == DCLS_ERROR_INVALID_ARGUMENT && has_message(),
          "bad depthwise weights kernel");
    check(dcls_cuda_free(ctx, nullptr) == DCLS_OK, "free(null)");

    dcls_conv_desc bad = make_desc(2, DCLS_PADDING_ZEROS, 1, 4, 6, 4, 8, 3, 1, 1);
    dcls_cuda_conv_plan *plan = reinterpret_cast<dcls_cuda_conv_plan *>(&plan);
    check(dcls_cuda_conv_plan_create(ctx, &bad, &plan) == DCLS_ERROR_INVALID_ARGUMENT && plan == nullptr && has_message(),
          "conv plan with bad groups");
    dcls_construct_desc cd{2, DCLS_INTERPOLATION_GAUSSIAN, 1, 1, 0, {5, 5, 0}};
    float f = 0.f;
    check(dcls_cuda_construct_forward(ctx, &cd, &f, &f, &f, &f) == DCLS_ERROR_INVALID_ARGUMENT, "construct with K = 0");
    cd.kernel_count = 1;
    check(dcls_cuda_construct_forward(ctx, &cd, &f, &f, nullptr, &f) == DCLS_ERROR_INVALID_ARGUMENT,
          "construct gaussian without sigma");
    cd.interpolation = DCLS_INTERPOLATION_BILINEAR;
    check(dcls_cuda_construct_backward(ctx, &cd, &f, &f, nullptr, &f, nullptr, nullptr, &f, 0) ==
              DCLS_ERROR_INVALID_ARGUMENT,
          "construct backward: grad_sigma for bilinear");
}

// What needs no device: run everywhere.
void test_without_device() {
    check(dcls_cuda_device_count(nullptr) == DCLS_ERROR_INVALID_ARGUMENT && has_message(), "device_count(null)");
    check(dcls_cuda_context_destroy(nullptr) == DCLS_OK, "context_destroy(null)");
    check(dcls_cuda_conv_plan_destroy(nullptr) == DCLS_OK, "conv_plan_destroy(null)");
    check(dcls_cuda_synchronize(nullptr) == DCLS_ERROR_INVALID_ARGUMENT && has_message(), "synchronize(null)");
    float f = 0.f;
    dcls_construct_desc cd{1, DCLS_INTERPOLATION_BILINEAR, 1, 1, 1, {3, 0, 0}};
    check(dcls_cuda_construct_forward(nullptr, &cd, &f, &f, nullptr, &f) == DCLS_ERROR_INVALID_ARGUMENT,
          "construct_forward(null ctx)");
    dcls_cuda_conv_plan *plan = nullptr;
    const dcls_conv_desc d = make_desc(1, DCLS_PADDING_ZEROS, 1, 1, 1, 1, 8, 3, 1, 1);
    check(dcls_cuda_conv_plan_create(nullptr, &d, &plan) == DCLS_ERROR_INVALID_ARGUMENT && plan == nullptr,
          "conv_plan_create(null ctx)");
    int32_t version = -1;
    check(dcls_cuda_cudnn_version(&version) == DCLS_OK && version >= 0, "cudnn_version");
    if (version == 0) check(has_message(), "cudnn_version 0 says why");
    cudnn_available = version > 0;
}

}  // namespace

// ---- position upkeep ---------------------------------------------------------------------------

// dcls_cuda_positions_clamp and _round against the rule written out here: [-(L / 2), L / 2] per axis
// (L / 2 rounded down; NaN kept), and rounding half to even; with halves, bounds, NaN and infinities.
void test_positions(Rng &rng) {
    dcls_construct_desc d{};
    d.ndim = 3;
    d.interpolation = DCLS_INTERPOLATION_GAUSSIAN;
    d.out_channels = 3;
    d.in_per_group = 2;
    d.kernel_count = 50;
    d.dilated_kernel_size[0] = 7;
    d.dilated_kernel_size[1] = 4;
    d.dilated_kernel_size[2] = 1;
    const int64_t per_axis = 3 * 2 * 50;
    std::vector<float> p = rng.vec(3 * per_axis, -6.0, 6.0);
    const float specials[] = {0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 3.0f, -3.0f, 3.5f, 2.0f, -2.0f, 0.0f,
                              std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                              -std::numeric_limits<float>::infinity()};
    for (int a = 0; a < 3; ++a)
        for (size_t i = 0; i < sizeof specials / sizeof specials[0]; ++i) p[size_t(a * per_axis + int64_t(i))] = specials[i];
    Device dp(p);
    check(dcls_cuda_positions_clamp(ctx, &d, dp.get()) == DCLS_OK, "positions_clamp");
    const std::vector<float> clamped = dp.download();
    bool ok = true;
    for (int a = 0; a < 3; ++a) {
        const float lim = float(d.dilated_kernel_size[a] / 2);
        for (int64_t e = 0; e < per_axis; ++e) {
            const float v = p[size_t(a * per_axis + e)], got = clamped[size_t(a * per_axis + e)];
            const float want = v < -lim ? -lim : v > lim ? lim : v;
            ok = ok && (std::isnan(v) ? std::isnan(got) : got == want);
        }
    }
    check(ok, "positions_clamp: each axis into [-(L / 2), L / 2], NaN kept");

    Device dr(p.size());
    check(dcls_cuda_positions_round(ctx, dp.get(), dr.get(), int64_t(p.size())) == DCLS_OK, "positions_round");
    const std::vector<float> rounded = dr.download();
    ok = true;
    for (size_t i = 0; i < p.size(); ++i) {
        const float v = clamped[i];
        float want = std::floor(v);
        const float frac = v - want;
        if (frac > 0.5f || (frac == 0.5f && std::fmod(want, 2.0f) != 0.0f)) want += 1.0f;
        ok = ok && (std::isnan(v) ? std::isnan(rounded[i]) : rounded[i] == want);
    }
    check(ok, "positions_round: half to even (0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -2.5 -> -2)");
    check(dcls_cuda_positions_round(ctx, dp.get(), dp.get(), 0) == DCLS_OK, "positions_round: nothing to do");
    check(dcls_cuda_positions_round(ctx, dp.get(), dp.get(), -1) == DCLS_ERROR_INVALID_ARGUMENT && has_message(),
          "positions_round: a negative count is refused");
    check(dcls_cuda_positions_clamp(ctx, &d, nullptr) == DCLS_ERROR_INVALID_ARGUMENT && has_message(),
          "positions_clamp: null positions are refused");
}

int main(int argc, char **argv) {
    const uint64_t seed = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20240611;
    const int configs = argc > 2 ? std::atoi(argv[2]) : 120;
    const bool quick = argc > 3 && std::strcmp(argv[3], "quick") == 0;
    Rng rng(seed);

    test_without_device();
    int32_t count = -1;
    check(dcls_cuda_device_count(&count) == DCLS_OK && count >= 0, "device_count");
    if (count <= 0) {
        dcls_cuda_context *c = nullptr;
        check(dcls_cuda_context_create(0, &c) != DCLS_OK && c == nullptr && has_message(),
              "context_create without a device fails with a message");
        if (failed > 0) {
            std::printf("%d passed, %d failed\n", passed, failed);
            return 1;
        }
        std::printf("SKIPPED: no CUDA device (%s); %d checks of the no-device paths passed, nothing on a GPU ran\n",
                    dcls_cuda_last_error(), passed);
        return 77;
    }

    char name[256] = {0};
    int32_t cc = 0;
    check(dcls_cuda_device_info(0, name, sizeof name, &cc) == DCLS_OK, "device_info");
    int32_t cudnn = 0;
    dcls_cuda_cudnn_version(&cudnn);
    std::printf("device 0: %s (compute capability %d), cuDNN %d%s\n", name, cc, cudnn,
                cudnn ? "" : (std::string(" (") + dcls_cuda_last_error() + ")").c_str());
    if (dcls_cuda_context_create(0, &ctx) != DCLS_OK) {
        std::printf("FAIL: context_create: %s\n", dcls_cuda_last_error());
        return 1;
    }
    dcls_cuda_set_tf32(ctx, 0);

    test_memory();
    test_positions(rng);
    test_construct(rng, configs);
    test_conv(rng, configs, quick);

    check(dcls_cuda_synchronize(ctx) == DCLS_OK, "final synchronize");
    check(dcls_cuda_context_destroy(ctx) == DCLS_OK, "context_destroy");
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
