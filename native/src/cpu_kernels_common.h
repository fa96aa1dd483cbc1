// Helpers shared by the dispatchers of the library's own kernels (depthwise_backward_weights.cpp,
// dense_backward_weights.cpp, depthwise_conv.cpp). Compiled for the library's baseline only:
// never include this in an instruction-set translation unit.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "dcls.h"

namespace dcls {

// A 64-byte aligned array, zero-filled.
template <typename T>
class AlignedArray {
public:
    void allocate(size_t count) {
        const size_t bytes = ((count > 0 ? count : 1) * sizeof(T) + 63) / 64 * 64;
        void *p = std::aligned_alloc(64, bytes);
        if (p == nullptr) throw std::bad_alloc();
        std::memset(p, 0, bytes);
        data_.reset(static_cast<T *>(p));
    }
    T *get() const { return data_.get(); }

private:
    struct Free {
        void operator()(T *p) const { std::free(p); }
    };
    std::unique_ptr<T, Free> data_;
};

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Whether to run the AVX-512 kernels: the CPU has AVX-512 F, BW, VL and DQ, and the environment
// variable DCLS_CPU_ISA is not "avx2" (which forces the AVX2 kernels, for tests).
bool use_avx512();

// A table of source indices along one axis: entry j (j < extent) is j - shift when that lies in
// [0, n) and j < limit; else -1 (a zero) for zero padding or j >= limit, and otherwise the index
// the padding mode reads (padding_source, padding.h). Sets [lo, hi) to the contiguous
// interior, where entry j is j - shift.
std::vector<int64_t> source_table(int64_t extent, int64_t limit, int64_t n, int64_t shift, dcls_padding_mode mode,
                                  int64_t &lo, int64_t &hi);

// The padded geometry of one convolution on three axes (d, h, w) (unused leading axes: size 1,
// kernel 1, stride 1, no padding), with the packed input extent xp = (out - 1) * s + k and,
// per axis, the unpadded source index of each packed position (-1: zero padding).
struct PaddedGeometry {
    int64_t in[3], out[3], k[3], s[3], pad[3], xp[3];
    std::vector<int64_t> src[3];
    int64_t col_lo, col_hi;  // the contiguous interior columns of the w axis

    explicit PaddedGeometry(const dcls_conv_desc &d);
};

}  // namespace dcls
