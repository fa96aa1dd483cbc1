// Times one DCLS layer on the GPU through libdcls_cuda.so's C ABI, the way
// /work/shared/peer/dcls_torch_bench.py times the PyTorch reference: medians over repetitions,
// with a synchronisation before and after each.
//
// Default: Dcls2d 96 -> 96 channels, groups 96 (depthwise), K = 34, dilated kernel 17x17,
// padding 8, input 64 x 96 x 56 x 56, with bias; for the interpolations gauss and v0, and for each
// engine: "auto" (dcls4j's depthwise kernels for this shape), "cudnn" (cuDNN only, when available)
// and "benchmark" (timed choice per pass). More engines by name with --engines (comma-separated):
// "rows" and "segments" run dcls4j's depthwise kernels for every pass with the tap-tile or the
// segment backward-weights kernel (dcls_cuda_set_depthwise_weights_kernel), to compare the two;
// "window", "sparse" and "cells" give the plan the construction's kernel cells
// (dcls_cuda_conv_plan_set_kernel_cells) with sparse mode NEVER (the cells' box as a kernel window),
// ALWAYS (the tap-sparse engine on every pass) and AUTO (the cost model's choice), to measure the
// cost model's threshold; set_cells_ms is then the call's own time (a copy of the positions to the
// host and the cells listed there), which a layer pays once per training step.
//
//   construct_ms           kernel construction
//   forward_ms             construction + convolution forward (+ bias)
//   fwdbwd_ms              forward + backward data + backward weights and bias + construction backward
//   fwdbwd_no_grad_x_ms    the same without backward data (what the peer measures: its input has no grad)
//   conv_fwd_ms, conv_bwd_data_ms, conv_bwd_weights_ms, construct_bwd_ms: the parts
//
// Usage: bench_cuda [--batch N] [--size S] [--reps R] [--warmup W] [--csv FILE]
//                   [--engines auto,rows,segments,cudnn,benchmark,window,sparse,cells]
//                   (default auto,segments,cudnn,benchmark)
// Prints a header and one CSV line per (version, engine); --csv also writes them to FILE.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dcls.h"

namespace {

dcls_cuda_context *ctx = nullptr;

void ok(dcls_status s, const char *what) {
    if (s != DCLS_OK) {
        std::fprintf(stderr, "%s: %s\n", what, dcls_cuda_last_error());
        std::exit(1);
    }
}

struct Buffer {
    float *ptr = nullptr;
    explicit Buffer(size_t count, std::mt19937 &rng, float scale = 1.f) {
        void *p = nullptr;
        ok(dcls_cuda_malloc(ctx, int64_t(count * sizeof(float)), &p), "malloc");
        ptr = static_cast<float *>(p);
        std::vector<float> host(count);
        std::uniform_real_distribution<float> u(-scale, scale);
        for (float &v : host) v = u(rng);
        ok(dcls_cuda_memcpy(ctx, ptr, host.data(), int64_t(count * sizeof(float)), DCLS_CUDA_MEMCPY_HOST_TO_DEVICE),
           "memcpy");
    }
    ~Buffer() { dcls_cuda_free(ctx, ptr); }
    Buffer(const Buffer &) = delete;
    Buffer &operator=(const Buffer &) = delete;
};

template <typename F>
double median_ms(int warmup, int reps, F f) {
    std::vector<double> times;
    for (int r = 0; r < warmup + reps; ++r) {
        ok(dcls_cuda_synchronize(ctx), "synchronize");
        const auto t0 = std::chrono::steady_clock::now();
        f();
        ok(dcls_cuda_synchronize(ctx), "synchronize");
        const auto t1 = std::chrono::steady_clock::now();
        if (r >= warmup) times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(times.begin(), times.end());
    const size_t n = times.size();
    return n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
}

}  // namespace

int main(int argc, char **argv) {
    int64_t batch = 64, size = 56, channels = 96, count = 34, dks = 17, pad = 8;
    int reps = 20, warmup = 3;
    const char *csv = nullptr;
    std::string engine_list = "auto,segments,cudnn,benchmark";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--batch") batch = std::atoll(argv[i + 1]);
        else if (a == "--size") size = std::atoll(argv[i + 1]);
        else if (a == "--reps") reps = std::atoi(argv[i + 1]);
        else if (a == "--warmup") warmup = std::atoi(argv[i + 1]);
        else if (a == "--csv") csv = argv[i + 1];
        else if (a == "--engines") engine_list = argv[i + 1];
        else {
            std::fprintf(stderr, "unknown option %s\n", a.c_str());
            return 2;
        }
    }
    int32_t devices = 0;
    ok(dcls_cuda_device_count(&devices), "device_count");
    if (devices == 0) {
        std::printf("no CUDA device (%s): nothing to time\n", dcls_cuda_last_error());
        return 77;
    }
    char name[256] = {0};
    int32_t cc = 0, cudnn = 0;
    ok(dcls_cuda_device_info(0, name, sizeof name, &cc), "device_info");
    ok(dcls_cuda_cudnn_version(&cudnn), "cudnn_version");
    ok(dcls_cuda_context_create(0, &ctx), "context_create");
    std::printf("# device: %s (sm_%d), cuDNN %d, TF32 off\n", name, cc, cudnn);
    std::printf("# Dcls2d %lld->%lld groups %lld K=%lld dks %lldx%lld pad %lld, input %lld x %lld x %lld x %lld, bias; "
                "median of %d (after %d warm-up)\n",
                (long long)channels, (long long)channels, (long long)channels, (long long)count, (long long)dks,
                (long long)dks, (long long)pad, (long long)batch, (long long)channels, (long long)size, (long long)size,
                reps, warmup);

    std::FILE *out = csv ? std::fopen(csv, "w") : nullptr;
    const char *header =
        "version,engine,construct_ms,forward_ms,fwdbwd_ms,fwdbwd_no_grad_x_ms,conv_fwd_ms,conv_bwd_data_ms,"
        "conv_bwd_weights_ms,construct_bwd_ms,plan,set_cells_ms";
    std::printf("%s\n", header);
    if (out) std::fprintf(out, "%s\n", header);

    {  // the buffers are freed before the context
    std::mt19937 rng(0);
    const int64_t pairs = channels, params = pairs * count, area = dks * dks;
    Buffer x(size_t(batch * channels * size * size), rng), gy(size_t(batch * channels * size * size), rng);
    Buffer gx(size_t(batch * channels * size * size), rng), y(size_t(batch * channels * size * size), rng);
    Buffer weight(size_t(params), rng, 0.1f), positions(size_t(2 * params), rng, float(dks / 2)),
        sigma(size_t(2 * params), rng, 0.5f), bias(size_t(channels), rng);
    Buffer kernel(size_t(pairs * area), rng), grad_kernel(size_t(pairs * area), rng);
    Buffer grad_weight(size_t(params), rng), grad_positions(size_t(2 * params), rng),
        grad_sigma(size_t(2 * params), rng), grad_bias(size_t(channels), rng);

    dcls_conv_desc cd{};
    cd.ndim = 2;
    cd.padding_mode = DCLS_PADDING_ZEROS;
    cd.batch = batch;
    cd.in_channels = cd.out_channels = cd.groups = channels;
    for (int i = 0; i < 2; ++i) {
        cd.input_size[i] = size;
        cd.kernel_size[i] = dks;
        cd.stride[i] = 1;
        cd.padding[i] = pad;
    }

    struct Engine {
        const char *name;
        int mode;
        int benchmark;
        int weights_kernel;
        int sparse_mode;  // -1: no kernel cells given
    };
    std::vector<Engine> all = {
        {"auto", DCLS_CUDA_DEPTHWISE_AUTO, 0, DCLS_CUDA_DEPTHWISE_WEIGHTS_AUTO, -1},
        {"rows", DCLS_CUDA_DEPTHWISE_ALWAYS, 0, DCLS_CUDA_DEPTHWISE_WEIGHTS_ROWS, -1},
        {"segments", DCLS_CUDA_DEPTHWISE_ALWAYS, 0, DCLS_CUDA_DEPTHWISE_WEIGHTS_SEGMENTS, -1},
        {"cudnn", DCLS_CUDA_DEPTHWISE_NEVER, 0, DCLS_CUDA_DEPTHWISE_WEIGHTS_AUTO, -1},
        {"benchmark", DCLS_CUDA_DEPTHWISE_AUTO, 1, DCLS_CUDA_DEPTHWISE_WEIGHTS_AUTO, -1},
        {"window", DCLS_CUDA_DEPTHWISE_AUTO, 0, DCLS_CUDA_DEPTHWISE_WEIGHTS_AUTO, DCLS_CUDA_SPARSE_NEVER},
        {"sparse", DCLS_CUDA_DEPTHWISE_AUTO, 0, DCLS_CUDA_DEPTHWISE_WEIGHTS_AUTO, DCLS_CUDA_SPARSE_ALWAYS},
        {"cells", DCLS_CUDA_DEPTHWISE_AUTO, 0, DCLS_CUDA_DEPTHWISE_WEIGHTS_AUTO, DCLS_CUDA_SPARSE_AUTO}};
    std::vector<Engine> engines;
    for (const Engine &e : all) {
        const bool listed = (std::string(",") + engine_list + ",").find(std::string(",") + e.name + ",") != std::string::npos;
        if (!listed) continue;
        if (cudnn <= 0 && e.mode == DCLS_CUDA_DEPTHWISE_NEVER) continue;
        engines.push_back(e);
    }

    for (const char *version : {"gauss", "v0"}) {
        const bool gauss = std::strcmp(version, "gauss") == 0;
        dcls_construct_desc kd{2, gauss ? DCLS_INTERPOLATION_GAUSSIAN : DCLS_INTERPOLATION_BILINEAR, channels, 1, count,
                               {dks, dks, 0}};
        const float *sig = gauss ? sigma.ptr : nullptr;
        float *gsig = gauss ? grad_sigma.ptr : nullptr;
        for (const Engine &e : engines) {
            ok(dcls_cuda_set_depthwise_mode(ctx, e.mode), "set_depthwise_mode");
            ok(dcls_cuda_set_benchmark(ctx, e.benchmark), "set_benchmark");
            ok(dcls_cuda_set_depthwise_weights_kernel(ctx, e.weights_kernel), "set_depthwise_weights_kernel");
            dcls_cuda_conv_plan *plan = nullptr;
            if (dcls_cuda_conv_plan_create(ctx, &cd, &plan) != DCLS_OK) {
                std::printf("%s,%s,plan failed: %s\n", version, e.name, dcls_cuda_last_error());
                continue;
            }
            double t_cells = 0.0;
            if (e.sparse_mode >= 0) {
                ok(dcls_cuda_set_sparse_mode(ctx, e.sparse_mode), "set_sparse_mode");
                t_cells = median_ms(warmup, reps, [&] {
                    ok(dcls_cuda_conv_plan_set_kernel_cells(plan, &kd, positions.ptr, sig, 1), "set_kernel_cells");
                });
                ok(dcls_cuda_set_sparse_mode(ctx, DCLS_CUDA_SPARSE_AUTO), "set_sparse_mode");
            }
            const char *info = "";
            ok(dcls_cuda_conv_plan_info(plan, &info), "plan_info");
            auto construct = [&] { ok(dcls_cuda_construct_forward(ctx, &kd, weight.ptr, positions.ptr, sig, kernel.ptr), "construct"); };
            auto conv_fwd = [&] { ok(dcls_cuda_conv_forward(plan, x.ptr, kernel.ptr, bias.ptr, y.ptr), "forward"); };
            auto bwd_data = [&] { ok(dcls_cuda_conv_backward_data(plan, gy.ptr, kernel.ptr, gx.ptr), "backward_data"); };
            auto bwd_weights = [&] {
                ok(dcls_cuda_conv_backward_weights(plan, x.ptr, gy.ptr, grad_kernel.ptr, grad_bias.ptr, 0), "backward_weights");
            };
            auto construct_bwd = [&] {
                ok(dcls_cuda_construct_backward(ctx, &kd, weight.ptr, positions.ptr, sig, grad_kernel.ptr, grad_weight.ptr,
                                                grad_positions.ptr, gsig, 0),
                   "construct_backward");
            };
            const double t_construct = median_ms(warmup, reps, construct);
            const double t_forward = median_ms(warmup, reps, [&] { construct(); conv_fwd(); });
            const double t_fwdbwd = median_ms(warmup, reps, [&] {
                construct();
                conv_fwd();
                bwd_data();
                bwd_weights();
                construct_bwd();
            });
            const double t_fwdbwd_nx = median_ms(warmup, reps, [&] {
                construct();
                conv_fwd();
                bwd_weights();
                construct_bwd();
            });
            const double t_cf = median_ms(warmup, reps, conv_fwd);
            const double t_bd = median_ms(warmup, reps, bwd_data);
            const double t_bw = median_ms(warmup, reps, bwd_weights);
            const double t_kb = median_ms(warmup, reps, construct_bwd);
            char line[1024];
            std::snprintf(line, sizeof line, "%s,%s,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,\"%s\",%.3f", version,
                          e.name, t_construct, t_forward, t_fwdbwd, t_fwdbwd_nx, t_cf, t_bd, t_bw, t_kb, info, t_cells);
            std::printf("%s\n", line);
            if (out) std::fprintf(out, "%s\n", line);
            ok(dcls_cuda_conv_plan_destroy(plan), "plan_destroy");
        }
    }
    }
    if (out) std::fclose(out);
    ok(dcls_cuda_context_destroy(ctx), "context_destroy");
    return 0;
}
