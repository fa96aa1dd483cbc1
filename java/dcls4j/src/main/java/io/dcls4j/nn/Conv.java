package io.dcls4j.nn;

import io.dcls4j.PaddingMode;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;
import io.dcls4j.ops.Convolution;
import io.dcls4j.reference.ConvConfig;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A dense convolution, torch.nn.Conv1d/2d/3d (by the length of {@code kernel}): stride, padding (zeros),
 * groups and bias, on dcls4j's convolution plans ({@link Convolution}, oneDNN). Parameters weight
 * (out, in/groups, k...) and bias (out), initialised as PyTorch: uniform in +-1/sqrt(fan_in).
 */
public final class Conv extends Layer<Conv.ConvState> {
    private final int in;
    private final int out;
    private final int groups;
    private final int[] kernel;
    private final int[] stride;
    private final int[] padding;
    private final Parameter weight;
    private final Parameter bias;

    /** stride and padding: one value per axis of {@code kernel}. */
    public Conv(int in, int out, int[] kernel, int[] stride, int[] padding, int groups, boolean bias, long seed) {
        if (in < 1 || out < 1 || groups < 1 || in % groups != 0 || out % groups != 0) {
            throw new IllegalArgumentException("Conv: channels " + in + " -> " + out + " with groups " + groups
                    + ": all must be >= 1 and groups must divide both");
        }
        if (kernel == null || kernel.length < 1 || kernel.length > 3 || stride == null || padding == null
                || stride.length != kernel.length || padding.length != kernel.length) {
            throw new IllegalArgumentException("Conv: kernel needs 1 to 3 sizes and stride and padding one per axis, got "
                    + Arrays.toString(kernel) + ", " + Arrays.toString(stride) + ", " + Arrays.toString(padding));
        }
        for (int d = 0; d < kernel.length; d++) {
            if (kernel[d] < 1 || stride[d] < 1 || padding[d] < 0) {
                throw new IllegalArgumentException("Conv: kernel and stride must be >= 1 and padding >= 0, got "
                        + Arrays.toString(kernel) + ", " + Arrays.toString(stride) + ", " + Arrays.toString(padding));
            }
        }
        this.in = in;
        this.out = out;
        this.groups = groups;
        this.kernel = kernel.clone();
        this.stride = stride.clone();
        this.padding = padding.clone();
        long[] wShape = new long[2 + kernel.length];
        wShape[0] = out;
        wShape[1] = in / groups;
        long fanIn = in / groups;
        for (int d = 0; d < kernel.length; d++) {
            wShape[2 + d] = kernel[d];
            fanIn *= kernel[d];
        }
        this.weight = parameter("weight", wShape);
        this.bias = bias ? parameter("bias", out) : null;
        SplittableRandom random = new SplittableRandom(seed);
        Init.uniform(weight.value(), 1.0 / Math.sqrt(fanIn), random);
        if (this.bias != null) {
            Init.uniform(this.bias.value(), 1.0 / Math.sqrt(fanIn), random);
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
    ConvState newState(long[] shape) {
        requireChannels(shape, in, 2 + kernel.length);
        if (shape.length != 2 + kernel.length) {
            throw new IllegalArgumentException(name() + ": input has shape " + Arrays.toString(shape) + "; a "
                    + kernel.length + "D convolution expects (N, " + in + ", " + kernel.length + " spatial sizes)");
        }
        int[] spatial = new int[kernel.length];
        for (int d = 0; d < spatial.length; d++) {
            spatial[d] = Math.toIntExact(shape[2 + d]);
        }
        ConvConfig config = new ConvConfig(Math.toIntExact(shape[0]), in, out, groups, spatial, kernel, stride,
                padding, PaddingMode.ZEROS);
        Convolution plan = new Convolution(config);
        try {
            return new ConvState(shape, plan);
        } catch (RuntimeException e) {
            plan.close();
            throw e;
        }
    }

    @Override
    public Tensor forward(Tensor x) {
        ConvState s = forwardState(x);
        s.plan.forward(x, weight.value(), bias == null ? null : bias.value(), s.y);
        return s.y;
    }

    @Override
    public Tensor backward(Tensor gradY) {
        ConvState s = backwardState(gradY);
        s.plan.backwardWeights(lastInput(), gradY, weight.grad(), bias == null ? null : bias.grad(), true);
        s.plan.backwardData(gradY, weight.value(), s.gradX);
        return s.gradX;
    }

    @Override
    public String toString() {
        return "Conv" + kernel.length + "d(" + in + ", " + out + ", kernel=" + Arrays.toString(kernel) + ", stride="
                + Arrays.toString(stride) + ", padding=" + Arrays.toString(padding) + ", groups=" + groups + ", bias="
                + (bias != null) + ")";
    }

    final class ConvState extends Layer.State {
        final Convolution plan;

        ConvState(long[] shape, Convolution plan) {
            super(shape, plan.outputShape());
            this.plan = own(plan);
        }
    }
}
