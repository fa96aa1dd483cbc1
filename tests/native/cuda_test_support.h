// What the tests of libdcls_cuda.so share (test_cuda.cpp, test_cuda_nn.cpp): the pass/fail count,
// a seeded random source, and device copies of float vectors on the one context of the test.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "dcls.h"

namespace dcls_test {

inline int passed = 0, failed = 0;

inline void check(bool ok, const std::string &what) {
    if (ok) {
        ++passed;
    } else {
        ++failed;
        std::printf("FAIL: %s\n", what.c_str());
    }
}

inline bool has_message() { return dcls_cuda_last_error() != nullptr && dcls_cuda_last_error()[0] != '\0'; }

inline std::vector<double> to_double(const std::vector<float> &v) { return std::vector<double>(v.begin(), v.end()); }

struct Rng {
    std::mt19937_64 engine;
    explicit Rng(uint64_t seed) : engine(seed) {}
    double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(engine); }
    int64_t integer(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(engine); }
    std::vector<float> vec(int64_t n, double lo = -1.0, double hi = 1.0) {
        std::vector<float> v(size_t(std::max<int64_t>(n, 0)));
        for (float &x : v) x = float(uniform(lo, hi));
        return v;
    }
};

// ---- device memory -----------------------------------------------------------------------------

inline dcls_cuda_context *ctx = nullptr;

// A device copy of a float vector, freed on the context's stream.
class Device {
public:
    explicit Device(size_t count) : count_(count) {
        if (dcls_cuda_malloc(ctx, int64_t(count * sizeof(float)), &ptr_) != DCLS_OK) {
            std::printf("dcls_cuda_malloc: %s\n", dcls_cuda_last_error());
            std::exit(1);
        }
    }
    explicit Device(const std::vector<float> &v) : Device(v.size()) { upload(v); }
    ~Device() { dcls_cuda_free(ctx, ptr_); }
    Device(const Device &) = delete;
    Device &operator=(const Device &) = delete;

    void upload(const std::vector<float> &v) {
        if (!v.empty())
            dcls_cuda_memcpy(ctx, ptr_, v.data(), int64_t(v.size() * sizeof(float)), DCLS_CUDA_MEMCPY_HOST_TO_DEVICE);
    }
    std::vector<float> download() const {
        std::vector<float> v(count_);
        if (count_ > 0)
            dcls_cuda_memcpy(ctx, v.data(), ptr_, int64_t(count_ * sizeof(float)), DCLS_CUDA_MEMCPY_DEVICE_TO_HOST);
        if (dcls_cuda_synchronize(ctx) != DCLS_OK) std::printf("  synchronize: %s\n", dcls_cuda_last_error());
        return v;
    }
    float *get() const { return static_cast<float *>(ptr_); }

private:
    void *ptr_ = nullptr;
    size_t count_;
};

}  // namespace dcls_test
