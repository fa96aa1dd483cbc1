package io.dcls4j.ops;

import io.dcls4j.Interpolation;
import io.dcls4j.PaddingMode;
import io.dcls4j.Tensor;
import io.dcls4j.reference.ReferenceConstruct;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link KernelConstruction#window} against the float64 reference construction: the kernel is 0
 * outside the box, and the construction's backward pass takes nothing from a gradient that lives
 * only outside it; for bilinear the box is exactly the cells next to the centres. And the checks of
 * {@link Convolution#setKernelWindow}.
 */
class KernelWindowTest {

    static IntStream seeds() {
        return IntStream.range(0, 40);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void windowHoldsTheKernelAndEverythingBackwardReads(int seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Interpolation interp = Interpolation.values()[seed % 4];
        int ndim = 1 + (seed / 4) % 3;
        int[] dks = new int[ndim];
        for (int d = 0; d < ndim; d++) {
            dks[d] = 3 + r.nextInt(ndim == 1 ? 40 : ndim == 2 ? 15 : 7);
        }
        int out = 1 + r.nextInt(3);
        int inPerGroup = 1 + r.nextInt(2);
        int count = 1 + r.nextInt(4);
        ConstructConfig cc = new ConstructConfig(interp, out, inPerGroup, count, dks);
        int elements = out * inPerGroup * count;
        // Centred positions, some far out, some off the grid; small and large sigmas.
        double spread = seed % 3 == 0 ? dks[0] : 1.5;
        double[] w = new double[elements];
        double[] p = new double[ndim * elements];
        double[] s = interp.learnsSigma() ? new double[ndim * elements] : null;
        for (int i = 0; i < elements; i++) {
            w[i] = r.nextDouble(-1, 1);
        }
        for (int i = 0; i < p.length; i++) {
            p[i] = r.nextDouble(-spread, spread);
            if (s != null) {
                s[i] = r.nextDouble(-0.4, seed % 2 == 0 ? 0.4 : 3);
            }
        }
        KernelConstruction construction = new KernelConstruction(cc);
        KernelWindow window = new KernelWindow(dks);
        try (Arena arena = Arena.ofConfined()) {
            Tensor pt = Tensor.allocate(arena, construction.positionShape()).copyFrom(toFloat(p));
            Tensor st = s == null ? null : Tensor.allocate(arena, construction.positionShape()).copyFrom(toFloat(s));
            construction.window(pt, st, window);
        }
        for (int d = 0; d < ndim; d++) {
            assertTrue(0 <= window.lo(d) && window.lo(d) < window.hi(d) && window.hi(d) <= dks[d], window.toString());
        }
        // float32 parameters, as the native side saw them
        double[] pf = toDouble(toFloat(p));
        double[] sf = s == null ? null : toDouble(toFloat(s));
        double[] kernel = ReferenceConstruct.forward(cc, w, pf, sf);
        int area = kernel.length / (out * inPerGroup);
        double[] outside = new double[kernel.length];
        SplittableRandom g = new SplittableRandom(seed + 1000);
        for (int i = 0; i < kernel.length; i++) {
            boolean inside = inside(window, dks, i % area);
            if (!inside) {
                // below the smallest normal float: flushed to exactly 0 in the float32 kernel
                assertTrue(Math.abs(kernel[i]) < Float.MIN_NORMAL, "kernel cell " + i + " = " + kernel[i] + " outside " + window);
                outside[i] = g.nextDouble(-1, 1);
            }
        }
        ReferenceConstruct.ConstructGradients grads = ReferenceConstruct.backward(cc, w, pf, sf, outside);
        assertNegligible("grad weight", grads.weight());
        assertNegligible("grad P", grads.positions());
        if (sf != null) {
            assertNegligible("grad SIG", grads.sigma());
        }
        if (interp == Interpolation.BILINEAR) {
            // exactly the union of floor(c) and floor(c) + 1 (inside the grid), per axis
            for (int d = 0; d < ndim; d++) {
                long lo = Long.MAX_VALUE;
                long hi = Long.MIN_VALUE;
                for (int e = 0; e < elements; e++) {
                    double c = pf[d * elements + e] + dks[d] / 2;
                    long f = (long) Math.floor(c);
                    for (long cell = f; cell <= f + 1; cell++) {
                        if (cell >= 0 && cell < dks[d]) {
                            lo = Math.min(lo, cell);
                            hi = Math.max(hi, cell + 1);
                        }
                    }
                }
                if (lo <= hi) {
                    assertEquals(lo, window.lo(d), "lo of axis " + d);
                    assertEquals(hi, window.hi(d), "hi of axis " + d);
                }
            }
        }
    }

    private static boolean inside(KernelWindow window, int[] dks, int cell) {
        for (int d = dks.length - 1; d >= 0; d--) {
            int c = cell % dks[d];
            cell /= dks[d];
            if (c < window.lo(d) || c >= window.hi(d)) {
                return false;
            }
        }
        return true;
    }

    /** At most 1e-20: some 13 orders of magnitude below what a float32 gradient of order 1 resolves. */
    private static void assertNegligible(String what, double[] values) {
        for (int i = 0; i < values.length; i++) {
            assertTrue(Math.abs(values[i]) < 1e-20, what + "[" + i + "] = " + values[i] + " from gradients outside the window");
        }
    }

    @Test
    void badWindowsAreRefusedBeforeTheNativeCall() {
        assertThrows(IllegalArgumentException.class, KernelWindow::new);
        assertThrows(IllegalArgumentException.class, () -> new KernelWindow(3, 3, 3, 3));
        assertThrows(IndexOutOfBoundsException.class, () -> new KernelWindow(5).set(3, 0, 1));
        ConvConfig config = new ConvConfig(1, 2, 2, 1, new int[] {8, 8}, new int[] {5, 5}, new int[] {1, 1},
                new int[] {2, 2}, PaddingMode.ZEROS);
        try (Convolution conv = new Convolution(config)) {
            conv.setKernelWindow(new KernelWindow(5, 5).set(0, 1, 3).set(1, 4, 5));
            var empty = assertThrows(IllegalArgumentException.class,
                    () -> conv.setKernelWindow(new KernelWindow(5, 5).set(1, 2, 2)));
            assertTrue(empty.getMessage().contains("axis 1"), empty.getMessage());
            assertThrows(IllegalArgumentException.class, () -> conv.setKernelWindow(new KernelWindow(5, 5).set(0, 0, 6)));
            assertThrows(IllegalArgumentException.class, () -> conv.setKernelWindow(new KernelWindow(5, 5).set(0, -1, 2)));
            assertThrows(IllegalArgumentException.class, () -> conv.setKernelWindow(new KernelWindow(5)));
            assertThrows(IllegalArgumentException.class, () -> conv.setKernelWindow(null));
            conv.close();
            assertThrows(IllegalStateException.class, () -> conv.setKernelWindow(new KernelWindow(5, 5)));
        }
        KernelConstruction construction = new KernelConstruction(
                new ConstructConfig(Interpolation.GAUSSIAN, 2, 1, 3, new int[] {7, 7}));
        try (Arena arena = Arena.ofConfined()) {
            Tensor p = Tensor.allocate(arena, construction.positionShape());
            assertThrows(IllegalArgumentException.class, () -> construction.window(p, p, new KernelWindow(7)));
            assertThrows(IllegalArgumentException.class, () -> construction.window(p, null, new KernelWindow(7, 7)));
            construction.window(p, p, new KernelWindow(7, 7));  // positions and sigma 0: fine
        }
    }

    private static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }
}
