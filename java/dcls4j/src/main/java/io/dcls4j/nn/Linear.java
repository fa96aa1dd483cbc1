package io.dcls4j.nn;

import io.dcls4j.Parameter;
import io.dcls4j.Tensor;
import io.dcls4j.ffi.dcls_nn_h;

import java.util.SplittableRandom;

/**
 * torch.nn.Linear on the channel axis: (N, in) to (N, out), or channel-wise on (N, in, spatial...) to
 * (N, out, spatial...), as ConvNeXt's pointwise layers (a 1x1 convolution). Parameters weight (out, in) and
 * bias (out), initialised as PyTorch: uniform in +-1/sqrt(in). oneDNN matmul (dcls_linear_*).
 */
public final class Linear extends Layer<Linear.LinearState> {
    private final int in;
    private final int out;
    private final Parameter weight;
    private final Parameter bias;

    public Linear(int in, int out, boolean bias, long seed) {
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
        NnNative.check(dcls_nn_h.dcls_linear_forward(s.plan.get(), x.segment(), weight.value().segment(),
                bias == null ? java.lang.foreign.MemorySegment.NULL : bias.value().segment(), s.y.segment()));
        return s.y;
    }

    @Override
    public Tensor backward(Tensor gradY) {
        LinearState s = backwardState(gradY);
        NnNative.check(dcls_nn_h.dcls_linear_backward_weights(s.plan.get(), lastInput().segment(), gradY.segment(),
                weight.grad().segment(), bias == null ? java.lang.foreign.MemorySegment.NULL : bias.grad().segment(), 1));
        NnNative.check(dcls_nn_h.dcls_linear_backward_data(s.plan.get(), gradY.segment(), weight.value().segment(),
                s.gradX.segment()));
        return s.gradX;
    }

    @Override
    public String toString() {
        return "Linear(" + in + ", " + out + ", bias=" + (bias != null) + ")";
    }

    final class LinearState extends Layer.State {
        final NativePlan plan;

        LinearState(long[] shape, long[] outShape, long inner) {
            super(shape, outShape);
            plan = own(new NativePlan(p -> dcls_nn_h.dcls_linear_plan_create(shape[0], in, out, inner, p),
                    dcls_nn_h::dcls_linear_plan_destroy));
        }
    }
}
