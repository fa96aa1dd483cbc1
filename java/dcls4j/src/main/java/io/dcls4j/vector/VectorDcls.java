package io.dcls4j.vector;

import io.dcls4j.DclsConv;
import io.dcls4j.DclsKind;
import io.dcls4j.Interpolation;
import io.dcls4j.PaddingMode;
import io.dcls4j.Tensor;
import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A DCLS layer in pure Java (float32, Vector API): kernel construction ({@link VectorConstruct}) then convolution
 * ({@link VectorConv}), forward and backward, with the same parameters, shapes and semantics as
 * {@link io.dcls4j.DclsConv} and the float64 reference.
 *
 * <pre>{@code
 * VectorDcls layer = VectorDcls.copyOf(nativeLayer);     // same configuration and parameter values
 * float[] y = layer.forward(x);                           // x: Tensor (N, Cin, spatial...), or float[] + shape
 * layer.zeroGrad();
 * float[] gx = layer.backward(gy);                        // accumulates the parameter gradients
 * }</pre>
 *
 * <p>{@code backward} computes, from the output gradient: the kernel gradient (only at the kernel cells the
 * construction's gradient reads, {@link VectorConstruct#support}), the bias gradient, the gradients of weight,
 * positions and sigma, and the input gradient. The layer owns its parameters ({@link #weight()} etc., live
 * arrays), their gradients, and the arrays {@code forward} and {@code backward} return, which are overwritten by
 * the next call with an input of the same shape. The input is copied (padded) by {@code forward}, so it may change
 * before {@code backward}. Not thread-safe.
 */
public final class VectorDcls {
    private static final int MAX_CACHED_SHAPES = 8;

    private final ConstructConfig construct;
    private final int inChannels;
    private final int groups;
    private final int[] stride;
    private final int[] padding;
    private final PaddingMode paddingMode;
    private final float[] weight;
    private final float[] positions;
    private final float[] sigma;
    private final float[] bias;
    private final float[] gradWeight;
    private final float[] gradPositions;
    private final float[] gradSigma;
    private final float[] gradBias;
    private final float[] kernel;
    private final float[] gradKernel;
    private final boolean[] support;
    private final Map<String, Shape> shapes = new LinkedHashMap<>(16, 0.75f, true);
    private Shape current;

    /** Per input shape: the convolution, its output and input-gradient arrays. */
    private static final class Shape {
        final ConvConfig config;
        final VectorConv conv;
        final float[] y;
        final float[] gradX;

        Shape(ConvConfig config) {
            this.config = config;
            this.conv = new VectorConv(config);
            this.y = new float[config.outputLength()];
            this.gradX = new float[config.inputLength()];
        }
    }

    /**
     * A layer with zero parameters (set them through {@link #weight()}, {@link #positions()}, {@link #sigma()},
     * {@link #bias()}).
     *
     * @param construct  the construction: interpolation, Cout, Cin/groups, kernel count, dilated kernel size
     * @param groups     number of groups; Cin = groups * construct.inPerGroup()
     * @param stride     one value per spatial axis
     * @param padding    one value per spatial axis (both sides)
     * @param withBias   whether the layer has a bias
     */
    public VectorDcls(ConstructConfig construct, int groups, int[] stride, int[] padding, PaddingMode paddingMode,
                      boolean withBias) {
        this.construct = Objects.requireNonNull(construct, "construct");
        if (groups < 1 || construct.outChannels() % groups != 0) {
            throw new IllegalArgumentException("groups (" + groups + ") must divide outChannels ("
                    + construct.outChannels() + ")");
        }
        int ndim = construct.ndim();
        if (stride.length != ndim || padding.length != ndim) {
            throw new IllegalArgumentException("stride and padding need " + ndim + " values");
        }
        this.groups = groups;
        this.inChannels = groups * construct.inPerGroup();
        this.stride = stride.clone();
        this.padding = padding.clone();
        this.paddingMode = Objects.requireNonNull(paddingMode, "paddingMode");
        weight = new float[construct.elementCount()];
        positions = new float[construct.positionLength()];
        boolean learnsSigma = construct.interpolation().learnsSigma();
        sigma = learnsSigma ? new float[construct.positionLength()] : null;
        bias = withBias ? new float[construct.outChannels()] : null;
        gradWeight = new float[weight.length];
        gradPositions = new float[positions.length];
        gradSigma = learnsSigma ? new float[positions.length] : null;
        gradBias = withBias ? new float[construct.outChannels()] : null;
        kernel = new float[construct.kernelLength()];
        gradKernel = new float[construct.kernelLength()];
        support = construct.interpolation() == Interpolation.GAUSSIAN ? null : new boolean[construct.kernelLength()];
    }

    /** A layer with the configuration and the current parameter values of a native layer. */
    public static VectorDcls copyOf(DclsConv conv) {
        if (conv.kind() != DclsKind.DCLS1D && conv.kind() != DclsKind.DCLS2D && conv.kind() != DclsKind.DCLS3D) {
            throw new IllegalArgumentException("VectorDcls copies Dcls1d, Dcls2d and Dcls3d layers, not " + conv.kind()
                    .referenceName());
        }
        ConstructConfig cc = new ConstructConfig(conv.interpolation(), conv.outChannels(),
                conv.inChannels() / conv.groups(), conv.kernelCount(), conv.dilatedKernelSize());
        VectorDcls layer = new VectorDcls(cc, conv.groups(), conv.stride(), conv.padding(), conv.paddingMode(),
                conv.bias() != null);
        copy(conv.weight().value(), layer.weight);
        copy(conv.positions().value(), layer.positions);
        if (layer.sigma != null) {
            copy(conv.sigma().value(), layer.sigma);
        }
        if (layer.bias != null) {
            copy(conv.bias().value(), layer.bias);
        }
        return layer;
    }

    private static void copy(Tensor from, float[] to) {
        MemorySegment.copy(from.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, to, 0, to.length);
    }

    public ConstructConfig constructConfig() {
        return construct;
    }

    /** Weight (Cout, Cin/groups, K): the live array. */
    public float[] weight() {
        return weight;
    }

    /** Positions (ndim, Cout, Cin/groups, K), P[d] along axis d: the live array. */
    public float[] positions() {
        return positions;
    }

    /** Sigma, shaped like the positions, or null if the interpolation has none: the live array. */
    public float[] sigma() {
        return sigma;
    }

    /** Bias (Cout), or null: the live array. */
    public float[] bias() {
        return bias;
    }

    public float[] gradWeight() {
        return gradWeight;
    }

    public float[] gradPositions() {
        return gradPositions;
    }

    public float[] gradSigma() {
        return gradSigma;
    }

    public float[] gradBias() {
        return gradBias;
    }

    /** The kernel built by the last forward (Cout, Cin/groups, dks...). */
    public float[] kernel() {
        return kernel;
    }

    /** Builds the kernel from the current parameters (forward does this itself). */
    public float[] buildKernel() {
        VectorConstruct.forward(construct, weight, positions, sigma, kernel);
        return kernel;
    }

    /** The convolution configuration for an input of {@code batch} samples of spatial size {@code inputSize}. */
    public ConvConfig convConfig(int batch, int... inputSize) {
        return new ConvConfig(batch, inChannels, construct.outChannels(), groups, inputSize,
                construct.dilatedKernelSize(), stride, padding, paddingMode);
    }

    /** y = conv(pad(x), construct(weight, P, SIG)) + bias for x (N, Cin, spatial...) in a Tensor. */
    public float[] forward(Tensor x) {
        Objects.requireNonNull(x, "x");
        long[] shape = x.shape();
        if (shape.length != construct.ndim() + 2 || shape[1] != inChannels) {
            throw new IllegalArgumentException("input has shape " + Arrays.toString(shape) + ", expected (N, "
                    + inChannels + ", " + construct.ndim() + " spatial sizes)");
        }
        int[] spatial = new int[construct.ndim()];
        for (int d = 0; d < spatial.length; d++) {
            spatial[d] = Math.toIntExact(shape[2 + d]);
        }
        return forward(x.segment(), Math.toIntExact(shape[0]), spatial);
    }

    /** As {@link #forward(Tensor)} for x in a float array of shape (batch, Cin, inputSize...). */
    public float[] forward(float[] x, int batch, int... inputSize) {
        Objects.requireNonNull(x, "x");
        return forward(MemorySegment.ofArray(x), batch, inputSize);
    }

    private float[] forward(MemorySegment x, int batch, int[] inputSize) {
        Shape state = stateFor(batch, inputSize);
        buildKernel();
        state.conv.padInput(x);
        state.conv.forwardPadded(kernel, bias, state.y);
        current = state;
        return state.y;
    }

    /**
     * Back-propagates gradY (shaped like the last forward's output): accumulates the gradients of weight,
     * positions, sigma and bias, and returns the input gradient (owned by the layer).
     */
    public float[] backward(float[] gradY) {
        Shape state = requireForward();
        VectorConstruct.checkLength("gradY", gradY, state.config.outputLength());
        return backward(state, MemorySegment.ofArray(gradY));
    }

    /** As {@link #backward(float[])} with gradY in a Tensor. */
    public float[] backward(Tensor gradY) {
        Shape state = requireForward();
        Objects.requireNonNull(gradY, "gradY");
        if (gradY.elementCount() != state.y.length) {
            throw new IllegalArgumentException("gradY has " + gradY.elementCount() + " elements, expected "
                    + state.y.length);
        }
        return backward(state, gradY.segment());
    }

    private Shape requireForward() {
        if (current == null) {
            throw new IllegalStateException("backward called before forward");
        }
        return current;
    }

    private float[] backward(Shape state, MemorySegment gradY) {
        state.conv.loadGradY(gradY, true);
        if (support != null) {
            VectorConstruct.support(construct, positions, sigma, support);
        }
        state.conv.backwardWeightsLoaded(gradKernel, support);
        if (bias != null) {
            state.conv.backwardBiasLoaded(gradBias, true);
        }
        VectorConstruct.backward(construct, weight, positions, sigma, gradKernel, gradWeight, gradPositions,
                gradSigma, true);
        state.conv.backwardDataLoaded(kernel, state.gradX);
        return state.gradX;
    }

    /** Sets every parameter gradient to zero. */
    public void zeroGrad() {
        Arrays.fill(gradWeight, 0f);
        Arrays.fill(gradPositions, 0f);
        if (gradSigma != null) {
            Arrays.fill(gradSigma, 0f);
        }
        if (gradBias != null) {
            Arrays.fill(gradBias, 0f);
        }
    }

    private Shape stateFor(int batch, int[] inputSize) {
        Shape c = current;
        if (c != null && c.config.batch() == batch && Arrays.equals(c.config.inputSize(), inputSize)) {
            return c;
        }
        String key = batch + ":" + Arrays.toString(inputSize);
        Shape state = shapes.get(key);
        if (state == null) {
            ConvConfig config = convConfig(batch, inputSize);
            if (shapes.size() >= MAX_CACHED_SHAPES) {
                String eldest = shapes.keySet().iterator().next();
                if (shapes.get(eldest) == current) {
                    current = null;
                }
                shapes.remove(eldest);
            }
            state = new Shape(config);
            shapes.put(key, state);
        }
        return state;
    }
}
