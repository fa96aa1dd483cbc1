package io.dcls4j.bench;

import io.dcls4j.Interpolation;
import io.dcls4j.Tensor;
import io.dcls4j.ops.KernelConstruction;
import io.dcls4j.ops.ConstructConfig;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Kernel construction alone, forward and forward+backward (all three gradients), for a layer too
 * large for the PyTorch reference (256 -> 256, K = 34, 17 x 17, Gaussian: 150 s and 9.9 GiB there
 * without gradients). Also measures the peak resident memory the calls add beyond the parameters,
 * the kernel and the gradients (Linux: VmHWM after resetting it through /proc/self/clear_refs).
 */
final class ConstructionBench {
    static final String NAME = "construct256-gauss";
    static final ConstructConfig CONFIG = new ConstructConfig(Interpolation.GAUSSIAN, 256, 256, 34, new int[] {17, 17});

    /** Forward ms, forward+backward ms, and the peak memory added (MiB; NaN where it cannot be read). */
    record Measurement(double forwardMs, double forwardBackwardMs, double peakExtraMiB) {}

    private ConstructionBench() {}

    static String describe() {
        return "construction only, 256->256 K=34 [17, 17] gauss (the reference's 150 s / 9.9 GiB case)";
    }

    static Measurement run(int warmup, int reps) {
        KernelConstruction construction = new KernelConstruction(CONFIG);
        SplittableRandom random = new SplittableRandom(7);
        try (Arena arena = Arena.ofConfined()) {
            Tensor w = random(Tensor.allocate(arena, construction.weightShape()), random, 1);
            Tensor p = random(Tensor.allocate(arena, construction.positionShape()), random, 4);
            Tensor s = Tensor.allocate(arena, construction.positionShape()).fill(0.23f);
            Tensor kernel = Tensor.allocate(arena, construction.kernelShape());
            Tensor gk = random(Tensor.allocate(arena, construction.kernelShape()), random, 1);
            Tensor gw = Tensor.allocate(arena, construction.weightShape());
            Tensor gp = Tensor.allocate(arena, construction.positionShape());
            Tensor gs = Tensor.allocate(arena, construction.positionShape());
            construction.forward(w, p, s, kernel);  // touch every page before measuring memory
            construction.backward(w, p, s, gk, gw, gp, gs, false);
            double peak = Double.NaN;
            long before = resetPeakAndReadRssKiB();
            if (before > 0) {
                construction.forward(w, p, s, kernel);
                construction.backward(w, p, s, gk, gw, gp, gs, false);
                long hwm = statusKiB("VmHWM:");
                peak = hwm > 0 ? Math.max(0, hwm - before) / 1024.0 : Double.NaN;
            }
            double f = Timer.medianMs(warmup, reps, () -> construction.forward(w, p, s, kernel));
            double fb = Timer.medianMs(warmup, reps, () -> {
                construction.forward(w, p, s, kernel);
                construction.backward(w, p, s, gk, gw, gp, gs, false);
            });
            return new Measurement(f, fb, peak);
        }
    }

    private static Tensor random(Tensor t, SplittableRandom random, double scale) {
        for (long i = 0; i < t.elementCount(); i++) {
            t.set(i, (float) random.nextDouble(-scale, scale));
        }
        return t;
    }

    /** Resets the peak RSS to the current RSS and returns it (KiB), or -1 where Linux does not allow it. */
    private static long resetPeakAndReadRssKiB() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return statusKiB("VmRSS:");
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return -1;
        }
    }

    private static long statusKiB(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
