// The exact (erf) GELU and its derivative, shared by the activation kernel and the GEMM epilogues
// that fuse GELU into a linear layer, so that the fused and the unfused paths compute one formula.
#pragma once

#include <cmath>

#include "cuda_common.h"

namespace dcls {
namespace cuda {

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

// x * Phi(x).
__device__ inline float gelu_erf(float x) { return 0.5f * x * (1.f + erff(x * kInvSqrt2)); }

// d/dx x * Phi(x) = Phi(x) + x * phi(x).
__device__ inline float gelu_erf_grad(float x) {
    return 0.5f * (1.f + erff(x * kInvSqrt2)) + x * kInvSqrt2Pi * expf(-0.5f * x * x);
}

}  // namespace cuda
}  // namespace dcls
