// The dense backward-weights kernel for AVX-512 (F, BW, VL, DQ): 16 input channels per vector.
// Compiled with AVX-512 enabled (see native/CMakeLists.txt); runs only where the dispatcher
// (dense_backward_weights.cpp) found those features.
#include <immintrin.h>
#include <omp.h>

#include <cstring>
#include <utility>

#include "dense_backward_weights_job.h"

namespace dcls {

namespace {

struct Isa {
    static constexpr int V = int(kDenseAvx512Lanes);
    static constexpr int NCV_MAX = int(kDenseAvx512NcvMax);
    static constexpr int mo_max(int ncv) { return int(kDenseAvx512MoMax[ncv]); }
    using vec = __m512;
    static vec zero() { return _mm512_setzero_ps(); }
    static vec load(const float *p) { return _mm512_load_ps(p); }
    static void store(float *p, vec v) { _mm512_store_ps(p, v); }
    static vec fma(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
    static vec add(vec a, vec b) { return _mm512_add_ps(a, b); }
    static vec broadcast(const float *p) { return _mm512_set1_ps(*p); }
};

#include "channels_last_pack_impl.h"
#include "dense_backward_weights_impl.h"

}  // namespace

void dense_backward_weights_avx512(const DenseJob &job) { run_dense(job); }

}  // namespace dcls
