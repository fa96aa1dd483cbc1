package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;

/**
 * ConvNeXt's layer scale: y = gamma[c] * x on (N, C, spatial...), gamma (C) initialised to a constant
 * (1e-6 in ConvNeXt). The parameter is named "gamma". A broadcast multiply and a reduction ({@link NnOps}).
 */
public final class LayerScale extends Layer<LayerScale.ScaleState> {
    private final int channels;
    private final Parameter gamma;

    public LayerScale(int channels, double init) {
        this(channels, init, Device.cpu());
    }

    /** On {@code device}: a CPU or CUDA device. */
    public LayerScale(int channels, double init, Device device) {
        super(device);
        if (channels < 1) {
            throw new IllegalArgumentException("LayerScale: channels must be >= 1, got " + channels);
        }
        this.channels = channels;
        this.gamma = parameter("gamma", channels);
        gamma.value().fill((float) init);
    }

    public Parameter gamma() {
        return gamma;
    }

    @Override
    ScaleState newState(long[] shape) {
        requireChannels(shape, channels, 2);
        return new ScaleState(shape);
    }

    @Override
    public Tensor forward(Tensor x) {
        ScaleState s = forwardState(x);
        ops().binary(s.scale, x, gamma.value(), s.y);
        return s.y;
    }

    @Override
    public Tensor backward(Tensor gradY) {
        ScaleState s = backwardState(gradY);
        ops().binary(s.product, gradY, lastInput(), s.scratch);
        ops().sum(s.sum, s.scratch, gamma.grad(), true);
        ops().binary(s.scale, gradY, gamma.value(), s.gradX);
        return s.gradX;
    }

    @Override
    public String toString() {
        return "LayerScale(" + channels + ")";
    }

    final class ScaleState extends Layer.State {
        final NativePlan scale;
        final NativePlan product;
        final NativePlan sum;
        final Tensor scratch;

        ScaleState(long[] shape) {
            super(device(), shape, shape);
            long[] perChannel = Broadcast.perChannel(shape);
            scale = own(Broadcast.mul(ops(), shape, perChannel));
            product = own(Broadcast.mul(ops(), shape, shape));
            sum = own(ops().sum(shape, perChannel));
            scratch = scratch(shape);
        }
    }
}
