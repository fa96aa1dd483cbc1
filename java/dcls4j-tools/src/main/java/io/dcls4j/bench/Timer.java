package io.dcls4j.bench;

import java.util.Arrays;

/** Wall-clock timing: the median of repeated runs after warm-up. */
final class Timer {
    private Timer() {}

    static double medianMs(int warmup, int reps, Runnable body) {
        for (int i = 0; i < warmup; i++) {
            body.run();
        }
        double[] ms = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            body.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return reps % 2 == 1 ? ms[reps / 2] : (ms[reps / 2 - 1] + ms[reps / 2]) / 2;
    }
}
