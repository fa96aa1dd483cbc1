// Which implementation a layer's plan runs on a CUDA device: cuDNN's (cudnn_nn.h) or dcls4j's own
// kernels (nn_cuda.h). A pure function of what cuDNN offers and of the plan's shape and options, so
// that the rule is tested without cuDNN (test_cuda_nn): cuDNN only where its documented semantics
// are exactly dcls4j's (and torch's) for that plan.
//
// - Pooling: average pooling's forward pass. CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING divides by
//   the window's size, which is the kernel's volume here (padding is at most half the kernel and the
//   output size is floored, so no window reaches past the padded input: torch's count_include_pad);
//   ..._EXCLUDE_PADDING by the window's elements inside the input (count_include_pad=False). The
//   backward pass stays dcls4j's: cuDNN's takes the forward's x and y, which
//   dcls_cuda_pool_backward does not receive, and the average's gradient needs neither. Max pooling
//   stays dcls4j's: its backward sends each gradient to the first maximum of the window (torch's
//   rule), and cuDNN documents no rule for tied maxima (it needs x and y as well).
// - Batch normalisation: all passes, where each channel has at least two values. cuDNN's running
//   statistics are running = (1 - factor) running + factor batch with factor = torch's momentum,
//   and its running variance is the unbiased one (Bessel's correction, count / (count - 1)), as
//   torch's; with one value per channel that is 0 / 0, where dcls4j keeps the biased variance.
// - Cross-entropy: the log-softmax (CUDNN_SOFTMAX_LOG over each row); the loss and the gradient
//   stay dcls4j's kernels.
// cuDNN's legacy API takes int sizes: a tensor of more than 2^31 - 1 elements stays on dcls4j's.
#pragma once

#include <cstdint>
#include <string>

#include "dcls_nn.h"
#include "nn/pool_geometry.h"

namespace dcls {
namespace cuda {
namespace nn {

struct EngineChoice {
    bool cudnn = false;
    std::string why_not;  // why dcls4j's kernels run (empty when cuDNN does)
};

// What is known of cuDNN when a plan is made.
struct CudnnOffer {
    bool enabled = true;    // the context lets the layers use cuDNN (dcls_cuda_nn_set_cudnn)
    bool available = false;  // cuDNN is loaded and has the op's functions
};

constexpr int64_t kCudnnMaxElements = 0x7fffffff;

inline EngineChoice refuse(std::string why) { return EngineChoice{false, std::move(why)}; }

inline EngineChoice unavailable(const CudnnOffer &offer, const char *op) {
    if (!offer.enabled) return refuse("cuDNN is off for this context's layers");
    return refuse(std::string("no cuDNN ") + op + " (cuDNN 9 not loaded, or without it)");
}

inline EngineChoice pool_engine(const CudnnOffer &offer, const dcls::nn::PoolGeometry &g) {
    if (g.kind == DCLS_POOL_MAX)
        return refuse("max pooling: cuDNN documents no rule for tied maxima (dcls4j's: the first, as torch)");
    if (!offer.enabled || !offer.available) return unavailable(offer, "pooling");
    if (g.planes * g.in_plane() > kCudnnMaxElements) return refuse("more elements than cuDNN's int sizes hold");
    return EngineChoice{true, ""};
}

inline EngineChoice batch_norm_engine(const CudnnOffer &offer, int64_t batch, int64_t channels, int64_t inner) {
    if (batch * inner < 2)
        return refuse("one value per channel: cuDNN's unbiased running variance would divide by 0");
    if (!offer.enabled || !offer.available) return unavailable(offer, "batch normalisation");
    if (batch * channels * inner > kCudnnMaxElements) return refuse("more elements than cuDNN's int sizes hold");
    return EngineChoice{true, ""};
}

inline EngineChoice log_softmax_engine(const CudnnOffer &offer, int64_t batch, int64_t classes) {
    if (!offer.enabled || !offer.available) return unavailable(offer, "softmax");
    if (batch * classes > kCudnnMaxElements) return refuse("more elements than cuDNN's int sizes hold");
    return EngineChoice{true, ""};
}

// "cudnn" or "dcls", with dcls4j's reason: the word a plan's info gives for one of its passes.
inline std::string engine_name(const EngineChoice &c) { return c.cudnn ? "cudnn" : "dcls"; }

}  // namespace nn
}  // namespace cuda
}  // namespace dcls
