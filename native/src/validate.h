// Argument checks of the C ABI, shared by the CPU library (api.cpp) and the CUDA library
// (cuda/cuda_api.cpp) so that both reject the same descriptors with the same messages.
#pragma once

#include <cstdint>
#include <string>

#include "conv_geometry.h"
#include "dcls.h"
#include "error.h"

namespace dcls {

inline void require_pointer(const void *p, const char *name) {
    require(p != nullptr, std::string(name) + " is null");
}

// An element count: at least 0.
inline void require_count(int64_t count) {
    require(count >= 0, "count must be >= 0, got " + std::to_string(count));
}

inline bool has_sigma(const dcls_construct_desc *d) {
    return d->interpolation == DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH ||
           d->interpolation == DCLS_INTERPOLATION_GAUSSIAN ||
           d->interpolation == DCLS_INTERPOLATION_GAUSSIAN_UNIT_OFFSET;
}

inline void validate(const dcls_construct_desc *d) {
    require_pointer(d, "desc");
    require(d->ndim >= 1 && d->ndim <= 3, "ndim must be 1, 2 or 3, got " + std::to_string(d->ndim));
    require(d->interpolation >= DCLS_INTERPOLATION_BILINEAR && d->interpolation <= DCLS_INTERPOLATION_GAUSSIAN_UNIT_OFFSET,
            "unknown interpolation " + std::to_string(d->interpolation));
    require(d->out_channels >= 1, "out_channels must be >= 1");
    require(d->in_per_group >= 1, "in_per_group must be >= 1");
    require(d->kernel_count >= 1, "kernel_count must be >= 1");
    for (int i = 0; i < d->ndim; ++i)
        require(d->dilated_kernel_size[i] >= 1, "dilated_kernel_size[" + std::to_string(i) + "] must be >= 1");
}

// The arguments of a plan's set_kernel_cells: a valid construction whose kernel (out_channels,
// in_per_group, dilated_kernel_size) is the plan's (conv), with its positions (and sigma).
inline void validate_kernel_cells(const dcls_construct_desc *d, const dcls_conv_desc &conv, const float *positions,
                                  const float *sigma) {
    validate(d);
    require_pointer(positions, "positions");
    if (has_sigma(d)) require_pointer(sigma, "sigma");
    bool same = d->ndim == conv.ndim && d->out_channels == conv.out_channels &&
                d->in_per_group == conv.in_channels / conv.groups;
    for (int i = 0; i < conv.ndim; ++i) same = same && d->dilated_kernel_size[i] == conv.kernel_size[i];
    require(same, "the construction's kernel (out_channels, in_per_group, dilated_kernel_size) is not the plan's");
}

// The arguments of a construction forward (kernel) or backward (grad_kernel, grad_sigma).
inline void validate_construct_forward(const dcls_construct_desc *d, const float *weight, const float *positions,
                                       const float *sigma, const float *kernel) {
    validate(d);
    require_pointer(weight, "weight");
    require_pointer(positions, "positions");
    require_pointer(kernel, "kernel");
    if (has_sigma(d)) require_pointer(sigma, "sigma");
}

inline void validate_construct_backward(const dcls_construct_desc *d, const float *weight, const float *positions,
                                        const float *sigma, const float *grad_kernel, const float *grad_sigma) {
    validate(d);
    require_pointer(weight, "weight");
    require_pointer(positions, "positions");
    require_pointer(grad_kernel, "grad_kernel");
    if (has_sigma(d)) require_pointer(sigma, "sigma");
    else require(grad_sigma == nullptr, "grad_sigma must be null for an interpolation without sigma");
}

// Sizes of a convolution descriptor are kept below 2^31: oneDNN's kernels (and dcls4j's own) index
// with 32-bit integers in places, and a padded axis or a tensor of more than 2^62 bytes would overflow
// the 64-bit arithmetic here. Nothing that fits in memory is refused by these bounds.
constexpr int64_t max_conv_size = INT32_MAX;
constexpr int64_t max_tensor_bytes = int64_t(1) << 62;

// a * b, or a refusal naming `what` when the product passes max_tensor_bytes.
inline int64_t checked_product(int64_t a, int64_t b, const char *what) {
    int64_t p = 0;
    require(!__builtin_mul_overflow(a, b, &p) && p <= max_tensor_bytes,
            std::string(what) + " is too large: its size in bytes passes 2^62");
    return p;
}

inline void validate(const dcls_conv_desc *d) {
    require_pointer(d, "desc");
    require(d->ndim >= 1 && d->ndim <= 3, "ndim must be 1, 2 or 3, got " + std::to_string(d->ndim));
    require(d->padding_mode >= DCLS_PADDING_ZEROS && d->padding_mode <= DCLS_PADDING_CIRCULAR,
            "unknown padding mode " + std::to_string(d->padding_mode));
    auto bounded = [](int64_t value, int64_t min, const std::string &name) {
        require(value >= min && value <= max_conv_size, name + " must be in [" + std::to_string(min) + ", " +
                                                            std::to_string(max_conv_size) + "], got " +
                                                            std::to_string(value));
    };
    bounded(d->batch, 1, "batch");
    bounded(d->in_channels, 1, "in_channels");
    bounded(d->out_channels, 1, "out_channels");
    bounded(d->groups, 1, "groups");
    require(d->in_channels % d->groups == 0 && d->out_channels % d->groups == 0,
            "groups (" + std::to_string(d->groups) + ") must divide in_channels (" + std::to_string(d->in_channels) +
                ") and out_channels (" + std::to_string(d->out_channels) + ")");
    int64_t x_bytes = checked_product(d->batch * 4, d->in_channels, "the input");
    int64_t padded_bytes = x_bytes;
    int64_t y_bytes = checked_product(d->batch * 4, d->out_channels, "the output");
    int64_t w_bytes = checked_product(d->out_channels * 4, d->in_channels / d->groups, "the kernel");
    for (int i = 0; i < d->ndim; ++i) {
        const std::string axis = "[" + std::to_string(i) + "]";
        bounded(d->input_size[i], 1, "input_size" + axis);
        bounded(d->kernel_size[i], 1, "kernel_size" + axis);
        bounded(d->stride[i], 1, "stride" + axis);
        bounded(d->padding[i], 0, "padding" + axis);
        const int64_t padded = d->input_size[i] + 2 * d->padding[i];  // < 2^33: no overflow
        require(padded <= max_conv_size, "padded input" + axis + " (" + std::to_string(padded) +
                                             ") must be at most " + std::to_string(max_conv_size));
        require(padded >= d->kernel_size[i],
                "padded input" + axis + " (" + std::to_string(padded) +
                    ") is smaller than the kernel (" + std::to_string(d->kernel_size[i]) + ")");
        if (d->padding_mode == DCLS_PADDING_REFLECT)
            require(d->padding[i] < d->input_size[i], "reflect padding" + axis + " must be < input size");
        if (d->padding_mode == DCLS_PADDING_CIRCULAR)
            require(d->padding[i] <= d->input_size[i], "circular padding" + axis + " must be <= input size");
        x_bytes = checked_product(x_bytes, d->input_size[i], "the input");
        padded_bytes = checked_product(padded_bytes, padded, "the padded input");
        y_bytes = checked_product(y_bytes, (padded - d->kernel_size[i]) / d->stride[i] + 1, "the output");
        w_bytes = checked_product(w_bytes, d->kernel_size[i], "the kernel");
    }
}

// The descriptor a plan is made from: each stride past the last kernel position is cut to the
// smallest one with the same single output cell, (padded input - kernel + 1). The output and every
// gradient are the same; oneDNN is never given a stride far beyond the input, which crashed it
// (SIGSEGV in its brgemm backward-data blocking at strides of 2^15 and more).
inline dcls_conv_desc normalised(const dcls_conv_desc &d) {
    dcls_conv_desc n = d;
    for (int i = 0; i < d.ndim; ++i) {
        const int64_t positions = conv_positions(d.input_size[i], d.padding[i], d.kernel_size[i]);
        if (n.stride[i] > positions) n.stride[i] = positions;
    }
    return n;
}

}  // namespace dcls
