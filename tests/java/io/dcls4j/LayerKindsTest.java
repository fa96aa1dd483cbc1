package io.dcls4j;

import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;
import io.dcls4j.reference.ReferenceConstruct;
import io.dcls4j.reference.ReferenceConv;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static io.dcls4j.Compare.close;
import static io.dcls4j.Compare.toDouble;
import static io.dcls4j.Compare.toFloat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dcls2_1d, Dcls3_1d and Dcls2dK1d layers, every interpolation (bilinear included, which the reference lacks for
 * the N_1d kinds), against the float64 oracle: {@link ReferenceConstruct} on the kind's own definition (a 1D
 * construction per dense cell along the learnable axis, Dcls2_1d's Gaussian with |sigma| + 1) and
 * {@link ReferenceConv}; the oracle's gradients against central finite differences; the bilinear kernel against
 * a direct spread of each element over floor(c) and floor(c) + 1.
 */
class LayerKindsTest {

    /** A small layer: kind settings and shapes. dense null and flat -1 for the unused one. */
    record Setup(String name, int in, int out, int groups, int count, int length, int[] dense, int flat,
                 int[] stride, int[] padding, PaddingMode mode, long[] inputShape) {
        DclsConv.Builder builder(Interpolation interpolation) {
            DclsConv.Builder b = DclsConv.builder(in, out).kernelCount(count).dilatedKernelSize(length)
                    .groups(groups).stride(stride).padding(padding).paddingMode(mode).interpolation(interpolation)
                    .seed(11);
            return dense != null ? b.denseKernelSize(dense) : b.flatDim(flat);
        }

        int denseVolume() {
            return dense == null ? 1 : Arrays.stream(dense).reduce(1, (a, b) -> a * b);
        }

        /** The kind's construction, written from its definition (not from the library's KernelLayout). */
        ConstructConfig construct(Interpolation interpolation) {
            double offset = dense != null && dense.length == 1 ? 1.0 : 0.27;
            return new ConstructConfig(interpolation, out, in / groups * denseVolume(), count, new int[] {length},
                    offset);
        }

        int[] kernelSize() {
            if (dense != null) {
                int[] k = Arrays.copyOf(dense, dense.length + 1);
                k[dense.length] = length;
                return k;
            }
            return flat == 0 ? new int[] {length, 1} : new int[] {1, length};
        }

        ConvConfig conv() {
            int[] spatial = new int[inputShape.length - 2];
            for (int d = 0; d < spatial.length; d++) {
                spatial[d] = (int) inputShape[2 + d];
            }
            return new ConvConfig((int) inputShape[0], in, out, groups, spatial, kernelSize(), stride, padding, mode);
        }
    }

    static final List<Setup> SETUPS = List.of(
            new Setup("2_1d", 4, 6, 2, 3, 9, new int[] {3}, -1, new int[] {1, 2}, new int[] {1, 4},
                    PaddingMode.REFLECT, new long[] {2, 4, 5, 11}),
            new Setup("3_1d", 2, 3, 1, 2, 7, new int[] {2, 3}, -1, new int[] {1, 1, 1}, new int[] {0, 1, 3},
                    PaddingMode.CIRCULAR, new long[] {2, 2, 3, 4, 8}),
            new Setup("2dK1d_f0", 3, 3, 3, 3, 8, null, 0, new int[] {2, 1}, new int[] {4, 0},
                    PaddingMode.REPLICATE, new long[] {2, 3, 9, 4}),
            new Setup("2dK1d_f1", 2, 4, 1, 2, 6, null, 1, new int[] {1, 1}, new int[] {0, 3},
                    PaddingMode.ZEROS, new long[] {1, 2, 3, 7}));

    @TestFactory
    List<DynamicTest> everyKindAndInterpolationAgainstTheFloat64Oracle() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Setup s : SETUPS) {
            for (Interpolation i : Interpolation.values()) {
                tests.add(DynamicTest.dynamicTest(s.name + " " + i, () -> againstOracle(s, i)));
            }
        }
        return tests;
    }

    /** Positions a fraction 0.2 to 0.8 away from the integers (no kinks), some partly off the grid. */
    static double[] positions(SplittableRandom r, int n, int length) {
        double[] p = new double[n];
        int lim = length / 2;
        for (int i = 0; i < n; i++) {
            p[i] = r.nextInt(-lim - 1, lim + 1) + r.nextDouble(0.2, 0.8);
        }
        return p;
    }

    static double[] uniform(SplittableRandom r, int n, double lo, double hi) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextDouble(lo, hi);
        }
        return v;
    }

    static void againstOracle(Setup s, Interpolation interp) {
        SplittableRandom r = new SplittableRandom(s.name.hashCode() * 31L + interp.ordinal());
        try (Arena arena = Arena.ofConfined(); DclsConv conv = s.builder(interp).build()) {
            float[] w = toFloat(uniform(r, (int) conv.weight().value().elementCount(), -1, 1));
            float[] p = toFloat(positions(r, (int) conv.positions().value().elementCount(), s.length));
            float[] sig = interp.learnsSigma() ? toFloat(uniform(r, p.length, -0.8, 1.2)) : null;
            float[] b = toFloat(uniform(r, s.out, -0.5, 0.5));
            conv.loadReferenceParameters(w, p, sig, b);
            long elements = 1;
            for (long d : s.inputShape) {
                elements *= d;
            }
            float[] xs = toFloat(uniform(r, (int) elements, -1, 1));
            Tensor x = Tensor.allocate(arena, s.inputShape).copyFrom(xs);
            Tensor y = conv.forward(x);
            float[] gys = toFloat(uniform(r, (int) y.elementCount(), -1, 1));
            Tensor gx = conv.backward(Tensor.allocate(arena, y.shape()).copyFrom(gys));

            Oracle o = new Oracle(s, interp, toDouble(w), toDouble(p), sig == null ? null : toDouble(sig),
                    toDouble(b), toDouble(xs), toDouble(gys));
            String what = s.name + " " + interp;
            close(what + " kernel", o.kernel, conv.kernel().toFloatArray());
            close(what + " y", o.y, y.toFloatArray());
            close(what + " grad_x", o.gradX, gx.toFloatArray());
            close(what + " grad_weight", o.grads.weight(), conv.weight().grad().toFloatArray());
            close(what + " grad_P", o.grads.positions(), conv.positions().grad().toFloatArray());
            if (sig != null) {
                close(what + " grad_SIG", o.grads.sigma(), conv.sigma().grad().toFloatArray());
            }
            close(what + " grad_bias", ReferenceConv.backwardBias(s.conv(), toDouble(gys)),
                    conv.bias().grad().toFloatArray());
        }
    }

    /** The float64 forward and backward of one layer. */
    static final class Oracle {
        final double[] kernel;
        final double[] y;
        final double[] gradX;
        final ReferenceConstruct.ConstructGradients grads;

        Oracle(Setup s, Interpolation interp, double[] w, double[] p, double[] sig, double[] b, double[] x,
               double[] gy) {
            ConstructConfig cc = s.construct(interp);
            ConvConfig c = s.conv();
            kernel = ReferenceConstruct.forward(cc, w, p, sig);
            y = ReferenceConv.forward(c, x, kernel, b);
            gradX = ReferenceConv.backwardData(c, gy, kernel);
            grads = ReferenceConstruct.backward(cc, w, p, sig, ReferenceConv.backwardWeights(c, x, gy));
        }

        static double loss(Setup s, Interpolation interp, double[] w, double[] p, double[] sig, double[] x,
                           double[] gy) {
            double[] k = ReferenceConstruct.forward(s.construct(interp), w, p, sig);
            double[] y = ReferenceConv.forward(s.conv(), x, k, null);
            double l = 0;
            for (int i = 0; i < y.length; i++) {
                l += y[i] * gy[i];
            }
            return l;
        }
    }

    @TestFactory
    List<DynamicTest> theOraclesGradientsAreFiniteDifferences() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Setup s : SETUPS) {
            for (Interpolation i : Interpolation.values()) {
                tests.add(DynamicTest.dynamicTest(s.name + " " + i, () -> finiteDifferences(s, i)));
            }
        }
        return tests;
    }

    static void finiteDifferences(Setup s, Interpolation interp) {
        SplittableRandom r = new SplittableRandom(99 + interp.ordinal());
        ConstructConfig cc = s.construct(interp);
        double[] w = uniform(r, cc.elementCount(), -1, 1);
        double[] p = positions(r, cc.positionLength(), s.length);
        double[] sig = interp.learnsSigma() ? uniform(r, p.length, 0.1, 1.2) : null;
        ConvConfig c = s.conv();
        int xLength = c.batch() * c.inChannels() * Arrays.stream(c.inputSize()).reduce(1, (a, b) -> a * b);
        double[] x = uniform(r, xLength, -1, 1);
        double[] y = ReferenceConv.forward(c, x, ReferenceConstruct.forward(cc, w, p, sig), null);
        double[] gy = uniform(r, y.length, -1, 1);
        Oracle o = new Oracle(s, interp, w, p, sig, null, x, gy);
        double h = 1e-6;
        for (int k = 0; k < Math.min(6, p.length); k++) {
            int i = r.nextInt(p.length);
            checkDerivative(s.name + " " + interp + " dP[" + i + "]", o.grads.positions()[i], p, i, h,
                    () -> Oracle.loss(s, interp, w, p, sig, x, gy));
            checkDerivative(s.name + " " + interp + " dW[" + i + "]", o.grads.weight()[i], w, i, h,
                    () -> Oracle.loss(s, interp, w, p, sig, x, gy));
            if (sig != null) {
                checkDerivative(s.name + " " + interp + " dSIG[" + i + "]", o.grads.sigma()[i], sig, i, h,
                        () -> Oracle.loss(s, interp, w, p, sig, x, gy));
            }
        }
    }

    static void checkDerivative(String what, double analytic, double[] values, int i, double h,
                                java.util.function.DoubleSupplier loss) {
        double saved = values[i];
        values[i] = saved + h;
        double plus = loss.getAsDouble();
        values[i] = saved - h;
        double minus = loss.getAsDouble();
        values[i] = saved;
        double numeric = (plus - minus) / (2 * h);
        assertEquals(numeric, analytic, 1e-6 * Math.max(1, Math.abs(numeric)), what);
    }

    @Test
    void bilinearN1dSpreadsEachElementOverTwoCellsOfItsRow() {
        Setup s = SETUPS.get(1); // Dcls3_1d: dense (2, 3), L = 7
        try (DclsConv conv = s.builder(Interpolation.BILINEAR).build()) {
            SplittableRandom r = new SplittableRandom(5);
            float[] w = toFloat(uniform(r, (int) conv.weight().value().elementCount(), -1, 1));
            float[] p = toFloat(positions(r, w.length, s.length));
            conv.loadReferenceParameters(w, p, null, toFloat(uniform(r, s.out, -1, 1)));
            float[] k = conv.buildKernel().toFloatArray();
            // direct: weight (Cout, Cin/g, 2, 3, K) and P (1, ...) -> kernel (Cout, Cin/g, 2, 3, L)
            double[] expected = new double[k.length];
            int rows = w.length / s.count;
            for (int row = 0; row < rows; row++) {
                for (int e = 0; e < s.count; e++) {
                    double c = p[row * s.count + e] + s.length / 2;
                    int f = (int) Math.floor(c);
                    double frac = c - f;
                    if (f >= 0 && f < s.length) {
                        expected[row * s.length + f] += w[row * s.count + e] * (1 - frac);
                    }
                    if (f + 1 >= 0 && f + 1 < s.length) {
                        expected[row * s.length + f + 1] += w[row * s.count + e] * frac;
                    }
                }
            }
            close("bilinear Dcls3_1d kernel", expected, k);
        }
    }

    @Test
    void inferenceModeBuildsTheKindsKernelFromRoundedPositions() {
        for (Setup s : SETUPS) {
            try (DclsConv conv = s.builder(Interpolation.GAUSSIAN).build()) {
                SplittableRandom r = new SplittableRandom(8);
                double[] w = uniform(r, (int) conv.weight().value().elementCount(), -1, 1);
                double[] p = positions(r, w.length, s.length);
                conv.loadReferenceParameters(toFloat(w), toFloat(p), toFloat(uniform(r, p.length, 0, 1)),
                        toFloat(uniform(r, s.out, -1, 1)));
                double[] rounded = Arrays.stream(toDouble(toFloat(p))).map(Math::rint).toArray();
                ConstructConfig cc = s.construct(Interpolation.TRIANGLE_LEARNED_WIDTH);
                double[] expected = ReferenceConstruct.forward(cc, toDouble(toFloat(w)), rounded,
                        new double[rounded.length]);
                close(s.name + " inference kernel", expected, conv.inferenceMode(true).kernel().toFloatArray());
            }
        }
    }

    @Test
    void sigmaSchedulesFillTheKindsSingleSigmaComponent() {
        try (DclsConv conv = DclsConv.builder(2, 2).kernelCount(2).dilatedKernelSize(9).denseKernelSize(3, 2)
                .build()) {
            io.dcls4j.optim.SigmaSchedule schedule = io.dcls4j.optim.SigmaSchedule.fromKernelSize(conv, 0.23, 10);
            schedule.apply(conv, 0);
            for (float v : conv.sigma().value().toFloatArray()) {
                assertEquals(4.5f, v, 0f); // the learnable axis: 9 / 2
            }
        }
    }

    @Test
    void kindsShapesAndNames() {
        try (DclsConv a = DclsConv.builder(4, 6).groups(2).kernelCount(3).dilatedKernelSize(9).denseKernelSize(5)
                .build();
             DclsConv b = DclsConv.builder(2, 2).kernelCount(2).dilatedKernelSize(7).denseKernelSize(3, 2).build();
             DclsConv c = DclsConv.builder(2, 3).kernelCount(4).dilatedKernelSize(5).flatDim(1).build()) {
            assertEquals(DclsKind.DCLS2_1D, a.kind());
            assertEquals(2, a.ndim());
            assertArrayEquals(new long[] {6, 2, 5, 3}, a.weight().value().shape());
            assertArrayEquals(new long[] {1, 6, 2, 5, 3}, a.positions().value().shape());
            assertArrayEquals(new long[] {1, 6, 2, 5, 3}, a.sigma().value().shape());
            assertArrayEquals(new long[] {6, 2, 5, 9}, a.kernel().shape());
            assertArrayEquals(new long[] {1, 6, 8, 4}, a.outputShape(1, 4, 12, 12));
            assertTrue(a.toString().startsWith("Dcls2_1d("), a.toString());
            assertEquals(DclsKind.DCLS3_1D, b.kind());
            assertEquals(3, b.ndim());
            assertArrayEquals(new long[] {2, 2, 3, 2, 7}, b.kernel().shape());
            assertEquals(DclsKind.DCLS2DK1D, c.kind());
            assertArrayEquals(new long[] {3, 2, 1, 5}, c.kernel().shape());
            assertArrayEquals(new long[] {1, 3, 2, 4}, c.positions().value().shape());
            // the reference's initialisation: N_1d positions uniform in +-L/2
            for (float v : a.positions().value().toFloatArray()) {
                assertTrue(v >= -4 && v <= 4, "position " + v);
            }
        }
    }

    @Test
    void badKindSettingsAreRejectedByName() {
        var e1 = assertThrows(IllegalArgumentException.class, () -> DclsConv.builder(2, 2).kernelCount(2)
                .dilatedKernelSize(5).denseKernelSize(3).flatDim(0).build());
        assertTrue(e1.getMessage().contains("exclude"), e1.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> DclsConv.builder(2, 2).kernelCount(2)
                .dilatedKernelSize(5, 5).denseKernelSize(3).build());
        assertTrue(e2.getMessage().contains("dilatedKernelSize"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> DclsConv.builder(2, 2).kernelCount(2)
                .dilatedKernelSize(5).flatDim(2).build());
        assertTrue(e3.getMessage().contains("flatDim"), e3.getMessage());
        var e4 = assertThrows(IllegalArgumentException.class, () -> DclsConv.builder(2, 2).kernelCount(2)
                .dilatedKernelSize(5).denseKernelSize(3, 3, 3).build());
        assertTrue(e4.getMessage().contains("denseKernelSize"), e4.getMessage());
        var e5 = assertThrows(IllegalArgumentException.class, () -> DclsConv.builder(2, 2).kernelCount(2)
                .dilatedKernelSize(5).denseKernelSize(0).build());
        assertTrue(e5.getMessage().contains("denseKernelSize[0]"), e5.getMessage());
        var e6 = assertThrows(IllegalArgumentException.class, () -> DclsConv.builder(2, 2).kernelCount(2)
                .dilatedKernelSize(5).denseKernelSize(3).stride(1, 1, 1).build());
        assertTrue(e6.getMessage().contains("stride"), e6.getMessage());
        try (DclsConv conv = DclsConv.builder(2, 2).kernelCount(2).dilatedKernelSize(5).denseKernelSize(3).build();
             Arena arena = Arena.ofConfined()) {
            var e7 = assertThrows(IllegalArgumentException.class,
                    () -> conv.forward(Tensor.allocate(arena, 1, 2, 9)));
            assertTrue(e7.getMessage().contains("2D"), e7.getMessage());
        }
    }
}
