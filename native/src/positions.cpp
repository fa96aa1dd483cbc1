// Position upkeep on the CPU (positions.h): element-wise, in parallel over the elements.
#include "positions.h"

#include <cmath>

#include "construct_geometry.h"
#include "construct_math.h"

namespace dcls {

void clamp_positions_cpu(const dcls_construct_desc &desc, float *positions) {
    const ConstructGeometry<double> g = construct_geometry<double>(desc);
    for (int d = 0; d < g.ndim; ++d) {
        float *p = positions + d * g.param_stride;
        const int64_t size = g.size[g.first + d];
#pragma omp parallel for schedule(static) if (g.param_stride > 65536)
        for (int64_t e = 0; e < g.param_stride; ++e) p[e] = math::clamp_position(p[e], size);
    }
}

void round_positions_cpu(const float *src, float *dst, int64_t count) {
    // nearbyint rounds half to even in the default rounding mode, as torch.round, and raises nothing.
#pragma omp parallel for schedule(static) if (count > 65536)
    for (int64_t i = 0; i < count; ++i) dst[i] = std::nearbyint(src[i]);
}

}  // namespace dcls
