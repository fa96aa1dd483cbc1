package io.dcls4j.nn;

import io.dcls4j.Parameter;
import io.dcls4j.Tensor;
import io.dcls4j.ffi.dcls_nn_h;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * torch.nn.BatchNorm1d/2d/3d on (N, C, spatial...) (or (N, C)): in training mode it normalises with the
 * batch statistics and updates the running ones (momentum, the unbiased variance); in evaluation mode it
 * uses the running statistics. Parameters weight (ones) and bias (zeros); buffers running_mean (zeros),
 * running_var (ones) and num_batches_tracked (counted, as a float). oneDNN batch_normalization.
 */
public final class BatchNorm extends Layer<BatchNorm.NormState> {
    private final int channels;
    private final float eps;
    private final float momentum;
    private final Parameter weight;
    private final Parameter bias;
    private final Tensor runningMean;
    private final Tensor runningVar;
    private final Tensor batchesTracked;
    private final Map<String, Tensor> buffers;

    public BatchNorm(int channels) {
        this(channels, 1e-5, 0.1);
    }

    public BatchNorm(int channels, double eps, double momentum) {
        if (channels < 1) {
            throw new IllegalArgumentException("BatchNorm: channels must be >= 1, got " + channels);
        }
        if (!(eps > 0) || !(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException("BatchNorm: eps must be > 0 and momentum in [0, 1], got " + eps + ", "
                    + momentum);
        }
        this.channels = channels;
        this.eps = (float) eps;
        this.momentum = (float) momentum;
        this.weight = parameter("weight", channels);
        this.bias = parameter("bias", channels);
        weight.value().fill(1f);
        runningMean = Tensor.allocate(arena, channels);
        runningVar = Tensor.allocate(arena, channels).fill(1f);
        batchesTracked = Tensor.allocate(arena, 1);
        Map<String, Tensor> b = new LinkedHashMap<>();
        b.put("running_mean", runningMean);
        b.put("running_var", runningVar);
        b.put("num_batches_tracked", batchesTracked);
        buffers = Collections.unmodifiableMap(b);
    }

    public Tensor runningMean() {
        return runningMean;
    }

    public Tensor runningVar() {
        return runningVar;
    }

    @Override
    public Map<String, Tensor> namedBuffers() {
        return buffers;
    }

    @Override
    NormState newState(long[] shape) {
        requireChannels(shape, channels, 2);
        return new NormState(shape);
    }

    @Override
    public Tensor forward(Tensor x) {
        NormState s = forwardState(x);
        if (training && s.reduced < 2) {
            throw new IllegalArgumentException("BatchNorm: expected more than 1 value per channel when training, got"
                    + " input shape " + Arrays.toString(x.shape()));
        }
        NnNative.check(dcls_nn_h.dcls_batch_norm_forward(s.plan.get(), x.segment(), weight.value().segment(),
                bias.value().segment(), runningMean.segment(), runningVar.segment(), momentum, training ? 1 : 0,
                s.y.segment()));
        if (training) {
            batchesTracked.set(0, batchesTracked.get(0) + 1);
        }
        return s.y;
    }

    @Override
    public Tensor backward(Tensor gradY) {
        NormState s = backwardState(gradY);
        NnNative.check(dcls_nn_h.dcls_batch_norm_backward(s.plan.get(), lastInput().segment(), gradY.segment(),
                weight.value().segment(), s.gradX.segment(), weight.grad().segment(), bias.grad().segment(), 1));
        return s.gradX;
    }

    @Override
    public String toString() {
        return "BatchNorm(" + channels + ", eps=" + eps + ", momentum=" + momentum + ")";
    }

    final class NormState extends Layer.State {
        final NativePlan plan;
        final long reduced;

        NormState(long[] shape) {
            super(shape, shape);
            reduced = shape[0] * inner(shape);
            plan = own(NativePlan.cpu(p -> dcls_nn_h.dcls_batch_norm_plan_create(shape[0], channels, inner(shape), eps, p),
                    dcls_nn_h::dcls_batch_norm_plan_destroy));
        }
    }
}
