package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;

import java.util.Map;
import java.util.SplittableRandom;

/**
 * Stochastic depth (timm's DropPath): in training mode each sample's whole input is dropped with probability
 * {@code p} and the kept ones are scaled by 1 / (1 - p); in evaluation mode, or with p = 0, it is the identity
 * and returns its input (and gradY) itself. The mask comes from a generator seeded once, so a seed gives the
 * same sequence of masks, on either device. A per-sample broadcast multiply ({@link NnOps}).
 */
public final class DropPath extends Layer<DropPath.DropState> {
    private final double p;
    private final SplittableRandom random;
    private boolean identity;
    private DropState last;

    public DropPath(double p, long seed) {
        this(p, seed, Device.cpu());
    }

    /** On {@code device}: a CPU or CUDA device (the masks are drawn on the host and copied there). */
    public DropPath(double p, long seed, Device device) {
        super(device);
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("DropPath: probability must be in [0, 1), got " + p);
        }
        this.p = p;
        this.random = new SplittableRandom(seed);
    }

    public double probability() {
        return p;
    }

    @Override
    DropState newState(long[] shape) {
        if (shape.length < 2) {
            throw new IllegalArgumentException("DropPath: input needs a batch axis and at least one more");
        }
        return new DropState(shape);
    }

    @Override
    public Tensor forward(Tensor x) {
        DropState s = forwardState(x);
        last = s;
        identity = !training || p == 0;
        if (identity) {
            return x;
        }
        float keep = (float) (1 - p);
        for (long n = 0; n < s.hostMask.elementCount(); n++) {
            s.hostMask.set(n, random.nextDouble() < keep ? 1f / keep : 0f);
        }
        if (s.mask != s.hostMask) {
            s.mask.copyFrom(s.hostMask); // from pageable memory: hostMask is free again when this returns
        }
        ops().binary(s.scale, x, s.mask, s.y);
        return s.y;
    }

    @Override
    public Tensor backward(Tensor gradY) {
        DropState s = backwardState(gradY);
        if (identity) {
            return gradY;
        }
        ops().binary(s.scale, gradY, s.mask, s.gradX);
        return s.gradX;
    }

    /** The last forward's per-sample factors (0 or 1 / (1 - p)), (N, 1, ...); null before any forward. */
    public Tensor mask() {
        ensureOpen();
        return last == null ? null : last.mask;
    }

    @Override
    public Map<String, Parameter> namedParameters() {
        return Map.of();
    }

    @Override
    public String toString() {
        return "DropPath(" + p + ")";
    }

    final class DropState extends Layer.State {
        final NativePlan scale;
        final Tensor mask;      // on the device
        final Tensor hostMask;  // where the draws are made: the mask itself on the CPU

        DropState(long[] shape) {
            super(device(), shape, shape);
            long[] perSample = Broadcast.perSample(shape);
            scale = own(Broadcast.mul(ops(), shape, perSample));
            mask = scratch(perSample);
            hostMask = device.isCuda() ? Tensor.allocate(buffers, perSample) : mask;
        }
    }
}
