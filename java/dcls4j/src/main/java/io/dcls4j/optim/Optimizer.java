package io.dcls4j.optim;

import io.dcls4j.DclsConv;
import io.dcls4j.Device;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;
import io.dcls4j.internal.CudaContext;
import io.dcls4j.internal.UseGuard;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An optimizer that updates {@link Parameter} values in place, in their off-heap memory, from the
 * gradients the layers accumulated.
 *
 * <p>State tensors (momentum buffers, moment estimates) are allocated once, when the optimizer is
 * built, in an arena the optimizer owns; {@link #step()} allocates nothing on the Java heap.
 * {@link #close()} frees the state; the parameters belong to their layers and stay. The layers
 * must outlive the optimizer: a step on a closed layer's parameters throws
 * {@link IllegalStateException}. One thread at a time: a {@link #step()} or {@link #zeroGrad()} while
 * another thread is inside one gets an {@link IllegalStateException} naming the optimizer.
 *
 * <p><b>Parameters on a GPU.</b> A parameter on a CUDA device (a layer or model built with {@code device(...)})
 * is updated there, by dcls4j's kernels (dcls_cuda_adamw_update, dcls_cuda_sgd_update) with the host loop's
 * arithmetic, and its state tensors ({@link #state}) live on that device too: nothing is copied to the host in
 * a step. {@link #zeroGrad()} clears the gradients where they are. So the same training loop runs on either
 * device, and gives the same numbers up to rounding.
 *
 * <pre>{@code
 * try (AdamW opt = AdamW.builder().lr(1e-3).weightDecay(0.05)
 *         .groups(ParamGroup.dcls(5, conv))          // P and SIG: 5x lr, no weight decay
 *         .schedule(LrSchedule.cosine(1e-3, 100, 10_000, 0))
 *         .clampPositions(conv)                       // conv.clampPositions() after each step
 *         .build()) {
 *     for (...) { conv.forward(x); conv.backward(gradY); opt.step(); opt.zeroGrad(); }
 * }
 * }</pre>
 */
public abstract sealed class Optimizer implements AutoCloseable permits SGD, AdamW {
    static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final Arena arena = Arena.ofShared();
    private final List<Parameter> parameters;
    private final List<ParamGroup> groups;
    private final Map<Parameter, Integer> index = new IdentityHashMap<>();
    /** The parameters' memory: host segments, or device addresses (zero-length) for those on a GPU. */
    final MemorySegment[] values;
    final MemorySegment[] grads;
    /** For each parameter on a GPU: its device's context, where its update runs; null on the host. */
    final CudaContext[] cuda;
    private final Tensor[] valueTensors;
    private final Tensor[] gradTensors;
    final long[] counts;
    private final double[] lrScales;
    private final double[] decays;
    private final LrSchedule schedule;
    private final DclsConv[] clampLayers;
    private final List<String> stateNames;
    private final Tensor[][] state;
    /** Segments of {@link #state}, [state][parameter]. */
    final MemorySegment[][] stateSegments;
    private double lr;
    private long steps;
    private boolean closed;
    /** Refuses a second thread inside step or zeroGrad (the state and staging buffers are not for sharing). */
    private final UseGuard guard = new UseGuard();

    Optimizer(Builder<?, ?> b, List<String> stateNames) {
        if (!(b.lr >= 0) || Double.isInfinite(b.lr)) {
            throw new IllegalArgumentException("lr must be finite and >= 0, got " + b.lr);
        }
        if (b.groups.isEmpty()) {
            throw new IllegalArgumentException("no parameters: add at least one group or parameter");
        }
        List<Parameter> all = new ArrayList<>();
        List<Double> scales = new ArrayList<>();
        List<Double> wds = new ArrayList<>();
        for (ParamGroup g : b.groups) {
            for (Parameter p : g.params()) {
                if (index.containsKey(p)) {
                    throw new IllegalArgumentException("parameter " + p + " appears in more than one group");
                }
                p.value().requireAlive("parameter " + p.name());
                index.put(p, all.size());
                all.add(p);
                scales.add(g.lrScale());
                wds.add(g.weightDecay() == null ? b.weightDecay : g.weightDecay());
            }
        }
        parameters = List.copyOf(all);
        groups = List.copyOf(b.groups);
        int n = all.size();
        values = new MemorySegment[n];
        grads = new MemorySegment[n];
        counts = new long[n];
        lrScales = new double[n];
        decays = new double[n];
        cuda = new CudaContext[n];
        valueTensors = new Tensor[n];
        gradTensors = new Tensor[n];
        for (int i = 0; i < n; i++) {
            Parameter p = all.get(i);
            Device device = p.value().device();
            if (!p.grad().device().equals(device)) {
                throw new IllegalArgumentException("parameter " + p.name() + ": value on " + device + ", grad on "
                        + p.grad().device());
            }
            cuda[i] = device.isCuda() ? CudaContext.of(device.index()) : null;
            valueTensors[i] = p.value();
            gradTensors[i] = p.grad();
            values[i] = p.value().nativeAddress();
            grads[i] = p.grad().nativeAddress();
            counts[i] = p.value().elementCount();
            lrScales[i] = scales.get(i);
            decays[i] = wds.get(i);
        }
        this.stateNames = List.copyOf(stateNames);
        state = new Tensor[stateNames.size()][n];
        stateSegments = new MemorySegment[stateNames.size()][n];
        try {
            for (int s = 0; s < stateNames.size(); s++) {
                for (int i = 0; i < n; i++) {
                    state[s][i] = Tensor.allocate(arena, all.get(i).value().device(), all.get(i).value().shape());
                    stateSegments[s][i] = state[s][i].nativeAddress();
                }
            }
        } catch (RuntimeException e) {
            arena.close(); // device memory is not the garbage collector's
            throw e;
        }
        schedule = b.schedule;
        clampLayers = b.clampLayers.toArray(new DclsConv[0]);
        lr = b.lr;
    }

    /**
     * One update of every parameter from its gradient. With a schedule, the learning rate is first
     * set to {@code schedule.lr(steps())}; then the step count goes up by one; then each parameter
     * is updated with the learning rate times its group's scale; then the registered layers'
     * positions are clamped. Gradients are left as they are (call {@link #zeroGrad()}).
     */
    public final void step() {
        boolean entered = guard.enter(this);
        try {
            stepInUse();
        } finally {
            guard.exit(entered);
        }
    }

    private void stepInUse() {
        ensureOpen();
        for (int i = 0; i < values.length; i++) {
            if (cuda[i] != null) {   // a host segment checks itself; a device address is passed on, so check it here
                valueTensors[i].requireAlive("parameter");
                gradTensors[i].requireAlive("gradient");
            }
        }
        if (schedule != null) {
            lr = schedule.lr(steps);
        }
        steps++;
        for (int i = 0; i < values.length; i++) {
            update(i, lr * lrScales[i], decays[i], steps);
        }
        for (DclsConv layer : clampLayers) {
            layer.clampPositions();
        }
    }

    /** Updates parameter {@code i} for step number {@code step} (1 for the first). */
    abstract void update(int i, double lr, double weightDecay, long step);

    /** Sets the gradient of every parameter to zero. */
    public final void zeroGrad() {
        boolean entered = guard.enter(this);
        try {
            zeroGradInUse();
        } finally {
            guard.exit(entered);
        }
    }

    private void zeroGradInUse() {
        ensureOpen();
        for (int i = 0; i < grads.length; i++) {
            if (cuda[i] != null) {
                gradTensors[i].fill(0f); // on the device, in stream order
            } else {
                grads[i].fill((byte) 0);
            }
        }
    }

    /** The learning rate of the last step (or the configured one before any step with a schedule). */
    public final double lr() {
        return lr;
    }

    /** Sets the base learning rate; a schedule overrides it at the next step. */
    public final void lr(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("lr must be finite and >= 0, got " + lr);
        }
        this.lr = lr;
    }

    /** Number of steps taken (restored by a checkpoint). */
    public final long steps() {
        return steps;
    }

    /** Sets the step count, as when resuming from a checkpoint (see {@code io.dcls4j.checkpoint}). */
    public final void restoreSteps(long steps) {
        ensureOpen();
        if (steps < 0) {
            throw new IllegalArgumentException("steps must be >= 0, got " + steps);
        }
        this.steps = steps;
    }

    /** Every parameter, group by group, in order. */
    public final List<Parameter> parameters() {
        return parameters;
    }

    /** The groups, as configured. */
    public final List<ParamGroup> groups() {
        return groups;
    }

    /** The learning-rate multiplier applied to {@code p}. */
    public final double lrScale(Parameter p) {
        return lrScales[indexOf(p)];
    }

    /** The weight decay applied to {@code p}. */
    public final double weightDecay(Parameter p) {
        return decays[indexOf(p)];
    }

    /** The names of the per-parameter state tensors, e.g. {@code exp_avg, exp_avg_sq} (PyTorch's names). */
    public final List<String> stateNames() {
        return stateNames;
    }

    /** The state tensor {@code name} of {@code p} (same shape as p), owned by the optimizer. */
    public final Tensor state(Parameter p, String name) {
        ensureOpen();
        int s = stateNames.indexOf(name);
        if (s < 0) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " has no state '" + name + "'; it has "
                    + stateNames);
        }
        return state[s][indexOf(p)];
    }

    /** Whether {@code p} is one of this optimizer's parameters. */
    public final boolean contains(Parameter p) {
        return index.containsKey(p);
    }

    private int indexOf(Parameter p) {
        Integer i = index.get(Objects.requireNonNull(p, "parameter"));
        if (i == null) {
            throw new IllegalArgumentException(p + " is not a parameter of this optimizer");
        }
        return i;
    }

    final void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(getClass().getSimpleName() + " is closed");
        }
    }

    /** Frees the optimizer's state; the parameters are untouched. Idempotent. */
    @Override
    public final void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }

    /** Settings common to every optimizer. */
    @SuppressWarnings("unchecked")
    public abstract static sealed class Builder<B extends Builder<B, O>, O extends Optimizer>
            permits SGD.Builder, AdamW.Builder {
        double lr;
        double weightDecay;
        final List<ParamGroup> groups = new ArrayList<>();
        LrSchedule schedule;
        final List<DclsConv> clampLayers = new ArrayList<>();

        Builder(double defaultLr, double defaultWeightDecay) {
            this.lr = defaultLr;
            this.weightDecay = defaultWeightDecay;
        }

        /** The learning rate (the base of every group's). */
        public B lr(double lr) {
            this.lr = lr;
            return (B) this;
        }

        /** Weight decay of the groups that do not set their own. */
        public B weightDecay(double weightDecay) {
            if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
                throw new IllegalArgumentException("weightDecay must be finite and >= 0, got " + weightDecay);
            }
            this.weightDecay = weightDecay;
            return (B) this;
        }

        /** Adds a group. A parameter may be in one group only. */
        public B group(ParamGroup group) {
            groups.add(Objects.requireNonNull(group, "group"));
            return (B) this;
        }

        /** Adds groups. */
        public B groups(Collection<ParamGroup> groups) {
            for (ParamGroup g : groups) {
                group(g);
            }
            return (B) this;
        }

        /** Adds one group of these parameters with the default settings. */
        public B params(Parameter... params) {
            return group(ParamGroup.of(params));
        }

        /** Adds one group of these parameters with the default settings. */
        public B params(Collection<Parameter> params) {
            return group(ParamGroup.of(params));
        }

        /** Sets the learning rate before every step (see {@link LrSchedule}). */
        public B schedule(LrSchedule schedule) {
            this.schedule = schedule;
            return (B) this;
        }

        /** Layers whose {@link DclsConv#clampPositions()} runs after every step. */
        public B clampPositions(DclsConv... layers) {
            Collections.addAll(clampLayers, layers);
            for (DclsConv l : layers) {
                Objects.requireNonNull(l, "layer");
            }
            return (B) this;
        }

        public abstract O build();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + parameters.size() + " parameters, lr=" + lr + ", steps=" + steps
                + ", groups=" + Arrays.toString(groups.toArray()) + ")";
    }
}
