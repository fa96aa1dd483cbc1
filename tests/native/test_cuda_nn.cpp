// Tests of the network layers' ops on a CUDA device (dcls_cuda_nn.h), against float64 references
// written here: the forward passes directly, the gradients of GELU (alone and fused into a linear
// layer), layer normalisation and the cross-entropy by central finite differences of those
// references, the rest (linear, binary ops, sums, pooling, and a layer normalisation fused into a
// linear layer's GEMMs) by their exact formulas. Each op on
// several shapes (one and several GEMM tiles, channels first and last), with accumulate 0 and 1,
// then the error paths. Runs on a GPU (test_cuda_nn) and
// over the CPU emulation of CUDA in every build (test_cuda_nn_emu); without a device it checks the
// no-device refusals and exits 77 (skipped). Tolerance: max|got - ref| <= 1e-4 * max(1, max|ref|).
// Where cuDNN runs (pooling, batch norm, the cross-entropy's log-softmax: nn_engine.h), the tests
// above check cuDNN's results; then the engine choice is tested as a function, each plan's info
// against it, and, where cuDNN is loaded, cuDNN's plans against dcls4j's kernels on the same
// inputs (skipped, and said so, without cuDNN: always in the emulation).
//
// Usage: test_cuda_nn [seed]
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "conv_reference.h"
#include "cuda/nn_engine.h"
#include "cuda_test_support.h"
#include "dcls.h"
#include "dcls_cuda_nn.h"
#include "dcls_nn.h"

namespace {

using dcls_test::check;
using dcls_test::close;
using dcls_test::ctx;
using dcls_test::Device;
using dcls_test::has_message;
using dcls_test::Rng;
using dcls_test::to_double;
using Vec = std::vector<double>;

// d/dv of f at v (central differences, step h, in float64).
Vec finite_difference(Vec v, const std::function<double(const Vec &)> &f, double h = 1e-6) {
    Vec grad(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
        const double keep = v[i];
        v[i] = keep + h;
        const double up = f(v);
        v[i] = keep - h;
        const double down = f(v);
        v[i] = keep;
        grad[i] = (up - down) / (2 * h);
    }
    return grad;
}

double dot(const Vec &a, const std::vector<float> &b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

Vec plus(const std::vector<float> &a, const Vec &b) {
    Vec out(b.size());
    for (size_t i = 0; i < b.size(); ++i) out[i] = a[i] + b[i];
    return out;
}

// ---- activations ------------------------------------------------------------------------------

double activation_ref(int kind, double x) {
    return kind == DCLS_ACTIVATION_RELU ? std::max(x, 0.0) : 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
}

void test_activation(Rng &rng, int kind) {
    const std::string name = kind == DCLS_ACTIVATION_RELU ? "relu" : "gelu";
    const int64_t n = 1000;
    std::vector<float> x = rng.vec(n, -4, 4), gy = rng.vec(n);
    for (float &v : x)
        if (std::fabs(v) < 1e-3f) v = 0.5f;  // away from ReLU's kink, where differences do not apply
    Vec y_ref(n);
    for (int64_t i = 0; i < n; ++i) y_ref[size_t(i)] = activation_ref(kind, x[size_t(i)]);
    const Vec gx_ref = finite_difference(to_double(x), [&](const Vec &v) {
        double s = 0;
        for (size_t i = 0; i < v.size(); ++i) s += activation_ref(kind, v[i]) * gy[i];
        return s;
    });
    dcls_cuda_activation_plan *plan = nullptr;
    check(dcls_cuda_activation_plan_create(ctx, kind, n, &plan) == DCLS_OK, name + ": plan_create");
    Device dx(x), dgy(gy), dy(static_cast<size_t>(n)), dgx(static_cast<size_t>(n));
    check(dcls_cuda_activation_forward(plan, dx.get(), dy.get()) == DCLS_OK && close(dy.download(), y_ref, name),
          name + ": forward");
    check(dcls_cuda_activation_backward(plan, dx.get(), dgy.get(), dgx.get()) == DCLS_OK &&
              close(dgx.download(), gx_ref, name + " grad_x"),
          name + ": backward against finite differences");
    check(dcls_cuda_activation_plan_destroy(plan) == DCLS_OK, name + ": destroy");
}

// ---- binary ops and sums ----------------------------------------------------------------------

// The offset in b (dims bd) of a's element i (dims ad), b broadcast.
int64_t broadcast_offset(int64_t i, const std::vector<int64_t> &ad, const std::vector<int64_t> &bd) {
    int64_t off = 0, stride = 1;
    for (int d = int(ad.size()) - 1; d >= 0; --d) {
        const int64_t idx = i % ad[size_t(d)];
        i /= ad[size_t(d)];
        if (bd[size_t(d)] != 1) off += idx * stride;
        stride *= bd[size_t(d)];
    }
    return off;
}

int64_t count_of(const std::vector<int64_t> &dims) {
    int64_t c = 1;
    for (int64_t d : dims) c *= d;
    return c;
}

void test_binary(Rng &rng, int op, const std::vector<int64_t> &ad, const std::vector<int64_t> &bd) {
    std::string name = std::string(op == DCLS_BINARY_ADD ? "add" : "mul") + " rank " + std::to_string(ad.size()) +
                       " b [";
    for (int64_t d : bd) name += std::to_string(d) + " ";
    name += "]";
    const int64_t n = count_of(ad);
    const std::vector<float> a = rng.vec(n), b = rng.vec(count_of(bd));
    Vec want(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        const double bv = b[size_t(broadcast_offset(i, ad, bd))];
        want[size_t(i)] = op == DCLS_BINARY_ADD ? a[size_t(i)] + bv : a[size_t(i)] * bv;
    }
    dcls_cuda_binary_plan *plan = nullptr;
    check(dcls_cuda_binary_plan_create(ctx, op, int32_t(ad.size()), ad.data(), bd.data(), &plan) == DCLS_OK,
          name + ": plan_create");
    Device da(a), db(b), dc(static_cast<size_t>(n));
    check(dcls_cuda_binary_execute(plan, da.get(), db.get(), dc.get()) == DCLS_OK && close(dc.download(), want, name),
          name);
    check(dcls_cuda_binary_execute(plan, da.get(), db.get(), da.get()) == DCLS_OK &&
              close(da.download(), want, name + " in place"),
          name + ": in place (c = a)");
    check(dcls_cuda_binary_plan_destroy(plan) == DCLS_OK, name + ": destroy");
}

void test_sum(Rng &rng, const std::vector<int64_t> &sd, const std::vector<int64_t> &dd) {
    std::string name = "sum to [";
    for (int64_t d : dd) name += std::to_string(d) + " ";
    name += "]";
    const int64_t n = count_of(sd), m = count_of(dd);
    const std::vector<float> src = rng.vec(n), prior = rng.vec(m);
    Vec want(size_t(m), 0.0);
    for (int64_t i = 0; i < n; ++i) want[size_t(broadcast_offset(i, sd, dd))] += src[size_t(i)];
    dcls_cuda_sum_plan *plan = nullptr;
    check(dcls_cuda_sum_plan_create(ctx, int32_t(sd.size()), sd.data(), dd.data(), &plan) == DCLS_OK,
          name + ": plan_create");
    Device ds(src), dd_(prior);
    check(dcls_cuda_sum_execute(plan, ds.get(), dd_.get(), 1) == DCLS_OK &&
              close(dd_.download(), plus(prior, want), name + " accumulate"),
          name + ": accumulate");
    check(dcls_cuda_sum_execute(plan, ds.get(), dd_.get(), 0) == DCLS_OK && close(dd_.download(), want, name),
          name + ": overwrite");
    check(dcls_cuda_sum_plan_destroy(plan) == DCLS_OK, name + ": destroy");
}

// ---- layer normalisation ----------------------------------------------------------------------

Vec layer_norm_ref(const Vec &x, const Vec &w, const Vec &b, int64_t B, int64_t C, int64_t S, double eps) {
    Vec y(x.size());
    for (int64_t n = 0; n < B; ++n)
        for (int64_t s = 0; s < S; ++s) {
            auto at = [&](int64_t c) { return size_t((n * C + c) * S + s); };
            double mean = 0, var = 0;
            for (int64_t c = 0; c < C; ++c) mean += x[at(c)];
            mean /= double(C);
            for (int64_t c = 0; c < C; ++c) var += (x[at(c)] - mean) * (x[at(c)] - mean);
            var /= double(C);
            for (int64_t c = 0; c < C; ++c)
                y[at(c)] = (x[at(c)] - mean) / std::sqrt(var + eps) * w[size_t(c)] + b[size_t(c)];
        }
    return y;
}

void test_layer_norm(Rng &rng, int64_t B, int64_t C, int64_t S) {
    const std::string name = "layer_norm (" + std::to_string(B) + ", " + std::to_string(C) + ", " +
                             std::to_string(S) + ")";
    const double eps = 1e-5;
    const int64_t n = B * C * S;
    const std::vector<float> x = rng.vec(n, -2, 3), w = rng.vec(C, 0.5, 1.5), b = rng.vec(C), gy = rng.vec(n);
    const Vec xd = to_double(x), wd = to_double(w), bd = to_double(b);
    const Vec y_ref = layer_norm_ref(xd, wd, bd, B, C, S, eps);
    auto loss_x = [&](const Vec &v) { return dot(layer_norm_ref(v, wd, bd, B, C, S, eps), gy); };
    auto loss_w = [&](const Vec &v) { return dot(layer_norm_ref(xd, v, bd, B, C, S, eps), gy); };
    auto loss_b = [&](const Vec &v) { return dot(layer_norm_ref(xd, wd, v, B, C, S, eps), gy); };
    const Vec gx_ref = finite_difference(xd, loss_x), gw_ref = finite_difference(wd, loss_w),
              gb_ref = finite_difference(bd, loss_b);

    dcls_cuda_layer_norm_plan *plan = nullptr;
    check(dcls_cuda_layer_norm_plan_create(ctx, B, C, S, float(eps), &plan) == DCLS_OK, name + ": plan_create");
    const std::vector<float> gw0 = rng.vec(C), gb0 = rng.vec(C);
    Device dx(x), dw(w), db(b), dgy(gy), dy(static_cast<size_t>(n)), dgx(static_cast<size_t>(n)), dgw(gw0), dgb(gb0);
    check(dcls_cuda_layer_norm_backward(plan, dgy.get(), dw.get(), dgx.get(), dgw.get(), dgb.get(), 0) ==
                  DCLS_ERROR_INVALID_ARGUMENT && has_message(),
          name + ": backward before forward is refused");
    check(dcls_cuda_layer_norm_forward(plan, dx.get(), dw.get(), db.get(), dy.get()) == DCLS_OK &&
              close(dy.download(), y_ref, name + " y"),
          name + ": forward");
    check(dcls_cuda_layer_norm_backward(plan, dgy.get(), dw.get(), dgx.get(), dgw.get(), dgb.get(), 1) == DCLS_OK &&
              close(dgx.download(), gx_ref, name + " grad_x", 2e-4) &&
              close(dgw.download(), plus(gw0, gw_ref), name + " grad_weight") &&
              close(dgb.download(), plus(gb0, gb_ref), name + " grad_bias"),
          name + ": backward (accumulate) against finite differences");
    check(dcls_cuda_layer_norm_backward(plan, dgy.get(), dw.get(), dgx.get(), dgw.get(), dgb.get(), 0) == DCLS_OK &&
              close(dgw.download(), gw_ref, name + " grad_weight") && close(dgb.download(), gb_ref, name + " grad_bias"),
          name + ": backward (overwrite)");
    check(dcls_cuda_layer_norm_plan_destroy(plan) == DCLS_OK, name + ": destroy");
}

// ---- batch normalisation ----------------------------------------------------------------------

// y of a batch norm over (B, S) per channel, with the batch statistics (training) or given ones.
Vec batch_norm_ref(const Vec &x, const Vec &w, const Vec &b, int64_t B, int64_t C, int64_t S, double eps,
                   const Vec *mean_in, const Vec *var_in, Vec *mean_out = nullptr, Vec *var_out = nullptr) {
    Vec y(x.size());
    for (int64_t c = 0; c < C; ++c) {
        auto at = [&](int64_t n, int64_t s) { return size_t((n * C + c) * S + s); };
        double mean = 0, var = 0;
        if (mean_in) {
            mean = (*mean_in)[size_t(c)];
            var = (*var_in)[size_t(c)];
        } else {
            for (int64_t n = 0; n < B; ++n)
                for (int64_t s = 0; s < S; ++s) mean += x[at(n, s)];
            mean /= double(B * S);
            for (int64_t n = 0; n < B; ++n)
                for (int64_t s = 0; s < S; ++s) var += (x[at(n, s)] - mean) * (x[at(n, s)] - mean);
            var /= double(B * S);
        }
        if (mean_out) (*mean_out)[size_t(c)] = mean;
        if (var_out) (*var_out)[size_t(c)] = var;
        for (int64_t n = 0; n < B; ++n)
            for (int64_t s = 0; s < S; ++s)
                y[at(n, s)] = (x[at(n, s)] - mean) / std::sqrt(var + eps) * w[size_t(c)] + b[size_t(c)];
    }
    return y;
}

void test_batch_norm(Rng &rng, int64_t B, int64_t C, int64_t S) {
    const std::string name = "batch_norm (" + std::to_string(B) + ", " + std::to_string(C) + ", " +
                             std::to_string(S) + ")";
    const double eps = 1e-5, momentum = 0.1;
    const int64_t n = B * C * S;
    const std::vector<float> x = rng.vec(n, -2, 3), w = rng.vec(C, 0.5, 1.5), b = rng.vec(C), gy = rng.vec(n),
                             rm = rng.vec(C), rv = rng.vec(C, 0.5, 2), gw0 = rng.vec(C), gb0 = rng.vec(C);
    const Vec xd = to_double(x), wd = to_double(w), bd = to_double(b), rmd = to_double(rm), rvd = to_double(rv);
    Vec mean(static_cast<size_t>(C)), var(static_cast<size_t>(C));
    const Vec y_train = batch_norm_ref(xd, wd, bd, B, C, S, eps, nullptr, nullptr, &mean, &var);
    Vec rm_want(static_cast<size_t>(C)), rv_want(static_cast<size_t>(C));
    const double unbias = double(B * S) / double(B * S - 1);
    for (int64_t c = 0; c < C; ++c) {
        rm_want[size_t(c)] = (1 - momentum) * rm[size_t(c)] + momentum * mean[size_t(c)];
        rv_want[size_t(c)] = (1 - momentum) * rv[size_t(c)] + momentum * var[size_t(c)] * unbias;
    }
    const Vec gx_train = finite_difference(
        xd, [&](const Vec &v) { return dot(batch_norm_ref(v, wd, bd, B, C, S, eps, nullptr, nullptr), gy); });
    const Vec gw_train = finite_difference(
        wd, [&](const Vec &v) { return dot(batch_norm_ref(xd, v, bd, B, C, S, eps, nullptr, nullptr), gy); });
    const Vec gb_train = finite_difference(
        bd, [&](const Vec &v) { return dot(batch_norm_ref(xd, wd, v, B, C, S, eps, nullptr, nullptr), gy); });

    dcls_cuda_batch_norm_plan *plan = nullptr;
    check(dcls_cuda_batch_norm_plan_create(ctx, B, C, S, float(eps), &plan) == DCLS_OK, name + ": plan_create");
    Device dx(x), dw(w), db(b), dgy(gy), drm(rm), drv(rv), dy(static_cast<size_t>(n)), dgx(static_cast<size_t>(n)),
        dgw(gw0), dgb(gb0);
    check(dcls_cuda_batch_norm_forward(plan, dx.get(), dw.get(), db.get(), drm.get(), drv.get(), float(momentum), 1,
                                       dy.get()) == DCLS_OK &&
              close(dy.download(), y_train, name + " y") && close(drm.download(), rm_want, name + " running_mean") &&
              close(drv.download(), rv_want, name + " running_var"),
          name + ": training forward, running statistics updated (unbiased variance)");
    check(dcls_cuda_batch_norm_backward(plan, dx.get(), dgy.get(), dw.get(), dgx.get(), dgw.get(), dgb.get(), 1) ==
                  DCLS_OK &&
              close(dgx.download(), gx_train, name + " grad_x", 2e-4) &&
              close(dgw.download(), plus(gw0, gw_train), name + " grad_weight") &&
              close(dgb.download(), plus(gb0, gb_train), name + " grad_bias"),
          name + ": training backward (accumulate) against finite differences");

    // Evaluation: the running statistics as they are now, constants for the gradient.
    const Vec rm_now = rm_want, rv_now = rv_want;
    const Vec y_eval = batch_norm_ref(xd, wd, bd, B, C, S, eps, &rm_now, &rv_now);
    const Vec gx_eval = finite_difference(
        xd, [&](const Vec &v) { return dot(batch_norm_ref(v, wd, bd, B, C, S, eps, &rm_now, &rv_now), gy); });
    const Vec gw_eval = finite_difference(
        wd, [&](const Vec &v) { return dot(batch_norm_ref(xd, v, bd, B, C, S, eps, &rm_now, &rv_now), gy); });
    check(dcls_cuda_batch_norm_forward(plan, dx.get(), dw.get(), db.get(), drm.get(), drv.get(), float(momentum), 0,
                                       dy.get()) == DCLS_OK &&
              close(dy.download(), y_eval, name + " y (eval)") &&
              close(drm.download(), rm_now, name + " running_mean kept"),
          name + ": evaluation forward with the running statistics, which stay");
    check(dcls_cuda_batch_norm_backward(plan, dx.get(), dgy.get(), dw.get(), dgx.get(), dgw.get(), dgb.get(), 0) ==
                  DCLS_OK &&
              close(dgx.download(), gx_eval, name + " grad_x (eval)") &&
              close(dgw.download(), gw_eval, name + " grad_weight (eval)"),
          name + ": evaluation backward (overwrite) against finite differences");
    check(dcls_cuda_batch_norm_plan_destroy(plan) == DCLS_OK, name + ": destroy");
}

// ---- linear -----------------------------------------------------------------------------------

void test_linear(Rng &rng, int64_t B, int64_t in, int64_t out, int64_t S, bool with_bias) {
    const std::string name = "linear B=" + std::to_string(B) + " " + std::to_string(in) + "->" +
                             std::to_string(out) + " S=" + std::to_string(S) + (with_bias ? " bias" : "");
    const std::vector<float> x = rng.vec(B * in * S), w = rng.vec(out * in), b = rng.vec(out),
                             gy = rng.vec(B * out * S), gw0 = rng.vec(out * in), gb0 = rng.vec(out);
    Vec y(static_cast<size_t>(B * out * S)), gx(static_cast<size_t>(B * in * S));
    Vec gw(static_cast<size_t>(out * in)), gb(static_cast<size_t>(out));
    for (int64_t n = 0; n < B; ++n)
        for (int64_t s = 0; s < S; ++s)
            for (int64_t o = 0; o < out; ++o) {
                const double g = gy[size_t((n * out + o) * S + s)];
                double acc = with_bias ? b[size_t(o)] : 0.0;
                for (int64_t i = 0; i < in; ++i) {
                    const double xv = x[size_t((n * in + i) * S + s)];
                    acc += double(w[size_t(o * in + i)]) * xv;
                    gx[size_t((n * in + i) * S + s)] += double(w[size_t(o * in + i)]) * g;
                    gw[size_t(o * in + i)] += g * xv;
                }
                y[size_t((n * out + o) * S + s)] = acc;
                gb[size_t(o)] += g;
            }
    dcls_cuda_linear_plan *plan = nullptr;
    check(dcls_cuda_linear_plan_create(ctx, B, in, out, S, &plan) == DCLS_OK, name + ": plan_create");
    Device dx(x), dw(w), db(b), dgy(gy), dy(y.size()), dgx(gx.size()), dgw(gw0), dgb(gb0);
    const float *bias = with_bias ? db.get() : nullptr;
    check(dcls_cuda_linear_forward(plan, dx.get(), dw.get(), bias, dy.get()) == DCLS_OK &&
              close(dy.download(), y, name + " y"),
          name + ": forward");
    check(dcls_cuda_linear_backward_data(plan, dgy.get(), dw.get(), dgx.get()) == DCLS_OK &&
              close(dgx.download(), gx, name + " grad_x"),
          name + ": backward_data");
    check(dcls_cuda_linear_backward_weights(plan, dx.get(), dgy.get(), dgw.get(), dgb.get(), 1) == DCLS_OK &&
              close(dgw.download(), plus(gw0, gw), name + " grad_weight") &&
              close(dgb.download(), plus(gb0, gb), name + " grad_bias"),
          name + ": backward_weights (accumulate)");
    check(dcls_cuda_linear_backward_weights(plan, dx.get(), dgy.get(), dgw.get(), nullptr, 0) == DCLS_OK &&
              close(dgw.download(), gw, name + " grad_weight"),
          name + ": backward_weights (overwrite, no bias)");
    check(dcls_cuda_linear_plan_destroy(plan) == DCLS_OK, name + ": destroy");
}

// ---- linear with GELU fused -------------------------------------------------------------------

// The fused entries against float64 loops written here: z = W x + b and y = gelu(z) (gelu by its erf
// formula), and grad_z = (W^T grad_y) * gelu'(z), gelu' by central differences of that formula.
// Filled outputs first, so that an element the GEMM skips (a ragged tile edge) shows.
void test_linear_gelu(Rng &rng, int64_t B, int64_t in, int64_t out, int64_t S, bool with_bias) {
    const std::string name = "linear_gelu B=" + std::to_string(B) + " " + std::to_string(in) + "->" +
                             std::to_string(out) + " S=" + std::to_string(S) + (with_bias ? " bias" : "");
    // Forward: a layer in -> out. Backward data: the next layer out -> in, whose input was gelu(z_in)
    // with z_in (B, in, S): the plan's in and out are the same two layers' shapes.
    const std::vector<float> x = rng.vec(B * in * S), w = rng.vec(out * in), b = rng.vec(out),
                             gy = rng.vec(B * out * S), z_in = rng.vec(B * in * S, -3, 3);
    Vec z(static_cast<size_t>(B * out * S)), y(z.size()), gz(static_cast<size_t>(B * in * S));
    const auto gelu = [](double v) { return activation_ref(DCLS_ACTIVATION_GELU_ERF, v); };
    for (int64_t n = 0; n < B; ++n)
        for (int64_t s = 0; s < S; ++s) {
            for (int64_t o = 0; o < out; ++o) {
                double acc = with_bias ? b[size_t(o)] : 0.0;
                for (int64_t i = 0; i < in; ++i)
                    acc += double(w[size_t(o * in + i)]) * x[size_t((n * in + i) * S + s)];
                z[size_t((n * out + o) * S + s)] = acc;
                y[size_t((n * out + o) * S + s)] = gelu(acc);
            }
            for (int64_t i = 0; i < in; ++i) {
                double acc = 0;
                for (int64_t o = 0; o < out; ++o)
                    acc += double(w[size_t(o * in + i)]) * gy[size_t((n * out + o) * S + s)];
                const double v = z_in[size_t((n * in + i) * S + s)], h = 1e-6;
                gz[size_t((n * in + i) * S + s)] = acc * (gelu(v + h) - gelu(v - h)) / (2 * h);
            }
        }
    dcls_cuda_linear_plan *plan = nullptr;
    check(dcls_cuda_linear_plan_create(ctx, B, in, out, S, &plan) == DCLS_OK, name + ": plan_create");
    Device dx(x), dw(w), db(b), dgy(gy), dzin(z_in), dz(rng.vec(int64_t(z.size()), 50, 60)),
        dy(rng.vec(int64_t(y.size()), 50, 60)), dgz(rng.vec(int64_t(gz.size()), 50, 60));
    const float *bias = with_bias ? db.get() : nullptr;
    check(dcls_cuda_linear_forward_gelu(plan, dx.get(), dw.get(), bias, dz.get(), dy.get()) == DCLS_OK &&
              close(dz.download(), z, name + " z") && close(dy.download(), y, name + " y"),
          name + ": forward (z and gelu(z))");
    check(dcls_cuda_linear_backward_data_gelu(plan, dgy.get(), dw.get(), dzin.get(), dgz.get()) == DCLS_OK &&
              close(dgz.download(), gz, name + " grad_z"),
          name + ": backward data times gelu'(z)");
    check(dcls_cuda_linear_forward_gelu(plan, dx.get(), dw.get(), bias, dy.get(), dy.get()) ==
                  DCLS_ERROR_INVALID_ARGUMENT &&
              has_message(),
          name + ": z and y in one buffer are refused");
    check(dcls_cuda_linear_backward_data_gelu(plan, dgy.get(), dw.get(), nullptr, dgz.get()) ==
                  DCLS_ERROR_INVALID_ARGUMENT &&
              std::string(dcls_cuda_last_error()).find("z") != std::string::npos,
          name + ": a null z is refused, naming it");
    check(dcls_cuda_linear_plan_destroy(plan) == DCLS_OK, name + ": destroy");
}

// ---- layer norm fused into the linear's GEMMs ---------------------------------------------------

// norm -> linear -> GELU with the layer norm in the GEMMs' prologue, against float64 loops written
// here: h = layer_norm(x) (layer_norm_ref), z = W h + b, y = gelu(z); grad_W = grad_z . h^T and
// grad_b = sum grad_z (accumulated onto filled buffers, then overwritten); and the layer norm's
// backward after the statistics-only forward, against its float64 formula grad_x = rstd (g - mean(g)
// - xhat mean(g xhat)), g = grad_h gamma, so that the kept statistics are checked too. Ragged
// shapes (not multiples of the 64 x 64 x 16 tiles); S = 1 and S > 1 load B's tiles in either order.
void test_norm_linear(Rng &rng, int64_t B, int64_t C, int64_t out, int64_t S, bool with_bias) {
    const std::string name = "norm_linear B=" + std::to_string(B) + " " + std::to_string(C) + "->" +
                             std::to_string(out) + " S=" + std::to_string(S) + (with_bias ? " bias" : "");
    const double eps = 1e-6;
    const std::vector<float> x = rng.vec(B * C * S, -2, 3), gamma = rng.vec(C, 0.5, 1.5), beta = rng.vec(C),
                             w = rng.vec(out * C), b = rng.vec(out), gz = rng.vec(B * out * S),
                             gh = rng.vec(B * C * S), gw0 = rng.vec(out * C), gb0 = rng.vec(out);
    const Vec xd = to_double(x);
    const Vec h = layer_norm_ref(xd, to_double(gamma), to_double(beta), B, C, S, eps);
    const auto gelu = [](double v) { return activation_ref(DCLS_ACTIVATION_GELU_ERF, v); };
    Vec z(size_t(B * out * S)), y(z.size()), gw(size_t(out * C), 0.0), gb(size_t(out), 0.0), gx(x.size());
    for (int64_t n = 0; n < B; ++n)
        for (int64_t s = 0; s < S; ++s) {
            for (int64_t o = 0; o < out; ++o) {
                double acc = with_bias ? b[size_t(o)] : 0.0;
                for (int64_t i = 0; i < C; ++i) acc += double(w[size_t(o * C + i)]) * h[size_t((n * C + i) * S + s)];
                z[size_t((n * out + o) * S + s)] = acc;
                y[size_t((n * out + o) * S + s)] = gelu(acc);
                const double g = gz[size_t((n * out + o) * S + s)];
                gb[size_t(o)] += g;
                for (int64_t i = 0; i < C; ++i) gw[size_t(o * C + i)] += g * h[size_t((n * C + i) * S + s)];
            }
            auto at = [&](int64_t c) { return size_t((n * C + c) * S + s); };
            double mean = 0, var = 0;
            for (int64_t c = 0; c < C; ++c) mean += xd[at(c)];
            mean /= double(C);
            for (int64_t c = 0; c < C; ++c) var += (xd[at(c)] - mean) * (xd[at(c)] - mean);
            const double rstd = 1 / std::sqrt(var / double(C) + eps);
            double g_mean = 0, gx_mean = 0;
            for (int64_t c = 0; c < C; ++c) {
                const double g = double(gh[at(c)]) * gamma[size_t(c)];
                g_mean += g / double(C);
                gx_mean += g * (xd[at(c)] - mean) * rstd / double(C);
            }
            for (int64_t c = 0; c < C; ++c) {
                const double g = double(gh[at(c)]) * gamma[size_t(c)], xhat = (xd[at(c)] - mean) * rstd;
                gx[at(c)] = rstd * (g - g_mean - xhat * gx_mean);
            }
        }

    dcls_cuda_linear_plan *plan = nullptr;
    dcls_cuda_layer_norm_plan *norm = nullptr, *other = nullptr;
    check(dcls_cuda_linear_plan_create(ctx, B, C, out, S, &plan) == DCLS_OK &&
              dcls_cuda_layer_norm_plan_create(ctx, B, C, S, float(eps), &norm) == DCLS_OK &&
              dcls_cuda_layer_norm_plan_create(ctx, B, C + 1, S, float(eps), &other) == DCLS_OK,
          name + ": plan_create");
    Device dx(x), dgamma(gamma), dbeta(beta), dw(w), db(b), dgz(gz), dgh(gh), dgw(gw0), dgb(gb0),
        dz(rng.vec(int64_t(z.size()), 50, 60)), dy(rng.vec(int64_t(y.size()), 50, 60)),
        dgx(rng.vec(int64_t(x.size()), 50, 60)), dgg(static_cast<size_t>(C)), dgbeta(static_cast<size_t>(C));
    const float *bias = with_bias ? db.get() : nullptr;
    float *grad_bias = with_bias ? dgb.get() : nullptr;
    check(dcls_cuda_linear_forward_norm_gelu(plan, norm, dx.get(), dgamma.get(), dbeta.get(), dw.get(), bias,
                                             dz.get(), dy.get()) == DCLS_ERROR_INVALID_ARGUMENT &&
              has_message(),
          name + ": the fused forward before any statistics is refused");
    check(dcls_cuda_layer_norm_statistics(norm, dx.get()) == DCLS_OK, name + ": statistics");
    check(dcls_cuda_linear_forward_norm_gelu(plan, norm, dx.get(), dgamma.get(), dbeta.get(), dw.get(), bias,
                                             dz.get(), dy.get()) == DCLS_OK &&
              close(dz.download(), z, name + " z") && close(dy.download(), y, name + " y"),
          name + ": forward (z and gelu(z) of the normalised x)");
    check(dcls_cuda_linear_backward_weights_norm(plan, norm, dx.get(), dgamma.get(), dbeta.get(), dgz.get(),
                                                 dgw.get(), grad_bias, 1) == DCLS_OK &&
              close(dgw.download(), plus(gw0, gw), name + " grad_weight") &&
              (!with_bias || close(dgb.download(), plus(gb0, gb), name + " grad_bias")),
          name + ": backward weights of the normalised x (accumulate)");
    check(dcls_cuda_linear_backward_weights_norm(plan, norm, dx.get(), dgamma.get(), dbeta.get(), dgz.get(),
                                                 dgw.get(), grad_bias, 0) == DCLS_OK &&
              close(dgw.download(), gw, name + " grad_weight") &&
              (!with_bias || close(dgb.download(), gb, name + " grad_bias")),
          name + ": backward weights of the normalised x (overwrite)");
    check(dcls_cuda_layer_norm_backward(norm, dgh.get(), dgamma.get(), dgx.get(), dgg.get(), dgbeta.get(), 0) ==
                  DCLS_OK &&
              close(dgx.download(), gx, name + " grad_x", 2e-4),
          name + ": the layer norm's backward from the statistics alone");
    // Refusals, each before any kernel runs.
    check(dcls_cuda_linear_forward_norm_gelu(plan, other, dx.get(), dgamma.get(), dbeta.get(), dw.get(), bias,
                                             dz.get(), dy.get()) == DCLS_ERROR_INVALID_ARGUMENT &&
              std::string(dcls_cuda_last_error()).find("does not match") != std::string::npos,
          name + ": a layer norm plan of another shape is refused");
    check(dcls_cuda_linear_backward_weights_norm(plan, nullptr, dx.get(), dgamma.get(), dbeta.get(), dgz.get(),
                                                 dgw.get(), grad_bias, 0) == DCLS_ERROR_INVALID_ARGUMENT &&
              has_message(),
          name + ": a null layer norm plan is refused");
    check(dcls_cuda_linear_forward_norm_gelu(plan, norm, dgh.get(), dgamma.get(), dbeta.get(), dw.get(), bias,
                                             dz.get(), dy.get()) == DCLS_ERROR_INVALID_ARGUMENT &&
              std::string(dcls_cuda_last_error()).find("statistics") != std::string::npos,
          name + ": an x other than the statistics' input is refused");
    check(dcls_cuda_linear_backward_weights_norm(plan, norm, dx.get(), nullptr, dbeta.get(), dgz.get(), dgw.get(),
                                                 grad_bias, 0) == DCLS_ERROR_INVALID_ARGUMENT &&
              std::string(dcls_cuda_last_error()).find("gamma") != std::string::npos,
          name + ": a null gamma is refused, naming it");
    check(dcls_cuda_linear_forward_norm_gelu(plan, norm, dx.get(), dgamma.get(), dbeta.get(), dw.get(), bias,
                                             dy.get(), dy.get()) == DCLS_ERROR_INVALID_ARGUMENT &&
              has_message(),
          name + ": z and y in one buffer are refused");
    check(dcls_cuda_layer_norm_statistics(norm, nullptr) == DCLS_ERROR_INVALID_ARGUMENT &&
              dcls_cuda_layer_norm_statistics(nullptr, dx.get()) == DCLS_ERROR_INVALID_ARGUMENT && has_message(),
          name + ": statistics of a null x or on a null plan are refused");
    check(dcls_cuda_linear_plan_destroy(plan) == DCLS_OK && dcls_cuda_layer_norm_plan_destroy(norm) == DCLS_OK &&
              dcls_cuda_layer_norm_plan_destroy(other) == DCLS_OK,
          name + ": destroy");
}

// ---- pooling ----------------------------------------------------------------------------------

// Forward and backward of a pooling in float64, written out: windows in (d, h, w) with the first
// ndim axes of the descriptor last, the maximum's gradient to its first position in window order.
struct PoolRef {
    Vec y, grad_x;
};

PoolRef pool_ref(const dcls_pool_desc &d, const std::vector<float> &x, const std::vector<float> &gy) {
    int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, st[3] = {1, 1, 1}, pd[3] = {0, 0, 0}, out[3] = {1, 1, 1};
    for (int i = 0; i < d.ndim; ++i) {
        const int a = 3 - d.ndim + i;
        in[a] = d.input_size[i];
        k[a] = d.kernel_size[i];
        st[a] = d.stride[i];
        pd[a] = d.padding[i];
        out[a] = (in[a] + 2 * pd[a] - k[a]) / st[a] + 1;
    }
    const int64_t planes = d.batch * d.channels, ip = in[0] * in[1] * in[2], op = out[0] * out[1] * out[2];
    PoolRef r{Vec(size_t(planes * op)), Vec(size_t(planes * ip), 0.0)};
    for (int64_t p = 0; p < planes; ++p)
        for (int64_t o0 = 0; o0 < out[0]; ++o0)
            for (int64_t o1 = 0; o1 < out[1]; ++o1)
                for (int64_t o2 = 0; o2 < out[2]; ++o2) {
                    const int64_t o = p * op + (o0 * out[1] + o1) * out[2] + o2;
                    double best = 0, sum = 0;
                    int64_t where = -1, n = 0;
                    for (int64_t i = 0; i < k[0]; ++i)
                        for (int64_t j = 0; j < k[1]; ++j)
                            for (int64_t l = 0; l < k[2]; ++l) {
                                const int64_t a = o0 * st[0] - pd[0] + i, b = o1 * st[1] - pd[1] + j,
                                              c = o2 * st[2] - pd[2] + l;
                                if (a < 0 || a >= in[0] || b < 0 || b >= in[1] || c < 0 || c >= in[2]) continue;
                                const int64_t at = p * ip + (a * in[1] + b) * in[2] + c;
                                sum += x[size_t(at)];
                                ++n;
                                if (where < 0 || x[size_t(at)] > best) {
                                    best = x[size_t(at)];
                                    where = at;
                                }
                            }
                    if (d.kind == DCLS_POOL_MAX) {
                        r.y[size_t(o)] = best;
                        r.grad_x[size_t(where)] += gy[size_t(o)];
                        continue;
                    }
                    const double div = d.kind == DCLS_POOL_AVG_EXCLUDE_PADDING ? double(n) : double(k[0] * k[1] * k[2]);
                    r.y[size_t(o)] = sum / div;
                    for (int64_t i = 0; i < k[0]; ++i)
                        for (int64_t j = 0; j < k[1]; ++j)
                            for (int64_t l = 0; l < k[2]; ++l) {
                                const int64_t a = o0 * st[0] - pd[0] + i, b = o1 * st[1] - pd[1] + j,
                                              c = o2 * st[2] - pd[2] + l;
                                if (a < 0 || a >= in[0] || b < 0 || b >= in[1] || c < 0 || c >= in[2]) continue;
                                r.grad_x[size_t(p * ip + (a * in[1] + b) * in[2] + c)] += gy[size_t(o)] / div;
                            }
                }
    return r;
}

void test_pool(Rng &rng, int kind, int ndim, int64_t size, int64_t kernel, int64_t stride, int64_t pad,
               bool ties = false) {
    const char *kinds[] = {"max", "avg incl. padding", "avg excl. padding"};
    const std::string name = std::string("pool ") + kinds[kind] + " " + std::to_string(ndim) + "D size " +
                             std::to_string(size) + " k " + std::to_string(kernel) + " s " + std::to_string(stride) +
                             " p " + std::to_string(pad) + (ties ? " with ties" : "");
    dcls_pool_desc d{};
    d.ndim = ndim;
    d.kind = kind;
    d.batch = 2;
    d.channels = 3;
    int64_t in_count = d.batch * d.channels, out_count = d.batch * d.channels, expected_out[3] = {1, 1, 1};
    for (int i = 0; i < ndim; ++i) {
        d.input_size[i] = size + i;  // not square
        d.kernel_size[i] = kernel;
        d.stride[i] = stride;
        d.padding[i] = pad;
        expected_out[i] = (d.input_size[i] + 2 * pad - kernel) / stride + 1;
        in_count *= d.input_size[i];
        out_count *= expected_out[i];
    }
    std::vector<float> x = rng.vec(in_count);
    if (ties)  // -1, 0 and 1 only: a window's maximum repeats, and its first place (torch's choice) gets the gradient
        for (float &v : x) v = std::round(v);
    const std::vector<float> gy = rng.vec(out_count);
    const PoolRef ref = pool_ref(d, x, gy);
    dcls_cuda_pool_plan *plan = nullptr;
    check(dcls_cuda_pool_plan_create(ctx, &d, &plan) == DCLS_OK, name + ": plan_create");
    int64_t out[3] = {0, 0, 0};
    check(dcls_cuda_pool_plan_output_size(plan, out) == DCLS_OK && out[0] == expected_out[0] &&
              out[1] == expected_out[1] && out[2] == expected_out[2],
          name + ": output_size");
    Device dx(x), dgy(gy), dy(static_cast<size_t>(out_count)), dgx(static_cast<size_t>(in_count));
    check(dcls_cuda_pool_forward(plan, dx.get(), dy.get()) == DCLS_OK && close(dy.download(), ref.y, name + " y"),
          name + ": forward");
    check(dcls_cuda_pool_backward(plan, dgy.get(), dgx.get()) == DCLS_OK &&
              close(dgx.download(), ref.grad_x, name + " grad_x"),
          name + ": backward");
    check(dcls_cuda_pool_plan_destroy(plan) == DCLS_OK, name + ": destroy");
}

// ---- cross-entropy ----------------------------------------------------------------------------

double cross_entropy_ref(const Vec &logits, const std::vector<int32_t> &labels, int64_t K, double smoothing) {
    const int64_t B = int64_t(labels.size());
    double total = 0;
    for (int64_t n = 0; n < B; ++n) {
        const double *row = logits.data() + n * K;
        double top = row[0], sum = 0, all = 0;
        for (int64_t k = 1; k < K; ++k) top = std::max(top, row[k]);
        for (int64_t k = 0; k < K; ++k) sum += std::exp(row[k] - top);
        const double lse = std::log(sum) + top;
        for (int64_t k = 0; k < K; ++k) all += row[k] - lse;
        total += -(1 - smoothing) * (row[labels[size_t(n)]] - lse) - smoothing * all / double(K);
    }
    return total / double(B);
}

void test_cross_entropy(Rng &rng, int64_t B, int64_t K, float smoothing) {
    const std::string name = "cross_entropy B=" + std::to_string(B) + " K=" + std::to_string(K) +
                             " smoothing=" + std::to_string(smoothing);
    const std::vector<float> logits = rng.vec(B * K, -3, 3);
    std::vector<int32_t> labels(static_cast<size_t>(B));
    for (auto &l : labels) l = int32_t(rng.integer(0, K - 1));
    const Vec ld = to_double(logits);
    const double loss_ref = cross_entropy_ref(ld, labels, K, smoothing);
    const Vec g_ref = finite_difference(ld, [&](const Vec &v) { return cross_entropy_ref(v, labels, K, smoothing); });
    dcls_cuda_cross_entropy_plan *plan = nullptr;
    check(dcls_cuda_cross_entropy_plan_create(ctx, B, K, &plan) == DCLS_OK, name + ": plan_create");
    Device dl(logits), dloss(1), dg(static_cast<size_t>(B * K));
    check(dcls_cuda_cross_entropy_backward(plan, dg.get()) == DCLS_ERROR_INVALID_ARGUMENT && has_message(),
          name + ": backward before forward is refused");
    check(dcls_cuda_cross_entropy_forward(plan, dl.get(), labels.data(), smoothing, dloss.get()) == DCLS_OK &&
              close(dloss.download(), Vec{loss_ref}, name + " loss"),
          name + ": forward");
    check(dcls_cuda_cross_entropy_backward(plan, dg.get()) == DCLS_OK && close(dg.download(), g_ref, name + " grad"),
          name + ": backward against finite differences");
    std::vector<int32_t> bad = labels;
    bad[size_t(B - 1)] = int32_t(K);
    check(dcls_cuda_cross_entropy_forward(plan, dl.get(), bad.data(), smoothing, dloss.get()) ==
                  DCLS_ERROR_INVALID_ARGUMENT && std::string(dcls_cuda_last_error()).find("outside") != std::string::npos,
          name + ": a label outside [0, classes) is refused, naming it");
    check(dcls_cuda_cross_entropy_plan_destroy(plan) == DCLS_OK, name + ": destroy");
}

// ---- optimizer updates ------------------------------------------------------------------------

// Two steps of AdamW (with and without AMSGrad) and SGD (plain, momentum, Nesterov with dampening)
// against the same updates written out in float64 (PyTorch's formulas), from the same state.
void test_optimizers(Rng &rng) {
    const int64_t n = 700;
    for (int amsgrad = 0; amsgrad <= 1; ++amsgrad) {
        const std::string name = std::string("adamw") + (amsgrad ? " amsgrad" : "");
        std::vector<float> p = rng.vec(n), m = rng.vec(n, -0.1, 0.1), v = rng.vec(n, 0, 0.01), vmax = v;
        Vec pd = to_double(p), md = to_double(m), vd = to_double(v), vmaxd = to_double(vmax);
        Device dp(p), dm(m), dv(v), dvmax(vmax);
        const double lr = 0.01, wd = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        bool ok = true;
        for (int step = 1; step <= 2; ++step) {
            const std::vector<float> g = rng.vec(n);
            Device dg(g);
            const double bc1 = 1 - std::pow(b1, step), bc2 = 1 - std::pow(b2, step);
            ok = ok && dcls_cuda_adamw_update(ctx, n, dp.get(), dg.get(), dm.get(), dv.get(),
                                              amsgrad ? dvmax.get() : nullptr, float(1 - lr * wd), float(b1),
                                              float(1 - b1), float(b2), float(1 - b2), float(lr / bc1),
                                              float(1 / std::sqrt(bc2)), float(eps)) == DCLS_OK;
            for (int64_t i = 0; i < n; ++i) {
                const size_t k = size_t(i);
                md[k] = b1 * md[k] + (1 - b1) * g[k];
                vd[k] = b2 * vd[k] + (1 - b2) * double(g[k]) * g[k];
                vmaxd[k] = std::max(vmaxd[k], vd[k]);
                const double second = amsgrad ? vmaxd[k] : vd[k];
                pd[k] = pd[k] * (1 - lr * wd) - lr / bc1 * md[k] / (std::sqrt(second) / std::sqrt(bc2) + eps);
            }
        }
        check(ok && close(dp.download(), pd, name + " param", 1e-5) && close(dm.download(), md, name + " exp_avg", 1e-5) &&
                  close(dv.download(), vd, name + " exp_avg_sq", 1e-5),
              name + ": two steps against float64");
    }
    struct Sgd {
        const char *name;
        double momentum, dampening;
        bool nesterov;
    };
    for (const Sgd c : {Sgd{"sgd", 0, 0, false}, Sgd{"sgd momentum", 0.9, 0, false}, Sgd{"sgd nesterov", 0.8, 0.1, true}}) {
        std::vector<float> p = rng.vec(n), buf(static_cast<size_t>(n), 0.f);
        Vec pd = to_double(p), bd(static_cast<size_t>(n), 0.0);
        Device dp(p), dbuf(buf);
        const double lr = 0.1, wd = 0.01;
        bool ok = true;
        for (int step = 1; step <= 2; ++step) {
            const std::vector<float> g = rng.vec(n);
            Device dg(g);
            ok = ok && dcls_cuda_sgd_update(ctx, n, dp.get(), dg.get(), c.momentum != 0 ? dbuf.get() : nullptr,
                                            float(lr), float(wd), float(c.momentum), float(1 - c.dampening),
                                            step == 1, c.nesterov) == DCLS_OK;
            for (size_t k = 0; k < size_t(n); ++k) {
                double d = g[k] + wd * pd[k];
                if (c.momentum != 0) {
                    bd[k] = step == 1 ? d : c.momentum * bd[k] + (1 - c.dampening) * d;
                    d = c.nesterov ? d + c.momentum * bd[k] : bd[k];
                }
                pd[k] -= lr * d;
            }
        }
        check(ok && close(dp.download(), pd, std::string(c.name) + " param", 1e-5),
              std::string(c.name) + ": two steps against float64");
    }
    check(dcls_cuda_adamw_update(ctx, -1, nullptr, nullptr, nullptr, nullptr, nullptr, 1, 0.9f, 0.1f, 0.99f, 0.01f,
                                 0.1f, 1, 1e-8f) == DCLS_ERROR_INVALID_ARGUMENT && has_message(),
          "adamw_update: a negative count is refused");
    check(dcls_cuda_sgd_update(ctx, 4, nullptr, nullptr, nullptr, 0.1f, 0, 0, 1, 1, 0) == DCLS_ERROR_INVALID_ARGUMENT,
          "sgd_update: null param is refused");
}

// ---- a dilated convolution's spread kernel ---------------------------------------------------

// Where weight (p, j0, j1, j2) of `pairs` x kernel sits in the spread kernel: its coordinates times the
// dilation, row-major over the spread sizes (written out axis by axis, unlike the kernels' index walk).
std::vector<int64_t> spread_cells(int64_t pairs, const std::vector<int64_t> &k, const std::vector<int64_t> &dil) {
    int64_t kk[3] = {1, 1, 1}, dd[3] = {1, 1, 1}, ss[3] = {1, 1, 1};
    for (size_t d = 0; d < k.size(); ++d) {
        kk[d] = k[d];
        dd[d] = dil[d];
        ss[d] = (k[d] - 1) * dil[d] + 1;
    }
    std::vector<int64_t> cells;
    for (int64_t p = 0; p < pairs; ++p)
        for (int64_t j0 = 0; j0 < kk[0]; ++j0)
            for (int64_t j1 = 0; j1 < kk[1]; ++j1)
                for (int64_t j2 = 0; j2 < kk[2]; ++j2)
                    cells.push_back(((p * ss[0] + j0 * dd[0]) * ss[1] + j1 * dd[1]) * ss[2] + j2 * dd[2]);
    return cells;
}

// Two scatters into one spread kernel (the second over the first's values, as from one training step to the
// next: the gaps must stay zero, the taps take the new weights) and two gathers (weight gradients added to, the
// whole spread gradient zeroed, gaps included, which a backward pass writes too), against spread_cells.
void test_kernel_spread(Rng &rng, int64_t pairs, const std::vector<int64_t> &k, const std::vector<int64_t> &dil) {
    std::string name = "kernel spread " + std::to_string(pairs) + " pairs, kernel";
    for (int64_t v : k) name += " " + std::to_string(v);
    name += ", dilation";
    for (int64_t v : dil) name += " " + std::to_string(v);
    const int32_t ndim = int32_t(k.size());
    const std::vector<int64_t> cells = spread_cells(pairs, k, dil);
    int64_t spread_count = pairs;
    for (size_t d = 0; d < k.size(); ++d) spread_count *= (k[d] - 1) * dil[d] + 1;
    const int64_t weights = int64_t(cells.size());

    Device dspread(std::vector<float>(size_t(spread_count), 0.f)), dw{size_t(weights)};
    for (int pass = 0; pass < 2; ++pass) {
        const std::vector<float> w = rng.vec(weights);
        dw.upload(w);
        std::vector<float> want(size_t(spread_count), 0.f);
        for (size_t i = 0; i < cells.size(); ++i) want[size_t(cells[i])] = w[i];
        check(dcls_cuda_kernel_spread(ctx, pairs, ndim, k.data(), dil.data(), dw.get(), dspread.get()) == DCLS_OK &&
                  dspread.download() == want,
              name + ": scatter " + std::to_string(pass + 1) + " (taps the weights, gaps zero)");
    }

    std::vector<float> gw = rng.vec(weights);
    Device dgw(gw);
    Device dgs{size_t(spread_count)};
    for (int pass = 0; pass < 2; ++pass) {
        const std::vector<float> gs = rng.vec(spread_count);  // every cell: the gaps too
        dgs.upload(gs);
        for (size_t i = 0; i < cells.size(); ++i) gw[i] += gs[size_t(cells[i])];
        check(dcls_cuda_kernel_gather_add(ctx, pairs, ndim, k.data(), dil.data(), dgs.get(), dgw.get()) == DCLS_OK &&
                  dgw.download() == gw && dgs.download() == std::vector<float>(size_t(spread_count), 0.f),
              name + ": gather " + std::to_string(pass + 1) + " (added to the weight gradient, spread gradient zeroed)");
    }
}

void test_kernel_spread_refusals() {
    Device a(16), b(16);
    const int64_t k[3] = {3, 3, 3}, d[3] = {2, 2, 2}, zero[3] = {3, 0, 3}, huge[3] = {3, INT64_MAX / 2, 1};
    check(dcls_cuda_kernel_spread(nullptr, 1, 1, k, d, a.get(), b.get()) == DCLS_ERROR_INVALID_ARGUMENT &&
              has_message(),
          "kernel_spread: a null context is refused");
    check(dcls_cuda_kernel_spread(ctx, 1, 4, k, d, a.get(), b.get()) == DCLS_ERROR_INVALID_ARGUMENT &&
              std::string(dcls_cuda_last_error()).find("ndim") != std::string::npos,
          "kernel_spread: ndim 4 is refused, naming it");
    check(dcls_cuda_kernel_spread(ctx, 0, 1, k, d, a.get(), b.get()) == DCLS_ERROR_INVALID_ARGUMENT,
          "kernel_spread: 0 pairs are refused");
    check(dcls_cuda_kernel_gather_add(ctx, 1, 2, k, zero, a.get(), b.get()) == DCLS_ERROR_INVALID_ARGUMENT &&
              std::string(dcls_cuda_last_error()).find("dilation[1]") != std::string::npos,
          "kernel_gather_add: dilation 0 is refused, naming the axis");
    check(dcls_cuda_kernel_gather_add(ctx, 1, 2, zero, d, a.get(), b.get()) == DCLS_ERROR_INVALID_ARGUMENT &&
              std::string(dcls_cuda_last_error()).find("kernel_size[1]") != std::string::npos,
          "kernel_gather_add: kernel size 0 is refused, naming the axis");
    check(dcls_cuda_kernel_spread(ctx, 1, 2, nullptr, d, a.get(), b.get()) == DCLS_ERROR_INVALID_ARGUMENT &&
              std::string(dcls_cuda_last_error()).find("kernel_size") != std::string::npos,
          "kernel_spread: null kernel_size is refused");
    check(dcls_cuda_kernel_spread(ctx, 1, 2, k, d, nullptr, b.get()) == DCLS_ERROR_INVALID_ARGUMENT &&
              std::string(dcls_cuda_last_error()).find("weight") != std::string::npos,
          "kernel_spread: null weight is refused");
    check(dcls_cuda_kernel_gather_add(ctx, 1, 2, k, d, a.get(), nullptr) == DCLS_ERROR_INVALID_ARGUMENT &&
              std::string(dcls_cuda_last_error()).find("grad_weight") != std::string::npos,
          "kernel_gather_add: null grad_weight is refused");
    check(dcls_cuda_kernel_spread(ctx, 1, 2, huge, d, a.get(), b.get()) == DCLS_ERROR_INVALID_ARGUMENT &&
              std::string(dcls_cuda_last_error()).find("too large") != std::string::npos,
          "kernel_spread: a spread kernel past 2^62 bytes is refused");
}

// ---- error paths ------------------------------------------------------------------------------

// ---- cuDNN or dcls4j's kernels (nn_engine.h) ------------------------------------------------------

namespace engine = dcls::cuda::nn;

dcls::nn::PoolGeometry pool_geometry_of(int kind, int64_t planes, int64_t size) {
    dcls::nn::PoolGeometry g;
    g.kind = kind;
    g.planes = planes;
    g.in[1] = g.in[2] = size;
    g.out[1] = g.out[2] = size;
    g.k[1] = g.k[2] = 3;
    g.pad[1] = g.pad[2] = 1;
    return g;
}

// The choice as a function: which configurations may run on cuDNN.
void test_engine_choice() {
    const engine::CudnnOffer on{true, true}, absent{true, false}, off{false, true};
    for (int kind : {DCLS_POOL_AVG_INCLUDE_PADDING, DCLS_POOL_AVG_EXCLUDE_PADDING}) {
        const std::string k = kind == DCLS_POOL_AVG_INCLUDE_PADDING ? "avg incl." : "avg excl.";
        check(engine::pool_engine(on, pool_geometry_of(kind, 6, 8)).cudnn, "engine: " + k + " pooling on cuDNN");
        check(!engine::pool_engine(absent, pool_geometry_of(kind, 6, 8)).cudnn &&
                  engine::pool_engine(absent, pool_geometry_of(kind, 6, 8)).why_not.find("no cuDNN") !=
                      std::string::npos,
              "engine: " + k + " pooling without cuDNN's pooling is dcls4j's, saying so");
        check(!engine::pool_engine(off, pool_geometry_of(kind, 6, 8)).cudnn &&
                  engine::pool_engine(off, pool_geometry_of(kind, 6, 8)).why_not.find("off") != std::string::npos,
              "engine: " + k + " pooling with cuDNN off for the context is dcls4j's, saying so");
        check(!engine::pool_engine(on, pool_geometry_of(kind, 1 << 16, 1 << 8)).cudnn,
              "engine: " + k + " pooling over 2^31 - 1 elements is dcls4j's");
        check(engine::pool_engine(on, pool_geometry_of(kind, (1 << 15) - 1, 1 << 8)).cudnn,
              "engine: " + k + " pooling of 2^31 elements less one plane is cuDNN's");
    }
    const engine::EngineChoice max_pool = engine::pool_engine(on, pool_geometry_of(DCLS_POOL_MAX, 6, 8));
    check(!max_pool.cudnn && max_pool.why_not.find("tied maxima") != std::string::npos,
          "engine: max pooling is dcls4j's even with cuDNN (tie rule), saying why");
    check(engine::batch_norm_engine(on, 4, 3, 5).cudnn && engine::batch_norm_engine(on, 2, 3, 1).cudnn &&
              engine::batch_norm_engine(on, 1, 3, 2).cudnn,
          "engine: batch norm with at least two values per channel on cuDNN");
    check(!engine::batch_norm_engine(on, 1, 3, 1).cudnn &&
              engine::batch_norm_engine(on, 1, 3, 1).why_not.find("running variance") != std::string::npos,
          "engine: batch norm with one value per channel is dcls4j's (unbiased variance undefined), saying why");
    check(!engine::batch_norm_engine(absent, 4, 3, 5).cudnn && !engine::batch_norm_engine(off, 4, 3, 5).cudnn,
          "engine: batch norm without cuDNN's, or with cuDNN off, is dcls4j's");
    check(!engine::batch_norm_engine(on, 1 << 16, 1 << 8, 1 << 7).cudnn &&
              engine::batch_norm_engine(on, (1 << 16) - 1, 1 << 8, 1 << 7).cudnn,
          "engine: batch norm over 2^31 - 1 elements is dcls4j's, below cuDNN's");
    check(engine::log_softmax_engine(on, 9, 4).cudnn && !engine::log_softmax_engine(absent, 9, 4).cudnn &&
              !engine::log_softmax_engine(off, 9, 4).cudnn && !engine::log_softmax_engine(on, 1 << 16, 1 << 15).cudnn,
          "engine: the log-softmax on cuDNN where offered and within int sizes");
}

// Whether cuDNN is loaded (its version), and why not.
bool cudnn_loaded(std::string *why) {
    int32_t version = 0;
    if (dcls_cuda_cudnn_version(&version) != DCLS_OK || version <= 0) {
        *why = dcls_cuda_last_error();
        return false;
    }
    return true;
}

std::string pool_info(dcls_cuda_pool_plan *plan) {
    const char *info = nullptr;
    return dcls_cuda_pool_plan_info(plan, &info) == DCLS_OK && info ? info : "<no info>";
}
std::string batch_norm_info(dcls_cuda_batch_norm_plan *plan) {
    const char *info = nullptr;
    return dcls_cuda_batch_norm_plan_info(plan, &info) == DCLS_OK && info ? info : "<no info>";
}
std::string cross_entropy_info(dcls_cuda_cross_entropy_plan *plan) {
    const char *info = nullptr;
    return dcls_cuda_cross_entropy_plan_info(plan, &info) == DCLS_OK && info ? info : "<no info>";
}

bool starts_with(const std::string &s, const std::string &prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

dcls_pool_desc pool_desc(int kind, int ndim, int64_t size, int64_t kernel, int64_t stride, int64_t pad) {
    dcls_pool_desc d{};
    d.ndim = ndim;
    d.kind = kind;
    d.batch = 2;
    d.channels = 3;
    for (int i = 0; i < ndim; ++i) {
        d.input_size[i] = size + i;
        d.kernel_size[i] = kernel;
        d.stride[i] = stride;
        d.padding[i] = pad;
    }
    return d;
}

// Each plan's info: the engine the choice gives with what this machine's cuDNN offers (every op
// group of cuDNN 9 when loaded), and dcls4j's for every plan made with cuDNN off.
void test_engine_info(bool with_cudnn) {
    for (int enabled : {1, 0}) {
        check(dcls_cuda_nn_set_cudnn(ctx, enabled) == DCLS_OK, "nn_set_cudnn");
        const bool cudnn = with_cudnn && enabled;
        const std::string when = enabled ? "" : " (cuDNN off for the context)";
        for (int kind = DCLS_POOL_MAX; kind <= DCLS_POOL_AVG_EXCLUDE_PADDING; ++kind) {
            const dcls_pool_desc d = pool_desc(kind, 2, 7, 3, 2, 1);
            dcls_cuda_pool_plan *plan = nullptr;
            check(dcls_cuda_pool_plan_create(ctx, &d, &plan) == DCLS_OK, "pool plan_create for its info");
            const std::string info = pool_info(plan);
            const bool want = cudnn && kind != DCLS_POOL_MAX;
            // Max pooling's reason is its tie rule, whatever cuDNN offers; average pooling's without cuDNN is
            // that the context turned it off, or that it is absent.
            const std::string reason = kind == DCLS_POOL_MAX ? "tied maxima" : !enabled ? "off" : "no cuDNN";
            check(want ? info == "forward=cudnn backward=dcls"
                       : starts_with(info, "forward=dcls backward=dcls (") && info.find(reason) != std::string::npos,
                  "pool kind " + std::to_string(kind) + " info" + when + ": " + info);
            dcls_cuda_pool_plan_destroy(plan);
        }
        dcls_cuda_batch_norm_plan *bn = nullptr;
        check(dcls_cuda_batch_norm_plan_create(ctx, 4, 3, 5, 1e-5f, &bn) == DCLS_OK, "batch_norm plan_create");
        const std::string bn_info = batch_norm_info(bn);
        check(cudnn ? bn_info == "training=cudnn evaluation=cudnn backward=cudnn evaluation_backward=dcls"
                    : starts_with(bn_info, "training=dcls evaluation=dcls backward=dcls evaluation_backward=dcls ("),
              "batch_norm info" + when + ": " + bn_info);
        dcls_cuda_batch_norm_plan_destroy(bn);
        check(dcls_cuda_batch_norm_plan_create(ctx, 1, 3, 1, 1e-5f, &bn) == DCLS_OK, "batch_norm plan_create");
        const std::string one_info = batch_norm_info(bn);
        check(starts_with(one_info, "training=dcls") && one_info.find("running variance") != std::string::npos,
              "batch_norm of one value per channel: dcls4j's" + when + ": " + one_info);
        dcls_cuda_batch_norm_plan_destroy(bn);
        dcls_cuda_cross_entropy_plan *ce = nullptr;
        check(dcls_cuda_cross_entropy_plan_create(ctx, 9, 4, &ce) == DCLS_OK, "cross_entropy plan_create");
        const std::string ce_info = cross_entropy_info(ce);
        check(starts_with(ce_info, cudnn ? "log_softmax=cudnn loss=dcls backward=dcls"
                                         : "log_softmax=dcls loss=dcls backward=dcls ("),
              "cross_entropy info" + when + ": " + ce_info);
        dcls_cuda_cross_entropy_plan_destroy(ce);
    }
    check(dcls_cuda_nn_set_cudnn(ctx, 1) == DCLS_OK, "nn_set_cudnn back on");
    const char *info = nullptr;
    check(dcls_cuda_pool_plan_info(nullptr, &info) == DCLS_ERROR_INVALID_ARGUMENT && has_message(),
          "pool_plan_info: a null plan is refused");
    check(dcls_cuda_nn_set_cudnn(nullptr, 1) == DCLS_ERROR_INVALID_ARGUMENT && has_message(),
          "nn_set_cudnn: a null context is refused");
}

// Plans made with cuDNN on (where it runs) and off, on the same inputs: the results agree.
// Two float32 implementations summing in different orders agree to the file's tolerance; a difference
// of meaning is far beyond it on the small shapes (a biased running variance would be momentum * var /
// (count - 1) apart: about 1e-2 for 20 values per channel).
bool agree(const std::vector<float> &got, const std::vector<float> &want, const std::string &what) {
    return close(got, to_double(want), what);
}

void compare_pool(Rng &rng, int kind, int ndim, int64_t size, int64_t kernel, int64_t stride, int64_t pad) {
    const dcls_pool_desc d = pool_desc(kind, ndim, size, kernel, stride, pad);
    const std::string name = "cuDNN vs dcls: pool kind " + std::to_string(kind) + " " + std::to_string(ndim) + "D";
    dcls_cuda_pool_plan *plans[2] = {nullptr, nullptr};
    for (int enabled : {1, 0}) {
        dcls_cuda_nn_set_cudnn(ctx, enabled);
        dcls_cuda_pool_plan_create(ctx, &d, &plans[enabled ? 0 : 1]);
    }
    dcls_cuda_nn_set_cudnn(ctx, 1);
    check(starts_with(pool_info(plans[0]), "forward=cudnn") && starts_with(pool_info(plans[1]), "forward=dcls"),
          name + ": one plan on cuDNN, one on dcls4j's kernels");
    int64_t out[3] = {1, 1, 1}, in_count = d.batch * d.channels, out_count = d.batch * d.channels;
    dcls_cuda_pool_plan_output_size(plans[0], out);
    for (int i = 0; i < ndim; ++i) {
        in_count *= d.input_size[i];
        out_count *= out[i];
    }
    const std::vector<float> x = rng.vec(in_count);
    Device dx(x), y0(static_cast<size_t>(out_count)), y1(static_cast<size_t>(out_count));
    check(dcls_cuda_pool_forward(plans[0], dx.get(), y0.get()) == DCLS_OK &&
              dcls_cuda_pool_forward(plans[1], dx.get(), y1.get()) == DCLS_OK &&
              agree(y0.download(), y1.download(), name + " y"),
          name + ": forward");
    for (auto *p : plans) dcls_cuda_pool_plan_destroy(p);
}

void compare_batch_norm(Rng &rng, int64_t B, int64_t C, int64_t S) {
    const std::string name = "cuDNN vs dcls: batch_norm (" + std::to_string(B) + ", " + std::to_string(C) + ", " +
                             std::to_string(S) + ")";
    const int64_t n = B * C * S;
    const std::vector<float> x = rng.vec(n, -2, 3), w = rng.vec(C, 0.5, 1.5), b = rng.vec(C), gy = rng.vec(n),
                             rm = rng.vec(C), rv = rng.vec(C, 0.5, 2), gw0 = rng.vec(C), gb0 = rng.vec(C);
    dcls_cuda_batch_norm_plan *plans[2] = {nullptr, nullptr};
    for (int enabled : {1, 0}) {
        dcls_cuda_nn_set_cudnn(ctx, enabled);
        dcls_cuda_batch_norm_plan_create(ctx, B, C, S, 1e-5f, &plans[enabled ? 0 : 1]);
    }
    dcls_cuda_nn_set_cudnn(ctx, 1);
    check(starts_with(batch_norm_info(plans[0]), "training=cudnn") &&
              starts_with(batch_norm_info(plans[1]), "training=dcls"),
          name + ": one plan on cuDNN, one on dcls4j's kernels");
    Device dx(x), dw(w), db(b), dgy(gy);
    std::vector<std::vector<float>> y(2), rms(2), rvs(2), gx(2), gw(2), gb(2), y_eval(2), gx_eval(2);
    for (int i = 0; i < 2; ++i) {
        Device drm(rm), drv(rv), dy(static_cast<size_t>(n)), dgx(static_cast<size_t>(n)), dgw(gw0), dgb(gb0);
        dcls_cuda_batch_norm_forward(plans[i], dx.get(), dw.get(), db.get(), drm.get(), drv.get(), 0.1f, 1, dy.get());
        dcls_cuda_batch_norm_backward(plans[i], dx.get(), dgy.get(), dw.get(), dgx.get(), dgw.get(), dgb.get(), 1);
        y[i] = dy.download();
        rms[i] = drm.download();
        rvs[i] = drv.download();
        gx[i] = dgx.download();
        gw[i] = dgw.download();
        gb[i] = dgb.download();
        dcls_cuda_batch_norm_forward(plans[i], dx.get(), dw.get(), db.get(), drm.get(), drv.get(), 0.1f, 0, dy.get());
        dcls_cuda_batch_norm_backward(plans[i], dx.get(), dgy.get(), dw.get(), dgx.get(), dgw.get(), dgb.get(), 0);
        y_eval[i] = dy.download();
        gx_eval[i] = dgx.download();
    }
    check(agree(y[0], y[1], name + " y") && agree(rms[0], rms[1], name + " running_mean") &&
              agree(rvs[0], rvs[1], name + " running_var (unbiased in both)"),
          name + ": training forward and running statistics");
    check(agree(gx[0], gx[1], name + " grad_x") && agree(gw[0], gw[1], name + " grad_weight") &&
              agree(gb[0], gb[1], name + " grad_bias"),
          name + ": training backward (accumulate)");
    check(agree(y_eval[0], y_eval[1], name + " y (eval)") && agree(gx_eval[0], gx_eval[1], name + " grad_x (eval)"),
          name + ": evaluation forward and backward");
    for (auto *p : plans) dcls_cuda_batch_norm_plan_destroy(p);
}

void compare_cross_entropy(Rng &rng, int64_t B, int64_t K, float smoothing) {
    const std::string name = "cuDNN vs dcls: cross_entropy B=" + std::to_string(B) + " K=" + std::to_string(K);
    const std::vector<float> logits = rng.vec(B * K, -8, 8);
    std::vector<int32_t> labels(static_cast<size_t>(B));
    for (auto &l : labels) l = int32_t(rng.integer(0, K - 1));
    dcls_cuda_cross_entropy_plan *plans[2] = {nullptr, nullptr};
    for (int enabled : {1, 0}) {
        dcls_cuda_nn_set_cudnn(ctx, enabled);
        dcls_cuda_cross_entropy_plan_create(ctx, B, K, &plans[enabled ? 0 : 1]);
    }
    dcls_cuda_nn_set_cudnn(ctx, 1);
    check(starts_with(cross_entropy_info(plans[0]), "log_softmax=cudnn") &&
              starts_with(cross_entropy_info(plans[1]), "log_softmax=dcls"),
          name + ": one plan on cuDNN, one on dcls4j's kernels");
    Device dl(logits);
    std::vector<std::vector<float>> loss(2), grad(2);
    for (int i = 0; i < 2; ++i) {
        Device dloss(1), dg(static_cast<size_t>(B * K));
        dcls_cuda_cross_entropy_forward(plans[i], dl.get(), labels.data(), smoothing, dloss.get());
        dcls_cuda_cross_entropy_backward(plans[i], dg.get());
        loss[i] = dloss.download();
        grad[i] = dg.download();
    }
    check(agree(loss[0], loss[1], name + " loss") && agree(grad[0], grad[1], name + " grad"),
          name + ": loss and gradient");
    for (auto *p : plans) dcls_cuda_cross_entropy_plan_destroy(p);
}

void test_cudnn_against_dcls(Rng &rng, bool with_cudnn, const std::string &why) {
    if (!with_cudnn) {
        std::printf("SKIPPED: cuDNN against dcls4j's kernels (pooling, batch norm, log-softmax): no cuDNN (%s)\n",
                    why.c_str());
        return;
    }
    for (int kind : {DCLS_POOL_AVG_INCLUDE_PADDING, DCLS_POOL_AVG_EXCLUDE_PADDING}) {
        compare_pool(rng, kind, 2, 7, 3, 2, 1);
        compare_pool(rng, kind, 1, 9, 4, 3, 2);
        compare_pool(rng, kind, 3, 4, 2, 1, 1);
        compare_pool(rng, kind, 2, 33, 5, 2, 2);
    }
    compare_batch_norm(rng, 4, 3, 5);
    compare_batch_norm(rng, 6, 5, 1);
    compare_batch_norm(rng, 32, 16, 49);
    compare_cross_entropy(rng, 5, 10, 0.f);
    compare_cross_entropy(rng, 64, 1000, 0.1f);
}

void test_refusals() {
    dcls_cuda_linear_plan *lp = nullptr;
    check(dcls_cuda_linear_plan_create(nullptr, 1, 1, 1, 1, &lp) == DCLS_ERROR_INVALID_ARGUMENT && lp == nullptr &&
              has_message(),
          "linear_plan_create: a null context is refused");
    check(dcls_cuda_linear_plan_create(ctx, 1, 0, 1, 1, &lp) == DCLS_ERROR_INVALID_ARGUMENT && lp == nullptr,
          "linear_plan_create: in_features 0 is refused");
    dcls_cuda_activation_plan *ap = nullptr;
    check(dcls_cuda_activation_plan_create(ctx, 9, 4, &ap) == DCLS_ERROR_INVALID_ARGUMENT && ap == nullptr,
          "activation_plan_create: an unknown kind is refused");
    const int64_t a[7] = {2, 3, 4, 1, 1, 1, 1}, b[7] = {2, 2, 4, 1, 1, 1, 1};
    dcls_cuda_binary_plan *bp = nullptr;
    check(dcls_cuda_binary_plan_create(ctx, DCLS_BINARY_ADD, 7, a, a, &bp) == DCLS_ERROR_INVALID_ARGUMENT,
          "binary_plan_create: rank 7 is refused");
    check(dcls_cuda_binary_plan_create(ctx, DCLS_BINARY_ADD, 3, a, b, &bp) == DCLS_ERROR_INVALID_ARGUMENT &&
              std::string(dcls_cuda_last_error()).find("b_dims[1]") != std::string::npos,
          "binary_plan_create: a dim that neither matches nor is 1 is refused, naming it");
    dcls_cuda_layer_norm_plan *np = nullptr;
    check(dcls_cuda_layer_norm_plan_create(ctx, 1, 4, 1, 0.f, &np) == DCLS_ERROR_INVALID_ARGUMENT,
          "layer_norm_plan_create: eps 0 is refused");
    dcls_pool_desc pd{};
    pd.ndim = 2;
    pd.kind = DCLS_POOL_MAX;
    pd.batch = pd.channels = 1;
    pd.input_size[0] = pd.input_size[1] = 4;
    pd.kernel_size[0] = pd.kernel_size[1] = 2;
    pd.stride[0] = pd.stride[1] = 1;
    pd.padding[1] = 2;
    dcls_cuda_pool_plan *pp = nullptr;
    check(dcls_cuda_pool_plan_create(ctx, &pd, &pp) == DCLS_ERROR_INVALID_ARGUMENT && pp == nullptr &&
              std::string(dcls_cuda_last_error()).find("padding must be in [0, kernel_size / 2] of axis 1") !=
                  std::string::npos,
          "pool_plan_create: padding beyond half the kernel is refused, naming the axis");
    check(dcls_cuda_linear_plan_destroy(nullptr) == DCLS_OK && dcls_cuda_sum_plan_destroy(nullptr) == DCLS_OK,
          "destroying null is accepted");
    check(dcls_cuda_activation_forward(nullptr, nullptr, nullptr) == DCLS_ERROR_INVALID_ARGUMENT && has_message(),
          "activation_forward: a null plan is refused");
}

}  // namespace

int main(int argc, char **argv) {
    const uint64_t seed = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20261206;
    Rng rng(seed);
    int32_t count = 0;
    if (dcls_cuda_device_count(&count) != DCLS_OK || count <= 0) {
        const std::string why = dcls_cuda_last_error();
        dcls_cuda_linear_plan *lp = nullptr;
        check(dcls_cuda_linear_plan_create(nullptr, 1, 1, 1, 1, &lp) == DCLS_ERROR_INVALID_ARGUMENT && lp == nullptr,
              "without a device: a null context is refused");
        if (dcls_test::failed > 0) return 1;
        std::printf("SKIPPED: no CUDA device (%s)\n", why.c_str());
        return 77;
    }
    if (dcls_cuda_context_create(0, &ctx) != DCLS_OK) {
        std::printf("FAIL: context_create: %s\n", dcls_cuda_last_error());
        return 1;
    }
    test_activation(rng, DCLS_ACTIVATION_GELU_ERF);
    test_activation(rng, DCLS_ACTIVATION_RELU);
    test_binary(rng, DCLS_BINARY_ADD, {2, 3, 4, 5}, {1, 3, 1, 1});
    test_binary(rng, DCLS_BINARY_MUL, {2, 3, 4, 5}, {2, 1, 4, 1});
    test_binary(rng, DCLS_BINARY_MUL, {2, 3, 4, 5}, {2, 3, 4, 5});
    test_binary(rng, DCLS_BINARY_ADD, {7}, {1});
    test_binary(rng, DCLS_BINARY_ADD, {2, 1, 3, 2, 2, 3}, {1, 1, 3, 1, 2, 1});
    test_sum(rng, {2, 3, 4, 5}, {1, 3, 1, 1});
    test_sum(rng, {2, 3, 4, 5}, {2, 1, 4, 1});
    test_sum(rng, {2, 3, 4, 5}, {1, 1, 1, 1});
    test_sum(rng, {600}, {1});
    test_layer_norm(rng, 3, 7, 1);
    test_layer_norm(rng, 2, 5, 9);
    test_layer_norm(rng, 1, 33, 4);
    test_batch_norm(rng, 4, 3, 5);
    test_batch_norm(rng, 6, 5, 1);
    test_linear(rng, 3, 5, 7, 1, true);
    test_linear(rng, 2, 37, 70, 6, true);
    test_linear(rng, 70, 20, 3, 1, false);
    test_linear(rng, 4, 17, 65, 3, true);
    test_linear_gelu(rng, 3, 5, 7, 1, true);
    test_linear_gelu(rng, 2, 37, 70, 6, true);
    test_linear_gelu(rng, 2, 37, 70, 6, false);
    test_linear_gelu(rng, 70, 20, 3, 1, false);
    test_linear_gelu(rng, 3, 24, 96, 9, true);  // ConvNeXt's C -> 4C, 27 positions
    test_linear_gelu(rng, 1, 65, 130, 67, true);
    test_norm_linear(rng, 2, 37, 70, 6, true);
    test_norm_linear(rng, 2, 37, 70, 6, false);
    test_norm_linear(rng, 70, 20, 3, 1, true);   // S = 1: the forward's B tile read channel first
    test_norm_linear(rng, 3, 24, 96, 9, false);  // ConvNeXt's C -> 4C, 27 positions
    test_norm_linear(rng, 1, 65, 130, 67, true);
    for (int kind = DCLS_POOL_MAX; kind <= DCLS_POOL_AVG_EXCLUDE_PADDING; ++kind) {
        test_pool(rng, kind, 2, 7, 3, 2, 1);
        test_pool(rng, kind, 1, 9, 4, 3, 2);
        test_pool(rng, kind, 3, 4, 2, 1, 1);
        test_pool(rng, kind, 2, 5, 5, 1, 0);  // global: one window per plane
    }
    test_pool(rng, DCLS_POOL_MAX, 2, 7, 3, 1, 1, true);
    test_cross_entropy(rng, 5, 10, 0.f);
    test_cross_entropy(rng, 9, 4, 0.1f);
    test_optimizers(rng);
    test_kernel_spread(rng, 6, {5}, {3});
    test_kernel_spread(rng, 4, {3, 4}, {5, 1});
    test_kernel_spread(rng, 3, {2, 3, 2}, {3, 1, 7});
    test_kernel_spread(rng, 300, {3, 3}, {3, 3});  // over one block of weights and of cells
    test_kernel_spread(rng, 2, {1, 4}, {9, 2});    // a one-tap axis: its dilation spreads nothing
    test_kernel_spread_refusals();
    test_engine_choice();
    std::string no_cudnn_why;
    const bool with_cudnn = cudnn_loaded(&no_cudnn_why);
    test_engine_info(with_cudnn);
    test_cudnn_against_dcls(rng, with_cudnn, no_cudnn_why);
    test_refusals();
    check(dcls_cuda_synchronize(ctx) == DCLS_OK, "final synchronize");
    check(dcls_cuda_context_destroy(ctx) == DCLS_OK, "context_destroy");
    std::printf("%d passed, %d failed\n", dcls_test::passed, dcls_test::failed);
    return dcls_test::failed == 0 ? 0 : 1;
}
