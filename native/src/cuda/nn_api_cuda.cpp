// The C ABI of the network layers' ops on a CUDA device (dcls_cuda_nn.h): validates the arguments
// as nn_api.cpp does for the CPU, owns each plan's scratch memory on the device, makes the
// context's device current and enqueues the kernels of nn_cuda.h on the context's stream.
#include <cuda_runtime.h>

#include <climits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cuda_common.h"
#include "cudnn_loader.h"
#include "cudnn_nn.h"
#include "dcls_cuda_nn.h"
#include "dcls_nn.h"
#include "error.h"
#include "nn_cuda.h"
#include "nn_engine.h"

using dcls::require;
using dcls::cuda::DeviceBuffer;
namespace nn = dcls::cuda::nn;

// Every plan remembers its context: the kernels run on its device and stream.
struct dcls_cuda_nn_plan_base {
    explicit dcls_cuda_nn_plan_base(dcls_cuda_context &c) : ctx(c) {}
    dcls_cuda_context &ctx;
};

struct dcls_cuda_linear_plan : dcls_cuda_nn_plan_base {
    dcls_cuda_linear_plan(dcls_cuda_context &c, nn::LinearShape s) : dcls_cuda_nn_plan_base(c), shape(s) {}
    nn::LinearShape shape;
};

struct dcls_cuda_layer_norm_plan : dcls_cuda_nn_plan_base {
    dcls_cuda_layer_norm_plan(dcls_cuda_context &c, nn::ChannelShape s, float e)
        : dcls_cuda_nn_plan_base(c), shape(s), eps(e) {
        mean.allocate(c, sizeof(float) * size_t(s.batch * s.inner));
        rstd.allocate(c, sizeof(float) * size_t(s.batch * s.inner));
    }
    nn::ChannelShape shape;
    float eps;
    DeviceBuffer mean, rstd;
    const float *x = nullptr;  // the last forward's input
};

struct dcls_cuda_batch_norm_plan : dcls_cuda_nn_plan_base {
    dcls_cuda_batch_norm_plan(dcls_cuda_context &c, nn::ChannelShape s, float e)
        : dcls_cuda_nn_plan_base(c), shape(s), eps(e) {
        mean.allocate(c, sizeof(float) * size_t(s.channels));
        rstd.allocate(c, sizeof(float) * size_t(s.channels));
    }
    nn::ChannelShape shape;
    float eps;
    DeviceBuffer mean, rstd;  // the statistics of the last forward
    bool has_forward = false, last_training = false;
    std::unique_ptr<dcls::cuda::CudnnBatchNorm> cudnn;  // null: dcls4j's kernels
    std::string info;
};

struct dcls_cuda_activation_plan : dcls_cuda_nn_plan_base {
    dcls_cuda_activation_plan(dcls_cuda_context &c, int k, int64_t n)
        : dcls_cuda_nn_plan_base(c), kind(k), count(n) {}
    int kind;
    int64_t count;
};

struct dcls_cuda_binary_plan : dcls_cuda_nn_plan_base {
    dcls_cuda_binary_plan(dcls_cuda_context &c, int o, nn::Broadcast s)
        : dcls_cuda_nn_plan_base(c), op(o), shape(s) {}
    int op;
    nn::Broadcast shape;
};

struct dcls_cuda_sum_plan : dcls_cuda_nn_plan_base {
    dcls_cuda_sum_plan(dcls_cuda_context &c, nn::Reduction s) : dcls_cuda_nn_plan_base(c), shape(s) {}
    nn::Reduction shape;
};

struct dcls_cuda_pool_plan : dcls_cuda_nn_plan_base {
    dcls_cuda_pool_plan(dcls_cuda_context &c, int n, const nn::PoolGeometry &g)
        : dcls_cuda_nn_plan_base(c), ndim(n), shape(g) {
        if (g.kind == DCLS_POOL_MAX) argmax.allocate(c, sizeof(int32_t) * size_t(g.planes * g.out_plane()));
    }
    int ndim;
    nn::PoolGeometry shape;
    DeviceBuffer argmax;
    bool has_forward = false;
    std::unique_ptr<dcls::cuda::CudnnPoolForward> cudnn_forward;  // null: dcls4j's forward kernel
    std::string info;
};

struct dcls_cuda_cross_entropy_plan : dcls_cuda_nn_plan_base {
    dcls_cuda_cross_entropy_plan(dcls_cuda_context &c, int64_t b, int64_t k)
        : dcls_cuda_nn_plan_base(c), batch(b), classes(k) {
        labels.allocate(c, sizeof(int32_t) * size_t(b));
        log_probs.allocate(c, sizeof(float) * size_t(b * k));
        row_loss.allocate(c, sizeof(float) * size_t(b));
    }
    int64_t batch, classes;
    float smoothing = 0.f;
    bool has_forward = false;
    std::vector<int32_t> host_labels = std::vector<int32_t>(size_t(batch));
    DeviceBuffer labels, log_probs, row_loss;
    std::unique_ptr<dcls::cuda::CudnnLogSoftmax> cudnn_log_softmax;  // null: dcls4j's forward kernel
    std::string info;
};

namespace {

using dcls::cuda::DeviceGuard;
using dcls::cuda::guarded;
using dcls::nn::checked_dims;
using dcls::nn::require_broadcast;
using dcls::nn::require_pointers;
using dcls::nn::require_positive;

template <typename Plan>
Plan &plan_of(Plan *plan) {
    require(plan != nullptr, "plan is null");
    return *plan;
}

// Runs `make` (which returns a new plan) on ctx's device; *plan is null unless it succeeds.
template <typename Plan, typename Make>
dcls_status create(const char *function, dcls_cuda_context *ctx, Plan **plan, Make &&make) {
    return guarded(function, [&] {
        require(plan != nullptr, "plan is null");
        *plan = nullptr;
        require(ctx != nullptr, "ctx is null");
        DeviceGuard guard(ctx->device);
        *plan = make(*ctx);
    });
}

// Runs `body` on the plan's device.
template <typename Plan, typename Body>
dcls_status run(const char *function, Plan *plan, Body &&body) {
    return guarded(function, [&] {
        Plan &p = plan_of(plan);
        DeviceGuard guard(p.ctx.device);
        body(p);
    });
}

// Deletes the plan on its device: its scratch memory is freed on its context's stream. Null is ignored.
template <typename Plan>
dcls_status destroy(const char *function, Plan *plan) {
    return guarded(function, [&] {
        if (!plan) return;
        DeviceGuard guard(plan->ctx.device);
        delete plan;
    });
}

}  // namespace

// ---- the engine of the pooling, batch norm and cross-entropy plans: cuDNN where nn_engine.h
// chooses it and cuDNN accepts the shape, else dcls4j's kernels; the plan's info says which.
namespace {

using dcls::cuda::nn::CudnnOffer;
using dcls::cuda::nn::EngineChoice;
using dcls::cuda::nn::engine_name;

// What the context's layers may take from cuDNN; cuDNN is loaded (once) only when they may use it.
dcls::cuda::CudnnLayerOps layer_ops(const dcls_cuda_context &ctx) {
    return ctx.nn_cudnn ? dcls::cuda::cudnn_layer_ops() : dcls::cuda::CudnnLayerOps{};
}

// The cuDNN implementation when the choice is cuDNN; when cuDNN rejects the shape, dcls4j's kernels
// run instead and the choice says why.
template <typename Impl, typename Make>
std::unique_ptr<Impl> make_cudnn(EngineChoice &choice, Make &&make) {
    if (!choice.cudnn) return nullptr;
    try {
        return std::unique_ptr<Impl>(make());
    } catch (const dcls::Error &e) {
        choice = EngineChoice{false, std::string("cuDNN refused the shape: ") + e.what()};
        return nullptr;
    }
}

std::string reason(const EngineChoice &c) { return c.cudnn ? "" : " (" + c.why_not + ")"; }

void choose_engine(dcls_cuda_pool_plan &p) {
    const dcls::cuda::CudnnLayerOps ops = layer_ops(p.ctx);
    EngineChoice c = nn::pool_engine(CudnnOffer{p.ctx.nn_cudnn, ops.pooling}, p.shape);
    p.cudnn_forward =
        make_cudnn<dcls::cuda::CudnnPoolForward>(c, [&] { return new dcls::cuda::CudnnPoolForward(p.ctx, p.shape); });
    p.info = "forward=" + engine_name(c) + " backward=dcls" + reason(c);
}

void choose_engine(dcls_cuda_batch_norm_plan &p) {
    const dcls::cuda::CudnnLayerOps ops = layer_ops(p.ctx);
    EngineChoice c = nn::batch_norm_engine(CudnnOffer{p.ctx.nn_cudnn, ops.batch_norm}, p.shape.batch,
                                           p.shape.channels, p.shape.inner);
    p.cudnn = make_cudnn<dcls::cuda::CudnnBatchNorm>(
        c, [&] { return new dcls::cuda::CudnnBatchNorm(p.ctx, p.shape, p.eps); });
    const std::string e = engine_name(c);
    // cuDNN's backward differentiates through the batch statistics: after an evaluation forward
    // (constant statistics) the backward is dcls4j's.
    p.info = "training=" + e + " evaluation=" + e + " backward=" + e + " evaluation_backward=dcls" + reason(c);
}

void choose_engine(dcls_cuda_cross_entropy_plan &p) {
    const dcls::cuda::CudnnLayerOps ops = layer_ops(p.ctx);
    EngineChoice c = nn::log_softmax_engine(CudnnOffer{p.ctx.nn_cudnn, ops.softmax}, p.batch, p.classes);
    p.cudnn_log_softmax = make_cudnn<dcls::cuda::CudnnLogSoftmax>(
        c, [&] { return new dcls::cuda::CudnnLogSoftmax(p.ctx, p.batch, p.classes); });
    p.info = "log_softmax=" + engine_name(c) + " loss=dcls backward=dcls" + reason(c);
}

// Makes a plan and chooses its engine; the plan is deleted if that throws.
template <typename Plan, typename... Args>
Plan *with_engine(Args &&...args) {
    std::unique_ptr<Plan> plan(new Plan(std::forward<Args>(args)...));
    choose_engine(*plan);
    return plan.release();
}

template <typename Plan>
dcls_status plan_info(const char *function, const Plan *plan, const char **info) {
    return guarded(function, [&] {
        require(plan != nullptr, "plan is null");
        require(info != nullptr, "info is null");
        *info = plan->info.c_str();
    });
}

}  // namespace

extern "C" {

// ---- linear

dcls_status dcls_cuda_linear_plan_create(dcls_cuda_context *ctx, int64_t batch, int64_t in_features,
                                         int64_t out_features, int64_t inner, dcls_cuda_linear_plan **plan) {
    return create(__func__, ctx, plan, [&](dcls_cuda_context &c) {
        require_positive(batch, "batch");
        require_positive(in_features, "in_features");
        require_positive(out_features, "out_features");
        require_positive(inner, "inner");
        return new dcls_cuda_linear_plan(c, nn::LinearShape{batch, in_features, out_features, inner});
    });
}
dcls_status dcls_cuda_linear_plan_destroy(dcls_cuda_linear_plan *plan) { return destroy(__func__, plan); }
dcls_status dcls_cuda_linear_forward(dcls_cuda_linear_plan *plan, const float *x, const float *weight,
                                     const float *bias, float *y) {
    return run(__func__, plan, [&](dcls_cuda_linear_plan &p) {
        require_pointers({{x, "x"}, {weight, "weight"}, {y, "y"}});
        nn::linear_forward(p.ctx.stream, p.shape, x, weight, bias, y);
    });
}
dcls_status dcls_cuda_linear_backward_data(dcls_cuda_linear_plan *plan, const float *grad_y, const float *weight,
                                           float *grad_x) {
    return run(__func__, plan, [&](dcls_cuda_linear_plan &p) {
        require_pointers({{grad_y, "grad_y"}, {weight, "weight"}, {grad_x, "grad_x"}});
        nn::linear_backward_data(p.ctx.stream, p.shape, grad_y, weight, grad_x);
    });
}
dcls_status dcls_cuda_linear_backward_weights(dcls_cuda_linear_plan *plan, const float *x, const float *grad_y,
                                              float *grad_weight, float *grad_bias, int32_t accumulate) {
    return run(__func__, plan, [&](dcls_cuda_linear_plan &p) {
        require_pointers({{x, "x"}, {grad_y, "grad_y"}, {grad_weight, "grad_weight"}});
        nn::linear_backward_weights(p.ctx.stream, p.shape, x, grad_y, grad_weight, grad_bias, accumulate != 0);
    });
}

// ---- linear with GELU fused

dcls_status dcls_cuda_linear_forward_gelu(dcls_cuda_linear_plan *plan, const float *x, const float *weight,
                                          const float *bias, float *z, float *y) {
    return run(__func__, plan, [&](dcls_cuda_linear_plan &p) {
        require_pointers({{x, "x"}, {weight, "weight"}, {z, "z"}, {y, "y"}});
        require(z != y, "z and y must be different buffers (backward needs z)");
        nn::linear_forward_gelu(p.ctx.stream, p.shape, x, weight, bias, z, y);
    });
}
dcls_status dcls_cuda_linear_backward_data_gelu(dcls_cuda_linear_plan *plan, const float *grad_y,
                                                const float *weight, const float *z, float *grad_z) {
    return run(__func__, plan, [&](dcls_cuda_linear_plan &p) {
        require_pointers({{grad_y, "grad_y"}, {weight, "weight"}, {z, "z"}, {grad_z, "grad_z"}});
        nn::linear_backward_data_gelu(p.ctx.stream, p.shape, grad_y, weight, z, grad_z);
    });
}

// ---- layer norm

dcls_status dcls_cuda_layer_norm_plan_create(dcls_cuda_context *ctx, int64_t batch, int64_t channels, int64_t inner,
                                             float eps, dcls_cuda_layer_norm_plan **plan) {
    return create(__func__, ctx, plan, [&](dcls_cuda_context &c) {
        dcls::nn::require_norm_shape(batch, channels, inner, eps);
        return new dcls_cuda_layer_norm_plan(c, nn::ChannelShape{batch, channels, inner}, eps);
    });
}
dcls_status dcls_cuda_layer_norm_plan_destroy(dcls_cuda_layer_norm_plan *plan) { return destroy(__func__, plan); }
dcls_status dcls_cuda_layer_norm_forward(dcls_cuda_layer_norm_plan *plan, const float *x, const float *weight,
                                         const float *bias, float *y) {
    return run(__func__, plan, [&](dcls_cuda_layer_norm_plan &p) {
        require_pointers({{x, "x"}, {weight, "weight"}, {bias, "bias"}, {y, "y"}});
        nn::layer_norm_forward(p.ctx.stream, p.shape, p.eps, x, weight, bias, y, p.mean.floats(), p.rstd.floats());
        p.x = x;
    });
}
dcls_status dcls_cuda_layer_norm_backward(dcls_cuda_layer_norm_plan *plan, const float *grad_y, const float *weight,
                                          float *grad_x, float *grad_weight, float *grad_bias, int32_t accumulate) {
    return run(__func__, plan, [&](dcls_cuda_layer_norm_plan &p) {
        require_pointers({{grad_y, "grad_y"}, {weight, "weight"}, {grad_x, "grad_x"}, {grad_weight, "grad_weight"},
                          {grad_bias, "grad_bias"}});
        require(p.x != nullptr, "backward before any forward on this plan");
        nn::layer_norm_backward(p.ctx.stream, p.shape, p.x, p.mean.floats(), p.rstd.floats(), grad_y, weight, grad_x,
                                grad_weight, grad_bias, accumulate != 0);
    });
}

// ---- layer norm fused into the next linear's GEMMs

dcls_status dcls_cuda_layer_norm_statistics(dcls_cuda_layer_norm_plan *plan, const float *x) {
    return run(__func__, plan, [&](dcls_cuda_layer_norm_plan &p) {
        require_pointers({{x, "x"}});
        nn::layer_norm_statistics(p.ctx.stream, p.shape, p.eps, x, p.mean.floats(), p.rstd.floats());
        p.x = x;
    });
}

namespace {

// The layer norm plan of a linear plan's fused prologue: its shape must be the linear's input,
// its statistics those of x, both on one context.
dcls_cuda_layer_norm_plan &prologue_norm(const dcls_cuda_linear_plan &p, dcls_cuda_layer_norm_plan *norm_plan,
                                         const float *x) {
    dcls_cuda_layer_norm_plan &n = plan_of(norm_plan);
    require(&n.ctx == &p.ctx, "the linear and layer norm plans are on different contexts");
    require(n.shape.channels == p.shape.in && n.shape.batch == p.shape.batch && n.shape.inner == p.shape.inner,
            "the layer norm plan (batch " + std::to_string(n.shape.batch) + ", channels " +
                std::to_string(n.shape.channels) + ", inner " + std::to_string(n.shape.inner) +
                ") does not match the linear plan's input (batch " + std::to_string(p.shape.batch) +
                ", in_features " + std::to_string(p.shape.in) + ", inner " + std::to_string(p.shape.inner) + ")");
    require(n.x != nullptr, "the layer norm plan has no statistics (run dcls_cuda_layer_norm_statistics first)");
    require(n.x == x, "x is not the input of the layer norm plan's last statistics");
    return n;
}

}  // namespace

dcls_status dcls_cuda_linear_forward_norm_gelu(dcls_cuda_linear_plan *plan, dcls_cuda_layer_norm_plan *norm_plan,
                                               const float *x, const float *gamma, const float *beta,
                                               const float *weight, const float *bias, float *z, float *y) {
    return run(__func__, plan, [&](dcls_cuda_linear_plan &p) {
        require_pointers({{x, "x"}, {gamma, "gamma"}, {beta, "beta"}, {weight, "weight"}, {z, "z"}, {y, "y"}});
        require(z != y, "z and y must be different buffers (backward needs z)");
        dcls_cuda_layer_norm_plan &n = prologue_norm(p, norm_plan, x);
        nn::linear_forward_norm_gelu(p.ctx.stream, p.shape, x, n.mean.floats(), n.rstd.floats(), gamma, beta, weight,
                                     bias, z, y);
    });
}
dcls_status dcls_cuda_linear_backward_weights_norm(dcls_cuda_linear_plan *plan, dcls_cuda_layer_norm_plan *norm_plan,
                                                   const float *x, const float *gamma, const float *beta,
                                                   const float *grad_z, float *grad_weight, float *grad_bias,
                                                   int32_t accumulate) {
    return run(__func__, plan, [&](dcls_cuda_linear_plan &p) {
        require_pointers({{x, "x"}, {gamma, "gamma"}, {beta, "beta"}, {grad_z, "grad_z"},
                          {grad_weight, "grad_weight"}});
        dcls_cuda_layer_norm_plan &n = prologue_norm(p, norm_plan, x);
        nn::linear_backward_weights_norm(p.ctx.stream, p.shape, x, n.mean.floats(), n.rstd.floats(), gamma, beta,
                                         grad_z, grad_weight, grad_bias, accumulate != 0);
    });
}

// ---- batch norm

dcls_status dcls_cuda_batch_norm_plan_create(dcls_cuda_context *ctx, int64_t batch, int64_t channels, int64_t inner,
                                             float eps, dcls_cuda_batch_norm_plan **plan) {
    return create(__func__, ctx, plan, [&](dcls_cuda_context &c) {
        dcls::nn::require_norm_shape(batch, channels, inner, eps);
        return with_engine<dcls_cuda_batch_norm_plan>(c, nn::ChannelShape{batch, channels, inner}, eps);
    });
}
dcls_status dcls_cuda_batch_norm_plan_destroy(dcls_cuda_batch_norm_plan *plan) { return destroy(__func__, plan); }
dcls_status dcls_cuda_batch_norm_forward(dcls_cuda_batch_norm_plan *plan, const float *x, const float *weight,
                                         const float *bias, float *running_mean, float *running_var, float momentum,
                                         int32_t training, float *y) {
    return run(__func__, plan, [&](dcls_cuda_batch_norm_plan &p) {
        require_pointers({{x, "x"}, {weight, "weight"}, {bias, "bias"}, {running_mean, "running_mean"},
                          {running_var, "running_var"}, {y, "y"}});
        require(momentum >= 0 && momentum <= 1, "momentum must be in [0, 1]");
        if (!p.cudnn) {
            nn::batch_norm_forward(p.ctx.stream, p.shape, p.eps, momentum, training != 0, x, weight, bias,
                                   running_mean, running_var, y, p.mean.floats(), p.rstd.floats());
        } else if (training != 0) {
            p.cudnn->forward_training(x, weight, bias, momentum, running_mean, running_var, y, p.mean.floats(),
                                      p.rstd.floats());
        } else {
            nn::batch_norm_running_stats(p.ctx.stream, p.shape.channels, p.eps, running_mean, running_var,
                                         p.mean.floats(), p.rstd.floats());
            p.cudnn->forward_inference(x, weight, bias, running_mean, running_var, y);
        }
        p.has_forward = true;
        p.last_training = training != 0;
    });
}
dcls_status dcls_cuda_batch_norm_backward(dcls_cuda_batch_norm_plan *plan, const float *x, const float *grad_y,
                                          const float *weight, float *grad_x, float *grad_weight, float *grad_bias,
                                          int32_t accumulate) {
    return run(__func__, plan, [&](dcls_cuda_batch_norm_plan &p) {
        require_pointers({{x, "x"}, {grad_y, "grad_y"}, {weight, "weight"}, {grad_x, "grad_x"},
                          {grad_weight, "grad_weight"}, {grad_bias, "grad_bias"}});
        require(p.has_forward, "backward before any forward on this plan");
        if (p.cudnn && p.last_training)
            p.cudnn->backward(x, grad_y, weight, p.mean.floats(), p.rstd.floats(), grad_x, grad_weight, grad_bias,
                              accumulate != 0);
        else
            nn::batch_norm_backward(p.ctx.stream, p.shape, p.last_training, x, grad_y, weight, p.mean.floats(),
                                    p.rstd.floats(), grad_x, grad_weight, grad_bias, accumulate != 0);
    });
}

// ---- activations

dcls_status dcls_cuda_activation_plan_create(dcls_cuda_context *ctx, int32_t kind, int64_t count,
                                             dcls_cuda_activation_plan **plan) {
    return create(__func__, ctx, plan, [&](dcls_cuda_context &c) {
        require(kind == DCLS_ACTIVATION_RELU || kind == DCLS_ACTIVATION_GELU_ERF,
                "unknown activation kind " + std::to_string(kind));
        require_positive(count, "count");
        return new dcls_cuda_activation_plan(c, kind, count);
    });
}
dcls_status dcls_cuda_activation_plan_destroy(dcls_cuda_activation_plan *plan) { return destroy(__func__, plan); }
dcls_status dcls_cuda_activation_forward(dcls_cuda_activation_plan *plan, const float *x, float *y) {
    return run(__func__, plan, [&](dcls_cuda_activation_plan &p) {
        require_pointers({{x, "x"}, {y, "y"}});
        nn::activation_forward(p.ctx.stream, p.kind, p.count, x, y);
    });
}
dcls_status dcls_cuda_activation_backward(dcls_cuda_activation_plan *plan, const float *x, const float *grad_y,
                                          float *grad_x) {
    return run(__func__, plan, [&](dcls_cuda_activation_plan &p) {
        require_pointers({{x, "x"}, {grad_y, "grad_y"}, {grad_x, "grad_x"}});
        nn::activation_backward(p.ctx.stream, p.kind, p.count, x, grad_y, grad_x);
    });
}

// ---- binary ops and sums

dcls_status dcls_cuda_binary_plan_create(dcls_cuda_context *ctx, int32_t op, int32_t rank, const int64_t *a_dims,
                                         const int64_t *b_dims, dcls_cuda_binary_plan **plan) {
    return create(__func__, ctx, plan, [&](dcls_cuda_context &c) {
        require(op == DCLS_BINARY_ADD || op == DCLS_BINARY_MUL, "unknown binary op " + std::to_string(op));
        const auto a = checked_dims(rank, a_dims, "a_dims");
        const auto b = checked_dims(rank, b_dims, "b_dims");
        require_broadcast(a, b, "b_dims", "a");
        return new dcls_cuda_binary_plan(c, op, nn::broadcast_shape(rank, a.data(), b.data()));
    });
}
dcls_status dcls_cuda_binary_plan_destroy(dcls_cuda_binary_plan *plan) { return destroy(__func__, plan); }
dcls_status dcls_cuda_binary_execute(dcls_cuda_binary_plan *plan, const float *a, const float *b, float *c) {
    return run(__func__, plan, [&](dcls_cuda_binary_plan &p) {
        require_pointers({{a, "a"}, {b, "b"}, {c, "c"}});
        nn::binary(p.ctx.stream, p.op, p.shape, a, b, c);
    });
}

dcls_status dcls_cuda_sum_plan_create(dcls_cuda_context *ctx, int32_t rank, const int64_t *src_dims,
                                      const int64_t *dst_dims, dcls_cuda_sum_plan **plan) {
    return create(__func__, ctx, plan, [&](dcls_cuda_context &c) {
        const auto s = checked_dims(rank, src_dims, "src_dims");
        const auto d = checked_dims(rank, dst_dims, "dst_dims");
        require_broadcast(s, d, "dst_dims", "src");
        return new dcls_cuda_sum_plan(c, nn::reduction_shape(rank, s.data(), d.data()));
    });
}
dcls_status dcls_cuda_sum_plan_destroy(dcls_cuda_sum_plan *plan) { return destroy(__func__, plan); }
dcls_status dcls_cuda_sum_execute(dcls_cuda_sum_plan *plan, const float *src, float *dst, int32_t accumulate) {
    return run(__func__, plan, [&](dcls_cuda_sum_plan &p) {
        require_pointers({{src, "src"}, {dst, "dst"}});
        nn::sum(p.ctx.stream, p.shape, src, dst, accumulate != 0);
    });
}

// ---- pooling

dcls_status dcls_cuda_pool_plan_create(dcls_cuda_context *ctx, const dcls_pool_desc *desc,
                                       dcls_cuda_pool_plan **plan) {
    return create(__func__, ctx, plan, [&](dcls_cuda_context &c) {
        require(desc != nullptr, "desc is null");
        dcls::nn::validate_pool(*desc);  // nn_validate.h, as the CPU's
        const nn::PoolGeometry g = dcls::nn::pool_geometry(*desc);
        require(g.in_plane() <= INT32_MAX, "an input plane of " + std::to_string(g.in_plane()) +
                                               " elements is too large for max pooling's indices");
        return with_engine<dcls_cuda_pool_plan>(c, desc->ndim, g);
    });
}
dcls_status dcls_cuda_pool_plan_destroy(dcls_cuda_pool_plan *plan) { return destroy(__func__, plan); }
dcls_status dcls_cuda_pool_plan_output_size(const dcls_cuda_pool_plan *plan, int64_t output_size[3]) {
    return guarded(__func__, [&] {
        require(plan != nullptr, "plan is null");
        require(output_size != nullptr, "output_size is null");
        // The first ndim entries, as dcls_pool_plan_output_size: the geometry keeps the used axes last.
        const int ndim = plan->ndim;
        for (int i = 0; i < 3; ++i) output_size[i] = i < ndim ? plan->shape.out[3 - ndim + i] : 1;
    });
}
dcls_status dcls_cuda_pool_forward(dcls_cuda_pool_plan *plan, const float *x, float *y) {
    return run(__func__, plan, [&](dcls_cuda_pool_plan &p) {
        require_pointers({{x, "x"}, {y, "y"}});
        if (p.cudnn_forward)
            p.cudnn_forward->forward(x, y);
        else
            nn::pool_forward(p.ctx.stream, p.shape, x, y, static_cast<int32_t *>(p.argmax.get()));
        p.has_forward = true;
    });
}
dcls_status dcls_cuda_pool_backward(dcls_cuda_pool_plan *plan, const float *grad_y, float *grad_x) {
    return run(__func__, plan, [&](dcls_cuda_pool_plan &p) {
        require_pointers({{grad_y, "grad_y"}, {grad_x, "grad_x"}});
        require(p.has_forward || p.shape.kind != DCLS_POOL_MAX, "max pooling's backward before any forward");
        nn::pool_backward(p.ctx.stream, p.shape, grad_y, static_cast<const int32_t *>(p.argmax.get()), grad_x);
    });
}

// ---- cross-entropy

dcls_status dcls_cuda_cross_entropy_plan_create(dcls_cuda_context *ctx, int64_t batch, int64_t classes,
                                                dcls_cuda_cross_entropy_plan **plan) {
    return create(__func__, ctx, plan, [&](dcls_cuda_context &c) {
        require_positive(batch, "batch");
        require_positive(classes, "classes");
        return with_engine<dcls_cuda_cross_entropy_plan>(c, batch, classes);
    });
}
dcls_status dcls_cuda_cross_entropy_plan_destroy(dcls_cuda_cross_entropy_plan *plan) {
    return destroy(__func__, plan);
}
dcls_status dcls_cuda_cross_entropy_forward(dcls_cuda_cross_entropy_plan *plan, const float *logits,
                                            const int32_t *labels, float label_smoothing, float *loss) {
    return run(__func__, plan, [&](dcls_cuda_cross_entropy_plan &p) {
        require_pointers({{logits, "logits"}, {labels, "labels"}, {loss, "loss"}});
        require(label_smoothing >= 0 && label_smoothing <= 1, "label_smoothing must be in [0, 1]");
        for (int64_t b = 0; b < p.batch; ++b) {
            require(labels[b] >= 0 && labels[b] < p.classes, "label " + std::to_string(labels[b]) + " of sample " +
                                                                 std::to_string(b) + " is outside [0, " +
                                                                 std::to_string(p.classes) + ")");
            p.host_labels[size_t(b)] = labels[b];
        }
        // From pageable memory (the plan's own copy) the transfer is staged before the call returns,
        // so neither `labels` nor host_labels is read after it (CUDA's rule for pageable copies).
        dcls::cuda::check(cudaMemcpyAsync(p.labels.get(), p.host_labels.data(), sizeof(int32_t) * size_t(p.batch),
                                          cudaMemcpyHostToDevice, p.ctx.stream),
                          "cudaMemcpyAsync (labels)");
        const int32_t *device_labels = static_cast<const int32_t *>(p.labels.get());
        if (p.cudnn_log_softmax) {
            p.cudnn_log_softmax->forward(logits, p.log_probs.floats());
            nn::cross_entropy_loss(p.ctx.stream, p.batch, p.classes, p.log_probs.floats(), device_labels,
                                   label_smoothing, p.row_loss.floats(), loss);
        } else {
            nn::cross_entropy_forward(p.ctx.stream, p.batch, p.classes, logits, device_labels, label_smoothing,
                                      p.log_probs.floats(), p.row_loss.floats(), loss);
        }
        p.smoothing = label_smoothing;
        p.has_forward = true;
    });
}
dcls_status dcls_cuda_cross_entropy_backward(dcls_cuda_cross_entropy_plan *plan, float *grad_logits) {
    return run(__func__, plan, [&](dcls_cuda_cross_entropy_plan &p) {
        require(grad_logits != nullptr, "grad_logits is null");
        require(p.has_forward, "backward before any forward on this plan");
        nn::cross_entropy_backward(p.ctx.stream, p.batch, p.classes, p.log_probs.floats(),
                                   static_cast<const int32_t *>(p.labels.get()), p.smoothing, grad_logits);
    });
}

// ---- optimizer updates

dcls_status dcls_cuda_adamw_update(dcls_cuda_context *ctx, int64_t count, float *param, const float *grad,
                                   float *exp_avg, float *exp_avg_sq, float *max_exp_avg_sq, float decay, float beta1,
                                   float one_minus_beta1, float beta2, float one_minus_beta2, float step_size,
                                   float inv_sqrt_bias2, float eps) {
    return guarded(__func__, [&] {
        require(ctx != nullptr, "ctx is null");
        dcls::require_count(count);
        if (count == 0) return;
        require_pointers({{param, "param"}, {grad, "grad"}, {exp_avg, "exp_avg"}, {exp_avg_sq, "exp_avg_sq"}});
        DeviceGuard guard(ctx->device);
        nn::adamw_update(ctx->stream, count, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq,
                         nn::AdamWStep{decay, beta1, one_minus_beta1, beta2, one_minus_beta2, step_size,
                                       inv_sqrt_bias2, eps});
    });
}

dcls_status dcls_cuda_sgd_update(dcls_cuda_context *ctx, int64_t count, float *param, const float *grad,
                                 float *momentum_buffer, float lr, float weight_decay, float momentum, float keep,
                                 int32_t first, int32_t nesterov) {
    return guarded(__func__, [&] {
        require(ctx != nullptr, "ctx is null");
        dcls::require_count(count);
        if (count == 0) return;
        require_pointers({{param, "param"}, {grad, "grad"}});
        DeviceGuard guard(ctx->device);
        nn::sgd_update(ctx->stream, count, param, grad, momentum_buffer,
                       nn::SgdStep{lr, weight_decay, momentum, keep, first != 0, nesterov != 0});
    });
}

// ---- the engine of the layers' plans

dcls_status dcls_cuda_nn_set_cudnn(dcls_cuda_context *ctx, int32_t enabled) {
    return guarded(__func__, [&] {
        require(ctx != nullptr, "ctx is null");
        ctx->nn_cudnn = enabled != 0;
    });
}

dcls_status dcls_cuda_pool_plan_info(const dcls_cuda_pool_plan *plan, const char **info) {
    return plan_info(__func__, plan, info);
}
dcls_status dcls_cuda_batch_norm_plan_info(const dcls_cuda_batch_norm_plan *plan, const char **info) {
    return plan_info(__func__, plan, info);
}
dcls_status dcls_cuda_cross_entropy_plan_info(const dcls_cuda_cross_entropy_plan *plan, const char **info) {
    return plan_info(__func__, plan, info);
}

}  // extern "C"

// ---- a dilated convolution's spread kernel

namespace {

// The shape of dcls_cuda_kernel_spread's and dcls_cuda_kernel_gather_add's arguments, each checked, the first bad
// one named; the tensors' sizes in bytes must stay below 2^62, as every tensor's.
nn::KernelSpread checked_spread(int64_t pairs, int32_t ndim, const int64_t *kernel_size, const int64_t *dilation) {
    require_positive(pairs, "pairs");
    require(ndim >= 1 && ndim <= 3, "ndim must be 1, 2 or 3, got " + std::to_string(ndim));
    require_pointers({{kernel_size, "kernel_size"}, {dilation, "dilation"}});
    nn::KernelSpread s;
    s.ndim = ndim;
    s.pairs = pairs;
    for (int d = 0; d < ndim; ++d) {
        const std::string axis = "[" + std::to_string(d) + "]";
        require_positive(kernel_size[d], ("kernel_size" + axis).c_str());
        require_positive(dilation[d], ("dilation" + axis).c_str());
        s.kernel[d] = kernel_size[d];
        s.dilation[d] = dilation[d];
        s.spread[d] = dcls::checked_product(kernel_size[d] - 1, dilation[d], "the spread kernel") + 1;
        s.cells = dcls::checked_product(s.cells, s.spread[d], "the spread kernel");
        s.taps *= s.kernel[d];  // <= cells: no overflow
    }
    dcls::checked_product(dcls::checked_product(pairs, s.cells, "the spread kernel"), int64_t(sizeof(float)),
                          "the spread kernel");
    return s;
}

}  // namespace

extern "C" {

dcls_status dcls_cuda_kernel_spread(dcls_cuda_context *ctx, int64_t pairs, int32_t ndim, const int64_t *kernel_size,
                                    const int64_t *dilation, const float *weight, float *spread) {
    return guarded(__func__, [&] {
        require(ctx != nullptr, "ctx is null");
        const nn::KernelSpread s = checked_spread(pairs, ndim, kernel_size, dilation);
        require_pointers({{weight, "weight"}, {spread, "spread"}});
        DeviceGuard guard(ctx->device);
        nn::kernel_spread(ctx->stream, s, weight, spread);
    });
}

dcls_status dcls_cuda_kernel_gather_add(dcls_cuda_context *ctx, int64_t pairs, int32_t ndim,
                                        const int64_t *kernel_size, const int64_t *dilation, float *grad_spread,
                                        float *grad_weight) {
    return guarded(__func__, [&] {
        require(ctx != nullptr, "ctx is null");
        const nn::KernelSpread s = checked_spread(pairs, ndim, kernel_size, dilation);
        require_pointers({{grad_spread, "grad_spread"}, {grad_weight, "grad_weight"}});
        DeviceGuard guard(ctx->device);
        nn::kernel_gather_add(ctx->stream, s, grad_spread, grad_weight);
    });
}

}  // extern "C"
