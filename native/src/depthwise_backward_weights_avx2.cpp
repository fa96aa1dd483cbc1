// The depthwise backward-weights kernel for AVX2 with FMA: 8 channels per vector. The library's
// baseline (-march=x86-64-v3), for machines without AVX-512.
#include <immintrin.h>
#include <omp.h>

#include <cstring>
#include <utility>

#include "depthwise_backward_weights_job.h"

namespace dcls {

namespace {

struct Isa {
    static constexpr int V = int(kDwAvx2Lanes);
    static constexpr int T = 2;
    static constexpr int KB_MAX = int(kDwAvx2KbMax);
    static constexpr int ACC_BUDGET = 12;
    using vec = __m256;
    static vec zero() { return _mm256_setzero_ps(); }
    static vec load(const float *p) { return _mm256_load_ps(p); }
    static void store(float *p, vec v) { _mm256_store_ps(p, v); }
    static vec fma(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
    static vec add(vec a, vec b) { return _mm256_add_ps(a, b); }
};

#include "channels_last_pack_impl.h"
#include "depthwise_backward_weights_impl.h"

}  // namespace

void depthwise_backward_weights_avx2(const DwJob &job) { run_depthwise(job); }

}  // namespace dcls
