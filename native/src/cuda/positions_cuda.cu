// Position upkeep on the device (positions_cuda.h): one thread per element (grid-stride), the
// clamp shared with the CPU (math::clamp_position), rintf rounding half to even as nearbyint there.
#include "positions_cuda.h"

#include <algorithm>

#include "block_cuda.h"
#include "construct_geometry.h"
#include "construct_math.h"
#include "cuda_common.h"

namespace dcls {
namespace cuda {
namespace {

// Components d < ndim, each param_stride floats; axis d's dilated size size[d].
struct ClampShape {
    int ndim;
    int64_t param_stride;
    int64_t size[3];
};

__global__ void clamp_positions_kernel(ClampShape s, float *positions) {
    const int64_t total = s.ndim * s.param_stride;
    for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x)
    {
        // The axis by selection, not by index: a dynamic index into s would put it in local memory.
        const int64_t d = e / s.param_stride;
        const int64_t size = d == 0 ? s.size[0] : d == 1 ? s.size[1] : s.size[2];
        positions[e] = math::clamp_position(positions[e], size);
    }
}

__global__ void round_positions_kernel(const float *src, float *dst, int64_t count) {
    for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < count; e += int64_t(gridDim.x) * blockDim.x)
        dst[e] = rintf(src[e]);
}

}  // namespace

void clamp_positions(cudaStream_t stream, const dcls_construct_desc &desc, float *positions) {
    const ConstructGeometry<float> g = construct_geometry<float>(desc);
    ClampShape s{g.ndim, g.param_stride, {1, 1, 1}};
    for (int d = 0; d < g.ndim; ++d) s.size[d] = g.size[g.first + d];
    const int64_t total = g.ndim * g.param_stride;
    if (total == 0) return;
    DCLS_LAUNCH(clamp_positions_kernel, grid_for(total), kBlock, 0, stream)(s, positions);
    check_launch("clamp_positions_kernel");
}

void round_positions(cudaStream_t stream, const float *src, float *dst, int64_t count) {
    if (count == 0) return;
    DCLS_LAUNCH(round_positions_kernel, grid_for(count), kBlock, 0, stream)(src, dst, count);
    check_launch("round_positions_kernel");
}

}  // namespace cuda
}  // namespace dcls
