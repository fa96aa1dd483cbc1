// The dense backward-weights kernel for AVX2 with FMA: 8 input channels per vector. The library's
// baseline (-march=x86-64-v3), for machines without AVX-512.
#include <immintrin.h>
#include <omp.h>

#include <cstring>
#include <utility>

#include "dense_backward_weights_job.h"

namespace dcls {

namespace {

struct Isa {
    static constexpr int V = int(kDenseAvx2Lanes);
    static constexpr int NCV_MAX = int(kDenseAvx2NcvMax);
    static constexpr int mo_max(int ncv) { return int(kDenseAvx2MoMax[ncv]); }
    using vec = __m256;
    static vec zero() { return _mm256_setzero_ps(); }
    static vec load(const float *p) { return _mm256_load_ps(p); }
    static void store(float *p, vec v) { _mm256_store_ps(p, v); }
    static vec fma(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
    static vec add(vec a, vec b) { return _mm256_add_ps(a, b); }
    static vec broadcast(const float *p) { return _mm256_broadcast_ss(p); }
};

#include "channels_last_pack_impl.h"
#include "dense_backward_weights_impl.h"

}  // namespace

void dense_backward_weights_avx2(const DenseJob &job) { run_dense(job); }

}  // namespace dcls
