package io.dcls4j.vector;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Depthwise (one input channel per group) weight-gradient kernels, generated: {@code weightsR_W} accumulates the
 * gradient of the R x W taps (z, h0 .. h0+R-1, c0 .. c0+W-1) of one (output, input) pair over one sample, in
 * R * W vector registers, into {@code part[0 .. R*W*L)} ([row][column][lane]).
 *
 * <p>R &gt;= 2 needs stride 1 along H: input row {@code r} meets gradient row {@code r - i} for tap row
 * {@code h0 + i}, so each loaded input vector serves R taps and each loaded gradient vector W taps; the gradient's
 * zero margin rows ({@link CorrPlan#gyMargin}) stand in for rows that do not exist. R = 1 works for any stride.
 * The row offsets come from {@link CorrPlan#dwRowIn} / {@link CorrPlan#dwRowGrad} (R &gt;= 2) or
 * {@link CorrPlan#gSlotIn} / {@link CorrPlan#gSlotGrad} (R = 1), one flat loop over vectors.
 */
final class DwWeightKernels {
    private static final VectorSpecies<Float> S = CorrPlan.S;
    private static final int L = CorrPlan.L;

    private DwWeightKernels() {
    }

    /** The widest column block for R rows (register budget: R * W accumulators). */
    static int maxWidth(int rows) {
        return rows <= 4 ? 6 : 4;
    }

    /** Runs the R x W kernel. */
    static void run(int rows, int width, CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                    float[] part) {
        switch (rows * 8 + width) {
            case 9 -> weights1x1(p, g, gb, xs, xb, z, h0, c0, part);
            case 10 -> weights1x2(p, g, gb, xs, xb, z, h0, c0, part);
            case 11 -> weights1x3(p, g, gb, xs, xb, z, h0, c0, part);
            case 12 -> weights1x4(p, g, gb, xs, xb, z, h0, c0, part);
            case 13 -> weights1x5(p, g, gb, xs, xb, z, h0, c0, part);
            case 14 -> weights1x6(p, g, gb, xs, xb, z, h0, c0, part);
            case 17 -> weights2x1(p, g, gb, xs, xb, z, h0, c0, part);
            case 18 -> weights2x2(p, g, gb, xs, xb, z, h0, c0, part);
            case 19 -> weights2x3(p, g, gb, xs, xb, z, h0, c0, part);
            case 20 -> weights2x4(p, g, gb, xs, xb, z, h0, c0, part);
            case 21 -> weights2x5(p, g, gb, xs, xb, z, h0, c0, part);
            case 22 -> weights2x6(p, g, gb, xs, xb, z, h0, c0, part);
            case 25 -> weights3x1(p, g, gb, xs, xb, z, h0, c0, part);
            case 26 -> weights3x2(p, g, gb, xs, xb, z, h0, c0, part);
            case 27 -> weights3x3(p, g, gb, xs, xb, z, h0, c0, part);
            case 28 -> weights3x4(p, g, gb, xs, xb, z, h0, c0, part);
            case 29 -> weights3x5(p, g, gb, xs, xb, z, h0, c0, part);
            case 30 -> weights3x6(p, g, gb, xs, xb, z, h0, c0, part);
            case 33 -> weights4x1(p, g, gb, xs, xb, z, h0, c0, part);
            case 34 -> weights4x2(p, g, gb, xs, xb, z, h0, c0, part);
            case 35 -> weights4x3(p, g, gb, xs, xb, z, h0, c0, part);
            case 36 -> weights4x4(p, g, gb, xs, xb, z, h0, c0, part);
            case 37 -> weights4x5(p, g, gb, xs, xb, z, h0, c0, part);
            case 38 -> weights4x6(p, g, gb, xs, xb, z, h0, c0, part);
            case 41 -> weights5x1(p, g, gb, xs, xb, z, h0, c0, part);
            case 42 -> weights5x2(p, g, gb, xs, xb, z, h0, c0, part);
            case 43 -> weights5x3(p, g, gb, xs, xb, z, h0, c0, part);
            case 44 -> weights5x4(p, g, gb, xs, xb, z, h0, c0, part);
            default -> throw new IllegalArgumentException("no kernel for " + rows + " x " + width);
        }
    }

    private static void weights1x1(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int k0 = p.colOff[c0];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        final int[] rowIn = p.gSlotIn;
        final int[] rowGrad = p.gSlotGrad;
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
        }
        a00.intoArray(part, 0);
    }

    private static void weights1x2(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        final int[] rowIn = p.gSlotIn;
        final int[] rowGrad = p.gSlotGrad;
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
    }

    private static void weights1x3(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        final int k2 = p.colOff[c0 + 2];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a02 = FloatVector.fromArray(S, part, 2 * L);
        final int[] rowIn = p.gSlotIn;
        final int[] rowGrad = p.gSlotGrad;
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            FloatVector x2 = FloatVector.fromArray(S, xs, xo + k2);
            a02 = g0.fma(x2, a02);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a02.intoArray(part, 2 * L);
    }

    private static void weights1x4(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        final int k2 = p.colOff[c0 + 2];
        final int k3 = p.colOff[c0 + 3];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a02 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a03 = FloatVector.fromArray(S, part, 3 * L);
        final int[] rowIn = p.gSlotIn;
        final int[] rowGrad = p.gSlotGrad;
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            FloatVector x2 = FloatVector.fromArray(S, xs, xo + k2);
            a02 = g0.fma(x2, a02);
            FloatVector x3 = FloatVector.fromArray(S, xs, xo + k3);
            a03 = g0.fma(x3, a03);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a02.intoArray(part, 2 * L);
        a03.intoArray(part, 3 * L);
    }

    private static void weights1x5(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        final int k2 = p.colOff[c0 + 2];
        final int k3 = p.colOff[c0 + 3];
        final int k4 = p.colOff[c0 + 4];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a02 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a03 = FloatVector.fromArray(S, part, 3 * L);
        FloatVector a04 = FloatVector.fromArray(S, part, 4 * L);
        final int[] rowIn = p.gSlotIn;
        final int[] rowGrad = p.gSlotGrad;
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            FloatVector x2 = FloatVector.fromArray(S, xs, xo + k2);
            a02 = g0.fma(x2, a02);
            FloatVector x3 = FloatVector.fromArray(S, xs, xo + k3);
            a03 = g0.fma(x3, a03);
            FloatVector x4 = FloatVector.fromArray(S, xs, xo + k4);
            a04 = g0.fma(x4, a04);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a02.intoArray(part, 2 * L);
        a03.intoArray(part, 3 * L);
        a04.intoArray(part, 4 * L);
    }

    private static void weights1x6(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        final int k2 = p.colOff[c0 + 2];
        final int k3 = p.colOff[c0 + 3];
        final int k4 = p.colOff[c0 + 4];
        final int k5 = p.colOff[c0 + 5];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a02 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a03 = FloatVector.fromArray(S, part, 3 * L);
        FloatVector a04 = FloatVector.fromArray(S, part, 4 * L);
        FloatVector a05 = FloatVector.fromArray(S, part, 5 * L);
        final int[] rowIn = p.gSlotIn;
        final int[] rowGrad = p.gSlotGrad;
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            FloatVector x2 = FloatVector.fromArray(S, xs, xo + k2);
            a02 = g0.fma(x2, a02);
            FloatVector x3 = FloatVector.fromArray(S, xs, xo + k3);
            a03 = g0.fma(x3, a03);
            FloatVector x4 = FloatVector.fromArray(S, xs, xo + k4);
            a04 = g0.fma(x4, a04);
            FloatVector x5 = FloatVector.fromArray(S, xs, xo + k5);
            a05 = g0.fma(x5, a05);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a02.intoArray(part, 2 * L);
        a03.intoArray(part, 3 * L);
        a04.intoArray(part, 4 * L);
        a05.intoArray(part, 5 * L);
    }

    private static void weights2x1(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a10 = FloatVector.fromArray(S, part, L);
        final int[] rowIn = p.dwRowIn[2];
        final int[] rowGrad = p.dwRowGrad[2];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
        }
        a00.intoArray(part, 0);
        a10.intoArray(part, L);
    }

    private static void weights2x2(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a10 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a11 = FloatVector.fromArray(S, part, 3 * L);
        final int[] rowIn = p.dwRowIn[2];
        final int[] rowGrad = p.dwRowGrad[2];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            a11 = g1.fma(x1, a11);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a10.intoArray(part, 2 * L);
        a11.intoArray(part, 3 * L);
    }

    private static void weights2x3(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        final int k2 = p.colOff[c0 + 2];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a02 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a10 = FloatVector.fromArray(S, part, 3 * L);
        FloatVector a11 = FloatVector.fromArray(S, part, 4 * L);
        FloatVector a12 = FloatVector.fromArray(S, part, 5 * L);
        final int[] rowIn = p.dwRowIn[2];
        final int[] rowGrad = p.dwRowGrad[2];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            a11 = g1.fma(x1, a11);
            FloatVector x2 = FloatVector.fromArray(S, xs, xo + k2);
            a02 = g0.fma(x2, a02);
            a12 = g1.fma(x2, a12);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a02.intoArray(part, 2 * L);
        a10.intoArray(part, 3 * L);
        a11.intoArray(part, 4 * L);
        a12.intoArray(part, 5 * L);
    }

    private static void weights2x4(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        final int k2 = p.colOff[c0 + 2];
        final int k3 = p.colOff[c0 + 3];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a02 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a03 = FloatVector.fromArray(S, part, 3 * L);
        FloatVector a10 = FloatVector.fromArray(S, part, 4 * L);
        FloatVector a11 = FloatVector.fromArray(S, part, 5 * L);
        FloatVector a12 = FloatVector.fromArray(S, part, 6 * L);
        FloatVector a13 = FloatVector.fromArray(S, part, 7 * L);
        final int[] rowIn = p.dwRowIn[2];
        final int[] rowGrad = p.dwRowGrad[2];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            a11 = g1.fma(x1, a11);
            FloatVector x2 = FloatVector.fromArray(S, xs, xo + k2);
            a02 = g0.fma(x2, a02);
            a12 = g1.fma(x2, a12);
            FloatVector x3 = FloatVector.fromArray(S, xs, xo + k3);
            a03 = g0.fma(x3, a03);
            a13 = g1.fma(x3, a13);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a02.intoArray(part, 2 * L);
        a03.intoArray(part, 3 * L);
        a10.intoArray(part, 4 * L);
        a11.intoArray(part, 5 * L);
        a12.intoArray(part, 6 * L);
        a13.intoArray(part, 7 * L);
    }

    private static void weights2x5(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        final int k2 = p.colOff[c0 + 2];
        final int k3 = p.colOff[c0 + 3];
        final int k4 = p.colOff[c0 + 4];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a02 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a03 = FloatVector.fromArray(S, part, 3 * L);
        FloatVector a04 = FloatVector.fromArray(S, part, 4 * L);
        FloatVector a10 = FloatVector.fromArray(S, part, 5 * L);
        FloatVector a11 = FloatVector.fromArray(S, part, 6 * L);
        FloatVector a12 = FloatVector.fromArray(S, part, 7 * L);
        FloatVector a13 = FloatVector.fromArray(S, part, 8 * L);
        FloatVector a14 = FloatVector.fromArray(S, part, 9 * L);
        final int[] rowIn = p.dwRowIn[2];
        final int[] rowGrad = p.dwRowGrad[2];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            a11 = g1.fma(x1, a11);
            FloatVector x2 = FloatVector.fromArray(S, xs, xo + k2);
            a02 = g0.fma(x2, a02);
            a12 = g1.fma(x2, a12);
            FloatVector x3 = FloatVector.fromArray(S, xs, xo + k3);
            a03 = g0.fma(x3, a03);
            a13 = g1.fma(x3, a13);
            FloatVector x4 = FloatVector.fromArray(S, xs, xo + k4);
            a04 = g0.fma(x4, a04);
            a14 = g1.fma(x4, a14);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a02.intoArray(part, 2 * L);
        a03.intoArray(part, 3 * L);
        a04.intoArray(part, 4 * L);
        a10.intoArray(part, 5 * L);
        a11.intoArray(part, 6 * L);
        a12.intoArray(part, 7 * L);
        a13.intoArray(part, 8 * L);
        a14.intoArray(part, 9 * L);
    }

    private static void weights2x6(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        final int k2 = p.colOff[c0 + 2];
        final int k3 = p.colOff[c0 + 3];
        final int k4 = p.colOff[c0 + 4];
        final int k5 = p.colOff[c0 + 5];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a02 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a03 = FloatVector.fromArray(S, part, 3 * L);
        FloatVector a04 = FloatVector.fromArray(S, part, 4 * L);
        FloatVector a05 = FloatVector.fromArray(S, part, 5 * L);
        FloatVector a10 = FloatVector.fromArray(S, part, 6 * L);
        FloatVector a11 = FloatVector.fromArray(S, part, 7 * L);
        FloatVector a12 = FloatVector.fromArray(S, part, 8 * L);
        FloatVector a13 = FloatVector.fromArray(S, part, 9 * L);
        FloatVector a14 = FloatVector.fromArray(S, part, 10 * L);
        FloatVector a15 = FloatVector.fromArray(S, part, 11 * L);
        final int[] rowIn = p.dwRowIn[2];
        final int[] rowGrad = p.dwRowGrad[2];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            a11 = g1.fma(x1, a11);
            FloatVector x2 = FloatVector.fromArray(S, xs, xo + k2);
            a02 = g0.fma(x2, a02);
            a12 = g1.fma(x2, a12);
            FloatVector x3 = FloatVector.fromArray(S, xs, xo + k3);
            a03 = g0.fma(x3, a03);
            a13 = g1.fma(x3, a13);
            FloatVector x4 = FloatVector.fromArray(S, xs, xo + k4);
            a04 = g0.fma(x4, a04);
            a14 = g1.fma(x4, a14);
            FloatVector x5 = FloatVector.fromArray(S, xs, xo + k5);
            a05 = g0.fma(x5, a05);
            a15 = g1.fma(x5, a15);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a02.intoArray(part, 2 * L);
        a03.intoArray(part, 3 * L);
        a04.intoArray(part, 4 * L);
        a05.intoArray(part, 5 * L);
        a10.intoArray(part, 6 * L);
        a11.intoArray(part, 7 * L);
        a12.intoArray(part, 8 * L);
        a13.intoArray(part, 9 * L);
        a14.intoArray(part, 10 * L);
        a15.intoArray(part, 11 * L);
    }

    private static void weights3x1(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a10 = FloatVector.fromArray(S, part, L);
        FloatVector a20 = FloatVector.fromArray(S, part, 2 * L);
        final int[] rowIn = p.dwRowIn[3];
        final int[] rowGrad = p.dwRowGrad[3];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector g2 = FloatVector.fromArray(S, g, go - 2 * owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            a20 = g2.fma(x0, a20);
        }
        a00.intoArray(part, 0);
        a10.intoArray(part, L);
        a20.intoArray(part, 2 * L);
    }

    private static void weights3x2(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a10 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a11 = FloatVector.fromArray(S, part, 3 * L);
        FloatVector a20 = FloatVector.fromArray(S, part, 4 * L);
        FloatVector a21 = FloatVector.fromArray(S, part, 5 * L);
        final int[] rowIn = p.dwRowIn[3];
        final int[] rowGrad = p.dwRowGrad[3];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector g2 = FloatVector.fromArray(S, g, go - 2 * owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            a20 = g2.fma(x0, a20);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            a11 = g1.fma(x1, a11);
            a21 = g2.fma(x1, a21);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a10.intoArray(part, 2 * L);
        a11.intoArray(part, 3 * L);
        a20.intoArray(part, 4 * L);
        a21.intoArray(part, 5 * L);
    }

    private static void weights3x3(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        final int k2 = p.colOff[c0 + 2];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a02 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a10 = FloatVector.fromArray(S, part, 3 * L);
        FloatVector a11 = FloatVector.fromArray(S, part, 4 * L);
        FloatVector a12 = FloatVector.fromArray(S, part, 5 * L);
        FloatVector a20 = FloatVector.fromArray(S, part, 6 * L);
        FloatVector a21 = FloatVector.fromArray(S, part, 7 * L);
        FloatVector a22 = FloatVector.fromArray(S, part, 8 * L);
        final int[] rowIn = p.dwRowIn[3];
        final int[] rowGrad = p.dwRowGrad[3];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector g2 = FloatVector.fromArray(S, g, go - 2 * owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            a20 = g2.fma(x0, a20);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            a11 = g1.fma(x1, a11);
            a21 = g2.fma(x1, a21);
            FloatVector x2 = FloatVector.fromArray(S, xs, xo + k2);
            a02 = g0.fma(x2, a02);
            a12 = g1.fma(x2, a12);
            a22 = g2.fma(x2, a22);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a02.intoArray(part, 2 * L);
        a10.intoArray(part, 3 * L);
        a11.intoArray(part, 4 * L);
        a12.intoArray(part, 5 * L);
        a20.intoArray(part, 6 * L);
        a21.intoArray(part, 7 * L);
        a22.intoArray(part, 8 * L);
    }

    private static void weights3x4(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        final int k2 = p.colOff[c0 + 2];
        final int k3 = p.colOff[c0 + 3];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a02 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a03 = FloatVector.fromArray(S, part, 3 * L);
        FloatVector a10 = FloatVector.fromArray(S, part, 4 * L);
        FloatVector a11 = FloatVector.fromArray(S, part, 5 * L);
        FloatVector a12 = FloatVector.fromArray(S, part, 6 * L);
        FloatVector a13 = FloatVector.fromArray(S, part, 7 * L);
        FloatVector a20 = FloatVector.fromArray(S, part, 8 * L);
        FloatVector a21 = FloatVector.fromArray(S, part, 9 * L);
        FloatVector a22 = FloatVector.fromArray(S, part, 10 * L);
        FloatVector a23 = FloatVector.fromArray(S, part, 11 * L);
        final int[] rowIn = p.dwRowIn[3];
        final int[] rowGrad = p.dwRowGrad[3];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector g2 = FloatVector.fromArray(S, g, go - 2 * owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            a20 = g2.fma(x0, a20);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            a11 = g1.fma(x1, a11);
            a21 = g2.fma(x1, a21);
            FloatVector x2 = FloatVector.fromArray(S, xs, xo + k2);
            a02 = g0.fma(x2, a02);
            a12 = g1.fma(x2, a12);
            a22 = g2.fma(x2, a22);
            FloatVector x3 = FloatVector.fromArray(S, xs, xo + k3);
            a03 = g0.fma(x3, a03);
            a13 = g1.fma(x3, a13);
            a23 = g2.fma(x3, a23);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a02.intoArray(part, 2 * L);
        a03.intoArray(part, 3 * L);
        a10.intoArray(part, 4 * L);
        a11.intoArray(part, 5 * L);
        a12.intoArray(part, 6 * L);
        a13.intoArray(part, 7 * L);
        a20.intoArray(part, 8 * L);
        a21.intoArray(part, 9 * L);
        a22.intoArray(part, 10 * L);
        a23.intoArray(part, 11 * L);
    }

    private static void weights3x5(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        final int k2 = p.colOff[c0 + 2];
        final int k3 = p.colOff[c0 + 3];
        final int k4 = p.colOff[c0 + 4];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a02 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a03 = FloatVector.fromArray(S, part, 3 * L);
        FloatVector a04 = FloatVector.fromArray(S, part, 4 * L);
        FloatVector a10 = FloatVector.fromArray(S, part, 5 * L);
        FloatVector a11 = FloatVector.fromArray(S, part, 6 * L);
        FloatVector a12 = FloatVector.fromArray(S, part, 7 * L);
        FloatVector a13 = FloatVector.fromArray(S, part, 8 * L);
        FloatVector a14 = FloatVector.fromArray(S, part, 9 * L);
        FloatVector a20 = FloatVector.fromArray(S, part, 10 * L);
        FloatVector a21 = FloatVector.fromArray(S, part, 11 * L);
        FloatVector a22 = FloatVector.fromArray(S, part, 12 * L);
        FloatVector a23 = FloatVector.fromArray(S, part, 13 * L);
        FloatVector a24 = FloatVector.fromArray(S, part, 14 * L);
        final int[] rowIn = p.dwRowIn[3];
        final int[] rowGrad = p.dwRowGrad[3];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector g2 = FloatVector.fromArray(S, g, go - 2 * owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            a20 = g2.fma(x0, a20);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            a11 = g1.fma(x1, a11);
            a21 = g2.fma(x1, a21);
            FloatVector x2 = FloatVector.fromArray(S, xs, xo + k2);
            a02 = g0.fma(x2, a02);
            a12 = g1.fma(x2, a12);
            a22 = g2.fma(x2, a22);
            FloatVector x3 = FloatVector.fromArray(S, xs, xo + k3);
            a03 = g0.fma(x3, a03);
            a13 = g1.fma(x3, a13);
            a23 = g2.fma(x3, a23);
            FloatVector x4 = FloatVector.fromArray(S, xs, xo + k4);
            a04 = g0.fma(x4, a04);
            a14 = g1.fma(x4, a14);
            a24 = g2.fma(x4, a24);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a02.intoArray(part, 2 * L);
        a03.intoArray(part, 3 * L);
        a04.intoArray(part, 4 * L);
        a10.intoArray(part, 5 * L);
        a11.intoArray(part, 6 * L);
        a12.intoArray(part, 7 * L);
        a13.intoArray(part, 8 * L);
        a14.intoArray(part, 9 * L);
        a20.intoArray(part, 10 * L);
        a21.intoArray(part, 11 * L);
        a22.intoArray(part, 12 * L);
        a23.intoArray(part, 13 * L);
        a24.intoArray(part, 14 * L);
    }

    private static void weights3x6(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        final int k2 = p.colOff[c0 + 2];
        final int k3 = p.colOff[c0 + 3];
        final int k4 = p.colOff[c0 + 4];
        final int k5 = p.colOff[c0 + 5];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a02 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a03 = FloatVector.fromArray(S, part, 3 * L);
        FloatVector a04 = FloatVector.fromArray(S, part, 4 * L);
        FloatVector a05 = FloatVector.fromArray(S, part, 5 * L);
        FloatVector a10 = FloatVector.fromArray(S, part, 6 * L);
        FloatVector a11 = FloatVector.fromArray(S, part, 7 * L);
        FloatVector a12 = FloatVector.fromArray(S, part, 8 * L);
        FloatVector a13 = FloatVector.fromArray(S, part, 9 * L);
        FloatVector a14 = FloatVector.fromArray(S, part, 10 * L);
        FloatVector a15 = FloatVector.fromArray(S, part, 11 * L);
        FloatVector a20 = FloatVector.fromArray(S, part, 12 * L);
        FloatVector a21 = FloatVector.fromArray(S, part, 13 * L);
        FloatVector a22 = FloatVector.fromArray(S, part, 14 * L);
        FloatVector a23 = FloatVector.fromArray(S, part, 15 * L);
        FloatVector a24 = FloatVector.fromArray(S, part, 16 * L);
        FloatVector a25 = FloatVector.fromArray(S, part, 17 * L);
        final int[] rowIn = p.dwRowIn[3];
        final int[] rowGrad = p.dwRowGrad[3];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector g2 = FloatVector.fromArray(S, g, go - 2 * owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            a20 = g2.fma(x0, a20);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            a11 = g1.fma(x1, a11);
            a21 = g2.fma(x1, a21);
            FloatVector x2 = FloatVector.fromArray(S, xs, xo + k2);
            a02 = g0.fma(x2, a02);
            a12 = g1.fma(x2, a12);
            a22 = g2.fma(x2, a22);
            FloatVector x3 = FloatVector.fromArray(S, xs, xo + k3);
            a03 = g0.fma(x3, a03);
            a13 = g1.fma(x3, a13);
            a23 = g2.fma(x3, a23);
            FloatVector x4 = FloatVector.fromArray(S, xs, xo + k4);
            a04 = g0.fma(x4, a04);
            a14 = g1.fma(x4, a14);
            a24 = g2.fma(x4, a24);
            FloatVector x5 = FloatVector.fromArray(S, xs, xo + k5);
            a05 = g0.fma(x5, a05);
            a15 = g1.fma(x5, a15);
            a25 = g2.fma(x5, a25);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a02.intoArray(part, 2 * L);
        a03.intoArray(part, 3 * L);
        a04.intoArray(part, 4 * L);
        a05.intoArray(part, 5 * L);
        a10.intoArray(part, 6 * L);
        a11.intoArray(part, 7 * L);
        a12.intoArray(part, 8 * L);
        a13.intoArray(part, 9 * L);
        a14.intoArray(part, 10 * L);
        a15.intoArray(part, 11 * L);
        a20.intoArray(part, 12 * L);
        a21.intoArray(part, 13 * L);
        a22.intoArray(part, 14 * L);
        a23.intoArray(part, 15 * L);
        a24.intoArray(part, 16 * L);
        a25.intoArray(part, 17 * L);
    }

    private static void weights4x1(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a10 = FloatVector.fromArray(S, part, L);
        FloatVector a20 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a30 = FloatVector.fromArray(S, part, 3 * L);
        final int[] rowIn = p.dwRowIn[4];
        final int[] rowGrad = p.dwRowGrad[4];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector g2 = FloatVector.fromArray(S, g, go - 2 * owr);
            FloatVector g3 = FloatVector.fromArray(S, g, go - 3 * owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            a20 = g2.fma(x0, a20);
            a30 = g3.fma(x0, a30);
        }
        a00.intoArray(part, 0);
        a10.intoArray(part, L);
        a20.intoArray(part, 2 * L);
        a30.intoArray(part, 3 * L);
    }

    private static void weights4x2(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a10 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a11 = FloatVector.fromArray(S, part, 3 * L);
        FloatVector a20 = FloatVector.fromArray(S, part, 4 * L);
        FloatVector a21 = FloatVector.fromArray(S, part, 5 * L);
        FloatVector a30 = FloatVector.fromArray(S, part, 6 * L);
        FloatVector a31 = FloatVector.fromArray(S, part, 7 * L);
        final int[] rowIn = p.dwRowIn[4];
        final int[] rowGrad = p.dwRowGrad[4];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector g2 = FloatVector.fromArray(S, g, go - 2 * owr);
            FloatVector g3 = FloatVector.fromArray(S, g, go - 3 * owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            a20 = g2.fma(x0, a20);
            a30 = g3.fma(x0, a30);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            a11 = g1.fma(x1, a11);
            a21 = g2.fma(x1, a21);
            a31 = g3.fma(x1, a31);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a10.intoArray(part, 2 * L);
        a11.intoArray(part, 3 * L);
        a20.intoArray(part, 4 * L);
        a21.intoArray(part, 5 * L);
        a30.intoArray(part, 6 * L);
        a31.intoArray(part, 7 * L);
    }

    private static void weights4x3(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        final int k2 = p.colOff[c0 + 2];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a02 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a10 = FloatVector.fromArray(S, part, 3 * L);
        FloatVector a11 = FloatVector.fromArray(S, part, 4 * L);
        FloatVector a12 = FloatVector.fromArray(S, part, 5 * L);
        FloatVector a20 = FloatVector.fromArray(S, part, 6 * L);
        FloatVector a21 = FloatVector.fromArray(S, part, 7 * L);
        FloatVector a22 = FloatVector.fromArray(S, part, 8 * L);
        FloatVector a30 = FloatVector.fromArray(S, part, 9 * L);
        FloatVector a31 = FloatVector.fromArray(S, part, 10 * L);
        FloatVector a32 = FloatVector.fromArray(S, part, 11 * L);
        final int[] rowIn = p.dwRowIn[4];
        final int[] rowGrad = p.dwRowGrad[4];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector g2 = FloatVector.fromArray(S, g, go - 2 * owr);
            FloatVector g3 = FloatVector.fromArray(S, g, go - 3 * owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            a20 = g2.fma(x0, a20);
            a30 = g3.fma(x0, a30);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            a11 = g1.fma(x1, a11);
            a21 = g2.fma(x1, a21);
            a31 = g3.fma(x1, a31);
            FloatVector x2 = FloatVector.fromArray(S, xs, xo + k2);
            a02 = g0.fma(x2, a02);
            a12 = g1.fma(x2, a12);
            a22 = g2.fma(x2, a22);
            a32 = g3.fma(x2, a32);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a02.intoArray(part, 2 * L);
        a10.intoArray(part, 3 * L);
        a11.intoArray(part, 4 * L);
        a12.intoArray(part, 5 * L);
        a20.intoArray(part, 6 * L);
        a21.intoArray(part, 7 * L);
        a22.intoArray(part, 8 * L);
        a30.intoArray(part, 9 * L);
        a31.intoArray(part, 10 * L);
        a32.intoArray(part, 11 * L);
    }

    private static void weights4x4(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        final int k2 = p.colOff[c0 + 2];
        final int k3 = p.colOff[c0 + 3];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a02 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a03 = FloatVector.fromArray(S, part, 3 * L);
        FloatVector a10 = FloatVector.fromArray(S, part, 4 * L);
        FloatVector a11 = FloatVector.fromArray(S, part, 5 * L);
        FloatVector a12 = FloatVector.fromArray(S, part, 6 * L);
        FloatVector a13 = FloatVector.fromArray(S, part, 7 * L);
        FloatVector a20 = FloatVector.fromArray(S, part, 8 * L);
        FloatVector a21 = FloatVector.fromArray(S, part, 9 * L);
        FloatVector a22 = FloatVector.fromArray(S, part, 10 * L);
        FloatVector a23 = FloatVector.fromArray(S, part, 11 * L);
        FloatVector a30 = FloatVector.fromArray(S, part, 12 * L);
        FloatVector a31 = FloatVector.fromArray(S, part, 13 * L);
        FloatVector a32 = FloatVector.fromArray(S, part, 14 * L);
        FloatVector a33 = FloatVector.fromArray(S, part, 15 * L);
        final int[] rowIn = p.dwRowIn[4];
        final int[] rowGrad = p.dwRowGrad[4];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector g2 = FloatVector.fromArray(S, g, go - 2 * owr);
            FloatVector g3 = FloatVector.fromArray(S, g, go - 3 * owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            a20 = g2.fma(x0, a20);
            a30 = g3.fma(x0, a30);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            a11 = g1.fma(x1, a11);
            a21 = g2.fma(x1, a21);
            a31 = g3.fma(x1, a31);
            FloatVector x2 = FloatVector.fromArray(S, xs, xo + k2);
            a02 = g0.fma(x2, a02);
            a12 = g1.fma(x2, a12);
            a22 = g2.fma(x2, a22);
            a32 = g3.fma(x2, a32);
            FloatVector x3 = FloatVector.fromArray(S, xs, xo + k3);
            a03 = g0.fma(x3, a03);
            a13 = g1.fma(x3, a13);
            a23 = g2.fma(x3, a23);
            a33 = g3.fma(x3, a33);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a02.intoArray(part, 2 * L);
        a03.intoArray(part, 3 * L);
        a10.intoArray(part, 4 * L);
        a11.intoArray(part, 5 * L);
        a12.intoArray(part, 6 * L);
        a13.intoArray(part, 7 * L);
        a20.intoArray(part, 8 * L);
        a21.intoArray(part, 9 * L);
        a22.intoArray(part, 10 * L);
        a23.intoArray(part, 11 * L);
        a30.intoArray(part, 12 * L);
        a31.intoArray(part, 13 * L);
        a32.intoArray(part, 14 * L);
        a33.intoArray(part, 15 * L);
    }

    private static void weights4x5(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        final int k2 = p.colOff[c0 + 2];
        final int k3 = p.colOff[c0 + 3];
        final int k4 = p.colOff[c0 + 4];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a02 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a03 = FloatVector.fromArray(S, part, 3 * L);
        FloatVector a04 = FloatVector.fromArray(S, part, 4 * L);
        FloatVector a10 = FloatVector.fromArray(S, part, 5 * L);
        FloatVector a11 = FloatVector.fromArray(S, part, 6 * L);
        FloatVector a12 = FloatVector.fromArray(S, part, 7 * L);
        FloatVector a13 = FloatVector.fromArray(S, part, 8 * L);
        FloatVector a14 = FloatVector.fromArray(S, part, 9 * L);
        FloatVector a20 = FloatVector.fromArray(S, part, 10 * L);
        FloatVector a21 = FloatVector.fromArray(S, part, 11 * L);
        FloatVector a22 = FloatVector.fromArray(S, part, 12 * L);
        FloatVector a23 = FloatVector.fromArray(S, part, 13 * L);
        FloatVector a24 = FloatVector.fromArray(S, part, 14 * L);
        FloatVector a30 = FloatVector.fromArray(S, part, 15 * L);
        FloatVector a31 = FloatVector.fromArray(S, part, 16 * L);
        FloatVector a32 = FloatVector.fromArray(S, part, 17 * L);
        FloatVector a33 = FloatVector.fromArray(S, part, 18 * L);
        FloatVector a34 = FloatVector.fromArray(S, part, 19 * L);
        final int[] rowIn = p.dwRowIn[4];
        final int[] rowGrad = p.dwRowGrad[4];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector g2 = FloatVector.fromArray(S, g, go - 2 * owr);
            FloatVector g3 = FloatVector.fromArray(S, g, go - 3 * owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            a20 = g2.fma(x0, a20);
            a30 = g3.fma(x0, a30);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            a11 = g1.fma(x1, a11);
            a21 = g2.fma(x1, a21);
            a31 = g3.fma(x1, a31);
            FloatVector x2 = FloatVector.fromArray(S, xs, xo + k2);
            a02 = g0.fma(x2, a02);
            a12 = g1.fma(x2, a12);
            a22 = g2.fma(x2, a22);
            a32 = g3.fma(x2, a32);
            FloatVector x3 = FloatVector.fromArray(S, xs, xo + k3);
            a03 = g0.fma(x3, a03);
            a13 = g1.fma(x3, a13);
            a23 = g2.fma(x3, a23);
            a33 = g3.fma(x3, a33);
            FloatVector x4 = FloatVector.fromArray(S, xs, xo + k4);
            a04 = g0.fma(x4, a04);
            a14 = g1.fma(x4, a14);
            a24 = g2.fma(x4, a24);
            a34 = g3.fma(x4, a34);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a02.intoArray(part, 2 * L);
        a03.intoArray(part, 3 * L);
        a04.intoArray(part, 4 * L);
        a10.intoArray(part, 5 * L);
        a11.intoArray(part, 6 * L);
        a12.intoArray(part, 7 * L);
        a13.intoArray(part, 8 * L);
        a14.intoArray(part, 9 * L);
        a20.intoArray(part, 10 * L);
        a21.intoArray(part, 11 * L);
        a22.intoArray(part, 12 * L);
        a23.intoArray(part, 13 * L);
        a24.intoArray(part, 14 * L);
        a30.intoArray(part, 15 * L);
        a31.intoArray(part, 16 * L);
        a32.intoArray(part, 17 * L);
        a33.intoArray(part, 18 * L);
        a34.intoArray(part, 19 * L);
    }

    private static void weights4x6(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        final int k2 = p.colOff[c0 + 2];
        final int k3 = p.colOff[c0 + 3];
        final int k4 = p.colOff[c0 + 4];
        final int k5 = p.colOff[c0 + 5];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a02 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a03 = FloatVector.fromArray(S, part, 3 * L);
        FloatVector a04 = FloatVector.fromArray(S, part, 4 * L);
        FloatVector a05 = FloatVector.fromArray(S, part, 5 * L);
        FloatVector a10 = FloatVector.fromArray(S, part, 6 * L);
        FloatVector a11 = FloatVector.fromArray(S, part, 7 * L);
        FloatVector a12 = FloatVector.fromArray(S, part, 8 * L);
        FloatVector a13 = FloatVector.fromArray(S, part, 9 * L);
        FloatVector a14 = FloatVector.fromArray(S, part, 10 * L);
        FloatVector a15 = FloatVector.fromArray(S, part, 11 * L);
        FloatVector a20 = FloatVector.fromArray(S, part, 12 * L);
        FloatVector a21 = FloatVector.fromArray(S, part, 13 * L);
        FloatVector a22 = FloatVector.fromArray(S, part, 14 * L);
        FloatVector a23 = FloatVector.fromArray(S, part, 15 * L);
        FloatVector a24 = FloatVector.fromArray(S, part, 16 * L);
        FloatVector a25 = FloatVector.fromArray(S, part, 17 * L);
        FloatVector a30 = FloatVector.fromArray(S, part, 18 * L);
        FloatVector a31 = FloatVector.fromArray(S, part, 19 * L);
        FloatVector a32 = FloatVector.fromArray(S, part, 20 * L);
        FloatVector a33 = FloatVector.fromArray(S, part, 21 * L);
        FloatVector a34 = FloatVector.fromArray(S, part, 22 * L);
        FloatVector a35 = FloatVector.fromArray(S, part, 23 * L);
        final int[] rowIn = p.dwRowIn[4];
        final int[] rowGrad = p.dwRowGrad[4];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector g2 = FloatVector.fromArray(S, g, go - 2 * owr);
            FloatVector g3 = FloatVector.fromArray(S, g, go - 3 * owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            a20 = g2.fma(x0, a20);
            a30 = g3.fma(x0, a30);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            a11 = g1.fma(x1, a11);
            a21 = g2.fma(x1, a21);
            a31 = g3.fma(x1, a31);
            FloatVector x2 = FloatVector.fromArray(S, xs, xo + k2);
            a02 = g0.fma(x2, a02);
            a12 = g1.fma(x2, a12);
            a22 = g2.fma(x2, a22);
            a32 = g3.fma(x2, a32);
            FloatVector x3 = FloatVector.fromArray(S, xs, xo + k3);
            a03 = g0.fma(x3, a03);
            a13 = g1.fma(x3, a13);
            a23 = g2.fma(x3, a23);
            a33 = g3.fma(x3, a33);
            FloatVector x4 = FloatVector.fromArray(S, xs, xo + k4);
            a04 = g0.fma(x4, a04);
            a14 = g1.fma(x4, a14);
            a24 = g2.fma(x4, a24);
            a34 = g3.fma(x4, a34);
            FloatVector x5 = FloatVector.fromArray(S, xs, xo + k5);
            a05 = g0.fma(x5, a05);
            a15 = g1.fma(x5, a15);
            a25 = g2.fma(x5, a25);
            a35 = g3.fma(x5, a35);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a02.intoArray(part, 2 * L);
        a03.intoArray(part, 3 * L);
        a04.intoArray(part, 4 * L);
        a05.intoArray(part, 5 * L);
        a10.intoArray(part, 6 * L);
        a11.intoArray(part, 7 * L);
        a12.intoArray(part, 8 * L);
        a13.intoArray(part, 9 * L);
        a14.intoArray(part, 10 * L);
        a15.intoArray(part, 11 * L);
        a20.intoArray(part, 12 * L);
        a21.intoArray(part, 13 * L);
        a22.intoArray(part, 14 * L);
        a23.intoArray(part, 15 * L);
        a24.intoArray(part, 16 * L);
        a25.intoArray(part, 17 * L);
        a30.intoArray(part, 18 * L);
        a31.intoArray(part, 19 * L);
        a32.intoArray(part, 20 * L);
        a33.intoArray(part, 21 * L);
        a34.intoArray(part, 22 * L);
        a35.intoArray(part, 23 * L);
    }

    private static void weights5x1(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a10 = FloatVector.fromArray(S, part, L);
        FloatVector a20 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a30 = FloatVector.fromArray(S, part, 3 * L);
        FloatVector a40 = FloatVector.fromArray(S, part, 4 * L);
        final int[] rowIn = p.dwRowIn[5];
        final int[] rowGrad = p.dwRowGrad[5];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector g2 = FloatVector.fromArray(S, g, go - 2 * owr);
            FloatVector g3 = FloatVector.fromArray(S, g, go - 3 * owr);
            FloatVector g4 = FloatVector.fromArray(S, g, go - 4 * owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            a20 = g2.fma(x0, a20);
            a30 = g3.fma(x0, a30);
            a40 = g4.fma(x0, a40);
        }
        a00.intoArray(part, 0);
        a10.intoArray(part, L);
        a20.intoArray(part, 2 * L);
        a30.intoArray(part, 3 * L);
        a40.intoArray(part, 4 * L);
    }

    private static void weights5x2(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a10 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a11 = FloatVector.fromArray(S, part, 3 * L);
        FloatVector a20 = FloatVector.fromArray(S, part, 4 * L);
        FloatVector a21 = FloatVector.fromArray(S, part, 5 * L);
        FloatVector a30 = FloatVector.fromArray(S, part, 6 * L);
        FloatVector a31 = FloatVector.fromArray(S, part, 7 * L);
        FloatVector a40 = FloatVector.fromArray(S, part, 8 * L);
        FloatVector a41 = FloatVector.fromArray(S, part, 9 * L);
        final int[] rowIn = p.dwRowIn[5];
        final int[] rowGrad = p.dwRowGrad[5];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector g2 = FloatVector.fromArray(S, g, go - 2 * owr);
            FloatVector g3 = FloatVector.fromArray(S, g, go - 3 * owr);
            FloatVector g4 = FloatVector.fromArray(S, g, go - 4 * owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            a20 = g2.fma(x0, a20);
            a30 = g3.fma(x0, a30);
            a40 = g4.fma(x0, a40);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            a11 = g1.fma(x1, a11);
            a21 = g2.fma(x1, a21);
            a31 = g3.fma(x1, a31);
            a41 = g4.fma(x1, a41);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a10.intoArray(part, 2 * L);
        a11.intoArray(part, 3 * L);
        a20.intoArray(part, 4 * L);
        a21.intoArray(part, 5 * L);
        a30.intoArray(part, 6 * L);
        a31.intoArray(part, 7 * L);
        a40.intoArray(part, 8 * L);
        a41.intoArray(part, 9 * L);
    }

    private static void weights5x3(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        final int k2 = p.colOff[c0 + 2];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a02 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a10 = FloatVector.fromArray(S, part, 3 * L);
        FloatVector a11 = FloatVector.fromArray(S, part, 4 * L);
        FloatVector a12 = FloatVector.fromArray(S, part, 5 * L);
        FloatVector a20 = FloatVector.fromArray(S, part, 6 * L);
        FloatVector a21 = FloatVector.fromArray(S, part, 7 * L);
        FloatVector a22 = FloatVector.fromArray(S, part, 8 * L);
        FloatVector a30 = FloatVector.fromArray(S, part, 9 * L);
        FloatVector a31 = FloatVector.fromArray(S, part, 10 * L);
        FloatVector a32 = FloatVector.fromArray(S, part, 11 * L);
        FloatVector a40 = FloatVector.fromArray(S, part, 12 * L);
        FloatVector a41 = FloatVector.fromArray(S, part, 13 * L);
        FloatVector a42 = FloatVector.fromArray(S, part, 14 * L);
        final int[] rowIn = p.dwRowIn[5];
        final int[] rowGrad = p.dwRowGrad[5];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector g2 = FloatVector.fromArray(S, g, go - 2 * owr);
            FloatVector g3 = FloatVector.fromArray(S, g, go - 3 * owr);
            FloatVector g4 = FloatVector.fromArray(S, g, go - 4 * owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            a20 = g2.fma(x0, a20);
            a30 = g3.fma(x0, a30);
            a40 = g4.fma(x0, a40);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            a11 = g1.fma(x1, a11);
            a21 = g2.fma(x1, a21);
            a31 = g3.fma(x1, a31);
            a41 = g4.fma(x1, a41);
            FloatVector x2 = FloatVector.fromArray(S, xs, xo + k2);
            a02 = g0.fma(x2, a02);
            a12 = g1.fma(x2, a12);
            a22 = g2.fma(x2, a22);
            a32 = g3.fma(x2, a32);
            a42 = g4.fma(x2, a42);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a02.intoArray(part, 2 * L);
        a10.intoArray(part, 3 * L);
        a11.intoArray(part, 4 * L);
        a12.intoArray(part, 5 * L);
        a20.intoArray(part, 6 * L);
        a21.intoArray(part, 7 * L);
        a22.intoArray(part, 8 * L);
        a30.intoArray(part, 9 * L);
        a31.intoArray(part, 10 * L);
        a32.intoArray(part, 11 * L);
        a40.intoArray(part, 12 * L);
        a41.intoArray(part, 13 * L);
        a42.intoArray(part, 14 * L);
    }

    private static void weights5x4(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                   float[] part) {
        final int owr = p.owr;
        final int k0 = p.colOff[c0];
        final int k1 = p.colOff[c0 + 1];
        final int k2 = p.colOff[c0 + 2];
        final int k3 = p.colOff[c0 + 3];
        FloatVector a00 = FloatVector.fromArray(S, part, 0);
        FloatVector a01 = FloatVector.fromArray(S, part, L);
        FloatVector a02 = FloatVector.fromArray(S, part, 2 * L);
        FloatVector a03 = FloatVector.fromArray(S, part, 3 * L);
        FloatVector a10 = FloatVector.fromArray(S, part, 4 * L);
        FloatVector a11 = FloatVector.fromArray(S, part, 5 * L);
        FloatVector a12 = FloatVector.fromArray(S, part, 6 * L);
        FloatVector a13 = FloatVector.fromArray(S, part, 7 * L);
        FloatVector a20 = FloatVector.fromArray(S, part, 8 * L);
        FloatVector a21 = FloatVector.fromArray(S, part, 9 * L);
        FloatVector a22 = FloatVector.fromArray(S, part, 10 * L);
        FloatVector a23 = FloatVector.fromArray(S, part, 11 * L);
        FloatVector a30 = FloatVector.fromArray(S, part, 12 * L);
        FloatVector a31 = FloatVector.fromArray(S, part, 13 * L);
        FloatVector a32 = FloatVector.fromArray(S, part, 14 * L);
        FloatVector a33 = FloatVector.fromArray(S, part, 15 * L);
        FloatVector a40 = FloatVector.fromArray(S, part, 16 * L);
        FloatVector a41 = FloatVector.fromArray(S, part, 17 * L);
        FloatVector a42 = FloatVector.fromArray(S, part, 18 * L);
        FloatVector a43 = FloatVector.fromArray(S, part, 19 * L);
        final int[] rowIn = p.dwRowIn[5];
        final int[] rowGrad = p.dwRowGrad[5];
        final int xBase = xb + (z * p.xh + h0) * p.wr;
        for (int t = 0; t < rowIn.length; t++) {
            int xo = xBase + rowIn[t];
            int go = gb + rowGrad[t];
            FloatVector g0 = FloatVector.fromArray(S, g, go);
            FloatVector g1 = FloatVector.fromArray(S, g, go - owr);
            FloatVector g2 = FloatVector.fromArray(S, g, go - 2 * owr);
            FloatVector g3 = FloatVector.fromArray(S, g, go - 3 * owr);
            FloatVector g4 = FloatVector.fromArray(S, g, go - 4 * owr);
            FloatVector x0 = FloatVector.fromArray(S, xs, xo + k0);
            a00 = g0.fma(x0, a00);
            a10 = g1.fma(x0, a10);
            a20 = g2.fma(x0, a20);
            a30 = g3.fma(x0, a30);
            a40 = g4.fma(x0, a40);
            FloatVector x1 = FloatVector.fromArray(S, xs, xo + k1);
            a01 = g0.fma(x1, a01);
            a11 = g1.fma(x1, a11);
            a21 = g2.fma(x1, a21);
            a31 = g3.fma(x1, a31);
            a41 = g4.fma(x1, a41);
            FloatVector x2 = FloatVector.fromArray(S, xs, xo + k2);
            a02 = g0.fma(x2, a02);
            a12 = g1.fma(x2, a12);
            a22 = g2.fma(x2, a22);
            a32 = g3.fma(x2, a32);
            a42 = g4.fma(x2, a42);
            FloatVector x3 = FloatVector.fromArray(S, xs, xo + k3);
            a03 = g0.fma(x3, a03);
            a13 = g1.fma(x3, a13);
            a23 = g2.fma(x3, a23);
            a33 = g3.fma(x3, a33);
            a43 = g4.fma(x3, a43);
        }
        a00.intoArray(part, 0);
        a01.intoArray(part, L);
        a02.intoArray(part, 2 * L);
        a03.intoArray(part, 3 * L);
        a10.intoArray(part, 4 * L);
        a11.intoArray(part, 5 * L);
        a12.intoArray(part, 6 * L);
        a13.intoArray(part, 7 * L);
        a20.intoArray(part, 8 * L);
        a21.intoArray(part, 9 * L);
        a22.intoArray(part, 10 * L);
        a23.intoArray(part, 11 * L);
        a30.intoArray(part, 12 * L);
        a31.intoArray(part, 13 * L);
        a32.intoArray(part, 14 * L);
        a33.intoArray(part, 15 * L);
        a40.intoArray(part, 16 * L);
        a41.intoArray(part, 17 * L);
        a42.intoArray(part, 18 * L);
        a43.intoArray(part, 19 * L);
    }
}
