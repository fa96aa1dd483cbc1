// Kernel construction on the CPU: forward (parameters -> dense kernel) and backward.
// Arguments are validated by the caller (api.cpp); see dcls.h for shapes and conventions.
#pragma once

#include "dcls.h"

namespace dcls {

void construct_forward_cpu(const dcls_construct_desc &desc, const float *weight,
                           const float *positions, const float *sigma, float *kernel);

void construct_backward_cpu(const dcls_construct_desc &desc, const float *weight,
                            const float *positions, const float *sigma, const float *grad_kernel,
                            float *grad_weight, float *grad_positions, float *grad_sigma,
                            bool accumulate);

}  // namespace dcls
