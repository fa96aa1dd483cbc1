package io.dcls4j.vector;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-blocked inner loops of {@link VectorConv}. Each method computes one block of outputs with all its
 * accumulators in vector registers; the callers choose the blocks and run them in parallel.
 *
 * <p>The methods are written for the JIT: no branches inside the loops (every block has the same shape; zero
 * kernel rows at the edges replace tests), unmasked loads at offsets affine in the loop variable (so bounds checks
 * are hoisted), buffers with slack so that whole vectors may be read past a row, masks only on the final stores,
 * and small enough bodies that every tier compiles them.
 */
final class CorrKernels {
    private static final VectorSpecies<Float> S = CorrPlan.S;
    private static final int L = CorrPlan.L;

    private CorrKernels() {
    }

    // ---------------------------------------------------------------------------------------------------------
    // Forward, several input channels per group: 4 output channels x 4 output vectors.

    /**
     * Output vectors {@code 4*sg .. 4*sg+3} of 4 output channels: descriptors {@code e0 .. e1} of
     * {@link PackedKernel} (input offsets relative to {@code xb}, offsets into the 4-interleaved {@code k4});
     * initial values b0..b3. The 16 vectors go to {@code tile} ([channel][vector][lane]) whole; the caller copies
     * the valid lanes out (so that the kernel stays small enough for every JIT tier).
     */
    static void forward4x4(CorrPlan p, float[] xs, int xb, float[] k4, int[] dx, int[] dk, int[] lo, int[] hi,
                           int e0, int e1, float b0, float b1, float b2, float b3, float[] tile, int sg) {
        final int s0 = 4 * sg;
        final int in0 = p.slotIn[s0], in1 = p.slotIn[s0 + 1], in2 = p.slotIn[s0 + 2], in3 = p.slotIn[s0 + 3];
        FloatVector a00 = FloatVector.broadcast(S, b0), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = FloatVector.broadcast(S, b1), a11 = a10, a12 = a10, a13 = a10;
        FloatVector a20 = FloatVector.broadcast(S, b2), a21 = a20, a22 = a20, a23 = a20;
        FloatVector a30 = FloatVector.broadcast(S, b3), a31 = a30, a32 = a30, a33 = a30;
        for (int e = e0; e < e1; e++) {
            int xo = xb + dx[e];
            int ko = dk[e];
            int jEnd = hi[e];
            for (int j = lo[e]; j < jEnd; j++) {
                int o = xo + j;
                FloatVector x0 = FloatVector.fromArray(S, xs, o + in0);
                FloatVector x1 = FloatVector.fromArray(S, xs, o + in1);
                FloatVector x2 = FloatVector.fromArray(S, xs, o + in2);
                FloatVector x3 = FloatVector.fromArray(S, xs, o + in3);
                int kk = ko + 4 * j;
                FloatVector k = FloatVector.broadcast(S, k4[kk]);
                a00 = x0.fma(k, a00);
                a01 = x1.fma(k, a01);
                a02 = x2.fma(k, a02);
                a03 = x3.fma(k, a03);
                k = FloatVector.broadcast(S, k4[kk + 1]);
                a10 = x0.fma(k, a10);
                a11 = x1.fma(k, a11);
                a12 = x2.fma(k, a12);
                a13 = x3.fma(k, a13);
                k = FloatVector.broadcast(S, k4[kk + 2]);
                a20 = x0.fma(k, a20);
                a21 = x1.fma(k, a21);
                a22 = x2.fma(k, a22);
                a23 = x3.fma(k, a23);
                k = FloatVector.broadcast(S, k4[kk + 3]);
                a30 = x0.fma(k, a30);
                a31 = x1.fma(k, a31);
                a32 = x2.fma(k, a32);
                a33 = x3.fma(k, a33);
            }
        }
        a00.intoArray(tile, 0);
        a01.intoArray(tile, 1 * L);
        a02.intoArray(tile, 2 * L);
        a03.intoArray(tile, 3 * L);
        a10.intoArray(tile, 4 * L);
        a11.intoArray(tile, 5 * L);
        a12.intoArray(tile, 6 * L);
        a13.intoArray(tile, 7 * L);
        a20.intoArray(tile, 8 * L);
        a21.intoArray(tile, 9 * L);
        a22.intoArray(tile, 10 * L);
        a23.intoArray(tile, 11 * L);
        a30.intoArray(tile, 12 * L);
        a31.intoArray(tile, 13 * L);
        a32.intoArray(tile, 14 * L);
        a33.intoArray(tile, 15 * L);
    }

    /** As {@link #forward4x4} for one output channel: kernel values {@code k1[dk + j]}. */
    static void forward1x4(CorrPlan p, float[] xs, int xb, float[] k1, int[] dx, int[] dk, int[] lo, int[] hi,
                           int e0, int e1, float b0, float[] tile, int sg) {
        final int s0 = 4 * sg;
        final int in0 = p.slotIn[s0], in1 = p.slotIn[s0 + 1], in2 = p.slotIn[s0 + 2], in3 = p.slotIn[s0 + 3];
        FloatVector a00 = FloatVector.broadcast(S, b0), a01 = a00, a02 = a00, a03 = a00;
        for (int e = e0; e < e1; e++) {
            int xo = xb + dx[e];
            int ko = dk[e];
            int jEnd = hi[e];
            for (int j = lo[e]; j < jEnd; j++) {
                int o = xo + j;
                FloatVector k = FloatVector.broadcast(S, k1[ko + j]);
                a00 = FloatVector.fromArray(S, xs, o + in0).fma(k, a00);
                a01 = FloatVector.fromArray(S, xs, o + in1).fma(k, a01);
                a02 = FloatVector.fromArray(S, xs, o + in2).fma(k, a02);
                a03 = FloatVector.fromArray(S, xs, o + in3).fma(k, a03);
            }
        }
        a00.intoArray(tile, 0);
        a01.intoArray(tile, 1 * L);
        a02.intoArray(tile, 2 * L);
        a03.intoArray(tile, 3 * L);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Forward, one input channel per group (depthwise).

    /**
     * Output rows {@code oh0 .. oh0+3} (stride 1 along H), columns {@code cb .. cb+4L-1} (stored masked to
     * {@code ow}) of depth slice d; input plane at {@code xb}. Shared-row descriptors {@code e0 .. e1}: each input
     * row q meets output row t through kernel row q - t, whose values lie {@code t * kw} before row q's in the
     * framed kernel {@code k1}.
     */
    static void forwardDw4(CorrPlan p, float[] xs, int xb, float[] k1, int[] dx, int[] dk, int[] lo, int[] hi,
                           int e0, int e1, float bias, float[] y, int yb, int d, int oh0, int cb) {
        final int kw = p.kw;
        final int base = xb + (d * p.sd * p.xh + oh0) * p.wr + cb;
        FloatVector a00 = FloatVector.broadcast(S, bias), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int e = e0; e < e1; e++) {
            int xo = base + dx[e];
            int ko = dk[e];
            int jEnd = hi[e];
            for (int j = lo[e]; j < jEnd; j++) {
                int o = xo + j;
                FloatVector x0 = FloatVector.fromArray(S, xs, o);
                FloatVector x1 = FloatVector.fromArray(S, xs, o + L);
                FloatVector x2 = FloatVector.fromArray(S, xs, o + 2 * L);
                FloatVector x3 = FloatVector.fromArray(S, xs, o + 3 * L);
                int kk = ko + j;
                FloatVector k = FloatVector.broadcast(S, k1[kk]);
                a00 = x0.fma(k, a00);
                a01 = x1.fma(k, a01);
                a02 = x2.fma(k, a02);
                a03 = x3.fma(k, a03);
                k = FloatVector.broadcast(S, k1[kk - kw]);
                a10 = x0.fma(k, a10);
                a11 = x1.fma(k, a11);
                a12 = x2.fma(k, a12);
                a13 = x3.fma(k, a13);
                k = FloatVector.broadcast(S, k1[kk - 2 * kw]);
                a20 = x0.fma(k, a20);
                a21 = x1.fma(k, a21);
                a22 = x2.fma(k, a22);
                a23 = x3.fma(k, a23);
                k = FloatVector.broadcast(S, k1[kk - 3 * kw]);
                a30 = x0.fma(k, a30);
                a31 = x1.fma(k, a31);
                a32 = x2.fma(k, a32);
                a33 = x3.fma(k, a33);
            }
        }
        final int ow = p.ow;
        final int o = yb + (d * p.oh + oh0) * ow + cb;
        a00.intoArray(y, o, S.indexInRange(cb, ow));
        a01.intoArray(y, o + 1 * L, S.indexInRange(cb + 1 * L, ow));
        a02.intoArray(y, o + 2 * L, S.indexInRange(cb + 2 * L, ow));
        a03.intoArray(y, o + 3 * L, S.indexInRange(cb + 3 * L, ow));
        a10.intoArray(y, o + 1 * ow, S.indexInRange(cb, ow));
        a11.intoArray(y, o + 1 * ow + 1 * L, S.indexInRange(cb + 1 * L, ow));
        a12.intoArray(y, o + 1 * ow + 2 * L, S.indexInRange(cb + 2 * L, ow));
        a13.intoArray(y, o + 1 * ow + 3 * L, S.indexInRange(cb + 3 * L, ow));
        a20.intoArray(y, o + 2 * ow, S.indexInRange(cb, ow));
        a21.intoArray(y, o + 2 * ow + 1 * L, S.indexInRange(cb + 1 * L, ow));
        a22.intoArray(y, o + 2 * ow + 2 * L, S.indexInRange(cb + 2 * L, ow));
        a23.intoArray(y, o + 2 * ow + 3 * L, S.indexInRange(cb + 3 * L, ow));
        a30.intoArray(y, o + 3 * ow, S.indexInRange(cb, ow));
        a31.intoArray(y, o + 3 * ow + 1 * L, S.indexInRange(cb + 1 * L, ow));
        a32.intoArray(y, o + 3 * ow + 2 * L, S.indexInRange(cb + 2 * L, ow));
        a33.intoArray(y, o + 3 * ow + 3 * L, S.indexInRange(cb + 3 * L, ow));
    }

    /**
     * One output row {@code oh} (any stride), columns {@code cb .. cb+4L-1}, depth slice d; descriptors
     * {@code e0 .. e1} relative to the row's first input, kernel values {@code k1[dk + j]}.
     */
    static void forwardDw1(CorrPlan p, float[] xs, int xb, float[] k1, int[] dx, int[] dk, int[] lo, int[] hi,
                           int e0, int e1, float bias, float[] y, int yb, int d, int oh, int cb) {
        final int base = xb + (d * p.sd * p.xh + oh * p.sh) * p.wr + cb;
        FloatVector a00 = FloatVector.broadcast(S, bias), a01 = a00, a02 = a00, a03 = a00;
        for (int e = e0; e < e1; e++) {
            int xo = base + dx[e];
            int ko = dk[e];
            int jEnd = hi[e];
            for (int j = lo[e]; j < jEnd; j++) {
                int o = xo + j;
                FloatVector k = FloatVector.broadcast(S, k1[ko + j]);
                a00 = FloatVector.fromArray(S, xs, o).fma(k, a00);
                a01 = FloatVector.fromArray(S, xs, o + L).fma(k, a01);
                a02 = FloatVector.fromArray(S, xs, o + 2 * L).fma(k, a02);
                a03 = FloatVector.fromArray(S, xs, o + 3 * L).fma(k, a03);
            }
        }
        final int ow = p.ow;
        final int o = yb + (d * p.oh + oh) * ow + cb;
        a00.intoArray(y, o, S.indexInRange(cb, ow));
        a01.intoArray(y, o + 1 * L, S.indexInRange(cb + 1 * L, ow));
        a02.intoArray(y, o + 2 * L, S.indexInRange(cb + 2 * L, ow));
        a03.intoArray(y, o + 3 * L, S.indexInRange(cb + 3 * L, ow));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Weight gradient, several input channels per group: 4 output channels x 4 taps, reduced over a sample.

    /**
     * Adds, for output channels o0..o0+3 (row-padded gradient planes from {@code gb}, {@code gPlane} apart) and the
     * 6 taps at input offsets t0..t5 of input plane {@code xb}, the products over every output position to the 24
     * vector partial sums {@code part[po ..]} ([channel][tap][lane]): 10 loads for 24 multiply-adds.
     */
    static void weights4x6(CorrPlan p, float[] g, int gb, float[] xs, int xb, int t0, int t1, int t2, int t3,
                           int t4, int t5, float[] part, int po) {
        final int gp = p.gPlane;
        FloatVector a00 = FloatVector.fromArray(S, part, po);
        FloatVector a01 = FloatVector.fromArray(S, part, po + L);
        FloatVector a02 = FloatVector.fromArray(S, part, po + 2 * L);
        FloatVector a03 = FloatVector.fromArray(S, part, po + 3 * L);
        FloatVector a04 = FloatVector.fromArray(S, part, po + 4 * L);
        FloatVector a05 = FloatVector.fromArray(S, part, po + 5 * L);
        FloatVector a10 = FloatVector.fromArray(S, part, po + 6 * L);
        FloatVector a11 = FloatVector.fromArray(S, part, po + 7 * L);
        FloatVector a12 = FloatVector.fromArray(S, part, po + 8 * L);
        FloatVector a13 = FloatVector.fromArray(S, part, po + 9 * L);
        FloatVector a14 = FloatVector.fromArray(S, part, po + 10 * L);
        FloatVector a15 = FloatVector.fromArray(S, part, po + 11 * L);
        FloatVector a20 = FloatVector.fromArray(S, part, po + 12 * L);
        FloatVector a21 = FloatVector.fromArray(S, part, po + 13 * L);
        FloatVector a22 = FloatVector.fromArray(S, part, po + 14 * L);
        FloatVector a23 = FloatVector.fromArray(S, part, po + 15 * L);
        FloatVector a24 = FloatVector.fromArray(S, part, po + 16 * L);
        FloatVector a25 = FloatVector.fromArray(S, part, po + 17 * L);
        FloatVector a30 = FloatVector.fromArray(S, part, po + 18 * L);
        FloatVector a31 = FloatVector.fromArray(S, part, po + 19 * L);
        FloatVector a32 = FloatVector.fromArray(S, part, po + 20 * L);
        FloatVector a33 = FloatVector.fromArray(S, part, po + 21 * L);
        FloatVector a34 = FloatVector.fromArray(S, part, po + 22 * L);
        FloatVector a35 = FloatVector.fromArray(S, part, po + 23 * L);
        final int[] slotIn = p.gSlotIn;
        final int[] slotGrad = p.gSlotGrad;
        for (int sl = 0; sl < slotIn.length; sl++) {
            int xo = xb + slotIn[sl];
            int go = gb + slotGrad[sl];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go + gp);
            FloatVector g2 = FloatVector.fromArray(S, g, go + 2 * gp);
            FloatVector g3 = FloatVector.fromArray(S, g, go + 3 * gp);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + t0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            a20 = g2.fma(x0, a20);
            a30 = g3.fma(x0, a30);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + t1);
            a01 = g0.fma(x1, a01);
            a11 = g1.fma(x1, a11);
            a21 = g2.fma(x1, a21);
            a31 = g3.fma(x1, a31);
            FloatVector x2 = FloatVector.fromArray(S, xs, xo + t2);
            a02 = g0.fma(x2, a02);
            a12 = g1.fma(x2, a12);
            a22 = g2.fma(x2, a22);
            a32 = g3.fma(x2, a32);
            FloatVector x3 = FloatVector.fromArray(S, xs, xo + t3);
            a03 = g0.fma(x3, a03);
            a13 = g1.fma(x3, a13);
            a23 = g2.fma(x3, a23);
            a33 = g3.fma(x3, a33);
            FloatVector x4 = FloatVector.fromArray(S, xs, xo + t4);
            a04 = g0.fma(x4, a04);
            a14 = g1.fma(x4, a14);
            a24 = g2.fma(x4, a24);
            a34 = g3.fma(x4, a34);
            FloatVector x5 = FloatVector.fromArray(S, xs, xo + t5);
            a05 = g0.fma(x5, a05);
            a15 = g1.fma(x5, a15);
            a25 = g2.fma(x5, a25);
            a35 = g3.fma(x5, a35);
        }
        a00.intoArray(part, po);
        a01.intoArray(part, po + L);
        a02.intoArray(part, po + 2 * L);
        a03.intoArray(part, po + 3 * L);
        a04.intoArray(part, po + 4 * L);
        a05.intoArray(part, po + 5 * L);
        a10.intoArray(part, po + 6 * L);
        a11.intoArray(part, po + 7 * L);
        a12.intoArray(part, po + 8 * L);
        a13.intoArray(part, po + 9 * L);
        a14.intoArray(part, po + 10 * L);
        a15.intoArray(part, po + 11 * L);
        a20.intoArray(part, po + 12 * L);
        a21.intoArray(part, po + 13 * L);
        a22.intoArray(part, po + 14 * L);
        a23.intoArray(part, po + 15 * L);
        a24.intoArray(part, po + 16 * L);
        a25.intoArray(part, po + 17 * L);
        a30.intoArray(part, po + 18 * L);
        a31.intoArray(part, po + 19 * L);
        a32.intoArray(part, po + 20 * L);
        a33.intoArray(part, po + 21 * L);
        a34.intoArray(part, po + 22 * L);
        a35.intoArray(part, po + 23 * L);
    }

    /** As {@link #weights4x6} for one output channel and 4 taps: 4 partial sums at {@code part[po ..]} ([tap][lane]). */
    static void weights1x4(CorrPlan p, float[] g, int gb, float[] xs, int xb, int t0, int t1, int t2, int t3,
                           float[] part, int po) {
        FloatVector a0 = FloatVector.fromArray(S, part, po), a1 = FloatVector.fromArray(S, part, po + L);
        FloatVector a2 = FloatVector.fromArray(S, part, po + 2 * L), a3 = FloatVector.fromArray(S, part, po + 3 * L);
        final int[] slotIn = p.gSlotIn;
        final int[] slotGrad = p.gSlotGrad;
        for (int sl = 0; sl < slotIn.length; sl++) {
            int xo = xb + slotIn[sl];
            int go = gb + slotGrad[sl];
            {
                FloatVector gv = FloatVector.fromArray(S, g, go);
                a0 = gv.fma(FloatVector.fromArray(S, xs, xo + t0), a0);
                a1 = gv.fma(FloatVector.fromArray(S, xs, xo + t1), a1);
                a2 = gv.fma(FloatVector.fromArray(S, xs, xo + t2), a2);
                a3 = gv.fma(FloatVector.fromArray(S, xs, xo + t3), a3);
            }
        }
        a0.intoArray(part, po);
        a1.intoArray(part, po + L);
        a2.intoArray(part, po + 2 * L);
        a3.intoArray(part, po + 3 * L);
    }

    /** The sum of the lanes, in double. */
    static double sum(FloatVector v) {
        double s = 0;
        for (int i = 0; i < L; i++) {
            s += v.lane(i);
        }
        return s;
    }

    /** Sum of {@code n} vectors of {@code part} from {@code po}, lane by lane into {@code out[0..n)}, in double. */
    static void reduce(float[] part, int po, int n, double[] out) {
        for (int v = 0; v < n; v++) {
            double s = 0;
            int b = po + v * L;
            for (int i = 0; i < L; i++) {
                s += part[b + i];
            }
            out[v] += s;
        }
    }
}
