// Explicit padding for the non-zero padding modes (PyTorch semantics):
//   reflect   - mirror without repeating the edge: [a b c] pad 2 -> c b | a b c | b a
//   replicate - repeat the edge:                   [a b c] pad 2 -> a a | a b c | c c
//   circular  - wrap around:                       [a b c] pad 2 -> b c | a b c | a b
// Every plane is padded independently; the planes are spread over the OpenMP threads.
#include "padding.h"

#include <cstring>

namespace dcls {

namespace {

// The source index, in [0, n), of padded index j in [0, n + 2 pad). The caller guarantees
// pad < n for reflect and pad <= n for circular, so one reflection or wrap is enough.
inline int64_t source_index(int64_t j, int64_t n, int64_t pad, dcls_padding_mode mode) {
    int64_t i = j - pad;
    if (i >= 0 && i < n) return i;
    switch (mode) {
        case DCLS_PADDING_REFLECT: return i < 0 ? -i : 2 * (n - 1) - i;
        case DCLS_PADDING_REPLICATE: return i < 0 ? 0 : n - 1;
        case DCLS_PADDING_CIRCULAR: return i < 0 ? i + n : i - n;
        default: return i;  // unreachable: zero padding is done by oneDNN
    }
}

// The shape as three axes (d, h, w); unused leading axes have size 1 and no padding.
struct Axes {
    int64_t n[3];    // unpadded sizes
    int64_t p[3];    // padding
    int64_t np[3];   // padded sizes
    int64_t plane;   // unpadded plane size
    int64_t plane_padded;
};

Axes axes_of(const PadShape &shape) {
    Axes a{};
    const int lead = 3 - shape.ndim;
    for (int i = 0; i < 3; ++i) {
        a.n[i] = i < lead ? 1 : shape.size[i - lead];
        a.p[i] = i < lead ? 0 : shape.pad[i - lead];
        a.np[i] = a.n[i] + 2 * a.p[i];
    }
    a.plane = a.n[0] * a.n[1] * a.n[2];
    a.plane_padded = a.np[0] * a.np[1] * a.np[2];
    return a;
}

}  // namespace

void pad_forward(const PadShape &shape, dcls_padding_mode mode, const float *src, float *dst) {
    const Axes a = axes_of(shape);
    const int64_t nw = a.n[2], pw = a.p[2];
#pragma omp parallel for schedule(static)
    for (int64_t plane = 0; plane < shape.planes; ++plane) {
        const float *s = src + plane * a.plane;
        float *d = dst + plane * a.plane_padded;
        for (int64_t jd = 0; jd < a.np[0]; ++jd) {
            const int64_t id = source_index(jd, a.n[0], a.p[0], mode);
            for (int64_t jh = 0; jh < a.np[1]; ++jh) {
                const int64_t ih = source_index(jh, a.n[1], a.p[1], mode);
                const float *srow = s + (id * a.n[1] + ih) * nw;
                float *drow = d + (jd * a.np[1] + jh) * a.np[2];
                for (int64_t jw = 0; jw < pw; ++jw) drow[jw] = srow[source_index(jw, nw, pw, mode)];
                std::memcpy(drow + pw, srow, sizeof(float) * nw);
                for (int64_t jw = pw + nw; jw < a.np[2]; ++jw) drow[jw] = srow[source_index(jw, nw, pw, mode)];
            }
        }
    }
}

void pad_backward(const PadShape &shape, dcls_padding_mode mode, const float *src, float *dst) {
    const Axes a = axes_of(shape);
    const int64_t nw = a.n[2], pw = a.p[2];
#pragma omp parallel for schedule(static)
    for (int64_t plane = 0; plane < shape.planes; ++plane) {
        const float *s = src + plane * a.plane_padded;
        float *d = dst + plane * a.plane;
        std::memset(d, 0, sizeof(float) * a.plane);
        for (int64_t jd = 0; jd < a.np[0]; ++jd) {
            const int64_t id = source_index(jd, a.n[0], a.p[0], mode);
            for (int64_t jh = 0; jh < a.np[1]; ++jh) {
                const int64_t ih = source_index(jh, a.n[1], a.p[1], mode);
                const float *srow = s + (jd * a.np[1] + jh) * a.np[2];
                float *drow = d + (id * a.n[1] + ih) * nw;
                for (int64_t jw = 0; jw < pw; ++jw) drow[source_index(jw, nw, pw, mode)] += srow[jw];
                for (int64_t iw = 0; iw < nw; ++iw) drow[iw] += srow[pw + iw];
                for (int64_t jw = pw + nw; jw < a.np[2]; ++jw) drow[source_index(jw, nw, pw, mode)] += srow[jw];
            }
        }
    }
}

}  // namespace dcls
