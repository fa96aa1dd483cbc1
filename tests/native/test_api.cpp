// Tests of the C ABI's contract itself: statuses, messages, null handling, versions.
#include <cmath>
#include <cstdio>
#include <cstring>

#include "dcls.h"

static int passed = 0, failed = 0;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (cond) {                                                              \
            ++passed;                                                            \
        } else {                                                                 \
            ++failed;                                                            \
            std::printf("FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond);        \
        }                                                                        \
    } while (0)

static bool invalid_with_message(dcls_status s, const char *expected_fragment) {
    return s == DCLS_ERROR_INVALID_ARGUMENT && std::strstr(dcls_last_error(), expected_fragment) != nullptr;
}

int main() {
    CHECK(std::strlen(dcls_version()) > 0);
    CHECK(dcls_last_error() != nullptr);

    int32_t major = 0, minor = 0, patch = 0;
    CHECK(dcls_onednn_version(&major, &minor, &patch) == DCLS_OK);
    CHECK(major == 3 && minor == 13);
    CHECK(invalid_with_message(dcls_onednn_version(nullptr, &minor, &patch), "major is null"));
    CHECK(std::strlen(dcls_cpu_isa()) > 0);

    CHECK(dcls_set_num_threads(1) == DCLS_OK);
    CHECK(dcls_get_num_threads() == 1);
    CHECK(dcls_set_num_threads(0) == DCLS_OK);
    CHECK(dcls_get_num_threads() >= 1);

    // position upkeep: the clamp per axis ([-(L / 2), L / 2], L / 2 rounded down, NaN kept) and
    // rounding half to even, written out here
    {
        dcls_construct_desc pd = {2, DCLS_INTERPOLATION_BILINEAR, 1, 1, 4, {5, 4, 1}};
        const float nan = std::nanf("");
        float pos[8] = {-3.5f, 2.5f, 1.25f, nan, -2.5f, 2.5f, -1.5f, 0.5f};
        CHECK(dcls_positions_clamp(&pd, pos) == DCLS_OK);
        const float clamped[8] = {-2.f, 2.f, 1.25f, nan, -2.f, 2.f, -1.5f, 0.5f};
        for (int i = 0; i < 8; ++i) CHECK(std::isnan(clamped[i]) ? std::isnan(pos[i]) : pos[i] == clamped[i]);
        float r[8];
        CHECK(dcls_positions_round(pos, r, 8) == DCLS_OK);
        const float rounded[8] = {-2.f, 2.f, 1.f, nan, -2.f, 2.f, -2.f, 0.f};
        for (int i = 0; i < 8; ++i) CHECK(std::isnan(rounded[i]) ? std::isnan(r[i]) : r[i] == rounded[i]);
        const float halves[4] = {0.5f, 1.5f, -0.5f, 3.5f};
        float h[4];
        CHECK(dcls_positions_round(halves, h, 4) == DCLS_OK);
        CHECK(h[0] == 0.f && h[1] == 2.f && h[2] == 0.f && h[3] == 4.f);
        CHECK(invalid_with_message(dcls_positions_clamp(&pd, nullptr), "positions is null"));
        CHECK(invalid_with_message(dcls_positions_round(halves, h, -1), "count must be >= 0"));
        CHECK(dcls_positions_round(nullptr, nullptr, 0) == DCLS_OK);
    }

    // construction: bad descriptors never reach the kernels
    float w[4] = {1, 1, 1, 1}, p[8] = {0}, s[8] = {0}, k[100] = {0};
    dcls_construct_desc d = {2, DCLS_INTERPOLATION_GAUSSIAN, 1, 1, 4, {5, 5, 1}};
    CHECK(dcls_construct_forward(&d, w, p, s, k) == DCLS_OK);
    CHECK(invalid_with_message(dcls_construct_forward(nullptr, w, p, s, k), "desc is null"));
    CHECK(invalid_with_message(dcls_construct_forward(&d, w, p, nullptr, k), "sigma is null"));
    dcls_construct_desc bad = d;
    bad.ndim = 4;
    CHECK(invalid_with_message(dcls_construct_forward(&bad, w, p, s, k), "ndim"));
    bad = d;
    bad.kernel_count = 0;
    CHECK(invalid_with_message(dcls_construct_forward(&bad, w, p, s, k), "kernel_count"));
    bad = d;
    bad.interpolation = 7;
    CHECK(invalid_with_message(dcls_construct_forward(&bad, w, p, s, k), "interpolation"));
    bad = d;
    bad.interpolation = DCLS_INTERPOLATION_BILINEAR;
    float gs[8];
    CHECK(invalid_with_message(dcls_construct_backward(&bad, w, p, nullptr, k, nullptr, nullptr, gs, 0), "grad_sigma"));

    // convolution plans
    dcls_conv_desc c = {2, DCLS_PADDING_ZEROS, 1, 4, 6, 2, {8, 8, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}};
    dcls_conv_plan *plan = nullptr;
    CHECK(dcls_conv_plan_create(&c, &plan) == DCLS_OK && plan != nullptr);
    int64_t out[3];
    CHECK(dcls_conv_plan_output_size(plan, out) == DCLS_OK && out[0] == 8 && out[1] == 8 && out[2] == 1);
    CHECK(invalid_with_message(dcls_conv_forward(plan, nullptr, k, nullptr, k), "x is null"));
    CHECK(invalid_with_message(dcls_conv_forward(nullptr, k, k, nullptr, k), "plan is null"));
    CHECK(dcls_conv_plan_destroy(plan) == DCLS_OK);
    CHECK(dcls_conv_plan_destroy(nullptr) == DCLS_OK);

    dcls_conv_desc bc = c;
    bc.groups = 3;
    plan = reinterpret_cast<dcls_conv_plan *>(0x1);
    CHECK(invalid_with_message(dcls_conv_plan_create(&bc, &plan), "groups") && plan == nullptr);
    bc = c;
    bc.kernel_size[0] = 11;
    CHECK(invalid_with_message(dcls_conv_plan_create(&bc, &plan), "smaller than the kernel"));
    bc = c;
    bc.padding_mode = DCLS_PADDING_REFLECT;
    bc.padding[0] = 8;
    bc.kernel_size[0] = 17;
    CHECK(invalid_with_message(dcls_conv_plan_create(&bc, &plan), "reflect"));
    bc = c;
    bc.stride[1] = 0;
    CHECK(invalid_with_message(dcls_conv_plan_create(&bc, &plan), "stride[1]"));

    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
