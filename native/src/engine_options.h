// Which engine a convolution plan picks for each pass, where dcls4j has a choice: process-wide
// options read when a plan is created (sparse_conv: when its kernel cells are set). Each starts
// from its environment variable (DCLS_DFT_CONV, DCLS_DEPTHWISE_CONV, DCLS_DEPTHWISE_BACKWARD_WEIGHTS,
// DCLS_DENSE_BACKWARD_WEIGHTS, DCLS_SPARSE_CONV) and can be set through dcls_set_engine_option.
#pragma once

namespace dcls {

enum class EngineChoice { Auto, Never, Always };

enum class EngineOption { DftConv, DepthwiseConv, DepthwiseBackwardWeights, DenseBackwardWeights, SparseConv };

// The current choice for `option`.
EngineChoice engine_choice(EngineOption option);

// Sets an option by name ("dft_conv", "depthwise_conv", "depthwise_backward_weights",
// "dense_backward_weights", "sparse_conv") and value
// ("auto", "never", "always"); throws dcls::Error (invalid argument) for anything else.
void set_engine_option(const char *name, const char *value);

}  // namespace dcls
