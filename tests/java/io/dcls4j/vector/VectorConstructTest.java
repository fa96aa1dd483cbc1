package io.dcls4j.vector;

import io.dcls4j.Interpolation;
import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.reference.ReferenceConstruct;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Random;
import java.util.stream.Stream;

import static io.dcls4j.Compare.close;
import static io.dcls4j.Compare.toDouble;
import static io.dcls4j.vector.RandomData.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link VectorConstruct} against the float64 {@link ReferenceConstruct}, kinks included. */
class VectorConstructTest {

    static Stream<Arguments> configs() {
        int[][] sizes = {{1}, {7}, {16}, {41}, {5, 6}, {17, 17}, {1, 9}, {8, 3}, {3, 4, 5}, {2, 1, 3}, {5, 5, 5}};
        return Stream.of(Interpolation.values()).flatMap(i -> Stream.of(sizes).flatMap(dks ->
                Stream.of(1L, 2L, 3L).map(seed -> Arguments.of(i, dks, seed))));
    }

    /** Random parameters; positions reach beyond the grid, some sit exactly on kinks (integers, half-integers). */
    static Params params(Interpolation interpolation, int[] dks, long seed) {
        Random r = new Random(seed * 31 + dks.length * 7L + interpolation.ordinal());
        ConstructConfig c = new ConstructConfig(interpolation, 1 + r.nextInt(3), 1 + r.nextInt(3),
                1 + r.nextInt(9), dks);
        float[] w = random(r, c.elementCount());
        float[] p = new float[c.positionLength()];
        float[] s = interpolation.learnsSigma() ? new float[c.positionLength()] : null;
        int elements = c.elementCount();
        for (int d = 0; d < dks.length; d++) {
            for (int e = 0; e < elements; e++) {
                double half = dks[d] / 2.0;
                double v = (2 * r.nextDouble() - 1) * (half + 1.5);
                switch (r.nextInt(6)) {
                    case 0 -> v = Math.rint(v);
                    case 1 -> v = Math.floor(v) + 0.5;
                    default -> { }
                }
                p[d * elements + e] = (float) v;
                if (s != null) {
                    double sv = switch (r.nextInt(5)) {
                        case 0 -> 0.0;
                        case 1 -> -r.nextDouble() * 2;
                        case 2 -> Math.rint(r.nextDouble() * 2);
                        default -> r.nextDouble() * 2;
                    };
                    s[d * elements + e] = (float) sv;
                }
            }
        }
        float[] gk = random(r, c.kernelLength());
        return new Params(c, w, p, s, gk);
    }

    record Params(ConstructConfig c, float[] w, float[] p, float[] s, float[] gk) {
        double[] sd() {
            return s == null ? null : toDouble(s);
        }
    }

    @ParameterizedTest
    @MethodSource("configs")
    void forwardAndBackwardMatchReference(Interpolation interpolation, int[] dks, long seed) {
        Params q = params(interpolation, dks, seed);
        ConstructConfig c = q.c();
        double[] refKernel = ReferenceConstruct.forward(c, toDouble(q.w()), toDouble(q.p()), q.sd());
        float[] kernel = VectorConstruct.forward(c, q.w(), q.p(), q.s());
        close("kernel " + c, refKernel, kernel);

        ReferenceConstruct.ConstructGradients ref = ReferenceConstruct.backward(c, toDouble(q.w()),
                toDouble(q.p()), q.sd(), toDouble(q.gk()));
        float[] gw = new float[c.elementCount()];
        float[] gp = new float[c.positionLength()];
        float[] gs = q.s() == null ? null : new float[c.positionLength()];
        VectorConstruct.backward(c, q.w(), q.p(), q.s(), q.gk(), gw, gp, gs, false);
        close("grad weight " + c, ref.weight(), gw);
        close("grad positions " + c, ref.positions(), gp);
        if (gs != null) {
            close("grad sigma " + c, ref.sigma(), gs);
        } else {
            assertNull(ref.sigma());
        }

        // accumulate adds to what is there
        VectorConstruct.backward(c, q.w(), q.p(), q.s(), q.gk(), gw, gp, gs, true);
        close("accumulated grad weight " + c, scale(ref.weight(), 2), gw);
        close("accumulated grad positions " + c, scale(ref.positions(), 2), gp);
    }

    /** The gradient reads the kernel gradient only where {@link VectorConstruct#support} says. */
    @ParameterizedTest
    @MethodSource("configs")
    void gradientOnlyReadsTheSupport(Interpolation interpolation, int[] dks, long seed) {
        Params q = params(interpolation, dks, seed);
        ConstructConfig c = q.c();
        boolean[] mask = new boolean[c.kernelLength()];
        VectorConstruct.support(c, q.p(), q.s(), mask);
        float[] masked = q.gk().clone();
        for (int i = 0; i < masked.length; i++) {
            if (!mask[i]) {
                masked[i] = Float.NaN; // any read of an unmarked cell would show
            }
        }
        float[] gw = new float[c.elementCount()];
        float[] gp = new float[c.positionLength()];
        float[] gs = q.s() == null ? null : new float[c.positionLength()];
        VectorConstruct.backward(c, q.w(), q.p(), q.s(), masked, gw, gp, gs, false);
        ReferenceConstruct.ConstructGradients ref = ReferenceConstruct.backward(c, toDouble(q.w()),
                toDouble(q.p()), q.sd(), toDouble(q.gk()));
        close("grad weight from the support " + c, ref.weight(), gw);
        close("grad positions from the support " + c, ref.positions(), gp);
        if (gs != null) {
            close("grad sigma from the support " + c, ref.sigma(), gs);
        }
    }

    @Test
    void bilinearTouchesAtMostTwoCellsPerAxis() {
        ConstructConfig c = new ConstructConfig(Interpolation.BILINEAR, 1, 1, 1, new int[]{9, 9});
        boolean[] mask = new boolean[c.kernelLength()];
        VectorConstruct.support(c, new float[]{0.25f, -1.5f}, null, mask);
        int count = 0;
        for (boolean b : mask) {
            count += b ? 1 : 0;
        }
        assertArrayEquals(new int[]{4}, new int[]{count});
        // centre (4.25, 2.5): rows 4, 5 and columns 2, 3
        float[] k = VectorConstruct.forward(c, new float[]{1f}, new float[]{0.25f, -1.5f}, null);
        assertArrayEquals(new float[]{0.375f, 0.375f, 0.125f, 0.125f},
                new float[]{k[4 * 9 + 2], k[4 * 9 + 3], k[5 * 9 + 2], k[5 * 9 + 3]}, 1e-7f);
    }

    @Test
    void rejectsBadInputs() {
        ConstructConfig c = new ConstructConfig(Interpolation.GAUSSIAN, 1, 1, 2, new int[]{5});
        assertThrows(IllegalArgumentException.class,
                () -> VectorConstruct.forward(c, new float[2], new float[2], null));
        assertThrows(IllegalArgumentException.class,
                () -> VectorConstruct.forward(c, new float[3], new float[2], new float[2]));
    }

    private static double[] scale(double[] a, double f) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] * f;
        }
        return out;
    }
}
