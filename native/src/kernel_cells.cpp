// The kernel cells of a construction (kernel_cells.h). Two passes over the pairs, in parallel:
// kernel_cells_cpu counts each pair's distinct cells (keeping every element's ranges, so that the
// second pass needs no interpolation maths), kernel_cells_fill writes them after the prefix sum.
// Each pass marks a pair's cells in a per-thread table of the plane's size (a stamp per pair, so
// no clearing), and the written lists are sorted, so that the convolution reads its input in order.
#include "kernel_cells.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "construct_math.h"

namespace dcls {

namespace {

// The cells [lo, hi) of one axis where element factor u (or, with gradient, du/dc or du/dsigma)
// is not 0, as construct_cpu.cpp computes them (double); lo == hi when there are none.
void axis_cells(int interpolation, const math::AxisParams<double> &a, int64_t size, bool gradient, int64_t &lo,
                int64_t &hi) {
    math::axis_window(interpolation, a, size, &lo, &hi);
    if (interpolation == DCLS_INTERPOLATION_GAUSSIAN) return;  // no zero inside the window
    auto zero = [&](int64_t idx) {
        const math::AxisWeight<double> w = math::axis_weight(interpolation, a, idx);
        return w.u == 0.0 && (!gradient || (w.du_dc == 0.0 && w.du_dsigma == 0.0));
    };
    while (lo < hi && zero(lo)) ++lo;
    while (hi > lo && zero(hi - 1)) --hi;
}

}  // namespace

void kernel_cells_cpu(const dcls_construct_desc &desc, const float *positions, const float *sigma, bool gradient,
                      KernelCells &cells) {
    const int nd = desc.ndim, first = 3 - nd;
    const int64_t pairs = desc.out_channels * desc.in_per_group, count = desc.kernel_count;
    const int64_t stride = pairs * count;  // between positions[d] and positions[d + 1]
    cells.ndim = nd;
    cells.pairs = pairs;
    cells.elements_per_pair = count;
    cells.gradient = gradient;
    for (int a = 0; a < 3; ++a) cells.size[a] = a < first ? 1 : desc.dilated_kernel_size[a - first];
    const int64_t area = cells.size[0] * cells.size[1] * cells.size[2];
    cells.start.resize(size_t(pairs + 1));

    cells.ranges.resize(size_t(6 * pairs * count));
    int32_t *ranges = cells.ranges.data();
    // The Gaussian with offset 1 (DCLS_INTERPOLATION_GAUSSIAN_UNIT_OFFSET) is the Gaussian's maths.
    const int interpolation = math::base_interpolation(desc.interpolation);
    const double gauss_offset = math::gauss_sigma_offset(desc.interpolation);
    // Element e's cells along 3D axis a: [lo, hi).
    auto element_axis = [&](int64_t e, int a, int64_t &lo, int64_t &hi) {
        if (a < first) {
            lo = 0;
            hi = 1;
            return;
        }
        const int d = a - first;
        const double pos = positions[d * stride + e];
        const double sig = sigma ? double(sigma[d * stride + e]) : 0.0;
        axis_cells(interpolation, math::axis_params(interpolation, pos, sig, cells.size[a], gauss_offset), cells.size[a],
                   gradient, lo, hi);
    };
    // Calls f(n) for each n distinct new cells of pair p (mark, stamp: the thread's table) and
    // keeps each element's ranges; widens [box_lo, box_hi) (3D axes) to every element's cells.
    auto for_each_cell = [&](int64_t p, int64_t *mark, int64_t *box_lo, int64_t *box_hi, auto &&f) {
        const int64_t stamp = p + 1;
        for (int64_t k = 0; k < count; ++k) {
            int64_t lo[3], hi[3];
            int32_t *r = ranges + 6 * (p * count + k);
            bool empty = false;
            for (int a = 0; a < 3; ++a) {
                if (empty) lo[a] = hi[a] = 0;
                else element_axis(p * count + k, a, lo[a], hi[a]);
                r[2 * a] = int32_t(lo[a]);
                r[2 * a + 1] = int32_t(hi[a]);
                empty = empty || lo[a] >= hi[a];
            }
            if (empty) continue;
            for (int a = 0; a < 3; ++a) {
                box_lo[a] = std::min(box_lo[a], lo[a]);
                box_hi[a] = std::max(box_hi[a], hi[a]);
            }
            if (count == 1) {  // one element: its cells are distinct, no table needed
                f((hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2]));
                continue;
            }
            for (int64_t i = lo[0]; i < hi[0]; ++i)
                for (int64_t j = lo[1]; j < hi[1]; ++j)
                    for (int64_t l = lo[2]; l < hi[2]; ++l) {
                        const int64_t c = (i * cells.size[1] + j) * cells.size[2] + l;
                        if (mark[c] == stamp) continue;
                        mark[c] = stamp;
                        f(1);
                    }
        }
    };

    const int threads = std::max(1, omp_get_max_threads());
    cells.marks.assign(size_t(threads * area), 0);
    int64_t lo0 = INT64_MAX, lo1 = INT64_MAX, lo2 = INT64_MAX, hi0 = 0, hi1 = 0, hi2 = 0;
#pragma omp parallel num_threads(threads) reduction(min : lo0, lo1, lo2) reduction(max : hi0, hi1, hi2)
    {
        int64_t *mark = cells.marks.data() + omp_get_thread_num() * area;
        int64_t box_lo[3] = {INT64_MAX, INT64_MAX, INT64_MAX}, box_hi[3] = {0, 0, 0};
#pragma omp for schedule(static)
        for (int64_t p = 0; p < pairs; ++p) {
            int64_t n = 0;
            for_each_cell(p, mark, box_lo, box_hi, [&](int64_t cells_of_element) { n += cells_of_element; });
            cells.start[size_t(p + 1)] = n;
        }
        lo0 = std::min(lo0, box_lo[0]);
        lo1 = std::min(lo1, box_lo[1]);
        lo2 = std::min(lo2, box_lo[2]);
        hi0 = std::max(hi0, box_hi[0]);
        hi1 = std::max(hi1, box_hi[1]);
        hi2 = std::max(hi2, box_hi[2]);
    }
    cells.start[0] = 0;
    for (int64_t p = 0; p < pairs; ++p) cells.start[size_t(p + 1)] += cells.start[size_t(p)];

    // The box, per user axis, around every cell (the first cell when there is none).
    for (int d = 0; d < 3; ++d) {
        cells.lo[d] = 0;
        cells.hi[d] = 1;
    }
    const int64_t lo[3] = {lo0, lo1, lo2}, hi[3] = {hi0, hi1, hi2};
    if (cells.count() > 0)
        for (int d = 0; d < nd; ++d) {
            cells.lo[d] = lo[first + d];
            cells.hi[d] = hi[first + d];
        }
}


void kernel_cells_fill(KernelCells &cells) {
    const int64_t pairs = cells.pairs, count = cells.elements_per_pair;
    const int64_t area = cells.size[0] * cells.size[1] * cells.size[2];
    const int threads = std::max(1, int(cells.marks.size() / size_t(std::max<int64_t>(area, 1))));
    const int32_t *ranges = cells.ranges.data();
    cells.cell.resize(size_t(cells.count()));
#pragma omp parallel num_threads(threads)
    {
        int64_t *mark = cells.marks.data() + omp_get_thread_num() * area;
        std::fill(mark, mark + area, 0);
#pragma omp for schedule(static)
        for (int64_t p = 0; p < pairs; ++p) {
            int32_t *out = cells.cell.data() + cells.start[size_t(p)];
            int64_t n = 0;
            const int64_t stamp = p + 1;
            if (count == 1) {  // one element: its cells come distinct and ascending
                const int32_t *r = ranges + 6 * p;
                if (r[0] >= r[1] || r[2] >= r[3] || r[4] >= r[5]) continue;
                for (int64_t i = r[0]; i < r[1]; ++i)
                    for (int64_t j = r[2]; j < r[3]; ++j)
                        for (int64_t l = r[4]; l < r[5]; ++l) out[n++] = int32_t((i * cells.size[1] + j) * cells.size[2] + l);
                continue;
            }
            for (int64_t k = 0; k < count; ++k) {
                const int32_t *r = ranges + 6 * (p * count + k);
                if (r[0] >= r[1] || r[2] >= r[3] || r[4] >= r[5]) continue;
                for (int64_t i = r[0]; i < r[1]; ++i)
                    for (int64_t j = r[2]; j < r[3]; ++j)
                        for (int64_t l = r[4]; l < r[5]; ++l) {
                            const int64_t c = (i * cells.size[1] + j) * cells.size[2] + l;
                            if (mark[c] == stamp) continue;
                            mark[c] = stamp;
                            out[n++] = int32_t(c);
                        }
            }
            std::sort(out, out + n);
        }
    }
}

}  // namespace dcls
