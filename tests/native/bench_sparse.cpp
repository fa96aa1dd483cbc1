// The tap-sparse convolution's bench (BENCHMARKS.md, "Few taps"): DCLS layers through the C ABI,
// one training step as the Java layer runs it (construct the kernel, set the kernel cells, forward;
// then backward data, backward weights and the construction's backward), with the engine option
// sparse_conv at auto (the cost model), always and never (the engines before it: the kernel window,
// then the dense engines), and each pass timed alone.
//
// Usage: bench_sparse [reps [case]]; prints one table row per case and mode.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <ctime>
#include <vector>

#include <immintrin.h>

#include "dcls.h"

namespace {

struct Case {
    const char *name;
    dcls_conv_desc conv;
    int interpolation;
    int64_t count;
    float sigma;     // for gauss
    bool rounded;    // integer positions, forward only (inference)
};

// Wall time; with BENCH_CPU=1, the process's CPU time instead (with one thread: what the work
// costs when other processes share the cores, for comparing versions on a busy machine).
double now_ms() {
    static const bool cpu = std::getenv("BENCH_CPU") != nullptr && std::getenv("BENCH_CPU")[0] == '1';
    if (cpu) {
        timespec t;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
        return double(t.tv_sec) * 1e3 + double(t.tv_nsec) * 1e-6;
    }
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void ok(dcls_status s, const char *what) {
    if (s != DCLS_OK) {
        std::fprintf(stderr, "%s: %s\n", what, dcls_last_error());
        std::exit(1);
    }
}

template <typename F>
double median_ms(int reps, F f) {
    f();  // warm-up
    std::vector<double> t;
    for (int r = 0; r < reps; ++r) {
        const double t0 = now_ms();
        f();
        t.push_back(now_ms() - t0);
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

void run(const Case &c, const char *mode, int reps) {
    ok(dcls_set_engine_option("sparse_conv", mode), "option");
    const dcls_conv_desc &d = c.conv;
    dcls_construct_desc k{};
    k.ndim = d.ndim;
    k.interpolation = c.interpolation;
    k.out_channels = d.out_channels;
    k.in_per_group = d.in_channels / d.groups;
    k.kernel_count = c.count;
    int64_t in_plane = 1, k_plane = 1;
    for (int i = 0; i < d.ndim; ++i) {
        k.dilated_kernel_size[i] = d.kernel_size[i];
        in_plane *= d.input_size[i];
        k_plane *= d.kernel_size[i];
    }
    const int64_t elements = k.out_channels * k.in_per_group * c.count;
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> weight(elements), pos(d.ndim * elements), sig, kernel(k.out_channels * k.in_per_group * k_plane);
    for (float &e : weight) e = u(rng);
    for (int i = 0; i < d.ndim; ++i) {
        // Spread uniformly over the kernel, as after training (or learnable delays from the start).
        const float half = float(d.kernel_size[i] / 2);
        std::uniform_real_distribution<float> p(-half, float(d.kernel_size[i] - 1) - half - 1e-3f);
        for (int64_t e = 0; e < elements; ++e) {
            float v = p(rng);
            pos[i * elements + e] = c.rounded ? std::round(v) : v;
        }
    }
    const bool has_sigma = c.interpolation >= DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH;
    if (has_sigma) sig.assign(pos.size(), c.sigma);
    const float *S = has_sigma ? sig.data() : nullptr;

    dcls_conv_plan *plan = nullptr;
    ok(dcls_conv_plan_create(&d, &plan), "plan");
    int64_t out[3];
    ok(dcls_conv_plan_output_size(plan, out), "out");
    int64_t out_plane = 1;
    for (int i = 0; i < d.ndim; ++i) out_plane *= out[i];
    std::vector<float> x(d.batch * d.in_channels * in_plane), gx(x.size()), y(d.batch * d.out_channels * out_plane),
        gy(y.size()), gk(kernel.size()), bias(d.out_channels), gb(d.out_channels), gw(elements), gp(pos.size()),
        gs(sig.size());
    for (float &e : x) e = u(rng);
    for (float &e : gy) e = u(rng);
    const bool train = !c.rounded;

    auto setup = [&] {
        ok(dcls_construct_forward(&k, weight.data(), pos.data(), S, kernel.data()), "construct");
        ok(dcls_conv_plan_set_kernel_cells(plan, &k, pos.data(), S, train ? 1 : 0), "cells");
    };
    auto forward = [&] { ok(dcls_conv_forward(plan, x.data(), kernel.data(), bias.data(), y.data()), "forward"); };
    auto bwd_data = [&] { ok(dcls_conv_backward_data(plan, gy.data(), kernel.data(), gx.data()), "bwd data"); };
    auto bwd_weights = [&] {
        ok(dcls_conv_backward_weights(plan, x.data(), gy.data(), gk.data(), gb.data(), 0), "bwd weights");
    };
    auto construct_bwd = [&] {
        ok(dcls_construct_backward(&k, weight.data(), pos.data(), S, gk.data(), gw.data(), gp.data(),
                                   has_sigma ? gs.data() : nullptr, 0), "construct bwd");
    };
    setup();
    const char *info = nullptr;
    ok(dcls_conv_plan_info(plan, &info), "info");
    const std::string engines = info;
    const double t_setup = median_ms(reps, setup);
    const double t_cells = median_ms(reps, [&] { ok(dcls_conv_plan_set_kernel_cells(plan, &k, pos.data(), S, train ? 1 : 0), "cells"); });
    const double t_fwd = median_ms(reps, forward);
    const double t_bd = train ? median_ms(reps, bwd_data) : 0.0;
    const double t_bw = train ? median_ms(reps, bwd_weights) : 0.0;
    const double t_cb = train ? median_ms(reps, construct_bwd) : 0.0;
    const double layer_fwd = median_ms(reps, [&] { setup(); forward(); });
    const double layer_step = train ? median_ms(reps, [&] { setup(); forward(); bwd_data(); bwd_weights(); construct_bwd(); }) : 0.0;
    const double layer_step_no_gx = train ? median_ms(reps, [&] { setup(); forward(); bwd_weights(); construct_bwd(); }) : 0.0;
    std::printf("%-14s %-6s | construct+cells %7.2f (cells %6.2f) | fwd %8.2f bwd_data %8.2f bwd_w %8.2f constr_bwd %6.2f | layer fwd %8.2f "
                "fwd+bwd %8.2f (no grad x %8.2f) ms\n    %s\n",
                c.name, mode, t_setup, t_cells, t_fwd, t_bd, t_bw, t_cb, layer_fwd, layer_step, layer_step_no_gx, engines.c_str());
    std::fflush(stdout);
    dcls_conv_plan_destroy(plan);
}

dcls_conv_desc conv(int ndim, int64_t n, int64_t cin, int64_t cout, int64_t groups, std::initializer_list<int64_t> size,
                    std::initializer_list<int64_t> k, std::initializer_list<int64_t> pad) {
    dcls_conv_desc d{};
    d.ndim = ndim;
    d.batch = n;
    d.in_channels = cin;
    d.out_channels = cout;
    d.groups = groups;
    for (int i = 0; i < ndim; ++i) {
        d.input_size[i] = size.begin()[i];
        d.kernel_size[i] = k.begin()[i];
        d.stride[i] = 1;
        d.padding[i] = pad.begin()[i];
    }
    return d;
}

// The fp32 multiply-add peak of one core, in GFLOP/s: twelve independent chains of AVX-512 FMAs
// (AVX2 where there is no AVX-512), so that the table's passes can be given as a fraction of it.
__attribute__((target("avx512f"))) double fma_peak_avx512() {
    __m512 acc[12];
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(float(i) * 1e-3f);
    const __m512 b = _mm512_set1_ps(0.9999f), c = _mm512_set1_ps(1e-4f);
    const long n = 20000000;
    const double t0 = now_ms();
    for (long k = 0; k < n; ++k) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], b, c);
    }
    const double ms = now_ms() - t0;
    alignas(64) float t[16];
    float sink = 0.f;
    for (int i = 0; i < 12; ++i) {
        _mm512_store_ps(t, acc[i]);
        for (float e : t) sink += e;
    }
    if (sink == 12345.f) std::printf(" ");
    return double(n) * 12 * 32 / (ms * 1e6);
}

__attribute__((target("avx2,fma"))) double fma_peak_avx2() {
    __m256 acc[12];
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(float(i) * 1e-3f);
    const __m256 b = _mm256_set1_ps(0.9999f), c = _mm256_set1_ps(1e-4f);
    const long n = 20000000;
    const double t0 = now_ms();
    for (long k = 0; k < n; ++k) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], b, c);
    }
    const double ms = now_ms() - t0;
    alignas(32) float t[8];
    float sink = 0.f;
    for (int i = 0; i < 12; ++i) {
        _mm256_store_ps(t, acc[i]);
        for (float e : t) sink += e;
    }
    if (sink == 12345.f) std::printf(" ");
    return double(n) * 12 * 16 / (ms * 1e6);
}

}  // namespace

int main(int argc, char **argv) {
    const int reps = argc > 1 ? std::atoi(argv[1]) : 7;
    const std::string only = argc > 2 ? argv[2] : "";
    const std::string only_mode = argc > 3 ? argv[3] : "";
    const Case cases[] = {
        {"delay-v1", conv(1, 32, 700, 256, 1, {124}, {25}, {0}), DCLS_INTERPOLATION_TRIANGLE, 1, 0.f, false},
        {"delay-gauss", conv(1, 32, 700, 256, 1, {124}, {25}, {0}), DCLS_INTERPOLATION_GAUSSIAN, 1, 0.5f, false},
        {"dw17-v0-spread", conv(2, 8, 96, 96, 96, {56, 56}, {17, 17}, {8, 8}), DCLS_INTERPOLATION_BILINEAR, 34, 0.f, false},
        {"delay-v1-inf1", conv(1, 1, 700, 256, 1, {124}, {25}, {0}), DCLS_INTERPOLATION_TRIANGLE, 1, 0.f, true},
        {"dw17-v1-inf1", conv(2, 1, 96, 96, 96, {56, 56}, {17, 17}, {8, 8}), DCLS_INTERPOLATION_TRIANGLE, 34, 0.f, true},
    };
    std::printf("threads %d, isa %s\n", dcls_get_num_threads(), dcls_cpu_isa());
    const bool avx512 = __builtin_cpu_supports("avx512f");
    std::printf("fp32 FMA peak, one core: %.0f GFLOP/s (%s)\n", avx512 ? fma_peak_avx512() : fma_peak_avx2(),
                avx512 ? "AVX-512" : "AVX2");
    for (const Case &c : cases) {
        if (!only.empty() && only != c.name) continue;
        for (const char *mode : {"auto", "always", "never"})
            if (only_mode.empty() || only_mode == mode) run(c, mode, reps);
    }
    return 0;
}
