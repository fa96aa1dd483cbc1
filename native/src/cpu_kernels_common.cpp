// Helpers shared by the dispatchers of the library's own CPU kernels; see cpu_kernels_common.h.
#include "cpu_kernels_common.h"

#include <algorithm>

#include "padding.h"

namespace dcls {

std::vector<int64_t> source_table(int64_t extent, int64_t limit, int64_t n, int64_t shift, dcls_padding_mode mode,
                                  int64_t &lo, int64_t &hi) {
    std::vector<int64_t> table(extent);
    for (int64_t j = 0; j < extent; ++j) table[j] = j < limit ? padding_source(j - shift, n, mode) : -1;
    lo = std::min(std::max<int64_t>(shift, 0), std::min(limit, extent));
    hi = std::max(lo, std::min(shift + n, std::min(limit, extent)));
    return table;
}

bool use_avx512() {
    __builtin_cpu_init();
    const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                     __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    const char *forced = std::getenv("DCLS_CPU_ISA");
    return has && !(forced != nullptr && std::strcmp(forced, "avx2") == 0);
}

PaddedGeometry::PaddedGeometry(const dcls_conv_desc &d) {
    const int lead = 3 - d.ndim;
    const auto mode = static_cast<dcls_padding_mode>(d.padding_mode);
    for (int i = 0; i < 3; ++i) {
        const bool used = i >= lead;
        in[i] = used ? d.input_size[i - lead] : 1;
        k[i] = used ? d.kernel_size[i - lead] : 1;
        s[i] = used ? d.stride[i - lead] : 1;
        pad[i] = used ? d.padding[i - lead] : 0;
        out[i] = (in[i] + 2 * pad[i] - k[i]) / s[i] + 1;
        xp[i] = (out[i] - 1) * s[i] + k[i];
        src[i].resize(xp[i]);
        for (int64_t q = 0; q < xp[i]; ++q) src[i][q] = padding_source(q - pad[i], in[i], mode);
    }
    col_lo = std::min(pad[2], xp[2]);
    col_hi = std::max(col_lo, std::min(pad[2] + in[2], xp[2]));
}

}  // namespace dcls
