package io.dcls4j.nn;

import io.dcls4j.Parameter;
import io.dcls4j.Tensor;

/**
 * ConvNeXt's layer scale: y = gamma[c] * x on (N, C, spatial...), gamma (C) initialised to a constant
 * (1e-6 in ConvNeXt). The parameter is named "gamma". oneDNN binary and reduction.
 */
public final class LayerScale extends Layer<LayerScale.ScaleState> {
    private final int channels;
    private final Parameter gamma;

    public LayerScale(int channels, double init) {
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
        Broadcast.execute(s.scale, x, gamma.value(), s.y);
        return s.y;
    }

    @Override
    public Tensor backward(Tensor gradY) {
        ScaleState s = backwardState(gradY);
        Broadcast.execute(s.product, gradY, lastInput(), s.scratch);
        Broadcast.sum(s.sum, s.scratch, gamma.grad(), true);
        Broadcast.execute(s.scale, gradY, gamma.value(), s.gradX);
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
            super(shape, shape);
            long[] perChannel = Broadcast.perChannel(shape);
            scale = own(Broadcast.mul(shape, perChannel));
            product = own(Broadcast.mul(shape, shape));
            sum = own(Broadcast.sum(shape, perChannel));
            scratch = scratch(shape);
        }
    }
}
