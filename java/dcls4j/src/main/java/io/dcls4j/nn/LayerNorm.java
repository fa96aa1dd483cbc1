package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;

/**
 * Layer normalisation over the channel axis (axis 1): torch.nn.LayerNorm(C) on (N, C), and ConvNeXt's
 * channels-first LayerNorm on (N, C, spatial...). Parameters weight (ones) and bias (zeros), (C).
 * oneDNN layer_normalization on the CPU, dcls4j's kernels on CUDA ({@link NnOps}).
 */
public final class LayerNorm extends Layer<LayerNorm.NormState> {
    private final int channels;
    private final float eps;
    private final Parameter weight;
    private final Parameter bias;

    public LayerNorm(int channels, double eps) {
        this(channels, eps, Device.cpu());
    }

    /** On {@code device}: a CPU or CUDA device. */
    public LayerNorm(int channels, double eps, Device device) {
        super(device);
        if (channels < 1) {
            throw new IllegalArgumentException("LayerNorm: channels must be >= 1, got " + channels);
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException("LayerNorm: eps must be > 0, got " + eps);
        }
        this.channels = channels;
        this.eps = (float) eps;
        this.weight = parameter("weight", channels);
        this.bias = parameter("bias", channels);
        weight.value().fill(1f);
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    /** The epsilon added to the variance: for a module that runs this norm fused ({@link FusedNormMlp}). */
    float eps() {
        return eps;
    }

    @Override
    NormState newState(long[] shape) {
        requireChannels(shape, channels, 2);
        return new NormState(shape);
    }

    @Override
    public Tensor forward(Tensor x) {
        NormState s = forwardState(x);
        ops().layerNormForward(s.plan, x, weight.value(), bias.value(), s.y);
        return s.y;
    }

    @Override
    public Tensor backward(Tensor gradY) {
        NormState s = backwardState(gradY);
        ops().layerNormBackward(s.plan, gradY, weight.value(), s.gradX, weight.grad(), bias.grad(), true);
        return s.gradX;
    }

    @Override
    public String toString() {
        return "LayerNorm(" + channels + ", eps=" + eps + ")";
    }

    final class NormState extends Layer.State {
        final NativePlan plan;

        NormState(long[] shape) {
            super(device(), shape, shape);
            plan = own(ops().layerNorm(shape[0], channels, inner(shape), eps));
        }
    }
}
