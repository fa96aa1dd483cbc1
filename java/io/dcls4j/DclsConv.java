package io.dcls4j;

import io.dcls4j.ops.Convolution;
import io.dcls4j.ops.KernelConstruction;
import io.dcls4j.reference.ConstructConfig;
import io.dcls4j.reference.ConvConfig;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * A DCLS convolution layer (Dcls1d, Dcls2d or Dcls3d by the length of {@code dilatedKernelSize}):
 * {@code kernelCount} weights per (out, in/groups) pair at learnable real-valued positions inside a
 * dilated kernel, built into a dense kernel and convolved by oneDNN.
 *
 * <pre>{@code
 * try (DclsConv conv = DclsConv.builder(96, 96).groups(96).kernelCount(34)
 *         .dilatedKernelSize(17).padding(8).build()) {
 *     Tensor y = conv.forward(x);
 *     Tensor gradX = conv.backward(gradY);   // parameter gradients are accumulated
 * }
 * }</pre>
 *
 * <p><b>Ownership.</b> The layer owns its parameters, their gradients, the constructed kernel and
 * the tensors {@link #forward} and {@link #backward} return. Those results are overwritten by the
 * next call with an input of the same shape and freed by {@link #close()}; copy them if you need
 * them longer. The input given to {@code forward} is read again by {@code backward}: leave it
 * unchanged in between. A layer is not thread-safe.
 */
public final class DclsConv implements AutoCloseable {
    /** Input shapes whose plans and buffers are kept; the least recently used beyond this is freed. */
    private static final int MAX_CACHED_SHAPES = 8;

    private final Arena arena = Arena.ofShared();
    private final int inChannels;
    private final int outChannels;
    private final int groups;
    private final int kernelCount;
    private final int[] dilatedKernelSize;
    private final int[] stride;
    private final int[] padding;
    private final PaddingMode paddingMode;
    private final Interpolation interpolation;
    private final KernelConstruction construction;
    private final Parameter weight;
    private final Parameter positions;
    private final Parameter sigma;
    private final Parameter bias;
    private final List<Parameter> parameters;
    private final Tensor kernel;
    private final Tensor gradKernel;
    private final Map<ShapeKey, ShapeState> states = new LinkedHashMap<>(16, 0.75f, true);
    private ShapeState current;
    private Tensor lastInput;
    private boolean closed;

    private DclsConv(Builder b) {
        inChannels = b.inChannels;
        outChannels = b.outChannels;
        groups = b.groups;
        kernelCount = b.kernelCount;
        dilatedKernelSize = b.dilatedKernelSize;
        int ndim = dilatedKernelSize.length;
        stride = Builder.perDimension("stride", b.stride, ndim, 1);
        padding = Builder.perDimension("padding", b.padding, ndim, 0);
        paddingMode = b.paddingMode;
        interpolation = b.interpolation;
        construction = new KernelConstruction(new ConstructConfig(interpolation, outChannels, inChannels / groups,
                kernelCount, dilatedKernelSize));
        weight = parameter("weight", construction.weightShape());
        positions = parameter("P", construction.positionShape());
        sigma = interpolation.learnsSigma() ? parameter("SIG", construction.positionShape()) : null;
        bias = b.bias ? parameter("bias", new long[] {outChannels}) : null;
        parameters = Stream.of(weight, positions, sigma, bias).filter(Objects::nonNull).toList();
        kernel = Tensor.allocate(arena, construction.kernelShape());
        gradKernel = Tensor.allocate(arena, construction.kernelShape());
        initialise(b.seed == null ? new SplittableRandom() : new SplittableRandom(b.seed));
    }

    /** Starts a layer from {@code inChannels} to {@code outChannels}; see {@link Builder} for the defaults. */
    public static Builder builder(int inChannels, int outChannels) {
        return new Builder(inChannels, outChannels);
    }

    private Parameter parameter(String name, long[] shape) {
        return new Parameter(name, Tensor.allocate(arena, shape), Tensor.allocate(arena, shape));
    }

    /**
     * The reference's initialisation: Kaiming-uniform weights (a = sqrt 5, so a bound of
     * 1/sqrt(fan_in)), bias uniform in +-1/sqrt(fan_in), positions N(0, 0.5) clamped to
     * +-dilatedKernelSize/2, sigma 0.23 (Gaussian) or 0 (learned width).
     */
    private void initialise(SplittableRandom random) {
        double fanIn = (double) (inChannels / groups) * kernelCount;
        double bound = 1.0 / Math.sqrt(fanIn);
        Tensor w = weight.value();
        for (long i = 0; i < w.elementCount(); i++) {
            w.set(i, (float) random.nextDouble(-bound, bound));
        }
        if (bias != null) {
            for (long i = 0; i < outChannels; i++) {
                bias.value().set(i, (float) random.nextDouble(-bound, bound));
            }
        }
        Tensor p = positions.value();
        for (long i = 0; i < p.elementCount(); i++) {
            p.set(i, (float) (0.5 * random.nextGaussian()));
        }
        clampPositions();
        if (sigma != null) {
            sigma.value().fill(interpolation == Interpolation.GAUSSIAN ? 0.23f : 0f);
        }
    }

    /** Weight of each element, (Cout, Cin/groups, K). */
    public Parameter weight() {
        return weight;
    }

    /** Positions relative to the kernel centre, (ndim, Cout, Cin/groups, K); P[i] moves along axis i. */
    public Parameter positions() {
        return positions;
    }

    /** Sigma, same shape as the positions; null unless the interpolation learns it. */
    public Parameter sigma() {
        return sigma;
    }

    /** Bias, (Cout), or null. */
    public Parameter bias() {
        return bias;
    }

    /** Every parameter, in the reference's state_dict order: weight, P, SIG, bias (absent ones left out). */
    public List<Parameter> parameters() {
        return parameters;
    }

    /** The dense kernel (Cout, Cin/groups, dilatedKernelSize...), as built by the last forward or {@link #buildKernel()}. */
    public Tensor kernel() {
        return kernel;
    }

    /** Builds the dense kernel from the current parameters and returns it. */
    public Tensor buildKernel() {
        ensureOpen();
        construction.forward(weight.value(), positions.value(), sigma == null ? null : sigma.value(), kernel);
        return kernel;
    }

    /**
     * y = conv(pad(x), construct(weight, P, SIG)) + bias. x is (N, Cin, spatial...). The returned
     * tensor belongs to the layer (see the class comment).
     */
    public Tensor forward(Tensor x) {
        ensureOpen();
        ShapeState state = stateFor(x);
        buildKernel();
        state.convolution.forward(x, kernel, bias == null ? null : bias.value(), state.y);
        current = state;
        lastInput = x;
        return state.y;
    }

    /**
     * Back-propagates {@code gradY} (the shape of the last forward's output): accumulates the
     * gradients of weight, positions, sigma and bias, and returns the input gradient (owned by the
     * layer).
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
        if (!gradY.sameShape(state.y)) {
            throw new IllegalArgumentException("gradY has shape " + Arrays.toString(gradY.shape())
                    + ", expected the last forward's output shape " + Arrays.toString(state.y.shape()));
        }
        gradKernel.fill(0f);
        state.convolution.backwardWeights(lastInput, gradY, gradKernel, bias == null ? null : bias.grad(), true);
        construction.backward(weight.value(), positions.value(), sigma == null ? null : sigma.value(), gradKernel,
                weight.grad(), positions.grad(), sigma == null ? null : sigma.grad(), true);
        state.convolution.backwardData(gradY, kernel, state.gradX);
        return state.gradX;
    }

    /** Sets every parameter gradient to zero. */
    public void zeroGrad() {
        ensureOpen();
        for (int i = 0; i < parameters.size(); i++) {
            Parameter p = parameters.get(i);
            p.grad().fill(0f);
        }
    }

    /** Clamps each position component i to +-dilatedKernelSize[i]/2, as the reference's clamp_parameters. */
    public void clampPositions() {
        ensureOpen();
        Tensor p = positions.value();
        long perComponent = p.elementCount() / dilatedKernelSize.length;
        for (int d = 0; d < dilatedKernelSize.length; d++) {
            float lim = dilatedKernelSize[d] / 2;
            for (long i = d * perComponent, end = i + perComponent; i < end; i++) {
                float v = p.get(i);
                p.set(i, Math.max(-lim, Math.min(lim, v)));
            }
        }
    }

    /**
     * Loads parameters trained with the PyTorch reference (its {@code weight}, {@code P}, {@code SIG}
     * and {@code bias}, C order, as in its state_dict), converting P and SIG from the reference's axis
     * order (see {@link PyTorchLayout}). sigma must be null exactly when this layer has none, and bias
     * null exactly when it has none.
     */
    public void loadReferenceParameters(float[] weightValues, float[] referenceP, float[] referenceSig,
                                        float[] biasValues) {
        ensureOpen();
        if ((referenceSig == null) != (sigma == null)) {
            throw new IllegalArgumentException(sigma == null ? "SIG given, but " + interpolation + " has no sigma"
                    : "SIG missing: " + interpolation + " needs it");
        }
        if ((biasValues == null) != (bias == null)) {
            throw new IllegalArgumentException(bias == null ? "bias given, but the layer has none"
                    : "bias missing: the layer has one");
        }
        checkLength("weight", weightValues, weight.value());
        checkLength("P", referenceP, positions.value());
        if (sigma != null) {
            checkLength("SIG", referenceSig, sigma.value());
        }
        if (bias != null) {
            checkLength("bias", biasValues, bias.value());
        }
        weight.value().copyFrom(weightValues);
        positions.value().copyFrom(PyTorchLayout.positionsFromReference(interpolation, dilatedKernelSize, referenceP));
        if (sigma != null) {
            sigma.value().copyFrom(PyTorchLayout.sigmaFromReference(interpolation, dilatedKernelSize, referenceSig));
        }
        if (bias != null) {
            bias.value().copyFrom(biasValues);
        }
    }

    private static void checkLength(String name, float[] values, Tensor target) {
        if (values == null) {
            throw new IllegalArgumentException(name + " is null");
        }
        if (values.length != target.elementCount()) {
            throw new IllegalArgumentException(name + " has " + values.length + " values, expected "
                    + target.elementCount() + " for shape " + Arrays.toString(target.shape()));
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

    public PaddingMode paddingMode() {
        return paddingMode;
    }

    public Interpolation interpolation() {
        return interpolation;
    }

    /** Number of spatial dimensions, 1 to 3. */
    public int ndim() {
        return dilatedKernelSize.length;
    }

    /** The output shape for an input of {@code inputShape} (N, Cin, spatial...). */
    public long[] outputShape(long... inputShape) {
        ConvConfig c = convConfig(inputShape);
        int[] out = c.outputSize();
        long[] shape = new long[2 + out.length];
        shape[0] = c.batch();
        shape[1] = outChannels;
        for (int d = 0; d < out.length; d++) {
            shape[2 + d] = out[d];
        }
        return shape;
    }

    private ConvConfig convConfig(long[] shape) {
        int ndim = ndim();
        if (shape.length != ndim + 2) {
            throw new IllegalArgumentException("input has shape " + Arrays.toString(shape) + "; a " + ndim
                    + "D DCLS layer expects (N, " + inChannels + ", " + ndim + " spatial sizes)");
        }
        if (shape[1] != inChannels) {
            throw new IllegalArgumentException("input has " + shape[1] + " channels (shape " + Arrays.toString(shape)
                    + "), the layer expects " + inChannels);
        }
        int[] spatial = new int[ndim];
        for (int d = 0; d < ndim; d++) {
            spatial[d] = Math.toIntExact(shape[2 + d]);
        }
        return new ConvConfig(Math.toIntExact(shape[0]), inChannels, outChannels, groups, spatial, dilatedKernelSize,
                stride, padding, paddingMode);
    }

    private ShapeState stateFor(Tensor x) {
        if (x == null) {
            throw new IllegalArgumentException("x is null");
        }
        x.requireAlive("x");
        ShapeState c = current;
        if (c != null && x.hasShape(c.key.shape)) {
            return c;
        }
        ShapeKey key = new ShapeKey(x.shape());
        ShapeState state = states.get(key);
        if (state == null) {
            ConvConfig config = convConfig(key.shape); // validates before any native call
            if (states.size() >= MAX_CACHED_SHAPES) {
                var eldest = states.entrySet().iterator().next();
                eldest.getValue().close();
                states.remove(eldest.getKey());
            }
            state = new ShapeState(key, config);
            states.put(key, state);
        }
        return state;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("DclsConv is closed");
        }
    }

    /** Frees the native plans and every tensor the layer owns. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (ShapeState s : states.values()) {
            s.close();
        }
        states.clear();
        current = null;
        lastInput = null;
        arena.close();
    }

    @Override
    public String toString() {
        return "Dcls" + ndim() + "d(" + inChannels + ", " + outChannels + ", kernelCount=" + kernelCount
                + ", dilatedKernelSize=" + Arrays.toString(dilatedKernelSize) + ", stride=" + Arrays.toString(stride)
                + ", padding=" + Arrays.toString(padding) + ", groups=" + groups + ", bias=" + (bias != null)
                + ", interpolation=" + interpolation + ", paddingMode=" + paddingMode + ")";
    }

    private record ShapeKey(long[] shape) {
        @Override
        public boolean equals(Object o) {
            return o instanceof ShapeKey k && Arrays.equals(shape, k.shape);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(shape);
        }
    }

    /** The plan and buffers of one input shape. */
    private final class ShapeState implements AutoCloseable {
        final ShapeKey key;
        final Convolution convolution;
        final Tensor y;
        final Tensor gradX;
        private final Arena buffers = Arena.ofShared();

        ShapeState(ShapeKey key, ConvConfig config) {
            this.key = key;
            this.convolution = new Convolution(config);
            this.y = Tensor.allocate(buffers, convolution.outputShape());
            this.gradX = Tensor.allocate(buffers, key.shape);
        }

        @Override
        public void close() {
            if (current == this) {
                current = null;
            }
            convolution.close();
            buffers.close();
        }
    }

    /** Configures a {@link DclsConv}. Defaults as in the reference: stride 1, padding 0, groups 1, bias, zero padding, Gaussian. */
    public static final class Builder {
        private final int inChannels;
        private final int outChannels;
        private int kernelCount = -1;
        private int[] dilatedKernelSize;
        private int[] stride = {1};
        private int[] padding = {0};
        private int groups = 1;
        private boolean bias = true;
        private Interpolation interpolation = Interpolation.GAUSSIAN;
        private PaddingMode paddingMode = PaddingMode.ZEROS;
        private Long seed;

        private Builder(int inChannels, int outChannels) {
            this.inChannels = inChannels;
            this.outChannels = outChannels;
        }

        /** Number of non-zero elements per (out, in/groups) pair, at least 1. Required. */
        public Builder kernelCount(int kernelCount) {
            this.kernelCount = kernelCount;
            return this;
        }

        /** Size of the dilated kernel per spatial axis; its length (1 to 3) sets the dimensionality. Required. */
        public Builder dilatedKernelSize(int... sizes) {
            this.dilatedKernelSize = sizes == null ? null : sizes.clone();
            return this;
        }

        /** Stride per axis, or one value for all. Default 1. */
        public Builder stride(int... stride) {
            this.stride = stride == null ? null : stride.clone();
            return this;
        }

        /** Padding per axis (both sides), or one value for all. Default 0. */
        public Builder padding(int... padding) {
            this.padding = padding == null ? null : padding.clone();
            return this;
        }

        /** Number of groups; must divide both channel counts. Default 1. */
        public Builder groups(int groups) {
            this.groups = groups;
            return this;
        }

        /** Whether the layer has a bias. Default true. */
        public Builder bias(boolean bias) {
            this.bias = bias;
            return this;
        }

        /** Default {@link Interpolation#GAUSSIAN}. */
        public Builder interpolation(Interpolation interpolation) {
            this.interpolation = interpolation;
            return this;
        }

        /** Default {@link PaddingMode#ZEROS}. */
        public Builder paddingMode(PaddingMode paddingMode) {
            this.paddingMode = paddingMode;
            return this;
        }

        /** Seed of the initialisation; without one every build draws fresh values. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Validates the configuration and builds the layer. */
        public DclsConv build() {
            if (inChannels < 1 || outChannels < 1) {
                throw new IllegalArgumentException("channel counts must be >= 1, got in=" + inChannels + ", out="
                        + outChannels);
            }
            if (groups < 1) {
                throw new IllegalArgumentException("groups must be >= 1, got " + groups);
            }
            if (inChannels % groups != 0 || outChannels % groups != 0) {
                throw new IllegalArgumentException("groups (" + groups + ") must divide in_channels (" + inChannels
                        + ") and out_channels (" + outChannels + ")");
            }
            if (kernelCount < 1) {
                throw new IllegalArgumentException(kernelCount == -1 ? "kernelCount is required"
                        : "kernelCount must be >= 1, got " + kernelCount);
            }
            if (dilatedKernelSize == null || dilatedKernelSize.length < 1 || dilatedKernelSize.length > 3) {
                throw new IllegalArgumentException("dilatedKernelSize is required, with 1 to 3 sizes (one per spatial"
                        + " axis)");
            }
            for (int d = 0; d < dilatedKernelSize.length; d++) {
                if (dilatedKernelSize[d] < 1) {
                    throw new IllegalArgumentException("dilatedKernelSize[" + d + "] must be >= 1, got "
                            + dilatedKernelSize[d]);
                }
            }
            if (interpolation == null || paddingMode == null) {
                throw new IllegalArgumentException("interpolation and paddingMode must not be null");
            }
            // sizes that depend on the input (padding against the input size) are checked per input shape
            perDimension("stride", stride, dilatedKernelSize.length, 1);
            perDimension("padding", padding, dilatedKernelSize.length, 0);
            return new DclsConv(this);
        }

        static int[] perDimension(String name, int[] values, int ndim, int min) {
            if (values == null || (values.length != 1 && values.length != ndim)) {
                throw new IllegalArgumentException(name + " needs 1 or " + ndim + " values, got "
                        + (values == null ? "null" : Arrays.toString(values)));
            }
            int[] out = new int[ndim];
            for (int d = 0; d < ndim; d++) {
                out[d] = values.length == 1 ? values[0] : values[d];
                if (out[d] < min) {
                    throw new IllegalArgumentException(name + "[" + d + "] must be >= " + min + ", got " + out[d]);
                }
            }
            return out;
        }
    }
}
