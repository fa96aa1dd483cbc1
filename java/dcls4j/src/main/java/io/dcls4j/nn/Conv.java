package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.PaddingMode;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;
import io.dcls4j.ops.Convolution;
import io.dcls4j.ops.ConvConfig;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A dense convolution, torch.nn.Conv1d/2d/3d (by the length of {@code kernel}): stride, padding (zeros),
 * dilation, groups and bias, on dcls4j's convolution plans ({@link Convolution}: oneDNN and dcls4j's engines on
 * the CPU, cuDNN or dcls4j's kernels on CUDA). Parameters weight
 * (out, in/groups, k...) and bias (out), initialised as PyTorch: uniform in +-1/sqrt(fan_in).
 *
 * <p>A dilated convolution runs as the dense convolution of its spread kernel, ((k - 1) * dilation + 1) per axis,
 * zero between the taps: the weights are scattered into it before each forward, and its gradient gathered back
 * after each backward ({@link NnOps#kernelSpread}: a few thousand floats, no allocation, on the layer's device). The
 * plans' engines (oneDNN, cuDNN and dcls4j's own) then serve both kinds alike; the cost is that of the spread kernel.
 */
public final class Conv extends Layer<Conv.ConvState> {
    private final int in;
    private final int out;
    private final int groups;
    private final int[] kernel;
    private final int[] stride;
    private final int[] padding;
    private final int[] dilation;
    /** The kernel the plans see: {@code kernel} spread by {@code dilation}. */
    private final int[] spreadKernel;
    private final Parameter weight;
    private final Parameter bias;
    /** Dilated only: the spread kernel and its gradient, on the layer's device, and where each weight sits in them. */
    private final Tensor spread;
    private final Tensor spreadGrad;
    private final KernelSpread spreadGeometry;

    /** stride and padding: one value per axis of {@code kernel}. */
    public Conv(int in, int out, int[] kernel, int[] stride, int[] padding, int groups, boolean bias, long seed) {
        this(in, out, kernel, stride, padding, null, groups, bias, seed);
    }

    /** stride, padding and dilation (null: 1): one value per axis of {@code kernel}, as torch.nn.ConvNd. */
    public Conv(int in, int out, int[] kernel, int[] stride, int[] padding, int[] dilation, int groups, boolean bias,
                long seed) {
        this(in, out, kernel, stride, padding, dilation, groups, bias, seed, Device.cpu());
    }

    /** On {@code device}, a CPU or CUDA device (cuDNN there, or dcls4j's own CUDA kernels where it is missing). */
    public Conv(int in, int out, int[] kernel, int[] stride, int[] padding, int[] dilation, int groups, boolean bias,
                long seed, Device device) {
        super(device);
        if (in < 1 || out < 1 || groups < 1 || in % groups != 0 || out % groups != 0) {
            throw new IllegalArgumentException("Conv: channels " + in + " -> " + out + " with groups " + groups
                    + ": all must be >= 1 and groups must divide both");
        }
        if (kernel == null || kernel.length < 1 || kernel.length > 3 || stride == null || padding == null
                || stride.length != kernel.length || padding.length != kernel.length) {
            throw new IllegalArgumentException("Conv: kernel needs 1 to 3 sizes and stride and padding one per axis, got "
                    + Arrays.toString(kernel) + ", " + Arrays.toString(stride) + ", " + Arrays.toString(padding));
        }
        if (dilation != null && dilation.length != kernel.length) {
            throw new IllegalArgumentException("Conv: dilation needs one value per kernel axis, got "
                    + Arrays.toString(dilation) + " for kernel " + Arrays.toString(kernel));
        }
        int[] spreadSizes = new int[kernel.length];
        for (int d = 0; d < kernel.length; d++) {
            if (kernel[d] < 1 || stride[d] < 1 || padding[d] < 0) {
                throw new IllegalArgumentException("Conv: kernel and stride must be >= 1 and padding >= 0, got "
                        + Arrays.toString(kernel) + ", " + Arrays.toString(stride) + ", " + Arrays.toString(padding));
            }
            int dil = dilation == null ? 1 : dilation[d];
            if (dil < 1) {
                throw new IllegalArgumentException("Conv: dilation must be >= 1, got " + Arrays.toString(dilation));
            }
            long size = (long) (kernel[d] - 1) * dil + 1;
            if (size > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("Conv: kernel " + Arrays.toString(kernel) + " dilated by "
                        + Arrays.toString(dilation) + " spans " + size + " cells on axis " + d + ", over 2^31 - 1");
            }
            spreadSizes[d] = (int) size;
        }
        double spreadElements = (double) out * (in / groups);
        for (int size : spreadSizes) {
            spreadElements *= size;
        }
        if (spreadElements > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("Conv: the kernel " + Arrays.toString(kernel) + " dilated by "
                    + Arrays.toString(dilation) + " over " + out + " x " + (in / groups)
                    + " channel pairs has over 2^31 - 1 elements");
        }
        this.in = in;
        this.out = out;
        this.groups = groups;
        this.kernel = kernel.clone();
        this.stride = stride.clone();
        this.padding = padding.clone();
        this.dilation = dilation == null ? filled(kernel.length, 1) : dilation.clone();
        this.spreadKernel = spreadSizes;
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
        if (Arrays.equals(spreadSizes, kernel)) {
            spread = null;
            spreadGrad = null;
            spreadGeometry = null;
        } else {
            long[] sShape = wShape.clone();
            for (int d = 0; d < kernel.length; d++) {
                sShape[2 + d] = spreadSizes[d];
            }
            // zero-filled: the gaps are never written again (kernelSpread sets the taps only)
            spread = Tensor.allocate(arena, device, sShape);
            spreadGrad = Tensor.allocate(arena, device, sShape);
            spreadGeometry = new KernelSpread(wShape[0] * wShape[1], kernel, this.dilation, arena);
        }
    }

    private static int[] filled(int n, int value) {
        int[] a = new int[n];
        Arrays.fill(a, value);
        return a;
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
        ConvConfig config = new ConvConfig(Math.toIntExact(shape[0]), in, out, groups, spatial, spreadKernel, stride,
                padding, PaddingMode.ZEROS);
        Convolution plan = new Convolution(config, device(), false);
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
        s.plan.forward(x, kernel(), bias == null ? null : bias.value(), s.y);
        return s.y;
    }

    @Override
    public Tensor backward(Tensor gradY) {
        ConvState s = backwardState(gradY);
        if (spread == null) {
            s.plan.backwardWeights(lastInput(), gradY, weight.grad(), bias == null ? null : bias.grad(), true);
        } else {
            // One accumulate flag governs both gradients of the pass, and the bias's must accumulate (into
            // bias.grad, as every parameter's across backward calls). So the pass accumulates into spreadGrad too,
            // which is all zero here: kernelGatherAdd, after adding its taps to weight.grad, zeroes all of it, the
            // gaps included, which the pass writes as well (the dense kernel has a gradient in every cell).
            s.plan.backwardWeights(lastInput(), gradY, spreadGrad, bias == null ? null : bias.grad(), true);
            ops().kernelGatherAdd(spreadGeometry, spreadGrad, weight.grad());
        }
        // the kernel of the forward pass: the spread kernel as forward() filled it (no second scatter)
        s.plan.backwardData(gradY, spread == null ? weight.value() : spread, s.gradX);
        return s.gradX;
    }

    /** The kernel forward runs: the weights, or (dilated) the spread kernel with the current weights in place. */
    private Tensor kernel() {
        if (spread == null) {
            return weight.value();
        }
        ops().kernelSpread(spreadGeometry, weight.value(), spread);
        return spread;
    }

    @Override
    public String toString() {
        return "Conv" + kernel.length + "d(" + in + ", " + out + ", kernel=" + Arrays.toString(kernel) + ", stride="
                + Arrays.toString(stride) + ", padding=" + Arrays.toString(padding) + ", dilation=" + Arrays.toString(dilation)
                + ", groups=" + groups + ", bias="
                + (bias != null) + ")";
    }

    final class ConvState extends Layer.State {
        final Convolution plan;

        ConvState(long[] shape, Convolution plan) {
            super(device(), shape, plan.outputShape());
            this.plan = own(plan);
        }
    }
}
