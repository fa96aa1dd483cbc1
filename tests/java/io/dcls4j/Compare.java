package io.dcls4j;

import static org.junit.jupiter.api.Assertions.fail;

/** The project's tolerance for float32 results against float64 references (tests in every package use it). */
public final class Compare {
    private Compare() {}

    /** max |actual - expected| <= 1e-4 * max(1, max |expected|). */
    public static void close(String what, double[] expected, float[] actual) {
        close(what, expected, actual, 1e-4);
    }

    public static void close(String what, double[] expected, float[] actual, double relative) {
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
        if (worst > relative * scale) {
            fail(what + ": max |error| " + worst + " at index " + at + " (got " + actual[at] + ", expected "
                    + expected[at] + ") exceeds " + relative + " * " + scale);
        }
    }

    public static double[] toDouble(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    public static float[] toFloat(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }
}
