package io.dcls4j.vector;

import java.util.Arrays;

/**
 * A dense kernel {@code (outCh, ipg, kd, kh, kw)} arranged for the kernels of one {@link CorrPlan}: rows stored
 * phase-ordered (see {@link CorrPlan#phOff}), and for every block of outputs a list of "row descriptors", one per
 * (input channel, kernel row, phase) with non-zero values: input offset {@code dx}, kernel offset {@code dk} and the
 * range {@code [lo, hi)} of phase columns holding non-zeros. Rows of zeros are left out, so a sparse kernel costs
 * less; a kernel loop is then two flat loops (descriptors, columns), which the JIT compiles best.
 *
 * <ul>
 *   <li>Several input channels per group: output channels go 4 at a time inside each group (block
 *       {@code g * nb4 + b}), values interleaved in {@code k4 [block][i][tap][4]}, descriptors from
 *       {@code block * cap} ({@code count4[block]} of them, {@code cap = ipg * kd * kh * phases}); {@code dx}
 *       relative to the group's first input plane, {@code dk} an index into k4 (of the column-0 value, 4 per
 *       column). The {@code opg % 4} last channels of each group use {@code k1 [o][i][tap]} and descriptors from
 *       {@code o * cap} ({@code count1[o]}).</li>
 *   <li>One input channel per group, shared-row form ({@link #sharedRows}: stride 1 along H, at least 4 output
 *       rows): {@code k1 [o][z][3 + kh + 3][kw]}, each depth slice framed by 3 zero rows on both sides; one
 *       descriptor per (z, input row q &lt; kh + 3, phase) with the union of the ranges of the 4 kernel rows
 *       q - t (t = 0..3) and {@code dk} pointing at row q (t = 0); {@code dx} relative to the block's first input
 *       row. From {@code o * cap}, {@code cap = kd * (kh + 3) * phases}.</li>
 *   <li>One input channel per group, otherwise: {@code k1 [o][tap]}, one descriptor per (z, h, phase), {@code dx}
 *       relative to the output row's first input, from {@code o * cap}, {@code cap = kd * kh * phases}.</li>
 * </ul>
 */
final class PackedKernel {
    final CorrPlan p;
    final boolean depthwise;
    final boolean sharedRows;
    final int kRows;
    final int nb4;
    final int rem;
    final int cap;
    final float[] k4;
    final float[] k1;
    final int[] dx;
    final int[] dk;
    final int[] lo;
    final int[] hi;
    final int[] count4;
    final int[] count1;
    /** Descriptors of the 4-channel blocks follow the per-channel ones from this index. */
    final int base4;

    PackedKernel(CorrPlan p) {
        this.p = p;
        depthwise = p.ipg == 1;
        sharedRows = depthwise && p.sh == 1 && p.oh >= 4;
        kRows = p.kd * p.kh;
        if (depthwise) {
            nb4 = 0;
            rem = 0;
            cap = p.kd * (sharedRows ? p.kh + 3 : p.kh) * p.phases;
            k4 = null;
            k1 = new float[sharedRows ? p.outCh * p.kd * (p.kh + 6) * p.kw : p.outCh * p.taps];
            count4 = null;
            base4 = 0;
        } else {
            nb4 = p.opg / 4;
            rem = p.opg % 4;
            cap = p.ipg * kRows * p.phases;
            k4 = new float[p.groups * nb4 * p.ipg * p.taps * 4];
            k1 = new float[p.outCh * p.ipg * p.taps];
            count4 = new int[p.groups * nb4];
            base4 = p.outCh * cap;
        }
        count1 = new int[p.outCh];
        int descriptors = p.outCh * cap + (count4 == null ? 0 : count4.length * cap);
        dx = new int[descriptors];
        dk = new int[descriptors];
        lo = new int[descriptors];
        hi = new int[descriptors];
    }

    /** Output channel blocks per group: {@code nb4} blocks of 4, then {@code rem} single channels. */
    int blocksPerGroup() {
        return nb4 + rem;
    }

    void pack(float[] k) {
        final int taps = p.taps;
        final int ipg = p.ipg;
        final int kw = p.kw;
        final int phases = p.phases;
        if (depthwise) {
            int tasks = Math.min(p.outCh, 4 * VectorParallel.threads());
            VectorParallel.run(tasks, (task, worker) -> {
                for (int o = task * p.outCh / tasks, end = (task + 1) * p.outCh / tasks; o < end; o++) {
                    int n = o * cap;
                    if (sharedRows) {
                        int kp = p.kh + 6;
                        int kb = o * p.kd * kp * kw;
                        Arrays.fill(k1, kb, kb + p.kd * kp * kw, 0f);
                        for (int z = 0; z < p.kd; z++) {
                            for (int h = 0; h < p.kh; h++) {
                                int src = o * taps + (z * p.kh + h) * kw;
                                int dst = kb + (z * kp + h + 3) * kw;
                                for (int c = 0; c < kw; c++) {
                                    k1[dst + p.colPos[c]] = k[src + c];
                                }
                            }
                            for (int q = 0; q < p.kh + 3; q++) {
                                for (int f = 0; f < phases; f++) {
                                    int a = Integer.MAX_VALUE;
                                    int b = 0;
                                    for (int t = 0; t < 4; t++) {
                                        int row = kb + (z * kp + q + 3 - t) * kw + p.phOff[f];
                                        for (int j = 0; j < p.phN[f]; j++) {
                                            if (k1[row + j] != 0f) {
                                                a = Math.min(a, j);
                                                b = Math.max(b, j + 1);
                                            }
                                        }
                                    }
                                    if (b > a) {
                                        dx[n] = (z * p.xh + q) * p.wr + f * p.ws;
                                        dk[n] = kb + (z * kp + q + 3) * kw + p.phOff[f];
                                        lo[n] = a;
                                        hi[n] = b;
                                        n++;
                                    }
                                }
                            }
                        }
                    } else {
                        int kb = o * taps;
                        for (int row = 0; row < kRows; row++) {
                            for (int c = 0; c < kw; c++) {
                                k1[kb + row * kw + p.colPos[c]] = k[kb + row * kw + c];
                            }
                            n = rowDescriptors(k1, kb + row * kw, 1, p.kRowOff[row], kb + row * kw, n);
                        }
                    }
                    count1[o] = n - o * cap;
                }
            });
            return;
        }
        int blocks = p.groups * blocksPerGroup();
        int tasks = Math.min(blocks, 4 * VectorParallel.threads());
        VectorParallel.run(tasks, (task, worker) -> {
            for (int blk = task * blocks / tasks, end = (task + 1) * blocks / tasks; blk < end; blk++) {
                int g = blk / blocksPerGroup();
                int b = blk % blocksPerGroup();
                if (b < nb4) {
                    int o0 = g * p.opg + 4 * b;
                    int block = g * nb4 + b;
                    int n = base4 + block * cap;
                    for (int i = 0; i < ipg; i++) {
                        int dst = (block * ipg + i) * taps * 4;
                        for (int c = 0; c < 4; c++) {
                            int src = ((o0 + c) * ipg + i) * taps;
                            for (int row = 0; row < kRows; row++) {
                                for (int col = 0; col < kw; col++) {
                                    k4[dst + 4 * (row * kw + p.colPos[col]) + c] = k[src + row * kw + col];
                                }
                            }
                        }
                        for (int row = 0; row < kRows; row++) {
                            n = rowDescriptors(k4, dst + 4 * row * kw, 4, i * p.xPlane + p.kRowOff[row],
                                    dst + 4 * row * kw, n);
                        }
                    }
                    count4[block] = n - base4 - block * cap;
                } else {
                    int o = g * p.opg + 4 * nb4 + (b - nb4);
                    int n = o * cap;
                    for (int i = 0; i < ipg; i++) {
                        int kb = (o * ipg + i) * taps;
                        for (int row = 0; row < kRows; row++) {
                            for (int col = 0; col < kw; col++) {
                                k1[kb + row * kw + p.colPos[col]] = k[kb + row * kw + col];
                            }
                            n = rowDescriptors(k1, kb + row * kw, 1, i * p.xPlane + p.kRowOff[row], kb + row * kw, n);
                        }
                    }
                    count1[o] = n - o * cap;
                }
            }
        });
    }

    /**
     * Adds the descriptors of one phase-ordered kernel row ({@code width} interleaved values per column from
     * {@code values[at]}): one per phase with a non-zero value, input offset {@code rowX + f * ws}, kernel offset
     * {@code rowK + width * phOff[f]}. Returns the next free descriptor.
     */
    private int rowDescriptors(float[] values, int at, int width, int rowX, int rowK, int n) {
        for (int f = 0; f < p.phases; f++) {
            int a = Integer.MAX_VALUE;
            int b = 0;
            for (int j = 0; j < p.phN[f]; j++) {
                int v = at + width * (p.phOff[f] + j);
                boolean nonZero = false;
                for (int c = 0; c < width; c++) {
                    nonZero |= values[v + c] != 0f;
                }
                if (nonZero) {
                    a = Math.min(a, j);
                    b = j + 1;
                }
            }
            if (b > a) {
                dx[n] = rowX + f * p.ws;
                dk[n] = rowK + width * p.phOff[f];
                lo[n] = a;
                hi[n] = b;
                n++;
            }
        }
        return n;
    }
}
