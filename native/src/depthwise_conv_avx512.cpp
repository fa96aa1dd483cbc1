// The depthwise convolution kernel for AVX-512 (F, BW, VL, DQ): 16 channels per vector. Compiled
// with AVX-512 enabled (see native/CMakeLists.txt); runs only where the dispatcher
// (depthwise_conv.cpp) found those features.
#include <immintrin.h>
#include <omp.h>

#include <cstring>
#include <utility>

#include "depthwise_conv_job.h"

namespace dcls {

namespace {

struct Isa {
    static constexpr int V = int(kDwConvAvx512Lanes);
    static constexpr int R = int(kDwConvAvx512Outputs);
    static constexpr int KB_MAX = int(kDwConvAvx512KbMax);
    using vec = __m512;
    static vec zero() { return _mm512_setzero_ps(); }
    static vec load(const float *p) { return _mm512_load_ps(p); }
    static void store(float *p, vec v) { _mm512_store_ps(p, v); }
    static vec fma(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
};

#include "channels_last_pack_impl.h"
#include "depthwise_conv_impl.h"

}  // namespace

void depthwise_conv_avx512(const DwConvJob &job) { run_depthwise_conv(job); }

}  // namespace dcls
