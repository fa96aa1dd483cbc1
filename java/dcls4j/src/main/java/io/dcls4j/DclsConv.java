package io.dcls4j;

import io.dcls4j.internal.HostPositions;
import io.dcls4j.internal.UseGuard;
import io.dcls4j.ops.Positions;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * A DCLS convolution layer (Dcls1d, Dcls2d or Dcls3d by the length of {@code dilatedKernelSize}; Dcls2_1d,
 * Dcls3_1d or Dcls2dK1d with {@link Builder#denseKernelSize} or {@link Builder#flatDim}, see {@link DclsKind}):
 * {@code kernelCount} weights per (out, in/groups) pair at learnable real-valued positions inside a
 * dilated kernel, built into a dense kernel and convolved by oneDNN, or on a CUDA GPU
 * ({@link Builder#device}).
 *
 * <pre>{@code
 * try (DclsConv conv = DclsConv.builder(96, 96).groups(96).kernelCount(34)
 *         .dilatedKernelSize(17).padding(8).build()) {
 *     Tensor y = conv.forward(x);
 *     Tensor gradX = conv.backward(gradY);   // parameter gradients are accumulated
 * }
 * }</pre>
 *
 * <p><b>Training helpers.</b> {@link Builder#sharePositionsWith} makes several layers use one set
 * of positions (and sigma); {@link #freezeSigma} stops sigma's gradient when a schedule sets it;
 * {@link #inferenceMode(boolean)} caches a kernel built with sigma 0 (and, if asked, integer
 * positions) and stops rebuilding it on every forward.
 *
 * <p>The layer owns its parameters, gradients, kernel and the tensors {@link #forward} and {@link #backward} return
 * (overwritten by the next call with an input of the same shape; its {@value #MAX_CACHED_SHAPES} most recent input
 * shapes keep theirs); one thread at a time; on the CPU or a CUDA device, natively or in pure Java: see the
 * <a href="package-summary.html#layers">package documentation</a> for ownership, threads, devices and backends.
 */
public final class DclsConv implements AutoCloseable, io.dcls4j.nn.Module {
    /** Input shapes whose plans and results are kept; the least recently used beyond this is freed. */
    public static final int MAX_CACHED_SHAPES = 8;

    private final Arena arena = Arena.ofShared();
    /** Refuses a second thread inside the layer (its plans and results are not for concurrent use). */
    private final UseGuard guard = new UseGuard();
    /** The settings, checked, and the shapes they give. */
    private final DclsConvConfig config;
    private final LayerBackend backend;
    private final Parameter weight;
    private final Parameter positions;
    private final Parameter sigma;
    private final Parameter bias;
    private final DclsConv positionOwner;
    private final List<Parameter> parameters;
    /** {@link #parameters} by name, made once (namedParameters() is asked every step by containers). */
    private final Map<String, Parameter> namedParameters;
    /** The kernel, its gradient and inference mode. */
    private final LayerKernel kernel;
    /** The plans and results of the most recently used input shapes, and the last forward's. */
    private final ShapeCache shapes;
    /** The upkeep of the positions (clamp, rounding) on the layer's device and backend. */
    private final Positions positionOps;
    private Tensor lastInput;
    private boolean closed;
    private boolean sigmaFrozen;

    static {
        HostPositions.register(new MirrorAccess());
    }

    /** The host mirrors of the layers' positions, for the models of io.dcls4j.nn (see {@link HostPositions}). */
    private static final class MirrorAccess implements HostPositions.Layers {
        @Override
        public boolean enqueueRefresh(DclsConv layer, Tensor positions) {
            boolean entered = layer.guard.enter(layer);
            try {
                layer.ensureOpen();
                return layer.kernel.enqueueMirrorRefresh(positions, layer.sigma == null ? null : layer.sigma.value());
            } finally {
                layer.guard.exit(entered);
            }
        }

        @Override
        public void markFresh(DclsConv layer) {
            layer.kernel.markMirrorFresh();
        }

        @Override
        public void markStale(DclsConv layer) {
            layer.kernel.markMirrorStale();
        }

        @Override
        public long hostHints(DclsConv layer) {
            return layer.kernel.hostHints();
        }
    }

    private DclsConv(DclsConvConfig config, DclsConv owner, SplittableRandom random) {
        this.config = config;
        Device device = config.device();
        positionOwner = owner == null ? null : PositionSharing.owner(owner);
        try {
            backend = new LayerBackend(device, config.backend(), config.cudaTf32());
            shapes = new ShapeCache(backend, device, this, config::convConfig, MAX_CACHED_SHAPES);
            positionOps = backend.positions(config.dilatedKernelSize(), config.positionShape());
            boolean learnsSigma = config.interpolation().learnsSigma();
            weight = parameter("weight", config.weightShape());
            positions = positionOwner == null ? parameter("P", config.positionShape()) : positionOwner.positions;
            sigma = !learnsSigma ? null : positionOwner == null ? parameter("SIG", config.positionShape())
                    : positionOwner.sigma;
            bias = config.bias() ? parameter("bias", new long[] {config.outChannels()}) : null;
            parameters = Stream.of(weight, positions, sigma, bias).filter(Objects::nonNull).toList();
            namedParameters = Parameter.byName(parameters);
            kernel = new LayerKernel(config, backend, arena, positionOps);
            boolean own = positionOwner == null;
            new ParameterInit(config.dilatedKernelSize(), config.layout().uniformPositionInit(),
                    config.interpolation()).initialise(random, device, weight, bias, own ? positions : null,
                    own ? sigma : null);
        } catch (RuntimeException | Error e) {
            arena.close(); // device memory is not the garbage collector's: free what was allocated
            throw e;
        }
    }

    /** Starts a layer from {@code inChannels} to {@code outChannels}; see {@link Builder} for the defaults. */
    public static Builder builder(int inChannels, int outChannels) {
        return new Builder(inChannels, outChannels);
    }

    private Parameter parameter(String name, long[] shape) {
        return new Parameter(name, Tensor.allocate(arena, config.device(), shape),
                Tensor.allocate(arena, config.device(), shape));
    }

    /** Weight of each element, (Cout, Cin/groups, K). */
    public Parameter weight() {
        return weight;
    }

    /**
     * Positions relative to the kernel centre, (ndim, Cout, Cin/groups, K); P[i] moves along axis i.
     * For a layer built with {@link Builder#sharePositionsWith}, this is the owner's parameter.
     */
    public Parameter positions() {
        return positions;
    }

    /**
     * Sigma, same shape as the positions; null unless the interpolation learns it. Shared with the
     * owner like the positions.
     */
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

    /**
     * {@link #parameters()} under their names (weight, P, SIG, bias), for {@link io.dcls4j.nn.Module}: a layer
     * sharing positions lists the shared P and SIG too (containers keep each parameter once).
     */
    @Override
    public Map<String, Parameter> namedParameters() {
        return namedParameters;
    }

    /** The dense kernel (Cout, Cin/groups, dilatedKernelSize...), as built by the last forward or {@link #buildKernel()}. */
    public Tensor kernel() {
        return kernel.kernel();
    }

    /**
     * Builds the dense kernel from the current parameters and returns it. In inference mode this
     * rebuilds the cached inference kernel (call it after changing the parameters there).
     */
    public Tensor buildKernel() {
        boolean entered = guard.enter(this);
        try {
            ensureOpen();
            kernel.build(weight.value(), positions.value(), sigma == null ? null : sigma.value());
            return kernel.kernel();
        } finally {
            guard.exit(entered);
        }
    }

    /** The owner of this layer's positions and sigma, or null if the layer owns its own. */
    public DclsConv positionOwner() {
        return positionOwner;
    }

    /**
     * Freezes or unfreezes sigma: a frozen sigma gets no gradient from {@link #backward} (its grad
     * tensor is left as it is), for recipes that set sigma by a schedule instead of learning it
     * (see {@code io.dcls4j.optim.SigmaSchedule}). No effect for interpolations without sigma.
     * Default: not frozen. The flag belongs to this layer even when sigma is shared.
     */
    public DclsConv freezeSigma(boolean frozen) {
        ensureOpen();
        this.sigmaFrozen = frozen;
        return this;
    }

    /** Whether {@link #freezeSigma} froze sigma. */
    public boolean sigmaFrozen() {
        return sigmaFrozen;
    }

    /**
     * Enters inference mode: the kernel is built once, now, with the learned-width triangle at
     * sigma 0 ({@link Interpolation#TRIANGLE_LEARNED_WIDTH} semantics; at integer positions each
     * element is an exact one-hot of its weight, elsewhere a normalised bilinear-like spread),
     * whatever the layer's interpolation; forward then reuses it without rebuilding, and
     * {@link #backward} throws {@link IllegalStateException}. With {@code roundPositions} the
     * positions are rounded to the nearest integer (half to even, as {@code torch.round}) for the
     * kernel; the parameters themselves are never changed. Calling it again rebuilds the kernel
     * from the current parameters; {@link #trainingMode()} leaves inference mode.
     */
    public DclsConv inferenceMode(boolean roundPositions) {
        boolean entered = guard.enter(this);
        try {
            ensureOpen();
            kernel.enterInference(roundPositions, weight.value(), positions.value());
            return this;
        } finally {
            guard.exit(entered);
        }
    }

    /** Leaves inference mode: forward builds the kernel from the parameters again and backward works. */
    public DclsConv trainingMode() {
        ensureOpen();
        kernel.leaveInference();
        return this;
    }

    /** Whether the layer is in inference mode. */
    public boolean isInferenceMode() {
        return kernel.inInference();
    }

    /** Whether inference mode rounds the positions (meaningful only in inference mode). */
    public boolean inferenceRoundsPositions() {
        return kernel.roundsPositions();
    }

    /**
     * y = conv(pad(x), construct(weight, P, SIG)) + bias. x is (N, Cin, spatial...). The returned
     * tensor belongs to the layer (see the class comment).
     */
    public Tensor forward(Tensor x) {
        boolean entered = guard.enter(this);
        try {
            ensureOpen();
            ShapeCache.Entry state = stateFor(x);
            if (!kernel.inInference()) {
                kernel.build(weight.value(), positions.value(), sigma == null ? null : sigma.value());
            }
            Tensor s = sigma == null ? null : sigma.value();
            kernel.hint(state, positions.value(), s);
            state.plan.forward(x, kernel.kernel(), bias == null ? null : bias.value(), state.y);
            shapes.setCurrent(state);
            lastInput = x;
            return state.y;
        } finally {
            guard.exit(entered);
        }
    }

    /**
     * Back-propagates {@code gradY} (the shape of the last forward's output): accumulates the
     * gradients of weight, positions, sigma (unless frozen) and bias, and returns the input gradient
     * (owned by the layer). With shared positions the position and sigma gradients accumulate into
     * the owner's grad tensors. Throws {@link IllegalStateException} in inference mode.
     */
    public Tensor backward(Tensor gradY) {
        boolean entered = guard.enter(this);
        try {
            ensureOpen();
            if (kernel.inInference()) {
                throw new IllegalStateException("backward called in inference mode; call trainingMode() first");
            }
            ShapeCache.Entry state = shapes.current();
            if (state == null) {
                throw new IllegalStateException("backward called before forward");
            }
            if (gradY == null) {
                throw new IllegalArgumentException("gradY is null");
            }
            config.requireOnDevice("gradY", gradY);
            if (!gradY.sameShape(state.y)) {
                throw new IllegalArgumentException("gradY has shape " + Arrays.toString(gradY.shape())
                        + ", expected the last forward's output shape " + Arrays.toString(state.y.shape()));
            }
            kernel.backward(state, lastInput, gradY, bias == null ? null : bias.grad(), weight.value(), positions.value(),
                    sigma == null ? null : sigma.value(), weight.grad(), positions.grad(),
                    sigma == null || sigmaFrozen ? null : sigma.grad());
            return state.gradX;
        } finally {
            guard.exit(entered);
        }
    }

    /**
     * Which engine ran each pass of the last {@link #forward} (its input shape's plan), as the native plan reports
     * it: see {@link io.dcls4j.ops.Convolution#engineInfo()} (CPU) or the CUDA plan's
     * {@code "forward=cudnn:... backward_data=dcls:depthwise..."}. Throws {@link IllegalStateException} before
     * the first forward.
     */
    public String engineInfo() {
        ensureOpen();
        ShapeCache.Entry state = shapes.current();
        if (state == null) {
            throw new IllegalStateException("engineInfo called before forward");
        }
        return state.plan.engineInfo();
    }

    /** Sets every parameter gradient to zero (shared position and sigma gradients included). */
    public void zeroGrad() {
        boolean entered = guard.enter(this);
        try {
            ensureOpen();
            for (int i = 0; i < parameters.size(); i++) {
                Parameter p = parameters.get(i);
                p.grad().fill(0f);
            }
        } finally {
            guard.exit(entered);
        }
    }

    /**
     * Clamps each position component i to +-dilatedKernelSize[i]/2, as the reference's clamp_parameters, on the
     * layer's device ({@link Positions#clamp}).
     */
    public void clampPositions() {
        boolean entered = guard.enter(this);
        try {
            ensureOpen();
            positionOps.clamp(positions.value());
        } finally {
            guard.exit(entered);
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
        boolean entered = guard.enter(this);
        try {
            ensureOpen();
            ReferenceImport.load(config.interpolation(), config.dilatedKernelSize(), weight, positions, sigma, bias,
                    weightValues, referenceP, referenceSig, biasValues);
        } finally {
            guard.exit(entered);
        }
    }

    public int inChannels() {
        return config.inChannels();
    }

    public int outChannels() {
        return config.outChannels();
    }

    public int groups() {
        return config.groups();
    }

    public int kernelCount() {
        return config.kernelCount();
    }

    public int[] dilatedKernelSize() {
        return config.dilatedKernelSize().clone();
    }

    public int[] stride() {
        return config.stride().clone();
    }

    public int[] padding() {
        return config.padding().clone();
    }

    public PaddingMode paddingMode() {
        return config.paddingMode();
    }

    public Interpolation interpolation() {
        return config.interpolation();
    }

    /** Where the layer's tensors live and its passes run. */
    public Device device() {
        return config.device();
    }

    /** Which implementation runs the layer ({@link Builder#backend}). */
    public Backend backend() {
        return config.backend();
    }

    /** Whether cuDNN may use TF32 for this layer's convolutions ({@link Builder#cudaTf32}). */
    public boolean cudaTf32() {
        return config.cudaTf32();
    }

    /** Number of spatial dimensions of the input and the convolution, 1 to 3. */
    public int ndim() {
        return config.layout().convNdim();
    }

    /** Which of the reference's layer kinds this is. */
    public DclsKind kind() {
        return config.layout().kind();
    }

    /** The dense kernel sizes of a Dcls2_1d (one) or Dcls3_1d (two); empty for the other kinds. */
    public int[] denseKernelSize() {
        return config.layout().denseKernelSize();
    }

    /** The flat axis of a Dcls2dK1d (0: the kernel runs along H, 1: along W); -1 for the other kinds. */
    public int flatDim() {
        return config.layout().flatDim();
    }

    /** The output shape for an input of {@code inputShape} (N, Cin, spatial...). */
    public long[] outputShape(long... inputShape) {
        return config.outputShape(inputShape);
    }

    private ShapeCache.Entry stateFor(Tensor x) {
        if (x == null) {
            throw new IllegalArgumentException("x is null");
        }
        x.requireAlive("x");
        config.requireOnDevice("x", x);
        return shapes.entryFor(x);
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("DclsConv is closed");
        }
        if (positionOwner != null && positionOwner.closed) {
            throw new IllegalStateException("this DclsConv shares the positions of " + positionOwner
                    + ", which is closed; the owner must outlive the layers that share its positions");
        }
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Frees the native plans and every tensor the layer owns. Idempotent. Closing a layer whose
     * positions others share makes those layers throw {@link IllegalStateException} from then on.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        boolean entered = guard.enter(this);
        closed = true;
        shapes.close("freed: the layer was closed");
        lastInput = null;
        try {
            arena.close();
        } finally {
            guard.exit(entered);
        }
    }

    /** Whether another thread is inside the layer now (for tests of the in-use check). */
    boolean inUseByAnotherThread() {
        return guard.heldByAnotherThread();
    }

    @Override
    public String toString() {
        return config.describe();
    }

    /**
     * Configures a {@link DclsConv}. Defaults as in the reference: stride 1, padding 0, groups 1, bias, zero padding,
     * Gaussian. The settings a transposed layer has too are {@link LayerBuilder}'s; these are the convolution's own.
     */
    public static final class Builder extends LayerBuilder<Builder> {
        private int[] denseKernelSize;
        private Integer flatDim;
        private PaddingMode paddingMode = PaddingMode.ZEROS;
        private DclsConv positionOwner;

        private Builder(int inChannels, int outChannels) {
            super(inChannels, outChannels);
        }

        @Override
        Builder self() {
            return this;
        }

        /**
         * Makes the layer a Dcls2_1d (one size) or Dcls3_1d (two sizes), see {@link DclsKind}: the input is 2D or
         * 3D, the kernel dense over these leading axes and learnable along the last, whose size is the single
         * {@link #dilatedKernelSize}. Default: none (the kind follows dilatedKernelSize alone).
         */
        public Builder denseKernelSize(int... sizes) {
            this.denseKernelSize = sizes == null ? null : sizes.clone();
            return this;
        }

        /**
         * Makes the layer a Dcls2dK1d, see {@link DclsKind}: a 1D learnable kernel of the single
         * {@link #dilatedKernelSize} on a 2D input, along H ({@code flatDim} 0) or W (1), as the reference's
         * {@code flat_dim}. Default: none.
         */
        public Builder flatDim(int flatDim) {
            this.flatDim = flatDim;
            return this;
        }

        /** Default {@link PaddingMode#ZEROS}. */
        public Builder paddingMode(PaddingMode paddingMode) {
            this.paddingMode = paddingMode;
            return this;
        }

        /**
         * Makes the new layer use {@code owner}'s positions and sigma instead of its own: the same
         * parameter objects, so an optimizer updates them once and the gradients of every layer
         * that uses them accumulate into the owner's grad tensors. The position shape
         * (ndim, Cout, Cin/groups, K) and the dilated kernel size must equal the owner's, and if
         * this layer's interpolation has a sigma the owner must have one too, else {@code build}
         * throws {@link IllegalArgumentException}. Sharing with a layer that itself shares
         * positions shares with that layer's owner.
         *
         * <p><b>Ownership.</b> The owner keeps the memory: it must outlive every layer sharing
         * its positions. After the owner is closed, every call on a sharer throws
         * {@link IllegalStateException}. Pass null to own the positions again (the default).
         */
        public Builder sharePositionsWith(DclsConv owner) {
            this.positionOwner = owner;
            return this;
        }

        /** Validates the configuration and builds the layer. */
        public DclsConv build() {
            return new DclsConv(DclsConvConfig.of(this, denseKernelSize, flatDim, paddingMode, positionOwner),
                    positionOwner, random());
        }
    }
}
