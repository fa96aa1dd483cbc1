// Kernel construction on the device (construct_cuda.cu). Arguments are validated by the caller
// (cuda_api.cpp); pointers are device pointers; the work is enqueued on `stream`.
#pragma once

#include <cuda_runtime.h>

#include "dcls.h"

namespace dcls {
namespace cuda {

void construct_forward(cudaStream_t stream, const dcls_construct_desc &desc, const float *weight,
                       const float *positions, const float *sigma, float *kernel);

void construct_backward(cudaStream_t stream, const dcls_construct_desc &desc, const float *weight,
                        const float *positions, const float *sigma, const float *grad_kernel,
                        float *grad_weight, float *grad_positions, float *grad_sigma, bool accumulate);

}  // namespace cuda
}  // namespace dcls
