// The argument checks of the network layers' ops, shared by the CPU ABI (nn_api.cpp) and the CUDA
// one (cuda/nn_api_cuda.cpp), so that both refuse the same inputs with the same messages. Each
// throws DCLS_ERROR_INVALID_ARGUMENT (dcls::Error) naming the argument.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "dcls_nn.h"
#include "error.h"
#include "validate.h"

namespace dcls::nn {

constexpr int kMaxRank = 6;

inline void require_positive(int64_t v, const char *name) {
    require(v >= 1, std::string(name) + " must be >= 1, got " + std::to_string(v));
}

using dcls::require_pointer;  // validate.h, the C ABI's own

inline void require_pointers(std::initializer_list<std::pair<const void *, const char *>> pointers) {
    for (const auto &[p, name] : pointers) require_pointer(p, name);
}

// A (batch, channels, inner) shape and eps of a normalisation (layer or batch norm).
inline void require_norm_shape(int64_t batch, int64_t channels, int64_t inner, float eps) {
    require_positive(batch, "batch");
    require_positive(channels, "channels");
    require_positive(inner, "inner");
    require(eps > 0, "eps must be > 0");
}

// The first `rank` entries of `dims` (rank 1 to 6, each >= 1).
inline std::vector<int64_t> checked_dims(int32_t rank, const int64_t *dims, const char *name) {
    require(rank >= 1 && rank <= kMaxRank, "rank must be 1 to 6, got " + std::to_string(rank));
    require_pointer(dims, name);
    std::vector<int64_t> out(dims, dims + rank);
    for (int i = 0; i < rank; ++i)
        require(out[i] >= 1, std::string(name) + "[" + std::to_string(i) + "] must be >= 1, got " +
                                 std::to_string(out[i]));
    return out;
}

// Each entry of `narrow` equals the one of `full` or is 1: a binary op's b, a sum's dst.
inline void require_broadcast(const std::vector<int64_t> &full, const std::vector<int64_t> &narrow,
                              const char *narrow_name, const char *full_name) {
    for (size_t i = 0; i < full.size(); ++i)
        require(narrow[i] == full[i] || narrow[i] == 1, std::string(narrow_name) + "[" + std::to_string(i) + "] is " +
                                                            std::to_string(narrow[i]) + ", neither " + full_name +
                                                            "'s " + std::to_string(full[i]) + " nor 1");
}

// A pooling descriptor: the first bad field named.
inline void validate_pool(const dcls_pool_desc &d) {
    require(d.ndim >= 1 && d.ndim <= 3, "ndim must be 1, 2 or 3, got " + std::to_string(d.ndim));
    require(d.kind >= DCLS_POOL_MAX && d.kind <= DCLS_POOL_AVG_EXCLUDE_PADDING,
            "unknown pooling kind " + std::to_string(d.kind));
    require_positive(d.batch, "batch");
    require_positive(d.channels, "channels");
    for (int i = 0; i < d.ndim; ++i) {
        const std::string axis = " of axis " + std::to_string(i);
        require(d.input_size[i] >= 1 && d.kernel_size[i] >= 1 && d.stride[i] >= 1,
                "input size, kernel size and stride must be >= 1" + axis);
        require(d.padding[i] >= 0 && 2 * d.padding[i] <= d.kernel_size[i],
                "padding must be in [0, kernel_size / 2]" + axis);
        require(d.input_size[i] + 2 * d.padding[i] >= d.kernel_size[i],
                "the kernel is larger than the padded input" + axis);
    }
}

}  // namespace dcls::nn
