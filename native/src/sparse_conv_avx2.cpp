// The tap-sparse convolution's kernels for AVX2 and FMA: 8 floats per vector (the library's baseline).
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <utility>

#include "sparse_conv_job.h"

namespace dcls {

namespace {

inline float hsum256(__m256 v) {
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

struct Isa {
    static constexpr int V = 8, T = 8, G = 6, GR = 5;
    using vec = __m256;
    static vec zero() { return _mm256_setzero_ps(); }
    static vec set1(float x) { return _mm256_set1_ps(x); }
    static vec loadu(const float *p) { return _mm256_loadu_ps(p); }
    static void storeu(float *p, vec v) { _mm256_storeu_ps(p, v); }
    static vec fma(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
    static double hsum(vec v) { return double(hsum256(v)); }
};

#include "sparse_conv_impl.h"

}  // namespace

void sparse_rows_avx2(const SparseRowsJob &job) { run_sparse_rows(job); }
void sparse_weights_avx2(const SparseWeightsJob &job) { run_sparse_weights(job); }

}  // namespace dcls
