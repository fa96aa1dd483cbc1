package io.dcls4j;

import io.dcls4j.ops.Convolution;
import io.dcls4j.ops.KernelWindow;
import io.dcls4j.ops.Positions;
import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * A transposed DCLS convolution (1D to 3D by the length of {@code dilatedKernelSize}), which the PyTorch reference
 * lacks: the DCLS kernel, built as for {@link DclsConv}, fed to a transposed convolution with the semantics of
 * {@code torch.nn.ConvTranspose1d/2d/3d} (stride, padding, output padding, groups; zero padding only, as there).
 *
 * <p>Shapes follow PyTorch's transposed layers: input (N, Cin, spatial...), weight (Cin, Cout/groups, K),
 * positions and sigma (ndim, Cin, Cout/groups, K), kernel (Cin, Cout/groups, dilatedKernelSize...), bias (Cout),
 * output size per axis {@code (in - 1) * stride - 2 * padding + dilatedKernelSize + outputPadding}. Positions are
 * in dcls4j's convention, P[d] along axis d ({@link #loadReferenceParameters} converts from the reference's).
 *
 * <p>A transposed convolution is the backward-data pass of the convolution it transposes, so each pass runs one
 * of the convolution plan's passes (oneDNN or dcls4j's CPU kernels; cuDNN on a GPU): forward is backward data,
 * backward data is forward, and the kernel gradient is backward weights with the roles of input and output
 * swapped. The bias goes through a depthwise 1x1 plan (forward adds it, backward weights sums its gradient).
 *
 * <p>Ownership, devices and backends as for {@link DclsConv} (see the
 * <a href="package-summary.html#layers">package documentation</a>): the layer owns its parameters, gradients, kernel
 * and the tensors its passes return (overwritten by the next call, freed by {@link #close()}); not thread-safe.
 */
public final class DclsConvTranspose implements AutoCloseable, io.dcls4j.nn.Module {
    private final Arena arena = Arena.ofShared();
    private final int inChannels;
    private final int outChannels;
    private final int groups;
    private final int kernelCount;
    private final int[] dilatedKernelSize;
    private final int[] stride;
    private final int[] padding;
    private final int[] outputPadding;
    private final Interpolation interpolation;
    private final Device device;
    private final LayerBackend backend;
    private final LayerBackend.Construction construction;
    private final Parameter weight;
    private final Parameter positions;
    private final Positions positionOps;
    private final Parameter sigma;
    private final Parameter bias;
    private final List<Parameter> parameters;
    /** {@link #parameters} by name, made once (namedParameters() is asked every step by containers). */
    private final java.util.Map<String, Parameter> namedParameters;
    private final Tensor kernel;
    private final Tensor gradKernel;
    private final KernelWindow window;
    private ShapeState current;
    private Tensor lastInput;
    private boolean closed;

    private DclsConvTranspose(Builder b) {
        inChannels = b.inChannels;
        outChannels = b.outChannels;
        groups = b.groups;
        kernelCount = b.kernelCount;
        dilatedKernelSize = b.dilatedKernelSize.clone();
        int ndim = dilatedKernelSize.length;
        stride = LayerBuilder.perDimension("stride", b.stride, ndim, 1);
        padding = LayerBuilder.perDimension("padding", b.padding, ndim, 0);
        outputPadding = LayerBuilder.perDimension("outputPadding", b.outputPadding, ndim, 0);
        interpolation = b.interpolation;
        device = b.device;
        try {
            backend = new LayerBackend(device, b.backend, b.cudaTf32);
            // the kernel of a transposed convolution is (Cin, Cout/groups, ...): a construction from Cin to Cout
            construction = backend.construction(new ConstructConfig(interpolation, inChannels, outChannels / groups,
                    kernelCount, dilatedKernelSize));
            long[] weightShape = {inChannels, outChannels / groups, kernelCount};
            long[] positionShape = {ndim, inChannels, outChannels / groups, kernelCount};
            positionOps = backend.positions(dilatedKernelSize, positionShape);
            weight = parameter("weight", weightShape);
            positions = parameter("P", positionShape);
            sigma = interpolation.learnsSigma() ? parameter("SIG", positionShape) : null;
            bias = b.bias ? parameter("bias", new long[] {outChannels}) : null;
            parameters = Stream.of(weight, positions, sigma, bias).filter(Objects::nonNull).toList();
            namedParameters = Parameter.byName(parameters);
            long[] kernelShape = new long[2 + ndim];
            kernelShape[0] = inChannels;
            kernelShape[1] = outChannels / groups;
            for (int d = 0; d < ndim; d++) {
                kernelShape[2 + d] = dilatedKernelSize[d];
            }
            kernel = Tensor.allocate(arena, device, kernelShape);
            gradKernel = Tensor.allocate(arena, device, kernelShape);
            window = new KernelWindow(dilatedKernelSize);
            initialise(b.random());
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** Starts a transposed layer from {@code inChannels} to {@code outChannels}; see {@link Builder}. */
    public static Builder builder(int inChannels, int outChannels) {
        return new Builder(inChannels, outChannels);
    }

    private Parameter parameter(String name, long[] shape) {
        return new Parameter(name, Tensor.allocate(arena, device, shape), Tensor.allocate(arena, device, shape));
    }

    /**
     * PyTorch's initialisation of a transposed layer's weight (Kaiming-uniform over fan_in = weight.size(1) * K,
     * i.e. Cout/groups * K) and bias, and the reference's positions and sigma: {@link ParameterInit}'s, as
     * {@link DclsConv}'s.
     */
    private void initialise(SplittableRandom random) {
        new ParameterInit(dilatedKernelSize, false, interpolation).initialise(random, device, weight, bias, positions,
                sigma);
    }

    /**
     * Clamps each position component i to +-dilatedKernelSize[i]/2, as the reference's clamp_parameters, on the
     * layer's device.
     */
    public void clampPositions() {
        ensureOpen();
        positionOps.clamp(positions.value());
    }

    /** Weight of each element, (Cin, Cout/groups, K). */
    public Parameter weight() {
        return weight;
    }

    /** Positions relative to the kernel centre, (ndim, Cin, Cout/groups, K); P[i] moves along axis i. */
    public Parameter positions() {
        return positions;
    }

    /** Sigma, shaped like the positions; null unless the interpolation learns it. */
    public Parameter sigma() {
        return sigma;
    }

    /** Bias, (Cout), or null. */
    public Parameter bias() {
        return bias;
    }

    /** Every parameter: weight, P, SIG, bias (absent ones left out). */
    public List<Parameter> parameters() {
        return parameters;
    }

    /** The parameters under their names (weight, P, SIG, bias; absent ones left out), for io.dcls4j.nn and optimizers. */
    @Override
    public java.util.Map<String, Parameter> namedParameters() {
        return namedParameters;
    }

    /** The kernel (Cin, Cout/groups, dilatedKernelSize...), as built by the last forward or {@link #buildKernel()}. */
    public Tensor kernel() {
        return kernel;
    }

    /** Builds the kernel from the current parameters and returns it. */
    public Tensor buildKernel() {
        ensureOpen();
        construction.forward(weight.value(), positions.value(), sigma == null ? null : sigma.value(), kernel);
        return kernel;
    }

    /** y = conv_transpose(x, construct(weight, P, SIG)) + bias; x is (N, Cin, spatial...). Owned by the layer. */
    public Tensor forward(Tensor x) {
        ensureOpen();
        ShapeState state = stateFor(x);
        buildKernel();
        construction.window(positions.value(), sigma == null ? null : sigma.value(), window);
        state.plan.setKernelWindow(window);
        if (bias == null) {
            state.plan.backwardData(x, kernel, state.y);
        } else {
            state.plan.backwardData(x, kernel, state.unbiased);
            state.biasPlan.forward(state.unbiased, state.ones, bias.value(), state.y);
        }
        current = state;
        lastInput = x;
        return state.y;
    }

    /**
     * Back-propagates {@code gradY} (the shape of the last forward's output): accumulates the gradients of weight,
     * positions, sigma and bias, and returns the input gradient (owned by the layer).
     */
    public Tensor backward(Tensor gradY) {
        ensureOpen();
        ShapeState state = current;
        if (state == null) {
            throw new IllegalStateException("backward called before forward");
        }
        if (gradY == null) {
            throw new IllegalArgumentException("gradY is null");
        }
        requireOnDevice("gradY", gradY);
        if (!gradY.sameShape(state.y)) {
            throw new IllegalArgumentException("gradY has shape " + Arrays.toString(gradY.shape())
                    + ", expected the last forward's output shape " + Arrays.toString(state.y.shape()));
        }
        gradKernel.fill(0f);
        // the transposed convolution's kernel gradient is the convolution's, with input and output swapped
        state.plan.backwardWeights(gradY, lastInput, gradKernel, null, true);
        construction.backward(weight.value(), positions.value(), sigma == null ? null : sigma.value(), gradKernel,
                weight.grad(), positions.grad(), sigma == null ? null : sigma.grad(), true);
        if (bias != null) {
            state.onesGrad.fill(0f); // a by-product, kept from growing without bound
            state.biasPlan.backwardWeights(state.unbiased, gradY, state.onesGrad, bias.grad(), true);
        }
        state.plan.forward(gradY, kernel, null, state.gradX);
        return state.gradX;
    }

    /** Sets every parameter gradient to zero. */
    public void zeroGrad() {
        ensureOpen();
        for (Parameter p : parameters) {
            p.grad().fill(0f);
        }
    }

    /**
     * Loads parameters in the PyTorch reference's layout (weight (Cin, Cout/groups, K), P and SIG
     * (ndim, Cin, Cout/groups, K) with the reference's axis order, bias), converting P and SIG as
     * {@link PyTorchLayout} does for {@link DclsConv}. sigma and bias must be null exactly when the layer has none.
     */
    public void loadReferenceParameters(float[] weightValues, float[] referenceP, float[] referenceSig,
                                        float[] biasValues) {
        ensureOpen();
        // the same checks as DclsConv's, but weight and P are written before SIG and bias are checked
        ReferenceImport.requireSameParameters(interpolation, sigma, referenceSig, bias, biasValues);
        ReferenceImport.checkLength("weight", weightValues, weight.value());
        ReferenceImport.checkLength("P", referenceP, positions.value());
        weight.value().copyFrom(weightValues);
        positions.value().copyFrom(PyTorchLayout.positionsFromReference(interpolation, dilatedKernelSize, referenceP));
        if (sigma != null) {
            ReferenceImport.checkLength("SIG", referenceSig, sigma.value());
            sigma.value().copyFrom(PyTorchLayout.sigmaFromReference(interpolation, dilatedKernelSize, referenceSig));
        }
        if (bias != null) {
            ReferenceImport.checkLength("bias", biasValues, bias.value());
            bias.value().copyFrom(biasValues);
        }
    }

    /** The output shape (N, Cout, out...) for an input of {@code inputShape} (N, Cin, spatial...). */
    public long[] outputShape(long... inputShape) {
        int ndim = dilatedKernelSize.length;
        if (inputShape == null || inputShape.length != ndim + 2) {
            throw new IllegalArgumentException("input has shape " + Arrays.toString(inputShape) + "; a " + ndim
                    + "D transposed DCLS layer expects (N, " + inChannels + ", " + ndim + " spatial sizes)");
        }
        if (inputShape[1] != inChannels) {
            throw new IllegalArgumentException("input has " + inputShape[1] + " channels (shape "
                    + Arrays.toString(inputShape) + "), the layer expects " + inChannels);
        }
        long[] out = new long[ndim + 2];
        out[0] = inputShape[0];
        out[1] = outChannels;
        for (int d = 0; d < ndim; d++) {
            if (inputShape[2 + d] < 1) {
                throw new IllegalArgumentException("input size " + inputShape[2 + d] + " on axis " + d + " is < 1");
            }
            out[2 + d] = (inputShape[2 + d] - 1) * stride[d] - 2L * padding[d] + dilatedKernelSize[d]
                    + outputPadding[d];
            if (out[2 + d] < 1) {
                throw new IllegalArgumentException("output size on axis " + d + " would be " + out[2 + d]
                        + ": padding " + padding[d] + " is too large for input " + Arrays.toString(inputShape));
            }
        }
        return out;
    }

    private ShapeState stateFor(Tensor x) {
        if (x == null) {
            throw new IllegalArgumentException("x is null");
        }
        x.requireAlive("x");
        requireOnDevice("x", x);
        if (current != null && x.hasShape(current.inputShape)) {
            return current;
        }
        long[] out = outputShape(x.shape()); // validates before any native call
        if (current != null) {
            current.close();
            current = null;
        }
        return new ShapeState(x.shape(), out);
    }

    private void requireOnDevice(String name, Tensor t) {
        if (!t.device().equals(device)) {
            throw new IllegalArgumentException(name + " is on " + t.device() + ", but this layer is on " + device);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("DclsConvTranspose is closed");
        }
    }

    public int inChannels() {
        return inChannels;
    }

    public int outChannels() {
        return outChannels;
    }

    public int groups() {
        return groups;
    }

    public int kernelCount() {
        return kernelCount;
    }

    public int[] dilatedKernelSize() {
        return dilatedKernelSize.clone();
    }

    public int[] stride() {
        return stride.clone();
    }

    public int[] padding() {
        return padding.clone();
    }

    public int[] outputPadding() {
        return outputPadding.clone();
    }

    public Interpolation interpolation() {
        return interpolation;
    }

    public Device device() {
        return device;
    }

    /** Number of spatial dimensions, 1 to 3. */
    public int ndim() {
        return dilatedKernelSize.length;
    }

    /** Frees the native plans and every tensor the layer owns. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (current != null) {
            current.close();
            current = null;
        }
        lastInput = null;
        arena.close();
    }

    @Override
    public String toString() {
        return "DclsConvTranspose" + ndim() + "d(" + inChannels + ", " + outChannels + ", kernelCount=" + kernelCount
                + ", dilatedKernelSize=" + Arrays.toString(dilatedKernelSize) + ", stride=" + Arrays.toString(stride)
                + ", padding=" + Arrays.toString(padding) + ", outputPadding=" + Arrays.toString(outputPadding)
                + ", groups=" + groups + ", bias=" + (bias != null) + ", interpolation=" + interpolation
                + (device.isCuda() ? ", device=" + device : "") + ")";
    }

    /**
     * The plans and buffers of one input shape: the convolution this layer transposes (input = our output,
     * output = our input) and, with a bias, a depthwise 1x1 plan over our output.
     */
    private final class ShapeState implements AutoCloseable {
        final long[] inputShape;
        final Convolution plan;
        final Convolution biasPlan;
        final Tensor y;
        final Tensor unbiased;
        final Tensor ones;
        final Tensor onesGrad;
        final Tensor gradX;
        private final Arena buffers = Arena.ofShared();

        ShapeState(long[] inputShape, long[] outputShape) {
            this.inputShape = inputShape.clone();
            int ndim = dilatedKernelSize.length;
            int[] outSize = new int[ndim];
            int[] ones1 = new int[ndim];
            int[] zeros = new int[ndim];
            for (int d = 0; d < ndim; d++) {
                outSize[d] = Math.toIntExact(outputShape[2 + d]);
                ones1[d] = 1;
            }
            int batch = Math.toIntExact(inputShape[0]);
            Convolution main = null;
            Convolution biasOnly = null;
            try {
                main = backend.plan(new ConvConfig(batch, outChannels, inChannels, groups, outSize, dilatedKernelSize,
                        stride, padding, PaddingMode.ZEROS));
                long[] produced = main.outputShape();
                for (int d = 0; d < ndim; d++) {
                    if (produced[2 + d] != inputShape[2 + d]) { // cannot happen when outputPadding < stride
                        throw new IllegalArgumentException("outputPadding " + Arrays.toString(outputPadding)
                                + " does not fit stride " + Arrays.toString(stride));
                    }
                }
                y = Tensor.allocate(buffers, device, outputShape);
                gradX = Tensor.allocate(buffers, device, inputShape);
                if (bias != null) {
                    biasOnly = backend.plan(new ConvConfig(batch, outChannels, outChannels, outChannels, outSize,
                            ones1, ones1, zeros, PaddingMode.ZEROS));
                    unbiased = Tensor.allocate(buffers, device, outputShape);
                    long[] onesShape = new long[2 + ndim];
                    Arrays.fill(onesShape, 1);
                    onesShape[0] = outChannels;
                    ones = Tensor.allocate(buffers, device, onesShape).fill(1f);
                    onesGrad = Tensor.allocate(buffers, device, onesShape);
                } else {
                    unbiased = null;
                    ones = null;
                    onesGrad = null;
                }
            } catch (RuntimeException e) {
                if (main != null) {
                    main.close();
                }
                if (biasOnly != null) {
                    biasOnly.close();
                }
                buffers.close();
                throw e;
            }
            plan = main;
            biasPlan = biasOnly;
        }

        @Override
        public void close() {
            plan.close();
            if (biasPlan != null) {
                biasPlan.close();
            }
            buffers.close();
        }
    }

    /**
     * Configures a {@link DclsConvTranspose}. Defaults: stride 1, padding 0, output padding 0, groups 1, bias,
     * Gaussian. The settings a convolution has too are {@link LayerBuilder}'s; the output padding is this one's own.
     */
    public static final class Builder extends LayerBuilder<Builder> {
        private int[] outputPadding = {0};

        private Builder(int inChannels, int outChannels) {
            super(inChannels, outChannels);
        }

        @Override
        Builder self() {
            return this;
        }

        /** Extra cells on one side of the output per axis, each smaller than its stride. Default 0. */
        public Builder outputPadding(int... outputPadding) {
            this.outputPadding = outputPadding == null ? null : outputPadding.clone();
            return this;
        }

        /** Validates the configuration and builds the layer. */
        public DclsConvTranspose build() {
            checkChannels();
            if (groups < 1 || inChannels % groups != 0 || outChannels % groups != 0) {
                throw new IllegalArgumentException("groups (" + groups + ") must be >= 1 and divide in_channels ("
                        + inChannels + ") and out_channels (" + outChannels + ")");
            }
            checkKernelCount();
            checkDilatedKernelSize("dilatedKernelSize is required, with 1 to 3 sizes");
            if (interpolation == null) {
                throw new IllegalArgumentException("interpolation must not be null");
            }
            checkDeviceAndBackend();
            int ndim = dilatedKernelSize.length;
            int[] s = perDimension("stride", stride, ndim, 1);
            perDimension("padding", padding, ndim, 0);
            int[] op = perDimension("outputPadding", outputPadding, ndim, 0);
            for (int d = 0; d < ndim; d++) {
                if (op[d] >= s[d]) {
                    throw new IllegalArgumentException("outputPadding[" + d + "] (" + op[d]
                            + ") must be smaller than stride[" + d + "] (" + s[d] + ")");
                }
            }
            return new DclsConvTranspose(this);
        }
    }
}
