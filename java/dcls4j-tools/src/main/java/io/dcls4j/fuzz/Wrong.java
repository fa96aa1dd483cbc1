package io.dcls4j.fuzz;

/** Thrown by a case whose result differs from the reference (never by the library). */
final class Wrong extends RuntimeException {
    Wrong(String message) {
        super(message, null, false, false);
    }

    /** max |actual - expected| <= 1e-4 * max(1, max |expected|), as the project's tests (NaN fails). */
    static void check(String what, double[] expected, float[] actual) {
        if (expected.length != actual.length) {
            throw new Wrong(what + ": " + actual.length + " values, expected " + expected.length);
        }
        double scale = 1;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]);
            if (!(err <= 1e-4 * scale)) {
                throw new Wrong(what + "[" + i + "] = " + actual[i] + ", expected " + expected[i] + " (scale " + scale
                        + ")");
            }
        }
    }

    static void check(String what, boolean condition) {
        if (!condition) {
            throw new Wrong(what);
        }
    }
}
