// The work order of the depthwise convolution kernel (depthwise_conv.h), handed from the
// dispatcher to one of the ISA-specific kernels (depthwise_conv_avx512.cpp, depthwise_conv_avx2.cpp).
// Plain data only, as depthwise_backward_weights_job.h.
#pragma once

#include <cstdint>

namespace dcls {

// One depthwise correlation with channel multiplier 1, on three axes (d, h, w):
//   dst[n][c][o] = bias[c] + sum_k w[c][k] * src_padded[n][c][o * s + k]
// where src_padded is the source plane (src_in) read through the index tables (-1: zero). It is
// the forward pass (src = x, tables = the padding) and, for stride 1, the backward-data pass
// (src = grad_y, the weights flipped, the tables placing grad_y at offset k - 1 - padding).
// Per (image, block of V channels) plane, the source is packed channels-last as
// [Xd][Xh][Xw][V] into a per-thread buffer, the output computed as [OD][OH][OW][V] into another,
// then transposed to dst.
struct DwConvJob {
    int64_t N, C, V, CB;
    // Source plane and the packed extent; the w axis of the packing covers the kernel width
    // padded to kwp (the extra weights are zero).
    int64_t src_in[3], xp[3];
    const int64_t *row_src_d, *row_src_h, *col_src_w;
    int64_t col_lo, col_hi;
    // Kernel (d, h as is; w padded to kwp = nb * kb, in nb blocks of kb columns), stride.
    int64_t k[3], kwp, kb, nb, s[3];
    // Output extent.
    int64_t out[3];
    // Packed weights [CB][k0 * k1][kwp][V] and bias [CB][V] (zeros when none).
    const float *wpack, *bpack;
    // Row splits per plane (units: N * CB * RS), threads.
    int64_t RS;
    int threads;
    // Per-thread buffers: plane_stride floats each, the source plane then the output plane at x_plane.
    float *planes;
    int64_t plane_stride, x_plane;
    // The call's source (N, C, src_in...) and destination (N, C, out...), plain C-order.
    const float *src;
    float *dst;
};

void depthwise_conv_avx512(const DwConvJob &job);
void depthwise_conv_avx2(const DwConvJob &job);

// Vector width, output columns per register block, widest kernel-column block.
constexpr int64_t kDwConvAvx512Lanes = 16, kDwConvAvx512Outputs = 8, kDwConvAvx512KbMax = 18;
constexpr int64_t kDwConvAvx2Lanes = 8, kDwConvAvx2Outputs = 4, kDwConvAvx2KbMax = 9;

}  // namespace dcls
