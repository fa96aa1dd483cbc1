package io.dcls4j.nn;

import io.dcls4j.Parameter;
import io.dcls4j.Tensor;

import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Checks a module's backward against central finite differences of L = sum(forward(x) * r) for a fixed random
 * r, for the input and every parameter (up to {@link #PROBES} coordinates of each, chosen at random).
 * Float32 forwards: step 1e-2 keeps the rounding error of L / 2h near 1e-5; the truncation error is O(h^2).
 */
final class FiniteDifferences {
    static final int PROBES = 24;
    static final double STEP = 1e-2;
    static final double ABS = 2e-3;
    static final double REL = 1e-2;

    private FiniteDifferences() {}

    static void check(String what, Module m, Tensor x, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Tensor y0 = m.forward(x);
        float[] r = new float[Math.toIntExact(y0.elementCount())];
        for (int i = 0; i < r.length; i++) {
            r[i] = (float) random.nextDouble(-1, 1);
        }
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            Tensor gradY = Tensor.allocate(arena, y0.shape()).copyFrom(r);
            m.zeroGrad();
            m.forward(x);
            float[] gradX = m.backward(gradY).toFloatArray();
            DoubleSupplier loss = () -> dot(m.forward(x), r);
            compare(what + " input", x, gradX, loss, random);
            for (Map.Entry<String, Parameter> e : m.namedParameters().entrySet()) {
                compare(what + " " + e.getKey(), e.getValue().value(), e.getValue().grad().toFloatArray(), loss, random);
            }
        }
    }

    static double dot(Tensor y, float[] r) {
        double s = 0;
        for (int i = 0; i < r.length; i++) {
            s += (double) y.get(i) * r[i];
        }
        return s;
    }

    /** Compares analytic[i] with the central difference of loss in t[i] for some i. */
    static void compare(String what, Tensor t, float[] analytic, DoubleSupplier loss, SplittableRandom random) {
        long n = t.elementCount();
        int probes = (int) Math.min(n, PROBES);
        for (int k = 0; k < probes; k++) {
            long i = n <= PROBES ? k : random.nextLong(n);
            float v = t.get(i);
            t.set(i, (float) (v + STEP));
            double plus = loss.getAsDouble();
            t.set(i, (float) (v - STEP));
            double minus = loss.getAsDouble();
            t.set(i, v);
            double fd = (plus - minus) / (2 * STEP);
            double an = analytic[(int) i];
            if (!(Math.abs(fd - an) <= ABS + REL * Math.max(Math.abs(fd), Math.abs(an)))) {
                fail(what + "[" + i + "]: backward gives " + an + ", finite differences " + fd);
            }
        }
    }

    static Tensor random(java.lang.foreign.Arena arena, long seed, long... shape) {
        SplittableRandom random = new SplittableRandom(seed);
        Tensor t = Tensor.allocate(arena, shape);
        for (long i = 0; i < t.elementCount(); i++) {
            t.set(i, (float) random.nextDouble(-1, 1));
        }
        return t;
    }

    /** Values spaced 0.05 apart, shuffled, shifted off 0: no ties within a step, no kink at 0. */
    static Tensor spaced(java.lang.foreign.Arena arena, long seed, long... shape) {
        Tensor t = Tensor.allocate(arena, shape);
        int n = Math.toIntExact(t.elementCount());
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        for (int i = 0; i < n; i++) {
            t.set(i, (float) (0.05 * (order[i] - n / 2) + 0.025));
        }
        return t;
    }
}
