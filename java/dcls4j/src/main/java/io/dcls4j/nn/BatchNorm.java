package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * torch.nn.BatchNorm1d/2d/3d on (N, C, spatial...) (or (N, C)): in training mode it normalises with the
 * batch statistics and updates the running ones (momentum, the unbiased variance); in evaluation mode it
 * uses the running statistics. Parameters weight (ones) and bias (zeros); buffers running_mean (zeros),
 * running_var (ones) and num_batches_tracked (counted, as a float, on the host). oneDNN batch_normalization on
 * the CPU, dcls4j's kernels on CUDA ({@link NnOps}).
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
        this(channels, eps, momentum, Device.cpu());
    }

    /** On {@code device}: a CPU or CUDA device (the parameters and running statistics live there). */
    public BatchNorm(int channels, double eps, double momentum, Device device) {
        super(device);
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
        runningMean = Tensor.allocate(arena, device, channels);
        runningVar = Tensor.allocate(arena, device, channels).fill(1f);
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
        ops().batchNormForward(s.plan, x, weight.value(), bias.value(), runningMean, runningVar, momentum, training,
                s.y);
        if (training) {
            batchesTracked.set(0, batchesTracked.get(0) + 1);
        }
        return s.y;
    }

    @Override
    public Tensor backward(Tensor gradY) {
        NormState s = backwardState(gradY);
        ops().batchNormBackward(s.plan, lastInput(), gradY, weight.value(), s.gradX, weight.grad(), bias.grad(), true);
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
            super(device(), shape, shape);
            reduced = shape[0] * inner(shape);
            plan = own(ops().batchNorm(shape[0], channels, inner(shape), eps));
        }
    }
}
