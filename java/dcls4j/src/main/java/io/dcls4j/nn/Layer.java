package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;
import io.dcls4j.internal.ShapeKey;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The common part of the native layers: parameters in one arena, on the layer's device, and per input shape a
 * {@link State} (plans and the output and input-gradient tensors), made on the first input of that shape and kept
 * (least recently used beyond 8 freed), so a step allocates nothing. A layer runs where its parameters are: its
 * inputs must be on that device ({@link NnOps} says how each op runs there).
 */
abstract class Layer<S extends Layer.State> implements Module {
    private static final int MAX_CACHED_SHAPES = 8;

    final Arena arena = Arena.ofShared();
    private final NnOps ops;
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Parameter> parameterView = Collections.unmodifiableMap(parameters);
    private final List<Parameter> parameterList = new ArrayList<>();
    private final Map<ShapeKey, S> states = new LinkedHashMap<>(16, 0.75f, true);
    private S current;
    private Tensor lastInput;
    boolean training = true;
    private boolean closed;

    /** A layer whose parameters and buffers live on {@code device}. */
    Layer(Device device) {
        if (device == null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": device must not be null");
        }
        this.ops = NnOps.of(device);
    }

    /** The device of the layer's parameters, inputs and outputs. */
    public Device device() {
        return ops.device();
    }

    /** The layer's ops, on its device. */
    final NnOps ops() {
        return ops;
    }

    /** A parameter of {@code shape} (zeros), on the layer's device, registered under {@code name}. */
    final Parameter parameter(String name, long... shape) {
        Device d = ops.device();
        Parameter p = new Parameter(name, Tensor.allocate(arena, d, shape), Tensor.allocate(arena, d, shape));
        parameters.put(name, p);
        parameterList.add(p);
        return p;
    }

    /** Validates an input shape (an exception naming the problem) and makes its state. */
    abstract S newState(long[] inputShape);

    /** The state of {@code x}'s shape, made if needed; remembers x as the input for backward. */
    final S forwardState(Tensor x) {
        ensureOpen();
        if (x == null) {
            throw new IllegalArgumentException(name() + ": input is null");
        }
        requireAlive(x, "input");
        if (!x.device().equals(ops.device())) {
            throw new IllegalArgumentException(name() + ": input is on " + x.device() + ", the layer on "
                    + ops.device() + " (a layer runs where it was made: give its constructor the device)");
        }
        S c = current;
        if (c == null || !x.hasShape(c.inputShape)) {
            c = lookup(x.shape());
        }
        current = c;
        lastInput = x;
        return c;
    }

    private S lookup(long[] shape) {
        ShapeKey key = new ShapeKey(shape);
        S s = states.get(key);
        if (s == null) {
            S made = newState(shape);
            if (states.size() >= MAX_CACHED_SHAPES) {
                var eldest = states.entrySet().iterator().next();
                eldest.getValue().close();
                states.remove(eldest.getKey());
            }
            states.put(key, made);
            s = made;
        }
        return s;
    }

    /** The last forward's state, after checking gradY against its output shape. */
    final S backwardState(Tensor gradY) {
        ensureOpen();
        S s = current;
        if (s == null) {
            throw new IllegalStateException(name() + ": backward called before forward");
        }
        if (gradY == null) {
            throw new IllegalArgumentException(name() + ": gradY is null");
        }
        requireAlive(gradY, "gradY");
        if (!gradY.device().equals(ops.device())) {
            throw new IllegalArgumentException(name() + ": gradY is on " + gradY.device() + ", the layer on "
                    + ops.device());
        }
        if (!gradY.sameShape(s.y)) {
            throw new IllegalArgumentException(name() + ": gradY has shape " + Arrays.toString(gradY.shape())
                    + ", expected the last forward's output shape " + Arrays.toString(s.y.shape()));
        }
        return s;
    }

    /** Builds the message only on failure: the check runs every step and must not allocate. */
    private void requireAlive(Tensor t, String role) {
        if (!t.device().isCuda() && !t.segment().scope().isAlive()) {
            t.requireAlive(name() + " " + role);
        }
    }

    /** The input of the last forward. */
    final Tensor lastInput() {
        return lastInput;
    }

    @Override
    public Map<String, Parameter> namedParameters() {
        return parameterView;
    }

    @Override
    public void zeroGrad() {
        ensureOpen();
        for (int i = 0; i < parameterList.size(); i++) {
            parameterList.get(i).grad().fill(0f);
        }
    }

    @Override
    public Module train() {
        ensureOpen();
        training = true;
        return this;
    }

    @Override
    public Module eval() {
        ensureOpen();
        training = false;
        return this;
    }

    /** Whether the module is in training mode. */
    public boolean isTraining() {
        return training;
    }

    final void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(name() + " is closed");
        }
    }

    /** The module's name in messages. */
    String name() {
        return getClass().getSimpleName();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (S s : states.values()) {
            s.close();
        }
        states.clear();
        current = null;
        lastInput = null;
        arena.close();
    }

    /** The plans and buffers of one input shape: y (the output) and gradX, plus what the layer adds. */
    static class State implements AutoCloseable {
        final long[] inputShape;
        final Arena buffers = Arena.ofShared();
        final Device device;
        final Tensor y;
        final Tensor gradX;
        private final List<AutoCloseable> plans = new ArrayList<>();

        /** Buffers on {@code device}. */
        State(Device device, long[] inputShape, long[] outputShape) {
            this.inputShape = inputShape.clone();
            this.device = device;
            this.y = Tensor.allocate(buffers, device, outputShape);
            this.gradX = Tensor.allocate(buffers, device, inputShape);
        }

        /** Registers a plan to close with the state. */
        final <P extends AutoCloseable> P own(P plan) {
            plans.add(plan);
            return plan;
        }

        /** A scratch tensor on the state's device, freed with the state. */
        final Tensor scratch(long... shape) {
            return Tensor.allocate(buffers, device, shape);
        }

        @Override
        public void close() {
            for (AutoCloseable p : plans) {
                try {
                    p.close();
                } catch (Exception e) {
                    throw new IllegalStateException("closing a native plan", e);
                }
            }
            plans.clear();
            buffers.close();
        }
    }

    /** The product of the axes after the first two (1 for rank 2): the "inner" size of (N, C, spatial...). */
    static long inner(long[] shape) {
        long s = 1;
        for (int i = 2; i < shape.length; i++) {
            s *= shape[i];
        }
        return s;
    }

    /** Checks that an input has rank >= minRank and {@code channels} channels on axis 1. */
    final void requireChannels(long[] shape, long channels, int minRank) {
        if (shape.length < minRank) {
            throw new IllegalArgumentException(name() + ": input has shape " + Arrays.toString(shape)
                    + "; expected (N, " + channels + (minRank > 2 ? ", spatial...)" : ", ...)"));
        }
        if (shape[1] != channels) {
            throw new IllegalArgumentException(name() + ": input has " + shape[1] + " channels (shape "
                    + Arrays.toString(shape) + "), expected " + channels);
        }
    }
}
