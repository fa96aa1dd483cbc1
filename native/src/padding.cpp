// Explicit padding (PyTorch semantics):
//   zeros     - 0 outside the input
//   reflect   - mirror without repeating the edge: [a b c] pad 2 -> c b | a b c | b a
//   replicate - repeat the edge:                   [a b c] pad 2 -> a a | a b c | c c
//   circular  - wrap around:                       [a b c] pad 2 -> b c | a b c | a b
// A padded input is the window of the padded planes that starts at -pad and spans size + 2 pad;
// kernel windows (conv_plan.cpp) cut narrower ones. Every plane is handled independently; the
// planes are spread over the OpenMP threads.
#include "padding.h"

#include <algorithm>
#include <cstring>

namespace dcls {

namespace {

// The window as three axes (d, h, w); unused leading axes have one cell.
struct Axes {
    int64_t n[3];      // unpadded sizes
    int64_t start[3];  // first window cell, unpadded index
    int64_t len[3];    // window sizes
    int64_t plane;     // unpadded plane size
    int64_t plane_window;
};

Axes axes_of(const PadWindow &w) {
    Axes a{};
    const int lead = 3 - w.ndim;
    for (int i = 0; i < 3; ++i) {
        a.n[i] = i < lead ? 1 : w.size[i - lead];
        a.start[i] = i < lead ? 0 : w.start[i - lead];
        a.len[i] = i < lead ? 1 : w.length[i - lead];
    }
    a.plane = a.n[0] * a.n[1] * a.n[2];
    a.plane_window = a.len[0] * a.len[1] * a.len[2];
    return a;
}

PadWindow whole(const PadShape &shape) {
    PadWindow w{shape.ndim, shape.planes, {1, 1, 1}, {0, 0, 0}, {1, 1, 1}};
    for (int i = 0; i < shape.ndim; ++i) {
        w.size[i] = shape.size[i];
        w.start[i] = -shape.pad[i];
        w.length[i] = shape.size[i] + 2 * shape.pad[i];
    }
    return w;
}

// The part [lo, hi) of a window row (cells j, unpadded index start + j) that lies inside the input.
inline void inner_range(int64_t start, int64_t len, int64_t n, int64_t *lo, int64_t *hi) {
    *lo = std::clamp<int64_t>(-start, 0, len);
    *hi = std::clamp<int64_t>(n - start, *lo, len);
}

}  // namespace

void window_forward(const PadWindow &window, dcls_padding_mode mode, const float *src, float *dst) {
    const Axes a = axes_of(window);
    const int64_t nw = a.n[2], sw = a.start[2], lw = a.len[2];
    int64_t lo, hi;
    inner_range(sw, lw, nw, &lo, &hi);
#pragma omp parallel for schedule(static)
    for (int64_t plane = 0; plane < window.planes; ++plane) {
        const float *s = src + plane * a.plane;
        float *d = dst + plane * a.plane_window;
        for (int64_t jd = 0; jd < a.len[0]; ++jd) {
            const int64_t id = padding_source(a.start[0] + jd, a.n[0], mode);
            for (int64_t jh = 0; jh < a.len[1]; ++jh) {
                const int64_t ih = padding_source(a.start[1] + jh, a.n[1], mode);
                float *drow = d + (jd * a.len[1] + jh) * lw;
                if (id < 0 || ih < 0) {
                    std::memset(drow, 0, sizeof(float) * lw);
                    continue;
                }
                const float *srow = s + (id * a.n[1] + ih) * nw;
                for (int64_t jw = 0; jw < lo; ++jw) {
                    const int64_t iw = padding_source(sw + jw, nw, mode);
                    drow[jw] = iw < 0 ? 0.f : srow[iw];
                }
                std::memcpy(drow + lo, srow + sw + lo, sizeof(float) * (hi - lo));
                for (int64_t jw = hi; jw < lw; ++jw) {
                    const int64_t iw = padding_source(sw + jw, nw, mode);
                    drow[jw] = iw < 0 ? 0.f : srow[iw];
                }
            }
        }
    }
}

void window_backward(const PadWindow &window, dcls_padding_mode mode, const float *src, float *dst) {
    const Axes a = axes_of(window);
    const int64_t nw = a.n[2], sw = a.start[2], lw = a.len[2];
    int64_t lo, hi;
    inner_range(sw, lw, nw, &lo, &hi);
#pragma omp parallel for schedule(static)
    for (int64_t plane = 0; plane < window.planes; ++plane) {
        const float *s = src + plane * a.plane_window;
        float *d = dst + plane * a.plane;
        std::memset(d, 0, sizeof(float) * a.plane);
        for (int64_t jd = 0; jd < a.len[0]; ++jd) {
            const int64_t id = padding_source(a.start[0] + jd, a.n[0], mode);
            for (int64_t jh = 0; jh < a.len[1]; ++jh) {
                const int64_t ih = padding_source(a.start[1] + jh, a.n[1], mode);
                if (id < 0 || ih < 0) continue;
                const float *srow = s + (jd * a.len[1] + jh) * lw;
                float *drow = d + (id * a.n[1] + ih) * nw;
                for (int64_t jw = 0; jw < lo; ++jw) {
                    const int64_t iw = padding_source(sw + jw, nw, mode);
                    if (iw >= 0) drow[iw] += srow[jw];
                }
                for (int64_t jw = lo; jw < hi; ++jw) drow[sw + jw] += srow[jw];
                for (int64_t jw = hi; jw < lw; ++jw) {
                    const int64_t iw = padding_source(sw + jw, nw, mode);
                    if (iw >= 0) drow[iw] += srow[jw];
                }
            }
        }
    }
}

void pad_forward(const PadShape &shape, dcls_padding_mode mode, const float *src, float *dst) {
    window_forward(whole(shape), mode, src, dst);
}

void pad_backward(const PadShape &shape, dcls_padding_mode mode, const float *src, float *dst) {
    window_backward(whole(shape), mode, src, dst);
}

}  // namespace dcls
