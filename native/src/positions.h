// Position upkeep on the CPU (dcls_positions_clamp, dcls_positions_round): the clamp after an
// optimizer step and the rounding of inference mode, in place of a loop over the positions in Java.
#pragma once

#include <cstdint>

#include "dcls.h"

namespace dcls {

// Each component d of `positions` (validated descriptor) into [-(L / 2), L / 2]: math::clamp_position.
void clamp_positions_cpu(const dcls_construct_desc &desc, float *positions);

// dst[i] = src[i] rounded half to even, for i < count (dst may be src).
void round_positions_cpu(const float *src, float *dst, int64_t count);

}  // namespace dcls
