package io.dcls4j.optim;

/**
 * A learning rate as a function of the optimizer step (0 for the first step). Attach one with
 * {@code Optimizer.Builder.schedule}: before each step the optimizer sets its learning rate to
 * {@code lr(stepsTakenSoFar)}; each group's rate is that times its {@link ParamGroup#lrScale}.
 * Implementations must not allocate (they run on every step).
 */
@FunctionalInterface
public interface LrSchedule {

    /** The learning rate of step {@code step} (0-based). */
    double lr(long step);

    /** Always {@code lr}. */
    static LrSchedule constant(double lr) {
        requireFinite("lr", lr);
        return step -> lr;
    }

    /**
     * Linear warm-up, then cosine decay: {@code base * (step + 1) / warmupSteps} for the first
     * {@code warmupSteps} steps (reaching {@code base} on the last of them), then
     * {@code min + (base - min) * (1 + cos(pi * t)) / 2} with {@code t = (step - warmupSteps) /
     * (totalSteps - warmupSteps)}, and {@code min} from {@code totalSteps} on.
     */
    static LrSchedule cosine(double base, long warmupSteps, long totalSteps, double min) {
        requireFinite("base", base);
        requireFinite("min", min);
        if (warmupSteps < 0 || totalSteps < warmupSteps) {
            throw new IllegalArgumentException("need 0 <= warmupSteps <= totalSteps, got warmupSteps=" + warmupSteps
                    + ", totalSteps=" + totalSteps);
        }
        return step -> {
            if (step < warmupSteps) {
                return base * (step + 1) / warmupSteps;
            }
            if (step >= totalSteps) {
                return min;
            }
            double t = (double) (step - warmupSteps) / (totalSteps - warmupSteps);
            return min + (base - min) * 0.5 * (1 + Math.cos(Math.PI * t));
        };
    }

    /** Step decay: {@code base * gamma^floor(step / stepSize)} (as PyTorch's StepLR). */
    static LrSchedule stepDecay(double base, long stepSize, double gamma) {
        requireFinite("base", base);
        requireFinite("gamma", gamma);
        if (stepSize < 1) {
            throw new IllegalArgumentException("stepSize must be >= 1, got " + stepSize);
        }
        return step -> base * Math.pow(gamma, (double) (step / stepSize));
    }

    private static void requireFinite(String name, double value) {
        if (!Double.isFinite(value) || value < 0) {
            throw new IllegalArgumentException(name + " must be finite and >= 0, got " + value);
        }
    }
}
