// The work orders of the tap-sparse convolution's kernels (sparse_conv.h), handed from the
// dispatcher (sparse_conv.cpp) to the ISA-specific kernels (sparse_conv_avx512.cpp,
// sparse_conv_avx2.cpp). Plain data only, as depthwise_conv_job.h.
#pragma once

#include <cstdint>

namespace dcls {

// Rows of a destination, each a sum of weighted, shifted source rows (one per non-zero kernel
// cell): forward (destination y by output channel, sources rows of x) and backward data
// (destination grad_x by input channel and phase, sources rows of grad_y). Destination unit u
// (channel u / (rows * phases), row u / phases % rows, phase u % phases) holds Jp floats (a
// multiple of the vector width); its non-zeros are z in [start[cp * (blocks + 1) + b],
// start[cp * (blocks + 1) + b + 1]) for source block b, cp = channel * phases + phase, and it reads
//   forward:        src_base + row_offset(row) + src[z] + j
//   backward data:  src_base + src[z] + source_row(row, kd[z], kh[z]) * src_row + j, where
//                   source_row is the grad_y row (od, oh) with od * s0 + kd = id (likewise h), and
//                   the non-zero is skipped when there is none.
struct SparseRowsJob {
    int64_t units, rows, phases, blocks, Jp;
    bool backward;  // backward data (the row rule above), else forward
    // Destination row r is (r / dst_h, r % dst_h) of its plane.
    // forward: row (od, oh) reads source row offset (od * s0 * P1 + oh * s1) * src_row.
    // backward data: row (a, b) is the padded row (id, ih) = (lo0 + a, lo1 + b) of P0 x P1 (with zero
    // padding only the interior is computed: the rest would be thrown away); source rows (od, oh)
    // of OD x OH.
    int64_t dst_h, lo0, lo1, s0, s1, P1, OD, OH, src_row;
    int64_t dst_unit;  // floats between destination units (rows, phases): consecutive
    int64_t col0;      // each destination row's floats [col0, col0 + Jp) are computed (and read from col0 on)
    const int64_t *start;
    const int64_t *src;
    const int32_t *kd, *kh;
    const float *w;
    // Runs: run[z] != 0 when non-zeros z and z + 1 are neighbouring cells along the last axis (same
    // pair, same kernel row), so that their sources are run_floats apart (forward: z + 1 above z;
    // backward data: below). Null, or a distance that is not 1, 2, 4 or 8 vectors: no runs.
    const uint8_t *run;
    int64_t run_floats;
    const float *bias;  // per channel, or null (forward only)
    const float *src_base;
    float *dst;
    int threads;
};

// Backward weights: for each output channel o and each of its non-zeros z,
//   grad[z] = sum over rows r and j < Jp of gy[(o * rows + r) * gy_row + gy_margin + j] * x[row_offset(r) + src[z] + j]
// (row_offset as in forward; gy is zero past each row's valid floats). Non-zeros of o in block b:
// [start[o * (blocks + 1) + b], ... + 1).
//
// o's non-zeros in block b are given as items, item[start[at] ...) with at = o * (blocks + 1) + b:
// first the runs (SparseRowsJob::run: their first non-zero z, z + 1's source run_floats above z's)
// up to split[at], then the single non-zeros up to end[at]. One load of x serves both of a run's
// cells: grad[z] takes gy's row at q, grad[z + 1] at q - run_floats, which gy's rows allow with
// zeros on either side (gy_margin >= run_floats before, run_floats + a vector after).
struct SparseWeightsJob {
    int64_t channels, rows, blocks, Jp;
    int64_t out_h, s0, s1, P1, src_row;
    int64_t gy_row, gy_margin;  // floats per gy row, and its zeros before the row's first float
    const int64_t *start;
    const int64_t *src;
    const int64_t *item, *split, *end;
    int64_t run_floats;
    const float *gy, *x;
    double *grad;  // per non-zero
    int threads;
};

void sparse_rows_avx512(const SparseRowsJob &job);
void sparse_rows_avx2(const SparseRowsJob &job);
void sparse_weights_avx512(const SparseWeightsJob &job);
void sparse_weights_avx2(const SparseWeightsJob &job);

// Vector widths (floats).
constexpr int64_t kSparseAvx512Lanes = 16, kSparseAvx2Lanes = 8;

}  // namespace dcls
