package io.dcls4j.vector;

/** Random inputs for the Vector API tests. */
final class RandomData {
    private RandomData() {
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
