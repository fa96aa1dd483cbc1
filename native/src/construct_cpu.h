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

// The box of kernel cells, [lo[d], hi[d]) for each spatial axis d < ndim, outside which the
// constructed kernel is 0 and construct_backward_cpu reads no gradient (math::axis_window, over
// every element). Never empty: when no element touches the grid it is the first cell.
void construct_window_cpu(const dcls_construct_desc &desc, const float *positions,
                          const float *sigma, int64_t lo[3], int64_t hi[3]);

}  // namespace dcls
