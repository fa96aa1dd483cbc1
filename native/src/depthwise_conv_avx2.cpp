// The depthwise convolution kernel for AVX2 with FMA: 8 channels per vector. The library's
// baseline (-march=x86-64-v3), for machines without AVX-512.
#include <immintrin.h>
#include <omp.h>

#include <cstring>
#include <utility>

#include "depthwise_conv_job.h"

namespace dcls {

namespace {

struct Isa {
    static constexpr int V = int(kDwConvAvx2Lanes);
    static constexpr int R = int(kDwConvAvx2Outputs);
    static constexpr int KB_MAX = int(kDwConvAvx2KbMax);
    using vec = __m256;
    static vec zero() { return _mm256_setzero_ps(); }
    static vec load(const float *p) { return _mm256_load_ps(p); }
    static void store(float *p, vec v) { _mm256_store_ps(p, v); }
    static vec fma(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
};

#include "channels_last_pack_impl.h"
#include "depthwise_conv_impl.h"

}  // namespace

void depthwise_conv_avx2(const DwConvJob &job) { run_depthwise_conv(job); }

}  // namespace dcls
