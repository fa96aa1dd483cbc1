// Argument checks of the C ABI, shared by the CPU library (api.cpp) and the CUDA library
// (cuda/cuda_api.cpp) so that both reject the same descriptors with the same messages.
#pragma once

#include <string>

#include "dcls.h"
#include "error.h"

namespace dcls {

inline void require_pointer(const void *p, const char *name) {
    require(p != nullptr, std::string(name) + " is null");
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

inline void validate(const dcls_conv_desc *d) {
    require_pointer(d, "desc");
    require(d->ndim >= 1 && d->ndim <= 3, "ndim must be 1, 2 or 3, got " + std::to_string(d->ndim));
    require(d->padding_mode >= DCLS_PADDING_ZEROS && d->padding_mode <= DCLS_PADDING_CIRCULAR,
            "unknown padding mode " + std::to_string(d->padding_mode));
    require(d->batch >= 1, "batch must be >= 1");
    require(d->in_channels >= 1 && d->out_channels >= 1, "channel counts must be >= 1");
    require(d->groups >= 1, "groups must be >= 1");
    require(d->in_channels % d->groups == 0 && d->out_channels % d->groups == 0,
            "groups (" + std::to_string(d->groups) + ") must divide in_channels (" + std::to_string(d->in_channels) +
                ") and out_channels (" + std::to_string(d->out_channels) + ")");
    for (int i = 0; i < d->ndim; ++i) {
        const std::string axis = "[" + std::to_string(i) + "]";
        require(d->input_size[i] >= 1, "input_size" + axis + " must be >= 1");
        require(d->kernel_size[i] >= 1, "kernel_size" + axis + " must be >= 1");
        require(d->stride[i] >= 1, "stride" + axis + " must be >= 1");
        require(d->padding[i] >= 0, "padding" + axis + " must be >= 0");
        require(d->input_size[i] + 2 * d->padding[i] >= d->kernel_size[i],
                "padded input" + axis + " (" + std::to_string(d->input_size[i] + 2 * d->padding[i]) +
                    ") is smaller than the kernel (" + std::to_string(d->kernel_size[i]) + ")");
        if (d->padding_mode == DCLS_PADDING_REFLECT)
            require(d->padding[i] < d->input_size[i], "reflect padding" + axis + " must be < input size");
        if (d->padding_mode == DCLS_PADDING_CIRCULAR)
            require(d->padding[i] <= d->input_size[i], "circular padding" + axis + " must be <= input size");
    }
}

}  // namespace dcls
