// The depthwise backward-weights kernel for AVX-512 (F, BW, VL, DQ): 16 channels per vector.
// This file is compiled with AVX-512 enabled (see native/CMakeLists.txt) and only runs where
// the dispatcher (depthwise_backward_weights.cpp) found those features.
#include <immintrin.h>
#include <omp.h>

#include <cstring>
#include <utility>

#include "depthwise_backward_weights_job.h"

namespace dcls {

namespace {

struct Isa {
    static constexpr int V = int(kDwAvx512Lanes);
    static constexpr int T = 4;
    static constexpr int KB_MAX = int(kDwAvx512KbMax);
    static constexpr int ACC_BUDGET = 20;
    using vec = __m512;
    static vec zero() { return _mm512_setzero_ps(); }
    static vec load(const float *p) { return _mm512_load_ps(p); }
    static void store(float *p, vec v) { _mm512_store_ps(p, v); }
    static vec fma(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
    static vec add(vec a, vec b) { return _mm512_add_ps(a, b); }
};

#include "channels_last_pack_impl.h"
#include "depthwise_backward_weights_impl.h"

}  // namespace

void depthwise_backward_weights_avx512(const DwJob &job) { run_depthwise(job); }

}  // namespace dcls
