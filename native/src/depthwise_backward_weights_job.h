// The work order of the depthwise backward-weights kernel (depthwise_backward_weights.h), handed
// from the dispatcher to one of the ISA-specific kernels (depthwise_backward_weights_avx512.cpp,
// depthwise_backward_weights_avx2.cpp). Plain data only: the ISA translation units are compiled
// with their own target flags and include nothing with inline functions shared with the rest of
// the library (see depthwise_backward_weights_impl.h).
#pragma once

#include <cstdint>

namespace dcls {

// Shapes use three spatial axes (d, h, w); unused leading axes have size 1, kernel 1, stride 1,
// no padding. Channels are cut into CB blocks of V (the vector width); a block's tail channels
// past C are zero. A "plane" is one (image n, channel block cb): the padded input plane packed as
// [Xd][Xh][Xw][V] and the output-gradient plane packed as [OD][OH][OW][V], in per-thread buffers.
struct DwJob {
    // Geometry.
    int64_t N, C, V, CB;
    int64_t in[3];   // unpadded input size
    int64_t out[3];  // output size
    int64_t k[3];    // kernel size
    int64_t s[3];    // stride
    int64_t xp[3];   // packed (padded, trimmed) input extent: (out - 1) * s + k
    // Source index of each packed position along d, h, w: the unpadded input index, or -1 for
    // a zero (zero padding). Columns [col_lo, col_hi) are the interior, where col_src_w[j] =
    // j - col_lo + col_src_w[col_lo] runs contiguously.
    const int64_t *row_src_d, *row_src_h, *col_src_w;
    int64_t col_lo, col_hi;

    // Work split: kernel rows (kd, kh) times kw blocks of at most kb_max columns give KR * KWB
    // items; a unit is (channel block, batch split ns of NS, item split ks of KS).
    int64_t kb_max, KWB, NS, KS;
    int threads;

    // Scratch: per-thread plane buffers (plane_stride floats each, the input plane then the
    // gradient plane at x_plane floats); partial kernel gradients part[NS][CB][KR][KW][V];
    // partial bias gradients bias_part[NS][CB][V].
    float *planes;
    int64_t plane_stride, x_plane;
    float *part;
    double *bias_part;

    // The call's operands, plain C-order: x (N, C, in...), gy (N, C, out...).
    const float *x, *gy;
    bool want_bias;
};

// Runs every unit of the job: packs planes, fills part (and bias_part when want_bias).
// Each needs the CPU features of its name.
void depthwise_backward_weights_avx512(const DwJob &job);
void depthwise_backward_weights_avx2(const DwJob &job);

// The vector width and widest kw block of each kernel.
constexpr int64_t kDwAvx512Lanes = 16, kDwAvx512KbMax = 16;
constexpr int64_t kDwAvx2Lanes = 8, kDwAvx2KbMax = 10;

}  // namespace dcls
