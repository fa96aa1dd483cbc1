// The shape of a kernel construction, derived once from its descriptor for the CPU construction and the
// CUDA kernels: the kernel as 3D (user axis d is axis d + first, leading axes of size 1), the pairs, the
// elements per pair and the stride between the position arrays of two axes. A plain aggregate, so CUDA
// kernels take it by value; Real is the type the Gaussian's offset is used in (double on the CPU, float in
// the CUDA kernels).
#pragma once

#include <cstdint>

#include "construct_math.h"
#include "dcls.h"

namespace dcls {

template <class Real>
struct ConstructGeometry {
    int ndim;
    int interpolation;     // math::base_interpolation of the descriptor's
    Real gauss_offset;     // math::gauss_sigma_offset of the descriptor's
    int first;             // 3 - ndim: the 3D axis of user axis 0
    int64_t pairs;         // Cout * Cin/g
    int64_t count;         // K
    int64_t param_stride;  // Cout * Cin/g * K: distance between positions[d] and positions[d + 1]
    int64_t size[3];
    int64_t area;
};

// For a validated descriptor.
template <class Real>
inline ConstructGeometry<Real> construct_geometry(const dcls_construct_desc &d) {
    ConstructGeometry<Real> g{};
    g.ndim = d.ndim;
    g.interpolation = math::base_interpolation(d.interpolation);
    g.gauss_offset = Real(math::gauss_sigma_offset(d.interpolation));
    g.first = 3 - d.ndim;
    g.pairs = d.out_channels * d.in_per_group;
    g.count = d.kernel_count;
    g.param_stride = g.pairs * d.kernel_count;
    g.area = 1;
    for (int a = 0; a < 3; ++a) {
        g.size[a] = a < g.first ? 1 : d.dilated_kernel_size[a - g.first];
        g.area *= g.size[a];
    }
    return g;
}

}  // namespace dcls
