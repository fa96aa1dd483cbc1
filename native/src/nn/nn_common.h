// Shared pieces of the network-layer ops (dcls_nn.h): the engine and a stream, user memory
// objects pointed at the caller's buffers on each call, and aligned scratch buffers.
#pragma once

#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>

#include "dnnl.hpp"

#include "dcls_nn.h"
#include "error.h"
#include "nn_validate.h"
#include "onednn_engine.h"

namespace dcls::nn {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;
using Args = std::unordered_map<int, memory>;

// A memory object with no buffer: each call points it at the caller's (or a scratch) buffer.
inline memory user_memory(const memory::desc &md) { return memory(md, cpu_engine(), DNNL_MEMORY_NONE); }

inline memory &bind(memory &m, const void *data) {
    m.set_data_handle(const_cast<void *>(data));
    return m;
}

// A plain float32 descriptor of `dims` in C order.
inline memory::desc plain(const memory::dims &dims) {
    memory::dims strides(dims.size());
    memory::dim stride = 1;
    for (size_t i = dims.size(); i-- > 0;) {
        strides[i] = stride;
        stride *= dims[i];
    }
    return memory::desc(dims, dt::f32, strides);
}

// A float32 descriptor of `dims` with explicit strides (transposed views of plain buffers).
inline memory::desc strided(const memory::dims &dims, const memory::dims &strides) {
    return memory::desc(dims, dt::f32, strides);
}

// A 64-byte aligned float scratch buffer, allocated once when a plan is made.
class Scratch {
public:
    Scratch() = default;
    explicit Scratch(size_t floats) { allocate(floats); }
    void allocate(size_t floats) {
        const size_t bytes = (std::max<size_t>(floats, 1) * sizeof(float) + 63) / 64 * 64;
        void *p = std::aligned_alloc(64, bytes);
        if (p == nullptr) throw std::bad_alloc();
        data_.reset(static_cast<float *>(p));
    }
    float *get() const { return data_.get(); }

private:
    struct Free {
        void operator()(float *p) const { std::free(p); }
    };
    std::unique_ptr<float, Free> data_;
};

// dst[i] = src[i] (overwrite) or dst[i] += src[i] (accumulate): the small per-channel gradients
// (C floats) oneDNN writes into scratch, folded into the caller's accumulating gradient.
inline void fold(const float *src, float *dst, int64_t n, bool accumulate) {
    if (accumulate) {
        for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
    } else {
        for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
    }
}

}  // namespace dcls::nn
