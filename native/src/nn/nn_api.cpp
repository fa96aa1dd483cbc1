// The C ABI of the network-layer ops (dcls_nn.h): validates arguments, runs the plans, and turns
// every C++ exception into a status plus a thread-local message (dcls::guarded, as api.cpp).
#include <string>

#include "dcls_nn.h"
#include "nn_ops.h"

struct dcls_linear_plan : dcls::nn::LinearPlan { using LinearPlan::LinearPlan; };
struct dcls_layer_norm_plan : dcls::nn::LayerNormPlan { using LayerNormPlan::LayerNormPlan; };
struct dcls_batch_norm_plan : dcls::nn::BatchNormPlan { using BatchNormPlan::BatchNormPlan; };
struct dcls_activation_plan : dcls::nn::ActivationPlan { using ActivationPlan::ActivationPlan; };
struct dcls_pool_plan : dcls::nn::PoolPlan { using PoolPlan::PoolPlan; };
struct dcls_binary_plan : dcls::nn::BinaryPlan { using BinaryPlan::BinaryPlan; };
struct dcls_sum_plan : dcls::nn::SumPlan { using SumPlan::SumPlan; };
struct dcls_cross_entropy_plan : dcls::nn::CrossEntropyPlan { using CrossEntropyPlan::CrossEntropyPlan; };

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

using dcls::require;
using dcls::nn::require_pointer;
using dcls::nn::require_pointers;
using dcls::nn::require_positive;

template <typename Plan, typename Make>
dcls_status create(const char *function, Plan **plan, Make &&make) {
    return guarded(function, [&] {
        require_pointer(plan, "plan");
        *plan = nullptr;
        *plan = make();
    });
}

template <typename Plan>
Plan &plan_of(Plan *plan) {
    require_pointer(plan, "plan");
    return *plan;
}

}  // namespace

extern "C" {

const char *dcls_nn_last_error(void) { return last_error.c_str(); }

// ---- linear

dcls_status dcls_linear_plan_create(int64_t batch, int64_t in_features, int64_t out_features, int64_t inner,
                                    dcls_linear_plan **plan) {
    return create(__func__, plan, [&] {
        require_positive(batch, "batch");
        require_positive(in_features, "in_features");
        require_positive(out_features, "out_features");
        require_positive(inner, "inner");
        return new dcls_linear_plan(batch, in_features, out_features, inner);
    });
}
dcls_status dcls_linear_plan_destroy(dcls_linear_plan *plan) {
    return guarded(__func__, [&] { delete plan; });
}
dcls_status dcls_linear_forward(dcls_linear_plan *plan, const float *x, const float *weight, const float *bias,
                                float *y) {
    return guarded(__func__, [&] {
        auto &p = plan_of(plan);
        require_pointers({{x, "x"}, {weight, "weight"}, {y, "y"}});
        p.forward(x, weight, bias, y);
    });
}
dcls_status dcls_linear_backward_data(dcls_linear_plan *plan, const float *grad_y, const float *weight,
                                      float *grad_x) {
    return guarded(__func__, [&] {
        auto &p = plan_of(plan);
        require_pointers({{grad_y, "grad_y"}, {weight, "weight"}, {grad_x, "grad_x"}});
        p.backward_data(grad_y, weight, grad_x);
    });
}
dcls_status dcls_linear_backward_weights(dcls_linear_plan *plan, const float *x, const float *grad_y,
                                         float *grad_weight, float *grad_bias, int32_t accumulate) {
    return guarded(__func__, [&] {
        auto &p = plan_of(plan);
        require_pointers({{x, "x"}, {grad_y, "grad_y"}, {grad_weight, "grad_weight"}});
        p.backward_weights(x, grad_y, grad_weight, grad_bias, accumulate != 0);
    });
}

// ---- layer norm

dcls_status dcls_layer_norm_plan_create(int64_t batch, int64_t channels, int64_t inner, float eps,
                                        dcls_layer_norm_plan **plan) {
    return create(__func__, plan, [&] {
        dcls::nn::require_norm_shape(batch, channels, inner, eps);
        return new dcls_layer_norm_plan(batch, channels, inner, eps);
    });
}
dcls_status dcls_layer_norm_plan_destroy(dcls_layer_norm_plan *plan) {
    return guarded(__func__, [&] { delete plan; });
}
dcls_status dcls_layer_norm_forward(dcls_layer_norm_plan *plan, const float *x, const float *weight,
                                    const float *bias, float *y) {
    return guarded(__func__, [&] {
        auto &p = plan_of(plan);
        require_pointers({{x, "x"}, {weight, "weight"}, {bias, "bias"}, {y, "y"}});
        p.forward(x, weight, bias, y);
    });
}
dcls_status dcls_layer_norm_backward(dcls_layer_norm_plan *plan, const float *grad_y, const float *weight,
                                     float *grad_x, float *grad_weight, float *grad_bias, int32_t accumulate) {
    return guarded(__func__, [&] {
        auto &p = plan_of(plan);
        require_pointers({{grad_y, "grad_y"}, {weight, "weight"}, {grad_x, "grad_x"}, {grad_weight, "grad_weight"},
                          {grad_bias, "grad_bias"}});
        p.backward(grad_y, weight, grad_x, grad_weight, grad_bias, accumulate != 0);
    });
}

// ---- batch norm

dcls_status dcls_batch_norm_plan_create(int64_t batch, int64_t channels, int64_t inner, float eps,
                                        dcls_batch_norm_plan **plan) {
    return create(__func__, plan, [&] {
        dcls::nn::require_norm_shape(batch, channels, inner, eps);
        return new dcls_batch_norm_plan(batch, channels, inner, eps);
    });
}
dcls_status dcls_batch_norm_plan_destroy(dcls_batch_norm_plan *plan) {
    return guarded(__func__, [&] { delete plan; });
}
dcls_status dcls_batch_norm_forward(dcls_batch_norm_plan *plan, const float *x, const float *weight,
                                    const float *bias, float *running_mean, float *running_var, float momentum,
                                    int32_t training, float *y) {
    return guarded(__func__, [&] {
        auto &p = plan_of(plan);
        require_pointers({{x, "x"}, {weight, "weight"}, {bias, "bias"}, {running_mean, "running_mean"},
                          {running_var, "running_var"}, {y, "y"}});
        require(momentum >= 0 && momentum <= 1, "momentum must be in [0, 1]");
        p.forward(x, weight, bias, running_mean, running_var, momentum, training != 0, y);
    });
}
dcls_status dcls_batch_norm_backward(dcls_batch_norm_plan *plan, const float *x, const float *grad_y,
                                     const float *weight, float *grad_x, float *grad_weight, float *grad_bias,
                                     int32_t accumulate) {
    return guarded(__func__, [&] {
        auto &p = plan_of(plan);
        require_pointers({{x, "x"}, {grad_y, "grad_y"}, {weight, "weight"}, {grad_x, "grad_x"},
                          {grad_weight, "grad_weight"}, {grad_bias, "grad_bias"}});
        p.backward(x, grad_y, weight, grad_x, grad_weight, grad_bias, accumulate != 0);
    });
}

// ---- activations

dcls_status dcls_activation_plan_create(int32_t kind, int64_t count, dcls_activation_plan **plan) {
    return create(__func__, plan, [&] {
        require(kind == DCLS_ACTIVATION_RELU || kind == DCLS_ACTIVATION_GELU_ERF,
                "unknown activation " + std::to_string(kind));
        require_positive(count, "count");
        return new dcls_activation_plan(kind, count);
    });
}
dcls_status dcls_activation_plan_destroy(dcls_activation_plan *plan) {
    return guarded(__func__, [&] { delete plan; });
}
dcls_status dcls_activation_forward(dcls_activation_plan *plan, const float *x, float *y) {
    return guarded(__func__, [&] {
        auto &p = plan_of(plan);
        require_pointers({{x, "x"}, {y, "y"}});
        p.forward(x, y);
    });
}
dcls_status dcls_activation_backward(dcls_activation_plan *plan, const float *x, const float *grad_y,
                                     float *grad_x) {
    return guarded(__func__, [&] {
        auto &p = plan_of(plan);
        require_pointers({{x, "x"}, {grad_y, "grad_y"}, {grad_x, "grad_x"}});
        p.backward(x, grad_y, grad_x);
    });
}

// ---- pooling

dcls_status dcls_pool_plan_create(const dcls_pool_desc *desc, dcls_pool_plan **plan) {
    return create(__func__, plan, [&] {
        require_pointer(desc, "desc");
        dcls::nn::validate_pool(*desc);
        return new dcls_pool_plan(*desc);
    });
}
dcls_status dcls_pool_plan_destroy(dcls_pool_plan *plan) {
    return guarded(__func__, [&] { delete plan; });
}
dcls_status dcls_pool_plan_output_size(const dcls_pool_plan *plan, int64_t output_size[3]) {
    return guarded(__func__, [&] {
        require_pointer(plan, "plan");
        require_pointer(output_size, "output_size");
        for (int i = 0; i < 3; ++i) output_size[i] = plan->output_size()[i];
    });
}
dcls_status dcls_pool_forward(dcls_pool_plan *plan, const float *x, float *y) {
    return guarded(__func__, [&] {
        auto &p = plan_of(plan);
        require_pointers({{x, "x"}, {y, "y"}});
        p.forward(x, y);
    });
}
dcls_status dcls_pool_backward(dcls_pool_plan *plan, const float *grad_y, float *grad_x) {
    return guarded(__func__, [&] {
        auto &p = plan_of(plan);
        require_pointers({{grad_y, "grad_y"}, {grad_x, "grad_x"}});
        p.backward(grad_y, grad_x);
    });
}

// ---- binary and sum

dcls_status dcls_binary_plan_create(int32_t op, int32_t rank, const int64_t *a_dims, const int64_t *b_dims,
                                    dcls_binary_plan **plan) {
    return create(__func__, plan, [&] {
        require(op == DCLS_BINARY_ADD || op == DCLS_BINARY_MUL, "unknown binary op " + std::to_string(op));
        auto a = dcls::nn::checked_dims(rank, a_dims, "a_dims");
        auto b = dcls::nn::checked_dims(rank, b_dims, "b_dims");
        dcls::nn::require_broadcast(a, b, "b_dims", "a");
        return new dcls_binary_plan(op, a, b);
    });
}
dcls_status dcls_binary_plan_destroy(dcls_binary_plan *plan) {
    return guarded(__func__, [&] { delete plan; });
}
dcls_status dcls_binary_execute(dcls_binary_plan *plan, const float *a, const float *b, float *c) {
    return guarded(__func__, [&] {
        auto &p = plan_of(plan);
        require_pointers({{a, "a"}, {b, "b"}, {c, "c"}});
        p.execute(a, b, c);
    });
}

dcls_status dcls_sum_plan_create(int32_t rank, const int64_t *src_dims, const int64_t *dst_dims,
                                 dcls_sum_plan **plan) {
    return create(__func__, plan, [&] {
        auto s = dcls::nn::checked_dims(rank, src_dims, "src_dims");
        auto d = dcls::nn::checked_dims(rank, dst_dims, "dst_dims");
        dcls::nn::require_broadcast(s, d, "dst_dims", "src");
        return new dcls_sum_plan(s, d);
    });
}
dcls_status dcls_sum_plan_destroy(dcls_sum_plan *plan) {
    return guarded(__func__, [&] { delete plan; });
}
dcls_status dcls_sum_execute(dcls_sum_plan *plan, const float *src, float *dst, int32_t accumulate) {
    return guarded(__func__, [&] {
        auto &p = plan_of(plan);
        require_pointers({{src, "src"}, {dst, "dst"}});
        p.execute(src, dst, accumulate != 0);
    });
}

// ---- cross entropy

dcls_status dcls_cross_entropy_plan_create(int64_t batch, int64_t classes, dcls_cross_entropy_plan **plan) {
    return create(__func__, plan, [&] {
        require_positive(batch, "batch");
        require_positive(classes, "classes");
        return new dcls_cross_entropy_plan(batch, classes);
    });
}
dcls_status dcls_cross_entropy_plan_destroy(dcls_cross_entropy_plan *plan) {
    return guarded(__func__, [&] { delete plan; });
}
dcls_status dcls_cross_entropy_forward(dcls_cross_entropy_plan *plan, const float *logits, const int32_t *labels,
                                       float label_smoothing, float *loss) {
    return guarded(__func__, [&] {
        auto &p = plan_of(plan);
        require_pointers({{logits, "logits"}, {labels, "labels"}, {loss, "loss"}});
        require(label_smoothing >= 0 && label_smoothing <= 1, "label_smoothing must be in [0, 1]");
        *loss = p.forward(logits, labels, label_smoothing);
    });
}
dcls_status dcls_cross_entropy_backward(dcls_cross_entropy_plan *plan, float *grad_logits) {
    return guarded(__func__, [&] {
        auto &p = plan_of(plan);
        require_pointer(grad_logits, "grad_logits");
        p.backward(grad_logits);
    });
}

}  // extern "C"
