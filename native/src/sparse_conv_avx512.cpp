// The tap-sparse convolution's kernels for AVX-512 (F): 16 floats per vector. Compiled with AVX-512
// enabled (see native/CMakeLists.txt); runs only where the dispatcher (sparse_conv.cpp) found it.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <utility>

#include "sparse_conv_job.h"

namespace dcls {

namespace {


struct Isa {
    static constexpr int V = 16, T = 16, G = 12, GR = 12;
    using vec = __m512;
    static vec zero() { return _mm512_setzero_ps(); }
    static vec set1(float x) { return _mm512_set1_ps(x); }
    static vec loadu(const float *p) { return _mm512_loadu_ps(p); }
    static void storeu(float *p, vec v) { _mm512_storeu_ps(p, v); }
    static vec fma(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
    // Through memory: _mm512_reduce_add_ps trips GCC 12's -Wuninitialized; once per cell, cheap.
    static double hsum(vec v) {
        alignas(64) float t[16];
        _mm512_store_ps(t, v);
        double s = 0.0;
        for (float e : t) s += e;
        return s;
    }
};

#include "sparse_conv_impl.h"

}  // namespace

void sparse_rows_avx512(const SparseRowsJob &job) { run_sparse_rows(job); }
void sparse_weights_avx512(const SparseWeightsJob &job) { run_sparse_weights(job); }

}  // namespace dcls
