// Tests of dcls_construct_forward / dcls_construct_backward against a naive float64 evaluation
// of the reference formulas (directly over the whole grid), central finite differences of it,
// exact kink cases, accumulate, null outputs and argument errors.
// Prints "N passed, M failed"; exits non-zero on any failure.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dcls.h"

namespace {

int passed = 0;
int failed = 0;

void check(bool ok, const std::string &what) {
    if (ok) {
        ++passed;
    } else {
        ++failed;
        std::printf("FAIL: %s\n", what.c_str());
    }
}

const char *interp_name(int interp) {
    switch (interp) {
        case DCLS_INTERPOLATION_BILINEAR: return "bilinear";
        case DCLS_INTERPOLATION_TRIANGLE: return "triangle";
        case DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH: return "triangle_learned_width";
        case DCLS_INTERPOLATION_GAUSSIAN_UNIT_OFFSET: return "gaussian_unit_offset";
        default: return "gaussian";
    }
}

bool is_gaussian(int interp) {
    return interp == DCLS_INTERPOLATION_GAUSSIAN || interp == DCLS_INTERPOLATION_GAUSSIAN_UNIT_OFFSET;
}

bool uses_sigma(int interp) {
    return interp == DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH || is_gaussian(interp);
}

struct Config {
    int ndim;
    int interp;
    int64_t cout, cin, count;
    int64_t dks[3];

    dcls_construct_desc desc() const {
        dcls_construct_desc d{};
        d.ndim = ndim;
        d.interpolation = interp;
        d.out_channels = cout;
        d.in_per_group = cin;
        d.kernel_count = count;
        for (int i = 0; i < 3; ++i) d.dilated_kernel_size[i] = i < ndim ? dks[i] : 0;
        return d;
    }
    int64_t pairs() const { return cout * cin; }
    int64_t area() const {
        int64_t a = 1;
        for (int i = 0; i < ndim; ++i) a *= dks[i];
        return a;
    }
    int64_t params() const { return pairs() * count; }  // per weight array / per positions axis
    std::string name() const {
        std::string s = std::string(interp_name(interp)) + " ndim=" + std::to_string(ndim) + " dks=";
        for (int i = 0; i < ndim; ++i) s += (i ? "x" : "") + std::to_string(dks[i]);
        return s + " Cout=" + std::to_string(cout) + " Cin/g=" + std::to_string(cin) +
               " K=" + std::to_string(count);
    }
};

// Parameters in double (the naive reference's precision); the library gets them as float.
struct Params {
    std::vector<double> weight, positions, sigma;
};

std::vector<float> to_float(const std::vector<double> &v) { return std::vector<float>(v.begin(), v.end()); }

// The kernel of one (o, i) pair, directly from the reference formulas over the whole grid.
void naive_pair(const Config &c, const Params &p, int64_t pair, double *out) {
    const int64_t area = c.area();
    for (int64_t e = 0; e < area; ++e) out[e] = 0.0;
    std::vector<double> u(area);
    for (int64_t k = 0; k < c.count; ++k) {
        const int64_t at = pair * c.count + k;
        double centre[3], sig[3];
        for (int d = 0; d < c.ndim; ++d) {
            centre[d] = p.positions[d * c.params() + at] + double(c.dks[d] / 2);
            sig[d] = uses_sigma(c.interp) ? std::fabs(p.sigma[d * c.params() + at]) : 0.0;
        }
        double total = 0.0;
        for (int64_t e = 0; e < area; ++e) {
            int64_t idx[3], rest = e;
            for (int d = c.ndim - 1; d >= 0; --d) {
                idx[d] = rest % c.dks[d];
                rest /= c.dks[d];
            }
            double v = 1.0, exponent = 0.0;
            for (int d = 0; d < c.ndim; ++d) {
                const double x = double(idx[d]) - centre[d];
                switch (c.interp) {
                    case DCLS_INTERPOLATION_BILINEAR: {
                        const double f = std::floor(centre[d]), r = centre[d] - f;
                        v *= double(idx[d]) == f ? 1.0 - r : double(idx[d]) == f + 1.0 ? r : 0.0;
                        break;
                    }
                    case DCLS_INTERPOLATION_TRIANGLE: v *= std::max(0.0, 1.0 - std::fabs(x)); break;
                    case DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH:
                        v *= std::max(0.0, sig[d] + 1.0 - std::fabs(x));
                        break;
                    default: {
                        const double offset = c.interp == DCLS_INTERPOLATION_GAUSSIAN_UNIT_OFFSET ? 1.0 : 0.27;
                        const double t = x / (sig[d] + offset);
                        exponent += t * t;
                    }
                }
            }
            if (is_gaussian(c.interp)) v = std::exp(-0.5 * exponent);
            u[e] = v;
            total += v;
        }
        const double w = p.weight[at];
        const double scale = c.interp == DCLS_INTERPOLATION_BILINEAR ? w : w / (total + 1e-7);
        for (int64_t e = 0; e < area; ++e) out[e] += scale * u[e];
    }
}

std::vector<double> naive_forward(const Config &c, const Params &p) {
    std::vector<double> k(c.pairs() * c.area());
    for (int64_t pair = 0; pair < c.pairs(); ++pair) naive_pair(c, p, pair, k.data() + pair * c.area());
    return k;
}

// sum over one pair of g * kernel.
double pair_loss(const Config &c, const Params &p, int64_t pair, const std::vector<double> &g,
                 std::vector<double> &scratch) {
    naive_pair(c, p, pair, scratch.data());
    double s = 0.0;
    for (int64_t e = 0; e < c.area(); ++e) s += g[pair * c.area() + e] * scratch[e];
    return s;
}

// Central finite differences of sum(g * kernel) with respect to every parameter.
struct Grads {
    std::vector<double> weight, positions, sigma;
};

Grads finite_differences(const Config &c, Params p, const std::vector<double> &g, double h) {
    Grads out;
    std::vector<double> scratch(c.area());
    auto diff = [&](std::vector<double> &values, int64_t index, int64_t pair) {
        const double saved = values[index];
        values[index] = saved + h;
        const double plus = pair_loss(c, p, pair, g, scratch);
        values[index] = saved - h;
        const double minus = pair_loss(c, p, pair, g, scratch);
        values[index] = saved;
        return (plus - minus) / (2.0 * h);
    };
    const int64_t n = c.params();
    out.weight.resize(n);
    out.positions.resize(c.ndim * n);
    if (uses_sigma(c.interp)) out.sigma.resize(c.ndim * n);
    for (int64_t at = 0; at < n; ++at) {
        const int64_t pair = at / c.count;
        out.weight[at] = diff(p.weight, at, pair);
        for (int d = 0; d < c.ndim; ++d) {
            out.positions[d * n + at] = diff(p.positions, d * n + at, pair);
            if (uses_sigma(c.interp)) out.sigma[d * n + at] = diff(p.sigma, d * n + at, pair);
        }
    }
    return out;
}

double max_abs(const std::vector<double> &v) {
    double m = 0.0;
    for (double x : v) m = std::max(m, std::fabs(x));
    return m;
}

// |got - ref| <= tol * max(1, max|ref|) everywhere.
bool close(const std::vector<float> &got, const std::vector<double> &ref, double tol, std::string *detail) {
    if (got.size() != ref.size()) return false;
    const double bound = tol * std::max(1.0, max_abs(ref));
    double worst = 0.0;
    size_t worst_at = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        const double e = std::fabs(double(got[i]) - ref[i]);
        if (!(e <= worst)) {  // NaN counts as worst
            worst = std::isnan(e) ? INFINITY : e;
            worst_at = i;
        }
    }
    if (worst <= bound) return true;
    char buf[200];
    std::snprintf(buf, sizeof buf, " (max error %.3g at %zu: got %.9g, expected %.9g; bound %.3g)", worst,
                  worst_at, double(got[worst_at]), ref[worst_at], bound);
    *detail = buf;
    return false;
}

bool no_denormals(const std::vector<float> &v) {
    for (float x : v)
        if (x != 0.0f && std::fabs(x) < FLT_MIN) return false;
    return true;
}

struct Rng {
    std::mt19937_64 engine;
    explicit Rng(uint64_t seed) : engine(seed) {}
    double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(engine); }
    int64_t integer(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(engine); }
};

// True when some offset |idx - c| is within `margin` of a kink (0, or the triangle's half-width),
// or floor(c) is within `margin` of changing, or |sigma| is within `margin` of 0.
bool near_kink(const Config &c, double position, double sigma, int64_t size, double margin) {
    const double centre = position + double(size / 2);
    if (c.interp == DCLS_INTERPOLATION_BILINEAR) {
        const double r = centre - std::floor(centre);
        return r < margin || r > 1.0 - margin;
    }
    if (uses_sigma(c.interp) && std::fabs(sigma) < margin) return true;
    if (is_gaussian(c.interp)) return false;
    const double width = c.interp == DCLS_INTERPOLATION_TRIANGLE ? 1.0 : std::fabs(sigma) + 1.0;
    for (int64_t idx = 0; idx < size; ++idx) {
        const double x = std::fabs(double(idx) - centre);
        if (x < margin || std::fabs(x - width) < margin) return true;
    }
    return false;
}

// Random parameters, exactly representable in float. spread: positions in
// [-(size/2) - spread, size - size/2 + spread), so elements can fall partly or wholly off.
// avoid_kinks: redraw until no kink is within 1e-3 (for finite differences).
Params random_params(const Config &c, Rng &rng, double spread, bool avoid_kinks, bool special_sigma) {
    Params p;
    const int64_t n = c.params();
    p.weight.resize(n);
    p.positions.resize(c.ndim * n);
    if (uses_sigma(c.interp)) p.sigma.resize(c.ndim * n);
    for (int64_t at = 0; at < n; ++at) {
        p.weight[at] = double(float(rng.uniform(-1.0, 1.0)));
        for (int d = 0; d < c.ndim; ++d) {
            const int64_t size = c.dks[d];
            for (int attempt = 0;; ++attempt) {
                const double pos = double(float(rng.uniform(-double(size / 2) - spread,
                                                            double(size - size / 2) + spread)));
                double sig = 0.0;
                if (uses_sigma(c.interp)) {
                    const int kind = int(rng.integer(0, 9));
                    if (special_sigma && kind == 0) sig = 0.0;
                    else if (special_sigma && kind == 1) sig = -double(float(rng.uniform(0.0, 2.0)));
                    else sig = double(float(rng.uniform(-2.0, 2.0)));
                }
                if (!avoid_kinks || !near_kink(c, pos, sig, size, 1e-3)) {
                    p.positions[d * n + at] = pos;
                    if (uses_sigma(c.interp)) p.sigma[d * n + at] = sig;
                    break;
                }
            }
        }
    }
    return p;
}

std::vector<double> random_vector(Rng &rng, int64_t n) {
    std::vector<double> v(n);
    for (auto &x : v) x = double(float(rng.uniform(-1.0, 1.0)));
    return v;
}

struct Result {
    dcls_status status;
    std::vector<float> weight, positions, sigma;
};

Result run_backward(const Config &c, const Params &p, const std::vector<double> &g, int32_t accumulate,
                    const Result *initial = nullptr) {
    const dcls_construct_desc d = c.desc();
    const std::vector<float> w = to_float(p.weight), pos = to_float(p.positions), sig = to_float(p.sigma),
                             gk = to_float(g);
    Result r;
    if (initial) {
        r.weight = initial->weight;
        r.positions = initial->positions;
        r.sigma = initial->sigma;
    } else {
        r.weight.assign(c.params(), NAN);
        r.positions.assign(c.ndim * c.params(), NAN);
        if (uses_sigma(c.interp)) r.sigma.assign(c.ndim * c.params(), NAN);
    }
    r.status = dcls_construct_backward(&d, w.data(), pos.data(), uses_sigma(c.interp) ? sig.data() : nullptr,
                                       gk.data(), r.weight.data(), r.positions.data(),
                                       uses_sigma(c.interp) ? r.sigma.data() : nullptr, accumulate);
    return r;
}

std::vector<float> run_forward(const Config &c, const Params &p, dcls_status *status) {
    const dcls_construct_desc d = c.desc();
    const std::vector<float> w = to_float(p.weight), pos = to_float(p.positions), sig = to_float(p.sigma);
    std::vector<float> k(c.pairs() * c.area(), NAN);
    *status = dcls_construct_forward(&d, w.data(), pos.data(), uses_sigma(c.interp) ? sig.data() : nullptr,
                                     k.data());
    return k;
}

const int kInterps[] = {DCLS_INTERPOLATION_BILINEAR, DCLS_INTERPOLATION_TRIANGLE,
                        DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH, DCLS_INTERPOLATION_GAUSSIAN,
                        DCLS_INTERPOLATION_GAUSSIAN_UNIT_OFFSET};

std::vector<Config> shapes(int interp) {
    return {
        {1, interp, 2, 3, 3, {7, 0, 0}},
        {1, interp, 1, 1, 5, {1, 0, 0}},
        {1, interp, 3, 1, 4, {12, 0, 0}},
        {2, interp, 2, 2, 3, {5, 8, 0}},
        {2, interp, 3, 1, 4, {7, 7, 0}},
        {2, interp, 1, 2, 2, {1, 6, 0}},
        {3, interp, 2, 2, 3, {3, 4, 6}},
        {3, interp, 1, 1, 2, {5, 5, 5}},
    };
}

void test_forward_random() {
    Rng rng(12345);
    for (int interp : kInterps)
        for (const Config &c : shapes(interp))
            for (int trial = 0; trial < 3; ++trial) {
                // trial 0: near the grid; 1: often partly off; 2: often wholly off.
                const double spread = trial == 0 ? 0.0 : trial == 1 ? 2.0 : 6.0;
                const Params p = random_params(c, rng, spread, false, true);
                dcls_status st;
                const std::vector<float> k = run_forward(c, p, &st);
                std::string detail;
                check(st == DCLS_OK && close(k, naive_forward(c, p), 1e-4, &detail),
                      "forward " + c.name() + " trial " + std::to_string(trial) + detail);
                check(no_denormals(k), "forward " + c.name() + " has no denormals");
            }
}

void test_backward_finite_differences() {
    Rng rng(777);
    for (int interp : kInterps)
        for (const Config &c : shapes(interp))
            for (int trial = 0; trial < 2; ++trial) {
                const Params p = random_params(c, rng, trial == 0 ? 0.5 : 2.5, true, false);
                const std::vector<double> g = random_vector(rng, c.pairs() * c.area());
                const Grads ref = finite_differences(c, p, g, 1e-5);
                const Result r = run_backward(c, p, g, 0);
                const std::string name = "backward " + c.name() + " trial " + std::to_string(trial);
                check(r.status == DCLS_OK, name + " status");
                std::string detail;
                check(close(r.weight, ref.weight, 1e-4, &detail), name + " grad_weight" + detail);
                detail.clear();
                check(close(r.positions, ref.positions, 1e-4, &detail), name + " grad_positions" + detail);
                if (uses_sigma(interp)) {
                    detail.clear();
                    check(close(r.sigma, ref.sigma, 1e-4, &detail), name + " grad_sigma" + detail);
                }
            }
}

// The DCLS default: 17x17, K=34, Gaussian; plus a triangle at the same size.
void test_large() {
    Rng rng(4242);
    for (int interp : {DCLS_INTERPOLATION_GAUSSIAN, DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH}) {
        const Config c{2, interp, 3, 2, 34, {17, 17, 0}};
        const Params p = random_params(c, rng, 1.0, true, false);
        dcls_status st;
        const std::vector<float> k = run_forward(c, p, &st);
        std::string detail;
        check(st == DCLS_OK && close(k, naive_forward(c, p), 1e-4, &detail), "forward " + c.name() + detail);
        const std::vector<double> g = random_vector(rng, c.pairs() * c.area());
        const Grads ref = finite_differences(c, p, g, 1e-5);
        const Result r = run_backward(c, p, g, 0);
        detail.clear();
        check(r.status == DCLS_OK && close(r.weight, ref.weight, 1e-4, &detail),
              "backward " + c.name() + " grad_weight" + detail);
        detail.clear();
        check(close(r.positions, ref.positions, 1e-4, &detail), "backward " + c.name() + " grad_positions" + detail);
        detail.clear();
        check(close(r.sigma, ref.sigma, 1e-4, &detail), "backward " + c.name() + " grad_sigma" + detail);
    }
}

// At kinks, the derivative conventions of torch: sign(0) = 0, relu'(0) = 0, floor' = 0.
void test_kinks() {
    Rng rng(99);
    // TRIANGLE at integer positions: every |x| is 0 or >= 1, so grad_positions is exactly 0
    // (and the kernel is w / (1 + 1e-7) at the centre cell).
    for (int ndim = 1; ndim <= 3; ++ndim) {
        const Config c{ndim, DCLS_INTERPOLATION_TRIANGLE, 2, 2, 3, {5, 6, 4}};
        Params p = random_params(c, rng, 0.0, false, false);
        for (double &x : p.positions) x = std::round(x);
        const std::vector<double> g = random_vector(rng, c.pairs() * c.area());
        const Result r = run_backward(c, p, g, 0);
        bool zero = r.status == DCLS_OK;
        for (float v : r.positions) zero = zero && v == 0.0f;
        check(zero, "triangle ndim=" + std::to_string(ndim) + " integer positions: grad_positions exactly 0");
        dcls_status st;
        std::string detail;
        check(close(run_forward(c, p, &st), naive_forward(c, p), 1e-4, &detail),
              "triangle integer positions forward" + detail);
    }
    // TRIANGLE, integer along axis 0 only: that axis's gradient is exactly 0, axis 1 matches
    // finite differences.
    {
        const Config c{2, DCLS_INTERPOLATION_TRIANGLE, 1, 1, 2, {6, 7, 0}};
        Params p;
        p.weight = {0.75, -0.5};
        p.positions = {1.0, -2.0, 0.375, 1.625};  // axis 0: integer; axis 1: fractional
        const std::vector<double> g = random_vector(rng, c.area());
        const Result r = run_backward(c, p, g, 0);
        check(r.status == DCLS_OK && r.positions[0] == 0.0f && r.positions[1] == 0.0f,
              "triangle: integer axis has exactly 0 gradient");
        const Grads ref = finite_differences(c, p, g, 1e-5);
        check(std::fabs(r.positions[2] - ref.positions[2]) < 1e-4 && std::fabs(r.positions[3] - ref.positions[3]) < 1e-4,
              "triangle: fractional axis matches finite differences");
    }
    // TRIANGLE_LEARNED_WIDTH and GAUSSIAN with sigma exactly 0: grad_sigma is exactly 0.
    // LEARNED_WIDTH at integer positions with sigma 0 is TRIANGLE there: grad_positions exactly 0.
    for (int interp : {DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH, DCLS_INTERPOLATION_GAUSSIAN}) {
        const Config c{2, interp, 2, 1, 3, {7, 5, 0}};
        Params p = random_params(c, rng, 0.0, false, false);
        for (double &x : p.positions) x = std::round(x);
        for (size_t i = 0; i < p.sigma.size(); ++i) p.sigma[i] = i % 2 ? 0.0 : -0.0;
        const std::vector<double> g = random_vector(rng, c.pairs() * c.area());
        const Result r = run_backward(c, p, g, 0);
        bool zero = r.status == DCLS_OK;
        for (float v : r.sigma) zero = zero && v == 0.0f;
        check(zero, std::string(interp_name(interp)) + " sigma 0: grad_sigma exactly 0");
        if (interp == DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH) {
            for (float v : r.positions) zero = zero && v == 0.0f;
            check(zero, "triangle_learned_width integer positions, sigma 0: grad_positions exactly 0");
        } else {
            // Gaussian at integer positions: symmetric, finite differences are fine.
            const Grads ref = finite_differences(c, p, g, 1e-5);
            std::string detail;
            check(close(r.positions, ref.positions, 1e-4, &detail), "gaussian sigma 0 grad_positions" + detail);
        }
    }
    // BILINEAR at an integer centre: right-sided derivative, w * (g[c + 1] - g[c]) in 1D; the
    // kernel is w at c. At c = -1 (cell 0 has weight 0), the gradient is still w * g[0].
    {
        const Config c{1, DCLS_INTERPOLATION_BILINEAR, 1, 1, 3, {6, 0, 0}};
        Params p;
        p.weight = {0.5, -1.25, 2.0};
        p.positions = {-1.0, -4.0, 2.0};  // centres 2, -1, 5 (the last cell)
        const std::vector<double> g = {0.1, -0.2, 0.3, 0.7, -0.5, 0.25};
        const Result r = run_backward(c, p, g, 0);
        const double expected[3] = {0.5 * (0.7 - 0.3), -1.25 * (-0.1 * 0 + 0.1), 2.0 * (0.0 - 0.25)};
        bool ok = r.status == DCLS_OK;
        for (int k = 0; k < 3; ++k) ok = ok && std::fabs(r.positions[k] - expected[k]) < 1e-6;
        check(ok, "bilinear integer centres: right-sided derivative");
        ok = std::fabs(r.weight[0] - 0.3) < 1e-7 && r.weight[1] == 0.0f && std::fabs(r.weight[2] - 0.25) < 1e-7;
        check(ok, "bilinear integer centres: grad_weight");
        dcls_status st;
        const std::vector<float> k = run_forward(c, p, &st);
        const std::vector<float> expect = {0.0f, 0.0f, 0.5f, 0.0f, 0.0f, 2.0f};
        check(st == DCLS_OK && k == expect, "bilinear integer centres: forward");
    }
}

void test_accumulate_and_nulls() {
    Rng rng(2024);
    for (int interp : kInterps) {
        const Config c{2, interp, 2, 3, 4, {5, 6, 0}};
        const Params p = random_params(c, rng, 1.0, true, true);
        const std::vector<double> g = random_vector(rng, c.pairs() * c.area());
        const Result fresh = run_backward(c, p, g, 0);
        Result initial;
        initial.weight = to_float(random_vector(rng, c.params()));
        initial.positions = to_float(random_vector(rng, c.ndim * c.params()));
        if (uses_sigma(interp)) initial.sigma = to_float(random_vector(rng, c.ndim * c.params()));
        const Result acc = run_backward(c, p, g, 1, &initial);
        auto added = [](const std::vector<float> &got, const std::vector<float> &base, const std::vector<float> &delta) {
            for (size_t i = 0; i < got.size(); ++i)
                if (std::fabs(got[i] - (base[i] + delta[i])) > 1e-5f * std::max(1.0f, std::fabs(got[i]))) return false;
            return got.size() == base.size();
        };
        const std::string name = std::string(interp_name(interp)) + " accumulate=1";
        check(acc.status == DCLS_OK && added(acc.weight, initial.weight, fresh.weight), name + " grad_weight");
        check(added(acc.positions, initial.positions, fresh.positions), name + " grad_positions");
        if (uses_sigma(interp)) check(added(acc.sigma, initial.sigma, fresh.sigma), name + " grad_sigma");

        // Each output alone (the others null): same values.
        const dcls_construct_desc d = c.desc();
        const std::vector<float> w = to_float(p.weight), pos = to_float(p.positions), sig = to_float(p.sigma),
                                 gk = to_float(g);
        const float *sp = uses_sigma(interp) ? sig.data() : nullptr;
        std::vector<float> only(c.params(), NAN);
        dcls_status st = dcls_construct_backward(&d, w.data(), pos.data(), sp, gk.data(), only.data(), nullptr,
                                                 nullptr, 0);
        check(st == DCLS_OK && only == fresh.weight, name + ": grad_weight alone");
        only.assign(c.ndim * c.params(), NAN);
        st = dcls_construct_backward(&d, w.data(), pos.data(), sp, gk.data(), nullptr, only.data(), nullptr, 0);
        check(st == DCLS_OK && only == fresh.positions, name + ": grad_positions alone");
        if (uses_sigma(interp)) {
            only.assign(c.ndim * c.params(), NAN);
            st = dcls_construct_backward(&d, w.data(), pos.data(), sp, gk.data(), nullptr, nullptr, only.data(), 0);
            check(st == DCLS_OK && only == fresh.sigma, name + ": grad_sigma alone");
        }
        st = dcls_construct_backward(&d, w.data(), pos.data(), sp, gk.data(), nullptr, nullptr, nullptr, 0);
        check(st == DCLS_OK, name + ": all outputs null");
    }
}

// Gaussian tails: values below FLT_MIN come out as exactly 0, not denormals.
void test_denormals_flushed() {
    const Config c{1, DCLS_INTERPOLATION_GAUSSIAN, 1, 1, 1, {40, 0, 0}};
    Params p;
    p.weight = {1.0};
    p.positions = {0.3 - 20.0};  // centre 0.3; cell 4 is exp(-0.5 (3.7 / 0.27)^2) ~ 1.7e-41
    p.sigma = {0.0};
    dcls_status st;
    const std::vector<float> k = run_forward(c, p, &st);
    check(st == DCLS_OK && k[4] == 0.0f && k[3] > 0.0f && no_denormals(k), "gaussian tail flushed to 0");
    const std::vector<double> g(40, 1e-30);
    const Result r = run_backward(c, p, g, 0);
    check(r.status == DCLS_OK && no_denormals(r.weight) && no_denormals(r.positions) && no_denormals(r.sigma),
          "gradients have no denormals");
}

// Results do not depend on the number of threads (each (o, i) pair is computed by one thread
// with its own scratch), with more threads than pairs or cores too.
void test_thread_counts() {
    Rng rng(31);
    for (int interp : kInterps) {
        const Config c{2, interp, 7, 3, 5, {9, 6, 0}};
        const Params p = random_params(c, rng, 1.0, false, true);
        const std::vector<double> g = random_vector(rng, c.pairs() * c.area());
        std::vector<float> kernels[3];
        Result grads[3];
        const int counts[3] = {1, 2, 5};
        for (int t = 0; t < 3; ++t) {
            dcls_set_num_threads(counts[t]);
            dcls_status st;
            kernels[t] = run_forward(c, p, &st);
            grads[t] = run_backward(c, p, g, 0);
        }
        dcls_set_num_threads(0);
        bool same = true;
        for (int t = 1; t < 3; ++t)
            same = same && kernels[t] == kernels[0] && grads[t].weight == grads[0].weight &&
                   grads[t].positions == grads[0].positions && grads[t].sigma == grads[0].sigma;
        check(same, std::string(interp_name(interp)) + ": same results with 1, 2 and 5 threads");
    }
}

void test_errors() {
    const Config good{2, DCLS_INTERPOLATION_GAUSSIAN, 1, 1, 1, {3, 3, 0}};
    const float w[1] = {1}, pos[2] = {0, 0}, sig[2] = {0, 0}, g[9] = {};
    float k[9], gw[1], gp[2], gs[2];
    auto expect_invalid = [](dcls_status st, const std::string &what) {
        check(st == DCLS_ERROR_INVALID_ARGUMENT && std::strlen(dcls_last_error()) > 0,
              what + " gives DCLS_ERROR_INVALID_ARGUMENT and a message");
    };
    dcls_construct_desc d = good.desc();
    check(dcls_construct_forward(&d, w, pos, sig, k) == DCLS_OK, "valid forward call");
    check(dcls_construct_backward(&d, w, pos, sig, g, gw, gp, gs, 0) == DCLS_OK, "valid backward call");
    expect_invalid(dcls_construct_forward(nullptr, w, pos, sig, k), "forward null desc");
    expect_invalid(dcls_construct_forward(&d, nullptr, pos, sig, k), "forward null weight");
    expect_invalid(dcls_construct_forward(&d, w, nullptr, sig, k), "forward null positions");
    expect_invalid(dcls_construct_forward(&d, w, pos, nullptr, k), "forward null sigma (gaussian)");
    expect_invalid(dcls_construct_forward(&d, w, pos, sig, nullptr), "forward null kernel");
    expect_invalid(dcls_construct_backward(nullptr, w, pos, sig, g, gw, gp, gs, 0), "backward null desc");
    expect_invalid(dcls_construct_backward(&d, nullptr, pos, sig, g, gw, gp, gs, 0), "backward null weight");
    expect_invalid(dcls_construct_backward(&d, w, nullptr, sig, g, gw, gp, gs, 0), "backward null positions");
    expect_invalid(dcls_construct_backward(&d, w, pos, sig, nullptr, gw, gp, gs, 0), "backward null grad_kernel");
    expect_invalid(dcls_construct_backward(&d, w, pos, nullptr, g, gw, gp, gs, 0), "backward null sigma (gaussian)");
    dcls_construct_desc bad = d;
    bad.ndim = 4;
    expect_invalid(dcls_construct_forward(&bad, w, pos, sig, k), "forward ndim 4");
    expect_invalid(dcls_construct_backward(&bad, w, pos, sig, g, gw, gp, gs, 0), "backward ndim 4");
    bad.ndim = 0;
    expect_invalid(dcls_construct_forward(&bad, w, pos, sig, k), "forward ndim 0");
    bad = d;
    bad.kernel_count = 0;
    expect_invalid(dcls_construct_forward(&bad, w, pos, sig, k), "forward kernel_count 0");
    expect_invalid(dcls_construct_backward(&bad, w, pos, sig, g, gw, gp, gs, 0), "backward kernel_count 0");
    bad = d;
    bad.interpolation = 5;
    expect_invalid(dcls_construct_forward(&bad, w, pos, sig, k), "forward interpolation 5");
    bad = d;
    bad.dilated_kernel_size[1] = 0;
    expect_invalid(dcls_construct_forward(&bad, w, pos, sig, k), "forward dilated size 0");
    bad = d;
    bad.out_channels = 0;
    expect_invalid(dcls_construct_forward(&bad, w, pos, sig, k), "forward out_channels 0");
    bad = d;
    bad.interpolation = DCLS_INTERPOLATION_TRIANGLE;
    expect_invalid(dcls_construct_backward(&bad, w, pos, nullptr, g, gw, gp, gs, 0),
                   "backward grad_sigma for triangle");
    check(dcls_construct_backward(&bad, w, pos, nullptr, g, gw, gp, nullptr, 0) == DCLS_OK,
          "triangle backward without sigma");
}

}  // namespace

int main() {
    test_forward_random();
    test_backward_finite_differences();
    test_large();
    test_kinks();
    test_accumulate_and_nulls();
    test_denormals_flushed();
    test_thread_counts();
    test_errors();
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
