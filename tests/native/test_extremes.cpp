// The C ABI at the extremes of its descriptors (issue 10): strides past the padded input (oneDNN
// crashed on them: SIGSEGV in brgemm's backward-data blocking), sizes near and past the 32-bit range,
// and element counts whose byte sizes overflow. Every case either runs and matches the naive double
// reference (conv_reference.h) or is refused with DCLS_ERROR_INVALID_ARGUMENT and a message.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "conv_reference.h"
#include "dcls.h"

using dcls_test::Ref;

static int passed = 0, failed = 0;

static void check(bool ok, const char *what, const dcls_conv_desc &d) {
    if (ok) {
        ++passed;
    } else {
        ++failed;
        std::printf("FAILED %s: %s\n", what, dcls_test::describe(d).c_str());
    }
}

static std::vector<float> random_vector(int64_t n, std::mt19937 &rng) {
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> v(static_cast<size_t>(n));
    for (float &x : v) x = u(rng);
    return v;
}

// Creates a plan, runs the three passes and compares them with the reference.
static void runs_and_matches(const dcls_conv_desc &d) {
    dcls_conv_plan *plan = nullptr;
    if (dcls_conv_plan_create(&d, &plan) != DCLS_OK) {
        std::printf("  plan: %s\n", dcls_last_error());
        check(false, "plan_create", d);
        return;
    }
    Ref r(d);
    std::mt19937 rng(7);
    const auto x = random_vector(r.x_count(), rng), w = random_vector(r.w_count(), rng),
               gy = random_vector(r.y_count(), rng), b = random_vector(d.out_channels, rng);
    std::vector<float> y(size_t(r.y_count())), gx(size_t(r.x_count())), gw(size_t(r.w_count())),
        gb(size_t(d.out_channels));
    int64_t out[3];
    check(dcls_conv_plan_output_size(plan, out) == DCLS_OK && out[0] * out[1] * out[2] == r.out_plane(),
          "output_size", d);
    check(dcls_conv_forward(plan, x.data(), w.data(), b.data(), y.data()) == DCLS_OK &&
              dcls_test::close(y, r.forward(x, w, b.data()), "y"),
          "forward", d);
    check(dcls_conv_backward_data(plan, gy.data(), w.data(), gx.data()) == DCLS_OK &&
              dcls_test::close(gx, r.grad_x(gy, w), "grad_x"),
          "backward_data", d);
    check(dcls_conv_backward_weights(plan, x.data(), gy.data(), gw.data(), gb.data(), 0) == DCLS_OK &&
              dcls_test::close(gw, r.grad_w(x, gy), "grad_w") && dcls_test::close(gb, r.grad_b(gy), "grad_b"),
          "backward_weights", d);
    check(dcls_conv_plan_destroy(plan) == DCLS_OK, "destroy", d);
}

static void refused(const dcls_conv_desc &d, const char *fragment) {
    dcls_conv_plan *plan = nullptr;
    const dcls_status s = dcls_conv_plan_create(&d, &plan);
    const bool ok = s == DCLS_ERROR_INVALID_ARGUMENT && plan == nullptr && std::strstr(dcls_last_error(), fragment);
    if (!ok) std::printf("  status %d, message '%s', expected '%s'\n", int(s), dcls_last_error(), fragment);
    check(ok, "refused", d);
    dcls_conv_plan_destroy(plan);
}

int main() {
    const int64_t strides[] = {12, 20000, 32768, 65535, 131072, int64_t(1) << 20, int64_t(1) << 24,
                               int64_t(1) << 30, INT32_MAX};
    for (int64_t s : strides) {
        // the case: (2, 3, 11), 3 -> 2, kernel 3, padding 2
        runs_and_matches(dcls_test::make_desc(1, DCLS_PADDING_ZEROS, 2, 3, 2, 1, 11, 3, s, 2));
        for (int mode = DCLS_PADDING_ZEROS; mode <= DCLS_PADDING_CIRCULAR; ++mode) {
            runs_and_matches(dcls_test::make_desc(2, mode, 1, 4, 4, 2, 5, 3, s, 1));
            runs_and_matches(dcls_test::make_desc(2, mode, 1, 3, 3, 3, 6, 5, s, 2));  // depthwise
        }
        runs_and_matches(dcls_test::make_desc(3, DCLS_PADDING_ZEROS, 1, 2, 2, 1, 4, 3, s, 1));
        dcls_conv_desc mixed = dcls_test::make_desc(2, DCLS_PADDING_ZEROS, 1, 2, 3, 1, 7, 3, 1, 1);
        mixed.stride[1] = s;  // one huge stride, one ordinary
        runs_and_matches(mixed);
    }

    // padding far beyond a tiny input (the fuzz harness found replicate padding of 3000 on an input of
    // 2 corrupting the heap in backward)
    for (int64_t pad : {int64_t(10), int64_t(100), int64_t(1000), int64_t(3000), int64_t(10000)})
        for (int mode : {DCLS_PADDING_ZEROS, DCLS_PADDING_REPLICATE})
            for (int64_t k : {int64_t(1), int64_t(3)}) {
                runs_and_matches(dcls_test::make_desc(1, mode, 1, 2, 3, 1, 2, k, 2, pad));
                runs_and_matches(dcls_test::make_desc(1, mode, 2, 2, 2, 2, 3, k, 1, pad));  // depthwise
            }
    runs_and_matches(dcls_test::make_desc(2, DCLS_PADDING_REPLICATE, 1, 2, 2, 1, 2, 3, 3, 200));
    // what the primitive saw there: oneDNN's jit_1x1 backward weights crashed on long strided 1D rows
    for (int64_t width : {int64_t(2002), int64_t(6002), int64_t(20001)})
        for (int64_t s : {int64_t(1), int64_t(2), int64_t(3)}) {
            runs_and_matches(dcls_test::make_desc(1, DCLS_PADDING_ZEROS, 1, 2, 3, 1, width, 1, s, 0));
            runs_and_matches(dcls_test::make_desc(1, DCLS_PADDING_ZEROS, 1, 4, 6, 2, width, 1, s, 0));  // grouped
        }

    // past the 32-bit range, or overflowing a byte count: refused before any allocation
    dcls_conv_desc d = dcls_test::make_desc(1, DCLS_PADDING_ZEROS, 1, 2, 2, 1, 11, 3, 1, 1);
    dcls_conv_desc bad = d;
    bad.stride[0] = int64_t(1) << 40;
    refused(bad, "stride[0]");
    bad = d;
    bad.padding[0] = int64_t(1) << 31;
    refused(bad, "padding[0]");
    bad = d;
    bad.input_size[0] = int64_t(1) << 33;
    refused(bad, "input_size[0]");
    bad = d;
    bad.padding[0] = (int64_t(1) << 30) + 5;
    refused(bad, "padded input[0]");
    bad = d;
    bad.batch = int64_t(1) << 31;
    refused(bad, "batch");
    bad = d;
    bad.in_channels = bad.out_channels = bad.groups = int64_t(1) << 40;
    refused(bad, "in_channels");
    bad = dcls_test::make_desc(3, DCLS_PADDING_ZEROS, 1 << 20, 1 << 20, 1 << 20, 1, 1 << 20, 1, 1, 0);
    refused(bad, "bytes");
    bad = d;
    bad.kernel_size[0] = INT64_MAX;
    refused(bad, "kernel_size[0]");
    bad = d;
    bad.padding[0] = INT64_MAX / 2;  // padded size overflows int64 arithmetic
    refused(bad, "padding[0]");

    std::printf("test_extremes: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
