package io.dcls4j.vector;

import static org.junit.jupiter.api.Assertions.fail;

/** The project's tolerance for float32 results against the float64 reference: max|err| <= 1e-4 * max(1, max|ref|). */
final class Tolerance {
    private Tolerance() {
    }

    static void close(String what, double[] expected, float[] actual) {
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + ", expected " + expected.length);
        }
        double scale = 1;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]);
            if (!(err <= worst)) { // also catches NaN
                worst = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err;
                at = i;
            }
        }
        if (worst > 1e-4 * scale) {
            fail(what + ": max |error| " + worst + " at index " + at + " (got " + actual[at] + ", expected "
                    + expected[at] + ") exceeds 1e-4 * " + scale);
        }
    }

    static double[] toDouble(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    /** Uniform in [-1, 1), rounded to float so that both implementations see the same numbers. */
    static float[] random(java.util.Random r, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) (2 * r.nextDouble() - 1);
        }
        return out;
    }
}
