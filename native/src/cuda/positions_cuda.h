// Position upkeep on a CUDA device (dcls_cuda_positions_clamp, dcls_cuda_positions_round): as
// positions.h, enqueued on a stream, so that a GPU layer's positions never make a host round trip.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "dcls.h"

namespace dcls {
namespace cuda {

void clamp_positions(cudaStream_t stream, const dcls_construct_desc &desc, float *positions);
void round_positions(cudaStream_t stream, const float *src, float *dst, int64_t count);

}  // namespace cuda
}  // namespace dcls
