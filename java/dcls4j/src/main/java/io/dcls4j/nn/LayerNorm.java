package io.dcls4j.nn;

import io.dcls4j.Parameter;
import io.dcls4j.Tensor;
import io.dcls4j.ffi.dcls_nn_h;

/**
 * Layer normalisation over the channel axis (axis 1): torch.nn.LayerNorm(C) on (N, C), and ConvNeXt's
 * channels-first LayerNorm on (N, C, spatial...). Parameters weight (ones) and bias (zeros), (C).
 * oneDNN layer_normalization (dcls_layer_norm_*).
 */
public final class LayerNorm extends Layer<LayerNorm.NormState> {
    private final int channels;
    private final float eps;
    private final Parameter weight;
    private final Parameter bias;

    public LayerNorm(int channels, double eps) {
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

    @Override
    NormState newState(long[] shape) {
        requireChannels(shape, channels, 2);
        return new NormState(shape);
    }

    @Override
    public Tensor forward(Tensor x) {
        NormState s = forwardState(x);
        NnNative.check(dcls_nn_h.dcls_layer_norm_forward(s.plan.get(), x.segment(), weight.value().segment(),
                bias.value().segment(), s.y.segment()));
        return s.y;
    }

    @Override
    public Tensor backward(Tensor gradY) {
        NormState s = backwardState(gradY);
        NnNative.check(dcls_nn_h.dcls_layer_norm_backward(s.plan.get(), gradY.segment(), weight.value().segment(),
                s.gradX.segment(), weight.grad().segment(), bias.grad().segment(), 1));
        return s.gradX;
    }

    @Override
    public String toString() {
        return "LayerNorm(" + channels + ", eps=" + eps + ")";
    }

    final class NormState extends Layer.State {
        final NativePlan plan;

        NormState(long[] shape) {
            super(shape, shape);
            plan = own(new NativePlan(p -> dcls_nn_h.dcls_layer_norm_plan_create(shape[0], channels, inner(shape), eps, p),
                    dcls_nn_h::dcls_layer_norm_plan_destroy));
        }
    }
}
