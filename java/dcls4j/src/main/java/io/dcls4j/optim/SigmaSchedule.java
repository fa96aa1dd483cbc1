package io.dcls4j.optim;

import io.dcls4j.DclsConv;
import io.dcls4j.Tensor;

import java.util.Arrays;

/**
 * Sets sigma by a schedule instead of learning it (the spiking-delay recipe): sigma starts wide,
 * so that positions feel the gradient from afar, and decays exponentially to a final value over a
 * number of steps, staying there afterwards:
 * {@code sigma(step) = start * (end / start)^(step / steps)} for {@code step < steps}, {@code end}
 * after. The start may differ per spatial axis ({@link #fromKernelSize} starts each axis at
 * {@code dilatedKernelSize[d] / 2}).
 *
 * <p>Use it with a layer whose sigma is frozen ({@link DclsConv#freezeSigma}) and kept out of the
 * optimizer ({@link ParamGroup#positionsOf} leaves a frozen sigma out):
 * <pre>{@code
 * conv.freezeSigma(true);
 * SigmaSchedule sigmas = SigmaSchedule.fromKernelSize(conv, 0.23, decaySteps);
 * for (long step = 0; ...; step++) { sigmas.apply(conv, step); forward; backward; opt.step(); }
 * }</pre>
 */
public final class SigmaSchedule {
    private final double[] start;
    private final double end;
    private final long steps;

    private SigmaSchedule(double[] start, double end, long steps) {
        if (!(end > 0) || Double.isInfinite(end)) {
            throw new IllegalArgumentException("end must be finite and > 0 (an exponential decay), got " + end);
        }
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        for (double s : start) {
            if (!(s > 0) || Double.isInfinite(s)) {
                throw new IllegalArgumentException("start values must be finite and > 0, got "
                        + Arrays.toString(start));
            }
        }
        this.start = start.clone();
        this.end = end;
        this.steps = steps;
    }

    /** The same start for every axis. */
    public static SigmaSchedule exponential(double start, double end, long steps) {
        return new SigmaSchedule(new double[] {start}, end, steps);
    }

    /** One start per spatial axis (one value applies to every axis). */
    public static SigmaSchedule exponential(double[] startPerAxis, double end, long steps) {
        if (startPerAxis == null || startPerAxis.length < 1 || startPerAxis.length > 3) {
            throw new IllegalArgumentException("need 1 to 3 start values");
        }
        return new SigmaSchedule(startPerAxis, end, steps);
    }

    /** Starts axis d at {@code dilatedKernelSize[d] / 2} (real division) and decays to {@code end}. */
    public static SigmaSchedule fromKernelSize(DclsConv layer, double end, long steps) {
        int[] dks = layer.dilatedKernelSize();
        double[] s = new double[dks.length];
        for (int d = 0; d < dks.length; d++) {
            s[d] = Math.max(dks[d] / 2.0, end);
        }
        return new SigmaSchedule(s, end, steps);
    }

    /** Sigma along {@code axis} at {@code step}. */
    public double sigma(int axis, long step) {
        double s0 = start[start.length == 1 ? 0 : axis];
        if (step >= steps) {
            return end;
        }
        if (step <= 0) {
            return s0;
        }
        return s0 * Math.pow(end / s0, (double) step / steps);
    }

    /**
     * Fills {@code layer}'s sigma with the schedule's value at {@code step}, component d (axis d)
     * with {@link #sigma(int, long) sigma(d, step)}. The layer must have a sigma
     * ({@link io.dcls4j.Interpolation#GAUSSIAN} or {@code TRIANGLE_LEARNED_WIDTH}).
     */
    public void apply(DclsConv layer, long step) {
        if (layer.sigma() == null) {
            throw new IllegalArgumentException(layer.interpolation() + " has no sigma to schedule");
        }
        int ndim = layer.dilatedKernelSize().length; // sigma's components: 1 for Dcls2_1d, Dcls3_1d, Dcls2dK1d
        if (start.length != 1 && start.length != ndim) {
            throw new IllegalArgumentException("schedule has " + start.length + " start values, the layer "
                    + ndim + " axes");
        }
        Tensor sig = layer.sigma().value();
        sig.requireAlive("sigma");
        long per = sig.elementCount() / ndim;
        if (sig.device().isCuda()) { // filled on the host, then one copy
            float[] values = new float[Math.toIntExact(sig.elementCount())];
            for (int d = 0; d < ndim; d++) {
                Arrays.fill(values, (int) (d * per), (int) ((d + 1) * per), (float) sigma(d, step));
            }
            sig.copyFrom(values);
            return;
        }
        for (int d = 0; d < ndim; d++) {
            float v = (float) sigma(d, step);
            for (long i = d * per, e = i + per; i < e; i++) {
                sig.set(i, v);
            }
        }
    }

    public long steps() {
        return steps;
    }

    public double end() {
        return end;
    }
}
