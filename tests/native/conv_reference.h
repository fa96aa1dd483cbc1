// What the native convolution tests share (test_conv.cpp, test_cuda.cpp): the naive double-precision
// convolution they compare against (the definition of a cross-correlation with PyTorch's padding
// modes, written for clarity), the comparison, a fixed shape and a one-line description of one.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "dcls.h"

namespace dcls_test {

std::string describe(const dcls_conv_desc &d) {
    static const char *modes[] = {"zeros", "reflect", "replicate", "circular"};
    std::string s = std::to_string(d.ndim) + "D " + modes[d.padding_mode] + " N=" + std::to_string(d.batch) +
                    " Cin=" + std::to_string(d.in_channels) + " Cout=" + std::to_string(d.out_channels) +
                    " g=" + std::to_string(d.groups);
    auto list = [&](const char *name, const int64_t *v) {
        s += std::string(" ") + name + "=";
        for (int i = 0; i < d.ndim; ++i) s += (i ? "x" : "") + std::to_string(v[i]);
    };
    list("in", d.input_size);
    list("k", d.kernel_size);
    list("s", d.stride);
    list("p", d.padding);
    return s;
}

struct Ref {
    dcls_conv_desc d;
    int64_t in[3], k[3], s[3], p[3], out[3];

    explicit Ref(const dcls_conv_desc &desc) : d(desc) {
        const int lead = 3 - d.ndim;
        for (int i = 0; i < 3; ++i) {
            const bool used = i >= lead;
            in[i] = used ? d.input_size[i - lead] : 1;
            k[i] = used ? d.kernel_size[i - lead] : 1;
            s[i] = used ? d.stride[i - lead] : 1;
            p[i] = used ? d.padding[i - lead] : 0;
            out[i] = (in[i] + 2 * p[i] - k[i]) / s[i] + 1;
        }
    }
    int64_t in_plane() const { return in[0] * in[1] * in[2]; }
    int64_t out_plane() const { return out[0] * out[1] * out[2]; }
    int64_t k_plane() const { return k[0] * k[1] * k[2]; }
    int64_t x_count() const { return d.batch * d.in_channels * in_plane(); }
    int64_t y_count() const { return d.batch * d.out_channels * out_plane(); }
    int64_t w_count() const { return d.out_channels * (d.in_channels / d.groups) * k_plane(); }

    // The input index read at position i (in unpadded coordinates, possibly outside) along an
    // axis of size n, or -1 for a zero. Written as a definition, not as the library does it.
    int64_t source(int64_t i, int64_t n) const {
        if (i >= 0 && i < n) return i;
        switch (d.padding_mode) {
            case DCLS_PADDING_ZEROS: return -1;
            case DCLS_PADDING_REPLICATE: return std::min<int64_t>(std::max<int64_t>(i, 0), n - 1);
            case DCLS_PADDING_CIRCULAR: return ((i % n) + n) % n;
            default:  // reflect about the edge cells, numpy 'reflect'
                while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
                return i;
        }
    }

    // Calls f(out_offset, in_offset, kernel_offset) for every product term of the convolution,
    // where in_offset is -1 for a zero.
    template <typename F>
    void for_each_term(F f) const {
        const int64_t cin_g = d.in_channels / d.groups, cout_g = d.out_channels / d.groups;
        for (int64_t n = 0; n < d.batch; ++n)
            for (int64_t o = 0; o < d.out_channels; ++o)
                for (int64_t ci = 0; ci < cin_g; ++ci) {
                    const int64_t c = (o / cout_g) * cin_g + ci;
                    for (int64_t od = 0; od < out[0]; ++od)
                        for (int64_t oh = 0; oh < out[1]; ++oh)
                            for (int64_t ow = 0; ow < out[2]; ++ow)
                                for (int64_t kd = 0; kd < k[0]; ++kd) {
                                    const int64_t id = source(od * s[0] + kd - p[0], in[0]);
                                    for (int64_t kh = 0; kh < k[1]; ++kh) {
                                        const int64_t ih = source(oh * s[1] + kh - p[1], in[1]);
                                        for (int64_t kw = 0; kw < k[2]; ++kw) {
                                            const int64_t iw = source(ow * s[2] + kw - p[2], in[2]);
                                            const int64_t yo = ((n * d.out_channels + o) * out[0] + od) * out[1] * out[2] +
                                                               oh * out[2] + ow;
                                            const int64_t xo = id < 0 || ih < 0 || iw < 0
                                                                   ? -1
                                                                   : ((n * d.in_channels + c) * in[0] + id) * in[1] * in[2] +
                                                                         ih * in[2] + iw;
                                            const int64_t wo = ((o * cin_g + ci) * k[0] + kd) * k[1] * k[2] + kh * k[2] + kw;
                                            f(yo, xo, wo);
                                        }
                                    }
                                }
                }
    }

    std::vector<double> forward(const std::vector<float> &x, const std::vector<float> &w, const float *bias) const {
        std::vector<double> y(size_t(y_count()), 0.0);
        for (int64_t n = 0; n < d.batch; ++n)
            for (int64_t o = 0; o < d.out_channels; ++o)
                for (int64_t i = 0; i < out_plane(); ++i)
                    y[size_t((n * d.out_channels + o) * out_plane() + i)] = bias ? bias[o] : 0.0;
        for_each_term([&](int64_t yo, int64_t xo, int64_t wo) {
            if (xo >= 0) y[size_t(yo)] += double(x[size_t(xo)]) * w[size_t(wo)];
        });
        return y;
    }
    std::vector<double> grad_x(const std::vector<float> &gy, const std::vector<float> &w) const {
        std::vector<double> gx(size_t(x_count()), 0.0);
        for_each_term([&](int64_t yo, int64_t xo, int64_t wo) {
            if (xo >= 0) gx[size_t(xo)] += double(gy[size_t(yo)]) * w[size_t(wo)];
        });
        return gx;
    }
    std::vector<double> grad_w(const std::vector<float> &x, const std::vector<float> &gy) const {
        std::vector<double> gw(size_t(w_count()), 0.0);
        for_each_term([&](int64_t yo, int64_t xo, int64_t wo) {
            if (xo >= 0) gw[size_t(wo)] += double(gy[size_t(yo)]) * x[size_t(xo)];
        });
        return gw;
    }
    std::vector<double> grad_b(const std::vector<float> &gy) const {
        std::vector<double> gb(size_t(d.out_channels), 0.0);
        for (int64_t n = 0; n < d.batch; ++n)
            for (int64_t o = 0; o < d.out_channels; ++o)
                for (int64_t i = 0; i < out_plane(); ++i) gb[size_t(o)] += gy[size_t((n * d.out_channels + o) * out_plane() + i)];
        return gb;
    }
};

// max|got - ref| <= tol * max(1, max|ref|), where ref may carry a prior value (accumulate); NaN fails.
inline bool close(const std::vector<float> &got, const std::vector<double> &ref, const std::string &what,
                  double tol = 1e-4) {
    if (got.size() != ref.size()) {
        std::printf("  %s: size %zu vs %zu\n", what.c_str(), got.size(), ref.size());
        return false;
    }
    double err = 0.0, scale = 1.0;
    for (size_t i = 0; i < ref.size(); ++i) {
        const double e = std::fabs(double(got[i]) - ref[i]);
        err = std::isnan(e) ? INFINITY : std::max(err, e);
        scale = std::max(scale, std::fabs(ref[i]));
    }
    const bool ok = err <= tol * scale;
    if (!ok) std::printf("  %s: max|err| %.3g, scale %.3g\n", what.c_str(), err, scale);
    return ok;
}

// A shape with the same size, kernel, stride and padding on every axis (sizes made non-square).
inline dcls_conv_desc make_desc(int ndim, int mode, int64_t n, int64_t cin, int64_t cout, int64_t g, int64_t size,
                                int64_t k, int64_t s, int64_t p) {
    dcls_conv_desc d{};
    d.ndim = ndim;
    d.padding_mode = mode;
    d.batch = n;
    d.in_channels = cin;
    d.out_channels = cout;
    d.groups = g;
    for (int i = 0; i < ndim; ++i) {
        d.input_size[i] = size + i;  // non-square
        d.kernel_size[i] = k;
        d.stride[i] = s;
        d.padding[i] = p;
    }
    return d;
}

}  // namespace dcls_test
