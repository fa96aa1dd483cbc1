// Tests of the convolution C ABI (dcls_conv_*) against a naive double-precision direct
// convolution and its naive backward, over random shapes: ndim 1, 2, 3; groups 1, 2 and
// depthwise; strides 1..3; padding 0..kernel/2 with non-square sizes; all four padding modes;
// with and without bias; accumulate 0 and 1. Then the library's own kernels: depthwise shapes
// (forward, backward data at stride 1 and backward weights: kernels up to 41, channel counts off
// the vector width, every thread split, both instruction sets, oneDNN's depthwise path too, the
// full depthwise benchmark shape for backward weights) and dense backward weights (shapes oneDNN
// sends to gemm, random ones with the dense kernel forced, both instruction sets, a 1D shape
// with long sums). Then which engine the plan picks per pass (dcls_conv_plan_info), under each
// engine option. Then the error paths of the C ABI.
//
// Usage: test_conv [seed [configs [own-kernel configs]]]. Prints "N passed, M failed"; exits
// non-zero on a failure.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "conv_reference.h"
#include "dcls.h"

namespace {

int passed = 0, failed = 0;

void check(bool ok, const std::string &what) {
    if (ok) {
        ++passed;
    } else {
        ++failed;
        std::printf("FAIL: %s\n", what.c_str());
    }
}

using dcls_test::close;
using dcls_test::describe;
using dcls_test::make_desc;
using dcls_test::Ref;


std::vector<float> random_vector(std::mt19937_64 &rng, int64_t count) {
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> v(count);
    for (float &e : v) e = u(rng);
    return v;
}

int64_t uniform(std::mt19937_64 &rng, int64_t lo, int64_t hi) {  // inclusive
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

// ---- one configuration -----------------------------------------------------------------------

void test_config(const dcls_conv_desc &d, std::mt19937_64 &rng) {
    const std::string name = describe(d);
    dcls_conv_plan *plan = nullptr;
    if (dcls_conv_plan_create(&d, &plan) != DCLS_OK || plan == nullptr) {
        check(false, name + ": plan_create: " + dcls_last_error());
        return;
    }
    const Ref ref(d);
    int64_t out[3];
    bool ok = dcls_conv_plan_output_size(plan, out) == DCLS_OK;
    for (int i = 0; i < 3; ++i) ok = ok && out[i] == (i < d.ndim ? ref.out[3 - d.ndim + i] : 1);
    check(ok, name + ": output_size");

    const std::vector<float> x = random_vector(rng, ref.x_count()), w = random_vector(rng, ref.w_count()),
                             b = random_vector(rng, d.out_channels), gy = random_vector(rng, ref.y_count());

    // Forward, with and without bias (different output buffers, pre-filled with garbage).
    std::vector<float> y(ref.y_count(), 1e3f), y_nobias(ref.y_count(), -1e3f);
    bool st = dcls_conv_forward(plan, x.data(), w.data(), b.data(), y.data()) == DCLS_OK;
    check(st && close(y, ref.forward(x, w, b.data()), "forward"), name + ": forward with bias");
    st = dcls_conv_forward(plan, x.data(), w.data(), nullptr, y_nobias.data()) == DCLS_OK;
    check(st && close(y_nobias, ref.forward(x, w, nullptr), "forward"), name + ": forward without bias");

    // Backward data: overwrites.
    std::vector<float> gx(ref.x_count(), 7.f);
    st = dcls_conv_backward_data(plan, gy.data(), w.data(), gx.data()) == DCLS_OK;
    check(st && close(gx, ref.grad_x(gy, w), "grad_x"), name + ": backward_data");

    // Backward weights: overwrite, then accumulate onto random values; with and without bias.
    const std::vector<double> gw_ref = ref.grad_w(x, gy), gb_ref = ref.grad_b(gy);
    std::vector<float> gw(ref.w_count(), 5.f), gb(d.out_channels, 5.f);
    st = dcls_conv_backward_weights(plan, x.data(), gy.data(), gw.data(), gb.data(), 0) == DCLS_OK;
    check(st && close(gw, gw_ref, "grad_kernel") && close(gb, gb_ref, "grad_bias"),
          name + ": backward_weights accumulate=0 with bias");

    std::vector<float> gw_acc = random_vector(rng, ref.w_count()), gb_acc = random_vector(rng, d.out_channels);
    std::vector<double> gw_acc_ref(gw_ref), gb_acc_ref(gb_ref);
    for (size_t i = 0; i < gw_acc.size(); ++i) gw_acc_ref[i] += gw_acc[i];
    for (size_t i = 0; i < gb_acc.size(); ++i) gb_acc_ref[i] += gb_acc[i];
    st = dcls_conv_backward_weights(plan, x.data(), gy.data(), gw_acc.data(), gb_acc.data(), 1) == DCLS_OK;
    check(st && close(gw_acc, gw_acc_ref, "grad_kernel") && close(gb_acc, gb_acc_ref, "grad_bias"),
          name + ": backward_weights accumulate=1 with bias");

    std::vector<float> gw2(ref.w_count(), -3.f);
    st = dcls_conv_backward_weights(plan, x.data(), gy.data(), gw2.data(), nullptr, 0) == DCLS_OK;
    check(st && close(gw2, gw_ref, "grad_kernel"), name + ": backward_weights accumulate=0 without bias");

    std::vector<float> gw3 = random_vector(rng, ref.w_count());
    std::vector<double> gw3_ref(gw_ref);
    for (size_t i = 0; i < gw3.size(); ++i) gw3_ref[i] += gw3[i];
    st = dcls_conv_backward_weights(plan, x.data(), gy.data(), gw3.data(), nullptr, 1) == DCLS_OK;
    check(st && close(gw3, gw3_ref, "grad_kernel"), name + ": backward_weights accumulate=1 without bias");

    check(dcls_conv_plan_destroy(plan) == DCLS_OK, name + ": destroy");
}

dcls_conv_desc random_config(std::mt19937_64 &rng) {
    for (;;) {
        dcls_conv_desc d{};
        d.ndim = int32_t(uniform(rng, 1, 3));
        d.padding_mode = int32_t(uniform(rng, 0, 3));
        d.batch = uniform(rng, 1, 3);
        switch (uniform(rng, 0, 2)) {
            case 0:  // dense, sometimes wide
                d.groups = 1;
                d.in_channels = uniform(rng, 1, 6) * (uniform(rng, 0, 3) == 0 ? 4 : 1);
                d.out_channels = uniform(rng, 1, 6) * (uniform(rng, 0, 3) == 0 ? 4 : 1);
                break;
            case 1:  // two groups
                d.groups = 2;
                d.in_channels = 2 * uniform(rng, 1, 4) * (uniform(rng, 0, 3) == 0 ? 3 : 1);
                d.out_channels = 2 * uniform(rng, 1, 4) * (uniform(rng, 0, 3) == 0 ? 3 : 1);
                break;
            default:  // depthwise, sometimes with a channel multiplier
                d.in_channels = d.groups = uniform(rng, 1, 20);
                d.out_channels = d.in_channels * (uniform(rng, 0, 3) == 0 ? 2 : 1);
                break;
        }
        const int64_t max_size = d.ndim == 1 ? 24 : d.ndim == 2 ? 12 : 7;
        const int64_t max_kernel = d.ndim == 3 ? 3 : 5;
        bool valid = true;
        for (int i = 0; i < d.ndim; ++i) {
            d.input_size[i] = uniform(rng, 1, max_size);
            d.kernel_size[i] = uniform(rng, 1, max_kernel);
            d.stride[i] = uniform(rng, 1, 3);
            d.padding[i] = uniform(rng, 0, d.kernel_size[i] / 2);
            if (d.padding_mode == DCLS_PADDING_REFLECT)
                d.padding[i] = std::min(d.padding[i], d.input_size[i] - 1);
            if (d.padding_mode == DCLS_PADDING_CIRCULAR)
                d.padding[i] = std::min(d.padding[i], d.input_size[i]);
            valid = valid && d.input_size[i] + 2 * d.padding[i] >= d.kernel_size[i];
        }
        if (valid) return d;
    }
}


// ---- depthwise backward weights ----------------------------------------------------------

// Depthwise with channel multiplier 1, the shapes the library's own depthwise kernels take:
// channel counts on and off the vector widths (8, 16), kernels up to 23 wide, strides 1..3, all
// padding modes.
dcls_conv_desc random_depthwise_config(std::mt19937_64 &rng) {
    static const int64_t channels[] = {1, 3, 5, 8, 9, 16, 17, 24, 33};
    for (;;) {
        dcls_conv_desc d{};
        d.ndim = int32_t(uniform(rng, 1, 3));
        d.padding_mode = int32_t(uniform(rng, 0, 3));
        d.batch = uniform(rng, 1, 3);
        d.in_channels = d.out_channels = d.groups = channels[uniform(rng, 0, 8)];
        const int64_t max_size = d.ndim == 1 ? 64 : d.ndim == 2 ? 24 : 9;
        const int64_t max_kernel = d.ndim == 1 ? 23 : d.ndim == 2 ? (uniform(rng, 0, 2) == 0 ? 23 : 9) : 5;
        bool valid = true;
        for (int i = 0; i < d.ndim; ++i) {
            d.input_size[i] = uniform(rng, 1, max_size);
            d.kernel_size[i] = uniform(rng, 1, max_kernel);
            d.stride[i] = uniform(rng, 1, 3);
            d.padding[i] = uniform(rng, 0, d.kernel_size[i] / 2 + 1);
            if (d.padding_mode == DCLS_PADDING_REFLECT) d.padding[i] = std::min(d.padding[i], d.input_size[i] - 1);
            if (d.padding_mode == DCLS_PADDING_CIRCULAR) d.padding[i] = std::min(d.padding[i], d.input_size[i]);
            valid = valid && d.input_size[i] + 2 * d.padding[i] >= d.kernel_size[i];
        }
        // At most 1.5M product terms, to keep the naive reference quick.
        if (valid && Ref(d).y_count() * Ref(d).k_plane() <= 1500000) return d;
    }
}

dcls_conv_desc depthwise_desc(int ndim, int mode, int64_t n, int64_t c, std::initializer_list<int64_t> size,
                              std::initializer_list<int64_t> k, std::initializer_list<int64_t> s,
                              std::initializer_list<int64_t> p) {
    dcls_conv_desc d{};
    d.ndim = ndim;
    d.padding_mode = mode;
    d.batch = n;
    d.in_channels = d.out_channels = d.groups = c;
    for (int i = 0; i < ndim; ++i) {
        d.input_size[i] = size.begin()[i];
        d.kernel_size[i] = k.begin()[i];
        d.stride[i] = s.begin()[i];
        d.padding[i] = p.begin()[i];
    }
    return d;
}

// DCLS_CPU_ISA: "" (the CPU's best) or "avx2", for all of the library's own
// kernels; read when a plan is made.
void set_isa(const char *isa) { setenv("DCLS_CPU_ISA", isa, 1); }

// Engine choices for the plans created next (dcls_set_engine_option).
void set_engine(const char *name, const char *value) {
    check(dcls_set_engine_option(name, value) == DCLS_OK, std::string("set_engine_option ") + name + "=" + value);
}

void test_depthwise(int configs, std::mt19937_64 &rng) {
    const dcls_conv_desc fixed[] = {
        depthwise_desc(2, DCLS_PADDING_ZEROS, 2, 17, {21, 19}, {17, 17}, {1, 1}, {8, 8}),
        depthwise_desc(2, DCLS_PADDING_REFLECT, 3, 33, {15, 22}, {7, 23}, {2, 1}, {3, 11}),
        depthwise_desc(2, DCLS_PADDING_CIRCULAR, 1, 5, {9, 30}, {1, 23}, {1, 3}, {0, 9}),
        depthwise_desc(2, DCLS_PADDING_REPLICATE, 2, 16, {13, 13}, {13, 1}, {3, 2}, {6, 0}),
        depthwise_desc(1, DCLS_PADDING_ZEROS, 3, 5, {101}, {23}, {3}, {11}),
        depthwise_desc(1, DCLS_PADDING_CIRCULAR, 2, 40, {77}, {41}, {1}, {20}),  // two kw blocks
        depthwise_desc(1, DCLS_PADDING_REFLECT, 1, 1, {700}, {5}, {2}, {2}),    // rows over one segment
        depthwise_desc(3, DCLS_PADDING_ZEROS, 2, 17, {7, 6, 9}, {5, 3, 7}, {1, 2, 1}, {2, 1, 3}),
        depthwise_desc(3, DCLS_PADDING_REFLECT, 1, 33, {5, 5, 6}, {3, 5, 5}, {2, 1, 3}, {1, 2, 2}),
        depthwise_desc(2, DCLS_PADDING_ZEROS, 2, 32, {15, 15}, {3, 3}, {1, 1}, {1, 1}),
    };
    // Both instruction sets (the plan picks its kernel when created), and thread counts that
    // give every work split: batch splits, kernel-row splits, one thread, more threads than cores.
    for (const char *isa : {"", "avx2"}) {
        set_isa(isa);
        for (int threads : {2, 1, 5}) {
            dcls_set_num_threads(threads);
            for (const dcls_conv_desc &d : fixed) test_config(d, rng);
        }
        dcls_set_num_threads(2);
        for (int i = 0; i < configs; ++i) test_config(random_depthwise_config(rng), rng);
    }
    unsetenv("DCLS_CPU_ISA");
    dcls_set_num_threads(0);

    // oneDNN's depthwise forward and backward data (which the plan keeps for strides > 1).
    set_engine("depthwise_conv", "never");
    for (const dcls_conv_desc &d : fixed) test_config(d, rng);
    set_engine("depthwise_conv", "auto");
}

// The benchmark shape (N=8, 96 channels, 56x56, 17x17 kernel, padding 8): 25088 terms per
// kernel entry, on data with a positive mean so that the sums grow with their length. Only
// backward weights, against a direct double-precision depthwise reference.
void test_depthwise_large() {
    const dcls_conv_desc d = depthwise_desc(2, DCLS_PADDING_ZEROS, 8, 96, {56, 56}, {17, 17}, {1, 1}, {8, 8});
    const std::string name = "large " + describe(d);
    const Ref ref(d);
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<float> ux(0.f, 1.f), ug(-0.25f, 1.f);
    std::vector<float> x(ref.x_count()), gy(ref.y_count());
    for (float &e : x) e = ux(rng);
    for (float &e : gy) e = ug(rng);

    const int64_t C = d.in_channels, H = 56, W = 56, K = 17, P = 8;
    std::vector<double> gw_ref(ref.w_count(), 0.0), gb_ref(C, 0.0);
    for (int64_t n = 0; n < d.batch; ++n)
        for (int64_t c = 0; c < C; ++c) {
            const float *xs = x.data() + (n * C + c) * H * W, *gs = gy.data() + (n * C + c) * H * W;
            for (int64_t i = 0; i < H * W; ++i) gb_ref[c] += gs[i];
            for (int64_t kh = 0; kh < K; ++kh)
                for (int64_t kw = 0; kw < K; ++kw) {
                    double sum = 0.0;
                    for (int64_t oh = std::max<int64_t>(0, P - kh); oh < std::min<int64_t>(H, H + P - kh); ++oh)
                        for (int64_t ow = std::max<int64_t>(0, P - kw); ow < std::min<int64_t>(W, W + P - kw); ++ow)
                            sum += double(gs[oh * W + ow]) * xs[(oh + kh - P) * W + ow + kw - P];
                    gw_ref[(c * K + kh) * K + kw] += sum;
                }
        }

    for (const char *isa : {"", "avx2"}) {
        set_isa(isa);
        dcls_conv_plan *plan = nullptr;
        if (dcls_conv_plan_create(&d, &plan) != DCLS_OK) {
            check(false, name + ": plan_create: " + dcls_last_error());
            continue;
        }
        std::vector<float> gw(ref.w_count(), 5.f), gb(C, 5.f);
        bool st = dcls_conv_backward_weights(plan, x.data(), gy.data(), gw.data(), gb.data(), 0) == DCLS_OK;
        check(st && close(gw, gw_ref, "grad_kernel") && close(gb, gb_ref, "grad_bias"),
              name + " " + (isa[0] ? isa : "default isa") + ": backward_weights accumulate=0");
        std::vector<double> gw_acc_ref(gw_ref), gb_acc_ref(gb_ref);
        for (double &e : gw_acc_ref) e += 5.0;
        for (double &e : gb_acc_ref) e += 5.0;
        std::fill(gw.begin(), gw.end(), 5.f);
        std::fill(gb.begin(), gb.end(), 5.f);
        st = dcls_conv_backward_weights(plan, x.data(), gy.data(), gw.data(), gb.data(), 1) == DCLS_OK;
        check(st && close(gw, gw_acc_ref, "grad_kernel") && close(gb, gb_acc_ref, "grad_bias"),
              name + " " + (isa[0] ? isa : "default isa") + ": backward_weights accumulate=1");
        dcls_conv_plan_destroy(plan);
    }
    unsetenv("DCLS_CPU_ISA");
}

// ---- dense backward weights --------------------------------------------------------------

dcls_conv_desc dense_desc(int ndim, int mode, int64_t n, int64_t cin, int64_t cout, std::initializer_list<int64_t> size,
                          std::initializer_list<int64_t> k, std::initializer_list<int64_t> s,
                          std::initializer_list<int64_t> p) {
    dcls_conv_desc d = depthwise_desc(ndim, mode, n, cin, size, k, s, p);
    d.out_channels = cout;
    d.groups = 1;
    return d;
}

// A random dense shape: channel counts on both sides of the vector widths, so that either side
// may be the vectorised one.
dcls_conv_desc random_dense_config(std::mt19937_64 &rng) {
    static const int64_t channels[] = {1, 2, 3, 5, 8, 9, 16, 17, 24, 33};
    for (;;) {
        dcls_conv_desc d = random_config(rng);
        d.groups = 1;
        d.in_channels = channels[uniform(rng, 0, 9)];
        d.out_channels = channels[uniform(rng, 0, 9)];
        if (Ref(d).y_count() * Ref(d).k_plane() * d.in_channels <= 1500000) return d;
    }
}

void test_dense(int configs, std::mt19937_64 &rng) {
    // Shapes oneDNN runs on gemm, which the plan gives to the dense kernel by itself.
    const dcls_conv_desc fixed[] = {
        dense_desc(1, DCLS_PADDING_ZEROS, 2, 16, 16, {100}, {41}, {1}, {20}),
        dense_desc(1, DCLS_PADDING_CIRCULAR, 3, 5, 33, {77}, {23}, {2}, {11}),     // vector side o
        dense_desc(1, DCLS_PADDING_REFLECT, 2, 40, 3, {64}, {17}, {3}, {8}),       // vector side c, tiles
        dense_desc(2, DCLS_PADDING_ZEROS, 2, 8, 8, {21, 19}, {17, 17}, {1, 1}, {8, 8}),
        dense_desc(2, DCLS_PADDING_REPLICATE, 1, 3, 20, {15, 22}, {9, 13}, {2, 1}, {4, 6}),
        dense_desc(3, DCLS_PADDING_ZEROS, 1, 4, 6, {6, 7, 5}, {5, 5, 3}, {1, 2, 1}, {2, 2, 1}),
    };
    for (const char *isa : {"", "avx2"}) {
        set_isa(isa);
        for (int threads : {2, 1, 5}) {
            dcls_set_num_threads(threads);
            for (const dcls_conv_desc &d : fixed) test_config(d, rng);
        }
        // Random dense shapes with the dense kernel forced.
        dcls_set_num_threads(2);
        set_engine("dense_backward_weights", "always");
        for (int i = 0; i < configs; ++i) test_config(random_dense_config(rng), rng);
        set_engine("dense_backward_weights", "auto");
    }
    unsetenv("DCLS_CPU_ISA");
    dcls_set_num_threads(0);
}

// A 1D dense shape like the benchmark's (64 -> 64 channels, kernel 41), 4 x 512 positions per
// sum, on data with a positive mean. Only backward weights, against a direct double reference.
void test_dense_large() {
    const dcls_conv_desc d = dense_desc(1, DCLS_PADDING_ZEROS, 4, 64, 64, {512}, {41}, {1}, {20});
    const std::string name = "large " + describe(d);
    const Ref ref(d);
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<float> ux(0.f, 1.f), ug(-0.25f, 1.f);
    std::vector<float> x(ref.x_count()), gy(ref.y_count());
    for (float &e : x) e = ux(rng);
    for (float &e : gy) e = ug(rng);

    const int64_t C = 64, O = 64, L = 512, K = 41, P = 20;
    std::vector<double> gw_ref(ref.w_count(), 0.0), gb_ref(O, 0.0);
    for (int64_t n = 0; n < d.batch; ++n)
        for (int64_t o = 0; o < O; ++o) {
            const float *gs = gy.data() + (n * O + o) * L;
            for (int64_t l = 0; l < L; ++l) gb_ref[o] += gs[l];
            for (int64_t c = 0; c < C; ++c) {
                const float *xs = x.data() + (n * C + c) * L;
                for (int64_t k = 0; k < K; ++k) {
                    double sum = 0.0;
                    for (int64_t l = std::max<int64_t>(0, P - k); l < std::min<int64_t>(L, L + P - k); ++l)
                        sum += double(gs[l]) * xs[l + k - P];
                    gw_ref[(o * C + c) * K + k] += sum;
                }
            }
        }

    for (const char *isa : {"", "avx2"}) {
        set_isa(isa);
        dcls_conv_plan *plan = nullptr;
        if (dcls_conv_plan_create(&d, &plan) != DCLS_OK) {
            check(false, name + ": plan_create: " + dcls_last_error());
            continue;
        }
        std::vector<float> gw(ref.w_count(), 5.f), gb(O, 5.f);
        const bool st = dcls_conv_backward_weights(plan, x.data(), gy.data(), gw.data(), gb.data(), 0) == DCLS_OK;
        check(st && close(gw, gw_ref, "grad_kernel") && close(gb, gb_ref, "grad_bias"),
              name + " " + (isa[0] ? isa : "default isa") + ": backward_weights");
        dcls_conv_plan_destroy(plan);
    }
    unsetenv("DCLS_CPU_ISA");
}

bool runs_on(const std::string &info, const char *pass, const char *engine);

// ---- the tap-sparse convolution (dcls_conv_plan_set_kernel_cells, sparse_conv.cpp) ---------------

// A DCLS kernel for shape d: kernel_count elements per pair at random positions (some past the
// edges), `interpolation`, sigma where it has one; `rounded`: integer positions (inference).
struct DclsKernel {
    dcls_construct_desc c{};
    std::vector<float> weight, positions, sigma, kernel;
};

DclsKernel make_dcls_kernel(const dcls_conv_desc &d, int interpolation, int64_t count, bool rounded, std::mt19937_64 &rng) {
    DclsKernel k;
    k.c.ndim = d.ndim;
    k.c.interpolation = interpolation;
    k.c.out_channels = d.out_channels;
    k.c.in_per_group = d.in_channels / d.groups;
    k.c.kernel_count = count;
    for (int i = 0; i < d.ndim; ++i) k.c.dilated_kernel_size[i] = d.kernel_size[i];
    const int64_t elements = k.c.out_channels * k.c.in_per_group * count;
    k.weight = random_vector(rng, elements);
    k.positions.resize(size_t(d.ndim * elements));
    for (int i = 0; i < d.ndim; ++i) {
        const double half = double(d.kernel_size[i] / 2);
        std::uniform_real_distribution<float> u(float(-half - 0.7), float(double(d.kernel_size[i]) - 1 - half + 0.7));
        for (int64_t e = 0; e < elements; ++e) {
            float v = u(rng);
            if (rounded) v = std::clamp(std::round(v), float(-half), float(double(d.kernel_size[i]) - 1 - half));
            k.positions[size_t(i * elements + e)] = v;
        }
    }
    if (interpolation >= DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH) {
        std::uniform_real_distribution<float> u(interpolation == DCLS_INTERPOLATION_GAUSSIAN ? 0.f : -1.5f, 1.5f);
        k.sigma.resize(k.positions.size());
        for (float &e : k.sigma) e = u(rng);
    }
    k.kernel.resize(size_t(Ref(d).w_count()));
    if (dcls_construct_forward(&k.c, k.weight.data(), k.positions.data(), k.sigma.empty() ? nullptr : k.sigma.data(),
                               k.kernel.data()) != DCLS_OK)
        check(false, std::string("construct_forward: ") + dcls_last_error());
    return k;
}

// The construction's gradients (weight, positions, sigma) from a kernel gradient, concatenated.
std::vector<float> construct_grads(const DclsKernel &k, const std::vector<float> &grad_kernel) {
    const size_t e = k.weight.size();
    std::vector<float> out(e * (1 + 2 * size_t(k.c.ndim)), 0.f);
    const bool sig = !k.sigma.empty();
    if (dcls_construct_backward(&k.c, k.weight.data(), k.positions.data(), sig ? k.sigma.data() : nullptr,
                                grad_kernel.data(), out.data(), out.data() + e, sig ? out.data() + e * (1 + k.c.ndim) : nullptr,
                                0) != DCLS_OK)
        check(false, std::string("construct_backward: ") + dcls_last_error());
    return out;
}

// Every pass of a plan given the kernel cells (with the engine option sparse_conv as set: "always"
// forces the tap-sparse engine, checked in the plan's info) against the float64 reference on the
// constructed kernel: forward, backward data, and backward weights (overwrite and accumulate) where
// the kernel is non-zero, the contract (0 / nothing or the true gradient) elsewhere, and the
// construction's gradients from it against those from the reference's kernel gradient.
void test_sparse_config(const dcls_conv_desc &d, int interpolation, int64_t count, bool rounded, std::mt19937_64 &rng,
                        bool forced = true) {
    static const char *names[] = {"bilinear", "triangle", "triangle-width", "gauss"};
    const std::string name = describe(d) + " " + names[interpolation] + " K=" + std::to_string(count) + (rounded ? " rounded" : "");
    const Ref ref(d);
    const DclsKernel k = make_dcls_kernel(d, interpolation, count, rounded, rng);
    dcls_conv_plan *plan = nullptr;
    const float *sig = k.sigma.empty() ? nullptr : k.sigma.data();
    const char *info = nullptr;
    if (dcls_conv_plan_create(&d, &plan) != DCLS_OK ||
        dcls_conv_plan_set_kernel_cells(plan, &k.c, k.positions.data(), sig, 1) != DCLS_OK ||
        dcls_conv_plan_info(plan, &info) != DCLS_OK) {
        check(false, name + ": " + dcls_last_error());
        dcls_conv_plan_destroy(plan);
        return;
    }
    if (forced)
        check(runs_on(info, "forward", "dcls:sparse(") && runs_on(info, "backward_data", "dcls:sparse(") &&
                  runs_on(info, "backward_weights", "dcls:sparse("),
              name + ": the sparse engine runs every pass (" + info + ")");
    const std::vector<float> x = random_vector(rng, ref.x_count()), b = random_vector(rng, d.out_channels),
                             gy = random_vector(rng, ref.y_count());
    std::vector<float> y(ref.y_count(), 1e3f), gx(ref.x_count(), 7.f);
    check(dcls_conv_forward(plan, x.data(), k.kernel.data(), b.data(), y.data()) == DCLS_OK &&
              close(y, ref.forward(x, k.kernel, b.data()), "forward"), name + ": forward");
    check(dcls_conv_backward_data(plan, gy.data(), k.kernel.data(), gx.data()) == DCLS_OK &&
              close(gx, ref.grad_x(gy, k.kernel), "grad_x"), name + ": backward_data");

    const std::vector<double> gw_ref = ref.grad_w(x, gy), gb_ref = ref.grad_b(gy);
    std::vector<float> gw_ref_f(gw_ref.size());
    for (size_t i = 0; i < gw_ref.size(); ++i) gw_ref_f[i] = float(gw_ref[i]);
    for (int accumulate = 0; accumulate < 2; ++accumulate) {
        const std::vector<float> prior = random_vector(rng, ref.w_count()), prior_b = random_vector(rng, d.out_channels);
        std::vector<float> gw(prior), gb(prior_b);
        const bool st = dcls_conv_backward_weights(plan, x.data(), gy.data(), gw.data(), gb.data(), accumulate) == DCLS_OK;
        std::vector<double> want(gw_ref), want_b(gb_ref);
        std::vector<float> got(gw), delta(gw.size());
        bool outside_ok = true;
        for (size_t i = 0; i < gw.size(); ++i) {
            const double base = accumulate ? prior[i] : 0.0;
            want[i] += base;
            delta[i] = float(gw[i] - base);
            if (k.kernel[i] != 0.f) continue;  // a cell for sure: compared below
            const double tol = 1e-4 * std::max(1.0, std::fabs(gw_ref[i]));
            outside_ok = outside_ok && (std::fabs(gw[i] - base) <= tol || std::fabs(gw[i] - (base + gw_ref[i])) <= tol);
            got[i] = float(want[i]);
        }
        for (int64_t o = 0; o < d.out_channels; ++o) want_b[size_t(o)] += accumulate ? prior_b[size_t(o)] : 0.0;
        check(st && close(got, want, "grad_kernel where the kernel is non-zero") && outside_ok && close(gb, want_b, "grad_bias"),
              name + ": backward_weights accumulate=" + std::to_string(accumulate));
        // What the construction makes of it: the same as from the true kernel gradient.
        const std::vector<float> g_sparse = construct_grads(k, delta), g_ref = construct_grads(k, gw_ref_f);
        std::vector<double> g_ref_d(g_ref.begin(), g_ref.end());
        check(close(g_sparse, g_ref_d, "construction gradients"), name + ": construction backward accumulate=" + std::to_string(accumulate));
    }
    dcls_conv_plan_destroy(plan);
}

// A random shape for the sparse engine: any dims, groups, strides and padding modes, kernels up to
// 9 (3D: 5) cells wide.
dcls_conv_desc random_sparse_config(std::mt19937_64 &rng) {
    for (;;) {
        dcls_conv_desc d = random_config(rng);
        for (int i = 0; i < d.ndim; ++i) {
            d.kernel_size[i] = uniform(rng, 1, d.ndim == 3 ? 5 : 9);
            d.padding[i] = uniform(rng, 0, d.kernel_size[i] / 2 + 1);
            if (d.padding_mode == DCLS_PADDING_REFLECT) d.padding[i] = std::min(d.padding[i], d.input_size[i] - 1);
            if (d.padding_mode == DCLS_PADDING_CIRCULAR) d.padding[i] = std::min(d.padding[i], d.input_size[i]);
            if (d.input_size[i] + 2 * d.padding[i] < d.kernel_size[i]) d.input_size[i] = d.kernel_size[i] - 2 * d.padding[i];
        }
        if (Ref(d).y_count() * Ref(d).k_plane() * (d.in_channels / d.groups) <= 1500000) return d;
    }
}

void test_sparse(int configs, std::mt19937_64 &rng) {
    set_engine("sparse_conv", "always");
    for (const char *isa : {"", "avx2"}) {
        set_isa(isa);
        // The learnable-delay layer in small (long time axis, one tap, many channels), a spread
        // depthwise 2D kernel, a strided 3D one, and a wide row for the tiles.
        test_sparse_config(dense_desc(1, DCLS_PADDING_ZEROS, 3, 20, 12, {124}, {25}, {1}, {0}), DCLS_INTERPOLATION_TRIANGLE, 1, false, rng);
        test_sparse_config(dense_desc(1, DCLS_PADDING_ZEROS, 3, 20, 12, {124}, {25}, {1}, {0}), DCLS_INTERPOLATION_GAUSSIAN, 2, false, rng);
        test_sparse_config(depthwise_desc(2, DCLS_PADDING_ZEROS, 2, 17, {21, 19}, {17, 17}, {1, 1}, {8, 8}), DCLS_INTERPOLATION_BILINEAR, 6, false, rng);
        test_sparse_config(depthwise_desc(3, DCLS_PADDING_REFLECT, 1, 5, {7, 6, 9}, {5, 3, 5}, {2, 1, 3}, {2, 1, 2}), DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH, 3, false, rng);
        test_sparse_config(dense_desc(1, DCLS_PADDING_CIRCULAR, 2, 4, 6, {300}, {31}, {2}, {15}), DCLS_INTERPOLATION_BILINEAR, 2, true, rng);
        // Batches of whole vectors (8 to 128 floats a column): neighbouring cells then run in pairs
        // (SparseRowsJob::run), 1 to 8 vectors apart, in 1D, 2D and 3D (the row rule), with the
        // Gaussian's longer rows split into pairs and singles.
        test_sparse_config(dense_desc(1, DCLS_PADDING_ZEROS, 16, 12, 10, {60}, {25}, {1}, {3}), DCLS_INTERPOLATION_TRIANGLE, 1, false, rng);
        test_sparse_config(dense_desc(1, DCLS_PADDING_ZEROS, 32, 8, 6, {40}, {9}, {1}, {4}), DCLS_INTERPOLATION_GAUSSIAN, 2, false, rng);
        test_sparse_config(dense_desc(1, DCLS_PADDING_REFLECT, 128, 3, 4, {20}, {7}, {1}, {3}), DCLS_INTERPOLATION_BILINEAR, 3, false, rng);
        test_sparse_config(dense_desc(1, DCLS_PADDING_ZEROS, 64, 4, 4, {30}, {11}, {1}, {5}), DCLS_INTERPOLATION_TRIANGLE, 2, false, rng);
        test_sparse_config(depthwise_desc(2, DCLS_PADDING_ZEROS, 16, 6, {11, 9}, {7, 7}, {1, 1}, {3, 3}), DCLS_INTERPOLATION_BILINEAR, 4, false, rng);
        test_sparse_config(depthwise_desc(2, DCLS_PADDING_ZEROS, 8, 4, {10, 12}, {5, 7}, {2, 1}, {2, 3}), DCLS_INTERPOLATION_TRIANGLE, 3, false, rng);
        test_sparse_config(depthwise_desc(3, DCLS_PADDING_ZEROS, 8, 3, {5, 6, 7}, {3, 3, 5}, {1, 1, 1}, {1, 1, 2}), DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH, 2, false, rng);
        // Batches that are not whole groups of 8 (the packing's 8 x 8 transposes and their scalar
        // remainders), rows not a multiple of 8, with the padding's columns around them.
        test_sparse_config(dense_desc(1, DCLS_PADDING_ZEROS, 12, 3, 4, {21}, {5}, {1}, {2}), DCLS_INTERPOLATION_TRIANGLE, 2, false, rng);
        test_sparse_config(dense_desc(2, DCLS_PADDING_REFLECT, 12, 3, 4, {9, 13}, {5, 5}, {1, 1}, {2, 2}), DCLS_INTERPOLATION_BILINEAR, 3, false, rng);
        test_sparse_config(depthwise_desc(2, DCLS_PADDING_ZEROS, 9, 5, {13, 11}, {7, 9}, {1, 1}, {3, 4}), DCLS_INTERPOLATION_BILINEAR, 4, false, rng);
        for (int i = 0; i < configs; ++i)
            test_sparse_config(random_sparse_config(rng), int(uniform(rng, 0, 3)), uniform(rng, 1, 4), uniform(rng, 0, 4) == 0, rng);
    }
    unsetenv("DCLS_CPU_ISA");
    // The cost model's choices and the box alone ("never": the kernel window), on the same checks.
    for (const char *mode : {"auto", "never"}) {
        set_engine("sparse_conv", mode);
        test_sparse_config(dense_desc(1, DCLS_PADDING_ZEROS, 3, 20, 12, {124}, {25}, {1}, {0}), DCLS_INTERPOLATION_TRIANGLE, 1, false, rng, false);
        test_sparse_config(depthwise_desc(2, DCLS_PADDING_ZEROS, 2, 17, {21, 19}, {17, 17}, {1, 1}, {8, 8}), DCLS_INTERPOLATION_BILINEAR, 2, false, rng, false);
        for (int i = 0; i < configs / 4; ++i)
            test_sparse_config(random_sparse_config(rng), int(uniform(rng, 0, 3)), uniform(rng, 1, 4), uniform(rng, 0, 4) == 0, rng, false);
    }
    set_engine("sparse_conv", "auto");

    // Rounded triangle positions, one tap: exactly one cell per pair; without gradient cells,
    // backward weights stays dense.
    const dcls_conv_desc d = dense_desc(1, DCLS_PADDING_ZEROS, 2, 8, 4, {64}, {25}, {1}, {0});
    const DclsKernel k = make_dcls_kernel(d, DCLS_INTERPOLATION_TRIANGLE, 1, true, rng);
    dcls_conv_plan *plan = nullptr;
    const char *info = nullptr;
    set_engine("sparse_conv", "always");
    if (dcls_conv_plan_create(&d, &plan) == DCLS_OK && dcls_conv_plan_set_kernel_cells(plan, &k.c, k.positions.data(), nullptr, 0) == DCLS_OK &&
        dcls_conv_plan_info(plan, &info) == DCLS_OK)
        check(runs_on(info, "forward", "dcls:sparse(1 of 25 cells") && !runs_on(info, "backward_weights", "dcls:sparse("),
              std::string("sparse: rounded triangle, one cell per pair, backward weights dense (") + info + ")");
    else
        check(false, std::string("sparse: rounded triangle: ") + dcls_last_error());
    set_engine("sparse_conv", "never");
    check(dcls_conv_plan_set_kernel_cells(plan, &k.c, k.positions.data(), nullptr, 1) == DCLS_OK &&
              dcls_conv_plan_info(plan, &info) == DCLS_OK && std::strstr(info, "sparse") == nullptr,
          "sparse: never");
    set_engine("sparse_conv", "auto");
    // A construction of another kernel is refused.
    dcls_construct_desc other = k.c;
    other.dilated_kernel_size[0] = 23;
    check(dcls_conv_plan_set_kernel_cells(plan, &other, k.positions.data(), nullptr, 1) == DCLS_ERROR_INVALID_ARGUMENT &&
              dcls_last_error()[0] != '\0', "sparse: another kernel is refused");
    check(dcls_conv_plan_set_kernel_cells(plan, &k.c, nullptr, nullptr, 1) == DCLS_ERROR_INVALID_ARGUMENT, "sparse: null positions");
    dcls_conv_plan_destroy(plan);

    // The cost model with AVX2, on bench_sparse's shapes (BENCHMARKS.md, measured on a Zen 3): dw17 with spread
    // bilinear positions takes the sparse engine on every pass (its pairs run at the depthwise kernels' rate,
    // 108 of 289 cells: 5 to 8 ms against 14 forward); the delay layer's Gaussian keeps the DFT (twice as fast
    // as the sparse engine on its 18.6 of 25 cells).
    set_isa("avx2");
    auto picks = [&](const dcls_conv_desc &cd, int interpolation, int64_t count, float sigma, const char *engine,
                     const char *what) {
        DclsKernel ck = make_dcls_kernel(cd, interpolation, count, false, rng);
        for (float &e : ck.sigma) e = sigma;
        dcls_conv_plan *p = nullptr;
        const char *pi = nullptr;
        const bool ok = dcls_conv_plan_create(&cd, &p) == DCLS_OK &&
                        dcls_conv_plan_set_kernel_cells(p, &ck.c, ck.positions.data(),
                                                        ck.sigma.empty() ? nullptr : ck.sigma.data(), 1) == DCLS_OK &&
                        dcls_conv_plan_info(p, &pi) == DCLS_OK;
        check(ok && runs_on(pi, "forward", engine) && runs_on(pi, "backward_data", engine) &&
                  runs_on(pi, "backward_weights", engine),
              std::string("sparse cost model, AVX2: ") + what + " (" + (ok ? pi : dcls_last_error()) + ")");
        if (p != nullptr) dcls_conv_plan_destroy(p);
    };
    picks(depthwise_desc(2, DCLS_PADDING_ZEROS, 8, 96, {56, 56}, {17, 17}, {1, 1}, {8, 8}), DCLS_INTERPOLATION_BILINEAR,
          34, 0.f, "dcls:sparse(", "dw17 spread takes the sparse engine");
    picks(dense_desc(1, DCLS_PADDING_ZEROS, 32, 700, 256, {124}, {25}, {1}, {0}), DCLS_INTERPOLATION_GAUSSIAN, 1, 0.5f,
          "dcls:dft(", "the delay Gaussian keeps the DFT");
    unsetenv("DCLS_CPU_ISA");
}

// ---- which engine runs each pass (dcls_conv_plan_info) ---------------------------------------

// The info of a plan for `d`, "" (and a failed check) when it cannot be made.
std::string plan_info(const dcls_conv_desc &d, const int64_t *lo = nullptr, const int64_t *hi = nullptr) {
    dcls_conv_plan *plan = nullptr;
    const char *info = nullptr;
    std::string s;
    if (dcls_conv_plan_create(&d, &plan) == DCLS_OK && (lo == nullptr || dcls_conv_plan_set_kernel_window(plan, lo, hi) == DCLS_OK) &&
        dcls_conv_plan_info(plan, &info) == DCLS_OK && info != nullptr)
        s = info;
    else
        check(false, describe(d) + ": plan_info: " + dcls_last_error());
    dcls_conv_plan_destroy(plan);
    return s;
}

// Whether info has "pass=" followed by an engine starting with `engine`.
bool runs_on(const std::string &info, const char *pass, const char *engine) {
    const std::string key = std::string(pass) + "=" + engine;
    const size_t at = info.find(key);
    return at != std::string::npos && (at == 0 || info[at - 1] == ' ');
}

void expect_engines(const dcls_conv_desc &d, const char *fwd, const char *bwd_data, const char *bwd_weights,
                    const int64_t *lo = nullptr, const int64_t *hi = nullptr) {
    const std::string info = plan_info(d, lo, hi);
    check(runs_on(info, "forward", fwd) && runs_on(info, "backward_data", bwd_data) &&
              runs_on(info, "backward_weights", bwd_weights),
          "engines of " + describe(d) + ": want " + fwd + " / " + bwd_data + " / " + bwd_weights + ", got \"" + info + "\"");
}

// The engine list's choices for the benchmark's shapes and the engine options, as documented in
// conv_engine_list.cpp and BENCHMARKS.md.
void test_engine_choice() {
    const dcls_conv_desc dw17 = depthwise_desc(2, DCLS_PADDING_ZEROS, 8, 96, {56, 56}, {17, 17}, {1, 1}, {8, 8});
    const dcls_conv_desc dw17_s2 = depthwise_desc(2, DCLS_PADDING_ZEROS, 2, 32, {15, 15}, {7, 7}, {2, 2}, {3, 3});
    const dcls_conv_desc dense9 = dense_desc(2, DCLS_PADDING_ZEROS, 8, 64, 64, {32, 32}, {9, 9}, {1, 1}, {4, 4});
    const dcls_conv_desc dense5 = dense_desc(2, DCLS_PADDING_ZEROS, 8, 64, 64, {32, 32}, {5, 5}, {1, 1}, {2, 2});
    const dcls_conv_desc conv1d = dense_desc(1, DCLS_PADDING_ZEROS, 16, 64, 64, {1024}, {41}, {1}, {20});
    const dcls_conv_desc conv1d_s2 = dense_desc(1, DCLS_PADDING_ZEROS, 2, 16, 16, {100}, {41}, {2}, {20});
    const dcls_conv_desc reflect = dense_desc(2, DCLS_PADDING_REFLECT, 1, 16, 16, {12, 12}, {3, 3}, {1, 1}, {1, 1});

    expect_engines(dw17, "dcls:depthwise(", "dcls:depthwise-flipped(", "dcls:depthwise-backward-weights(");
    expect_engines(dw17_s2, "dcls:depthwise(", "onednn:", "dcls:depthwise-backward-weights(");
    expect_engines(dense9, "dcls:dft(", "dcls:dft(", "dcls:dft(");
    expect_engines(dense5, "onednn:", "onednn:", "onednn:");
    expect_engines(conv1d, "dcls:dft-blocked(", "dcls:dft-blocked(", "dcls:dft-blocked(");
    expect_engines(conv1d_s2, "onednn:", "onednn:", "dcls:dense-backward-weights(");
    expect_engines(reflect, "onednn:", "onednn:", "onednn:");
    check(runs_on(plan_info(reflect), "forward", "onednn:") && plan_info(reflect).find("+explicit_padding") != std::string::npos,
          "engines: explicit padding is named");
    // A kernel window that pays: the box's plan, named with the box.
    const int64_t lo[3] = {6, 6, 0}, hi[3] = {11, 11, 1};
    expect_engines(dw17, "dcls:window(5x5)>dcls:depthwise(", "dcls:window(5x5)>dcls:depthwise-flipped(",
                   "dcls:window(5x5)>dcls:depthwise-backward-weights(", lo, hi);

    // The options, read where the list is walked.
    set_engine("depthwise_conv", "never");
    expect_engines(dw17, "onednn:", "onednn:", "dcls:depthwise-backward-weights(");
    set_engine("depthwise_backward_weights", "never");
    expect_engines(dw17, "onednn:", "onednn:", "onednn:");
    set_engine("depthwise_conv", "auto");
    set_engine("depthwise_backward_weights", "auto");
    set_engine("dft_conv", "never");
    expect_engines(dense9, "onednn:", "onednn:", "onednn:");
    expect_engines(conv1d, "onednn:", "onednn:", "dcls:dense-backward-weights(");
    set_engine("dense_backward_weights", "never");
    expect_engines(conv1d, "onednn:", "onednn:", "onednn:");
    set_engine("dense_backward_weights", "always");
    expect_engines(dense5, "onednn:", "onednn:", "dcls:dense-backward-weights(");
    set_engine("dense_backward_weights", "auto");
    set_engine("dft_conv", "always");
    expect_engines(dense5, "dcls:dft(", "dcls:dft(", "dcls:dft(");
    set_engine("dft_conv", "auto");
    set_isa("avx2");
    expect_engines(dw17, "dcls:depthwise(avx2)", "dcls:depthwise-flipped(avx2)", "dcls:depthwise-backward-weights(avx2)");
    unsetenv("DCLS_CPU_ISA");

    const char *info = nullptr;
    check(dcls_conv_plan_info(nullptr, &info) == DCLS_ERROR_INVALID_ARGUMENT && dcls_last_error()[0] != '\0',
          "plan_info: a null plan is refused");
}

// ---- error paths ---------------------------------------------------------------------------

// ---- the DFT convolution (dft_conv.cpp), forced on with the engine option dft_conv=always -------------------

void test_dft(int configs, std::mt19937_64 &rng) {
    set_engine("dft_conv", "always");
    for (int i = 0; i < configs; ++i) {
        dcls_conv_desc d{};
        d.ndim = int32_t(uniform(rng, 1, 2));
        d.padding_mode = int32_t(uniform(rng, 0, 3));
        d.batch = uniform(rng, 1, 3);
        d.groups = 1;
        d.in_channels = uniform(rng, 1, 7);
        d.out_channels = uniform(rng, 1, 7);
        for (int a = 0; a < d.ndim; ++a) {
            d.kernel_size[a] = uniform(rng, 1, 9);
            d.input_size[a] = uniform(rng, 1, 14);
            d.stride[a] = 1;
            d.padding[a] = uniform(rng, 0, d.kernel_size[a]);
            if (d.padding_mode == DCLS_PADDING_REFLECT) d.padding[a] = std::min(d.padding[a], d.input_size[a] - 1);
            if (d.padding_mode == DCLS_PADDING_CIRCULAR) d.padding[a] = std::min(d.padding[a], d.input_size[a]);
            if (d.input_size[a] + 2 * d.padding[a] < d.kernel_size[a])
                d.input_size[a] = d.kernel_size[a] - 2 * d.padding[a];
        }
        test_config(d, rng);
    }
    // A shape of the kind it is made for: 9x7 kernel, more channels, a batch, asymmetric sizes.
    test_config(dense_desc(2, DCLS_PADDING_ZEROS, 2, 16, 24, {20, 18}, {9, 7}, {1, 1}, {4, 3}), rng);
    test_config(dense_desc(2, DCLS_PADDING_CIRCULAR, 1, 8, 8, {12, 13}, {9, 9}, {1, 1}, {4, 4}), rng);
    test_config(dense_desc(1, DCLS_PADDING_ZEROS, 3, 8, 16, {64}, {41}, {1}, {20}), rng);
    // Long 1D signals: overlap-save blocks (blocked_conv1d.cpp), the last one partly past the end.
    test_config(dense_desc(1, DCLS_PADDING_ZEROS, 2, 5, 7, {150}, {17}, {1}, {8}), rng);
    test_config(dense_desc(1, DCLS_PADDING_REFLECT, 1, 3, 4, {97}, {9}, {1}, {4}), rng);
    test_config(dense_desc(1, DCLS_PADDING_CIRCULAR, 2, 4, 2, {130}, {31}, {1}, {15}), rng);
    test_config(dense_desc(1, DCLS_PADDING_REPLICATE, 1, 2, 3, {70}, {5}, {1}, {0}), rng);
    set_engine("dft_conv", "auto");
}

// ---- kernel windows (dcls_conv_plan_set_kernel_window) ---------------------------------------

// A random kernel that is 0 outside a random box, run with the box set: every pass against the
// reference on the whole kernel; the kernel gradient compared inside the box, and outside it 0
// or the true gradient (overwrite) / the prior value or prior + gradient (accumulate).
void test_window(const dcls_conv_desc &d, std::mt19937_64 &rng) {
    const Ref ref(d);
    int64_t lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1};
    for (int i = 0; i < d.ndim; ++i) {
        const int64_t len = uniform(rng, 1, d.kernel_size[i]);
        lo[i] = uniform(rng, 0, d.kernel_size[i] - len);
        hi[i] = lo[i] + len;
    }
    std::string name = describe(d) + " window";
    for (int i = 0; i < d.ndim; ++i) name += " [" + std::to_string(lo[i]) + "," + std::to_string(hi[i]) + ")";
    dcls_conv_plan *plan = nullptr;
    if (dcls_conv_plan_create(&d, &plan) != DCLS_OK || dcls_conv_plan_set_kernel_window(plan, lo, hi) != DCLS_OK) {
        check(false, name + ": " + dcls_last_error());
        dcls_conv_plan_destroy(plan);
        return;
    }
    // in_box[i]: whether kernel cell i (of its pair's plane) is inside the box.
    std::vector<bool> in_box(ref.w_count());
    for (int64_t i = 0; i < ref.w_count(); ++i) {
        int64_t rest = i % ref.k_plane(), inside = 1;
        for (int a = 2; a >= 0; --a) {
            const int64_t c = rest % ref.k[a];
            rest /= ref.k[a];
            const int u = a - (3 - d.ndim);
            if (u >= 0 && (c < lo[u] || c >= hi[u])) inside = 0;
        }
        in_box[i] = inside != 0;
    }
    std::vector<float> x = random_vector(rng, ref.x_count()), w = random_vector(rng, ref.w_count()),
                       b = random_vector(rng, d.out_channels), gy = random_vector(rng, ref.y_count());
    for (int64_t i = 0; i < ref.w_count(); ++i)
        if (!in_box[i]) w[i] = 0.f;

    std::vector<float> y(ref.y_count(), 1e3f), gx(ref.x_count(), 7.f);
    check(dcls_conv_forward(plan, x.data(), w.data(), b.data(), y.data()) == DCLS_OK &&
              close(y, ref.forward(x, w, b.data()), "forward"), name + ": forward");
    check(dcls_conv_backward_data(plan, gy.data(), w.data(), gx.data()) == DCLS_OK &&
              close(gx, ref.grad_x(gy, w), "grad_x"), name + ": backward_data");

    const std::vector<double> gw_ref = ref.grad_w(x, gy), gb_ref = ref.grad_b(gy);
    for (int accumulate = 0; accumulate < 2; ++accumulate) {
        const std::vector<float> prior = random_vector(rng, ref.w_count()), prior_b = random_vector(rng, d.out_channels);
        std::vector<float> gw(prior), gb(prior_b);
        const bool st = dcls_conv_backward_weights(plan, x.data(), gy.data(), gw.data(), gb.data(), accumulate) == DCLS_OK;
        // Inside the box (and the bias) as usual; outside, one of the two allowed values.
        std::vector<double> want(gw_ref), want_b(gb_ref);
        std::vector<float> got_in(gw);
        bool outside_ok = true;
        for (int64_t i = 0; i < ref.w_count(); ++i) {
            const double base = accumulate ? prior[i] : 0.0;
            want[i] += base;
            if (in_box[i]) continue;
            const double tol = 1e-4 * std::max(1.0, std::fabs(gw_ref[i]));
            outside_ok = outside_ok && (std::fabs(gw[i] - base) <= tol || std::fabs(gw[i] - (base + gw_ref[i])) <= tol);
            got_in[i] = float(want[i]);  // compared above
        }
        for (int64_t o = 0; o < d.out_channels; ++o) want_b[o] += accumulate ? prior_b[o] : 0.0;
        check(st && close(got_in, want, "grad_kernel in the box") && outside_ok && close(gb, want_b, "grad_bias"),
              name + ": backward_weights accumulate=" + std::to_string(accumulate));
    }
    // Back to the whole kernel: a dense kernel must give the full result again.
    const int64_t whole_lo[3] = {0, 0, 0}, whole_hi[3] = {d.kernel_size[0], d.kernel_size[1], d.kernel_size[2]};
    const std::vector<float> dense = random_vector(rng, ref.w_count());
    check(dcls_conv_plan_set_kernel_window(plan, whole_lo, whole_hi) == DCLS_OK &&
              dcls_conv_forward(plan, x.data(), dense.data(), nullptr, y.data()) == DCLS_OK &&
              close(y, ref.forward(x, dense, nullptr), "forward"), name + ": forward after resetting the window");
    dcls_conv_plan_destroy(plan);
}

void test_windows(int configs, std::mt19937_64 &rng) {
    for (int i = 0; i < configs; ++i) {
        switch (i % 3) {
            case 0: test_window(random_config(rng), rng); break;
            case 1: test_window(random_depthwise_config(rng), rng); break;
            default: test_window(random_dense_config(rng), rng); break;
        }
    }
    // Invalid windows are refused with a message.
    const dcls_conv_desc d = make_desc(2, DCLS_PADDING_ZEROS, 1, 4, 4, 1, 8, 5, 1, 2);
    dcls_conv_plan *plan = nullptr;
    if (dcls_conv_plan_create(&d, &plan) != DCLS_OK) {
        check(false, "window errors: plan_create");
        return;
    }
    const int64_t lo[3] = {2, 0, 0}, empty[3] = {2, 5, 1}, wide[3] = {3, 6, 1}, ok[3] = {3, 5, 1};
    check(dcls_conv_plan_set_kernel_window(plan, lo, empty) == DCLS_ERROR_INVALID_ARGUMENT && dcls_last_error()[0] != '\0',
          "window errors: empty box");
    check(dcls_conv_plan_set_kernel_window(plan, lo, wide) == DCLS_ERROR_INVALID_ARGUMENT, "window errors: beyond the kernel");
    check(dcls_conv_plan_set_kernel_window(plan, nullptr, ok) == DCLS_ERROR_INVALID_ARGUMENT, "window errors: null lo");
    check(dcls_conv_plan_set_kernel_window(nullptr, lo, ok) == DCLS_ERROR_INVALID_ARGUMENT, "window errors: null plan");
    dcls_conv_plan_destroy(plan);
}

void expect_invalid(const dcls_conv_desc &d, const std::string &what) {
    dcls_conv_plan *plan = reinterpret_cast<dcls_conv_plan *>(&plan);  // must be reset to null
    const dcls_status st = dcls_conv_plan_create(&d, &plan);
    const char *message = dcls_last_error();
    check(st == DCLS_ERROR_INVALID_ARGUMENT && plan == nullptr && message != nullptr && message[0] != '\0',
          "error path: " + what + " (status " + std::to_string(st) + ", message \"" + (message ? message : "") + "\")");
    if (st == DCLS_OK) dcls_conv_plan_destroy(plan);
}

void test_errors() {
    const dcls_conv_desc good = make_desc(2, DCLS_PADDING_ZEROS, 1, 4, 6, 2, 8, 3, 1, 1);

    dcls_conv_desc d = good;
    d.groups = 4;  // divides Cin = 4 but not Cout = 6
    expect_invalid(d, "groups not dividing out_channels");
    d = good;
    d.in_channels = 3;
    expect_invalid(d, "groups not dividing in_channels");
    d = good;
    d.ndim = 0;
    expect_invalid(d, "ndim 0");
    d = good;
    d.ndim = 4;
    expect_invalid(d, "ndim 4");
    d = good;
    d.input_size[1] = 2;
    d.kernel_size[1] = 5;
    d.padding[1] = 1;  // 2 + 2 - 5 < 0: output size < 1
    expect_invalid(d, "output size < 1");
    d = good;
    d.stride[0] = 0;
    expect_invalid(d, "stride 0");
    d = good;
    d.padding_mode = DCLS_PADDING_REFLECT;
    d.padding[0] = d.input_size[0];
    expect_invalid(d, "reflect padding >= input size");
    d = good;
    d.padding_mode = 7;
    expect_invalid(d, "unknown padding mode");

    check(dcls_conv_plan_create(nullptr, nullptr) == DCLS_ERROR_INVALID_ARGUMENT, "error path: null desc and plan");
    float v = 0.f;
    check(dcls_conv_forward(nullptr, &v, &v, nullptr, &v) == DCLS_ERROR_INVALID_ARGUMENT && dcls_last_error()[0] != '\0',
          "error path: forward with a null plan");
    check(dcls_conv_plan_destroy(nullptr) == DCLS_OK, "destroy(null) is accepted");

    dcls_conv_plan *plan = nullptr;
    if (dcls_conv_plan_create(&good, &plan) == DCLS_OK) {
        check(dcls_conv_forward(plan, nullptr, &v, nullptr, &v) == DCLS_ERROR_INVALID_ARGUMENT,
              "error path: forward with a null x");
        check(dcls_conv_backward_weights(plan, &v, &v, nullptr, nullptr, 0) == DCLS_ERROR_INVALID_ARGUMENT,
              "error path: backward_weights with a null grad_kernel");
        dcls_conv_plan_destroy(plan);
    } else {
        check(false, std::string("plan_create of a valid desc: ") + dcls_last_error());
    }
}

}  // namespace

int main(int argc, char **argv) {
    const uint64_t seed = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20240601;
    const int configs = argc > 2 ? std::atoi(argv[2]) : 300;
    const int own_configs = argc > 3 ? std::atoi(argv[3]) : 40;
    std::mt19937_64 rng(seed);

    // Fixed shapes with channel counts that oneDNN's optimised kernels (jit, brgconv, brdgmm_dw) take.
    const dcls_conv_desc fixed[] = {
        make_desc(2, DCLS_PADDING_ZEROS, 2, 32, 32, 32, 15, 7, 1, 3),      // depthwise
        make_desc(2, DCLS_PADDING_REFLECT, 2, 32, 32, 32, 15, 7, 2, 3),    // depthwise, strided
        make_desc(2, DCLS_PADDING_ZEROS, 2, 16, 32, 1, 12, 5, 1, 2),       // dense
        make_desc(2, DCLS_PADDING_CIRCULAR, 2, 16, 16, 1, 12, 3, 1, 1),    // dense
        make_desc(1, DCLS_PADDING_ZEROS, 2, 16, 16, 1, 64, 9, 1, 4),       // 1D dense
        make_desc(1, DCLS_PADDING_REPLICATE, 2, 16, 16, 16, 64, 9, 1, 4),  // 1D depthwise
        make_desc(3, DCLS_PADDING_ZEROS, 1, 16, 16, 16, 6, 3, 1, 1),       // 3D depthwise
        make_desc(3, DCLS_PADDING_REFLECT, 1, 16, 16, 1, 6, 3, 1, 1),      // 3D dense
        make_desc(2, DCLS_PADDING_ZEROS, 2, 32, 32, 2, 10, 3, 1, 1),       // two groups
    };
    for (const dcls_conv_desc &d : fixed) test_config(d, rng);
    for (int i = 0; i < configs; ++i) test_config(random_config(rng), rng);

    test_depthwise(own_configs, rng);
    test_depthwise_large();
    test_dense(own_configs, rng);
    test_dense_large();
    test_windows(3 * own_configs, rng);
    test_dft(2 * own_configs, rng);
    test_sparse(own_configs, rng);

    test_engine_choice();
    test_errors();
    check(dcls_set_engine_option("dft_conv", "sometimes") == DCLS_ERROR_INVALID_ARGUMENT && dcls_last_error()[0] != '\0',
          "engine option: a bad value is refused");
    check(dcls_set_engine_option("depthwise_conv", "always") == DCLS_ERROR_INVALID_ARGUMENT,
          "engine option: depthwise_conv has no 'always'");
    check(dcls_set_engine_option("winograd", "never") == DCLS_ERROR_INVALID_ARGUMENT, "engine option: unknown name");
    check(dcls_set_engine_option(nullptr, "never") == DCLS_ERROR_INVALID_ARGUMENT, "engine option: null name");

    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
