// The work order of the dense backward-weights kernel (dense_backward_weights.h), handed from the
// dispatcher to one of the ISA-specific kernels (dense_backward_weights_avx512.cpp,
// dense_backward_weights_avx2.cpp). Plain data only, as depthwise_backward_weights_job.h.
#pragma once

#include <cstdint>

namespace dcls {

// Shapes use three spatial axes (d, h, w) as DwJob. The kernel gradient is a sum of outer
// products of input channels c and output channels o; one of the two (the "vector" side, the one
// that fills the vector lanes better) is vectorised, the other broadcast. Per image n, the
// padded input plane is packed as [Xd][Xh][Xw][Cx] and the output-gradient plane as
// [OD][OH][OW][Ox], channels padded with zeros: to a multiple of V on the vector side, of 8 on
// the broadcast side, in per-thread buffers.
struct DenseJob {
    // Geometry.
    int64_t N, C, O, V, Cx, Ox;
    int64_t in[3], out[3], k[3], s[3], xp[3];
    const int64_t *row_src_d, *row_src_h, *col_src_w;  // as DwJob
    int64_t col_lo, col_hi;

    // Sides: vec_c says whether the input channels are the vector side. The vector side has
    // VB vectors (VB * V lanes), the broadcast side B channels. Tiles: the VB vectors in v_tiles
    // balanced tiles of at most ncv_max vectors, the B channels in b_tiles balanced tiles of at
    // most mb_max. An item is (kernel position q, b tile, v tile); a unit is (batch split ns of
    // NS, item split ks of KS).
    bool vec_c;
    int64_t VB, B, v_tiles, b_tiles, ncv_max, mb_max, NS, KS;
    int threads;

    // Scratch: per-thread plane buffers (plane_stride floats each: input plane, then gradient
    // plane at x_plane floats); partial kernel gradients part[NS][Q][B][VB * V] (Q kernel
    // positions); partial bias gradients bias_part[NS][Ox].
    float *planes;
    int64_t plane_stride, x_plane;
    float *part;
    double *bias_part;

    // The call's operands, plain C-order: x (N, C, in...), gy (N, O, out...).
    const float *x, *gy;
    bool want_bias;
};

void dense_backward_weights_avx512(const DenseJob &job);
void dense_backward_weights_avx2(const DenseJob &job);

// The vector width, the widest vector-side tile (vectors) and the widest broadcast-side tile
// for each vector tile width (index: vectors), per instruction set.
constexpr int64_t kDenseAvx512Lanes = 16, kDenseAvx512NcvMax = 4;
constexpr int64_t kDenseAvx512MoMax[5] = {0, 12, 12, 8, 6};
constexpr int64_t kDenseAvx2Lanes = 8, kDenseAvx2NcvMax = 3;
constexpr int64_t kDenseAvx2MoMax[4] = {0, 8, 6, 4};

}  // namespace dcls
