package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;

import java.util.SplittableRandom;

/**
 * torch.nn.Linear on the channel axis: (N, in) to (N, out), or channel-wise on (N, in, spatial...) to
 * (N, out, spatial...), as ConvNeXt's pointwise layers (a 1x1 convolution). Parameters weight (out, in) and
 * bias (out), initialised as PyTorch: uniform in +-1/sqrt(in). oneDNN matmul on the CPU, dcls4j's GEMM kernel on
 * CUDA ({@link NnOps}).
 */
public final class Linear extends Layer<Linear.LinearState> {
    private final int in;
    private final int out;
    private final Parameter weight;
    private final Parameter bias;

    public Linear(int in, int out, boolean bias, long seed) {
        this(in, out, bias, seed, Device.cpu());
    }

    /** On {@code device}: a CPU or CUDA device; the same initial values as on the CPU. */
    public Linear(int in, int out, boolean bias, long seed, Device device) {
        super(device);
        if (in < 1 || out < 1) {
            throw new IllegalArgumentException("Linear: feature counts must be >= 1, got in=" + in + ", out=" + out);
        }
        this.in = in;
        this.out = out;
        this.weight = parameter("weight", out, in);
        this.bias = bias ? parameter("bias", out) : null;
        SplittableRandom random = new SplittableRandom(seed);
        Init.uniform(weight.value(), 1.0 / Math.sqrt(in), random);
        if (this.bias != null) {
            Init.uniform(this.bias.value(), 1.0 / Math.sqrt(in), random);
        }
    }

    public Parameter weight() {
        return weight;
    }

    /** The bias, or null. */
    public Parameter bias() {
        return bias;
    }

    @Override
    LinearState newState(long[] shape) {
        requireChannels(shape, in, 2);
        long[] outShape = shape.clone();
        outShape[1] = out;
        return new LinearState(shape, outShape, inner(shape));
    }

    @Override
    public Tensor forward(Tensor x) {
        LinearState s = forwardState(x);
        ops().linearForward(s.plan, x, weight.value(), bias == null ? null : bias.value(), s.y);
        return s.y;
    }

    @Override
    public Tensor backward(Tensor gradY) {
        LinearState s = backwardState(gradY);
        ops().linearBackwardWeights(s.plan, lastInput(), gradY, weight.grad(), bias == null ? null : bias.grad(), true);
        ops().linearBackwardData(s.plan, gradY, weight.value(), s.gradX);
        return s.gradX;
    }

    @Override
    public String toString() {
        return "Linear(" + in + ", " + out + ", bias=" + (bias != null) + ")";
    }

    final class LinearState extends Layer.State {
        final NativePlan plan;

        LinearState(long[] shape, long[] outShape, long inner) {
            super(device(), shape, outShape);
            plan = own(ops().linear(shape[0], in, out, inner));
        }
    }
}
