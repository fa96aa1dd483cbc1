package io.dcls4j;

import io.dcls4j.internal.MemoryBudget;
import io.dcls4j.internal.Shapes;
import io.dcls4j.internal.UseGuard;
import io.dcls4j.ops.Convolution;
import io.dcls4j.ops.KernelWindow;
import io.dcls4j.ops.Positions;
import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
 * <p><b>Ownership.</b> The layer owns its parameters, their gradients, the constructed kernel and
 * the tensors {@link #forward} and {@link #backward} return. Those results are overwritten by the
 * next call with an input of the same shape, and freed by {@link #close()} or when their input shape
 * is evicted: the layer keeps the plans and results of its {@value #MAX_CACHED_SHAPES} most recently
 * used input shapes, and reading a result of an evicted shape throws {@link IllegalStateException}
 * saying so. Copy results you need longer. The input given to {@code forward} is read again by
 * {@code backward}: leave it unchanged in between.
 *
 * <p><b>Threads.</b> A layer may be used by one thread at a time (one after another from any
 * threads is fine): a call while another thread is inside the layer gets an
 * {@link IllegalStateException} naming the layer, and nothing is corrupted. Different layers run
 * fully in parallel on different threads, except layers sharing positions
 * ({@link Builder#sharePositionsWith}), whose backward passes add to the same gradients: use them
 * from one thread. The tensors a layer returns, and its parameters, are not safe to read on one
 * thread while the layer writes them on another.
 *
 * <p><b>Training helpers.</b> {@link Builder#sharePositionsWith} makes several layers use one set
 * of positions (and sigma); {@link #freezeSigma} stops sigma's gradient when a schedule sets it;
 * {@link #inferenceMode(boolean)} caches a kernel built with sigma 0 (and, if asked, integer
 * positions) and stops rebuilding it on every forward.
 *
 * <p><b>Devices.</b> A layer built with {@link Builder#device(Device) device(Device.cuda(i))} keeps its
 * parameters, gradients, kernel and results in that GPU's memory and runs every pass there (kernel
 * construction in dcls4j's CUDA kernels, convolutions in cuDNN or dcls4j's depthwise kernels), with the
 * same API and semantics: inputs must be on the layer's device (else {@link IllegalArgumentException}
 * naming the tensor and both devices), and the work is enqueued on the device's stream (see
 * {@link Device}). Reading results goes through copies ({@link Tensor#toFloatArray()},
 * {@link Tensor#copyFrom(Tensor)}). {@link #clampPositions()} and the rounding of inference mode run on the device;
 * initialisation and {@link #loadReferenceParameters} copy through host memory.
 */
public final class DclsConv implements AutoCloseable, io.dcls4j.nn.Module {
    /** Input shapes whose plans and results are kept; the least recently used beyond this is freed. */
    public static final int MAX_CACHED_SHAPES = 8;

    private final Arena arena = Arena.ofShared();
    /** Refuses a second thread inside the layer (its plans and results are not for concurrent use). */
    private final UseGuard guard = new UseGuard();
    private final int inChannels;
    private final int outChannels;
    private final int groups;
    private final int kernelCount;
    private final int[] dilatedKernelSize;
    /** The kind's shapes: parameters, kernel, and the construction that builds it. */
    private final KernelLayout layout;
    private final int[] stride;
    private final int[] padding;
    private final PaddingMode paddingMode;
    private final Interpolation interpolation;
    private final Device device;
    private final boolean cudaTf32;
    private final LayerBackend backend;
    private final LayerBackend.Construction construction;
    private final Parameter weight;
    private final Parameter positions;
    private final Parameter sigma;
    private final Parameter bias;
    private final DclsConv positionOwner;
    private final List<Parameter> parameters;
    /** {@link #parameters} by name, made once (namedParameters() is asked every step by containers). */
    private final Map<String, Parameter> namedParameters;
    private final Tensor kernel;
    private final Tensor gradKernel;
    /** The box of kernel cells the current kernel's elements touch: the convolution skips the rest. */
    private final KernelWindow window;
    /** Counts the kernels built, so that a plan is told a kernel's cells once (see {@link #hintKernel}). */
    private long kernelVersion;
    /** The plans and results of the most recently used input shapes, and the last forward's. */
    private final ShapeCache shapes;
    private Tensor lastInput;
    private boolean closed;
    private boolean sigmaFrozen;
    private boolean inference;
    /** Inference mode's construction and kernel inputs, made by the first {@link #inferenceMode} call. */
    private InferenceKernel inferenceKernel;
    /** Pinned host copy of the positions, for the host-side steps of a GPU layer; made when first needed. */
    private final Positions positionOps;

    private DclsConv(Builder b) {
        inChannels = b.inChannels;
        outChannels = b.outChannels;
        groups = b.groups;
        kernelCount = b.kernelCount;
        dilatedKernelSize = b.dilatedKernelSize;
        layout = KernelLayout.of(dilatedKernelSize, b.denseKernelSize, b.flatDim);
        int ndim = layout.convNdim();
        stride = LayerBuilder.perDimension("stride", b.stride, ndim, 1);
        padding = LayerBuilder.perDimension("padding", b.padding, ndim, 0);
        paddingMode = b.paddingMode;
        interpolation = b.interpolation;
        device = b.device;
        cudaTf32 = b.cudaTf32;
        positionOwner = b.positionOwner == null ? null : PositionSharing.owner(b.positionOwner);
        try {
            backend = new LayerBackend(device, cudaTf32);
            shapes = new ShapeCache(backend, device, this, this::convConfig, MAX_CACHED_SHAPES);
            ConstructConfig constructConfig = layout.constructConfig(interpolation, outChannels, inChannels / groups,
                    kernelCount);
            construction = layout.adapt(backend.construction(constructConfig), constructConfig);
            positionOps = new Positions(dilatedKernelSize, positionShape());
            weight = parameter("weight", weightShape());
            if (positionOwner == null) {
                positions = parameter("P", positionShape());
                sigma = interpolation.learnsSigma() ? parameter("SIG", positionShape()) : null;
            } else {
                positions = positionOwner.positions;
                sigma = interpolation.learnsSigma() ? positionOwner.sigma : null;
            }
            bias = b.bias ? parameter("bias", new long[] {outChannels}) : null;
            parameters = Stream.of(weight, positions, sigma, bias).filter(Objects::nonNull).toList();
            namedParameters = Parameter.byName(parameters);
            kernel = Tensor.allocate(arena, device, kernelShape());
            gradKernel = Tensor.allocate(arena, device, kernelShape());
            window = new KernelWindow(layout.convKernelSize());
            boolean ownPositions = positionOwner == null;
            new ParameterInit(dilatedKernelSize, layout.uniformPositionInit(), interpolation).initialise(b.random(),
                    device, weight, bias, ownPositions ? positions : null, ownPositions ? sigma : null);
        } catch (RuntimeException | Error e) {
            arena.close(); // device memory is not the garbage collector's: free what was allocated
            throw e;
        }
    }

    /** (Cout, Cin/groups, K); (Cout, Cin/groups, dense..., K) for Dcls2_1d, Dcls3_1d. */
    private long[] weightShape() {
        return layout.weightShape(outChannels, inChannels / groups, kernelCount);
    }

    /** (ndim, weight shape...), of the positions and sigma; ndim is 1 for Dcls2_1d, Dcls3_1d, Dcls2dK1d. */
    private long[] positionShape() {
        return layout.positionShape(outChannels, inChannels / groups, kernelCount);
    }

    /** (Cout, Cin/groups, kernel size...): the dilated kernel size, with the dense and flat axes of the kinds. */
    private long[] kernelShape() {
        return layout.kernelShape(outChannels, inChannels / groups);
    }

    /** Starts a layer from {@code inChannels} to {@code outChannels}; see {@link Builder} for the defaults. */
    public static Builder builder(int inChannels, int outChannels) {
        return new Builder(inChannels, outChannels);
    }

    private Parameter parameter(String name, long[] shape) {
        return new Parameter(name, Tensor.allocate(arena, device, shape), Tensor.allocate(arena, device, shape));
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
        return kernel;
    }

    /**
     * Builds the dense kernel from the current parameters and returns it. In inference mode this
     * rebuilds the cached inference kernel (call it after changing the parameters there).
     */
    public Tensor buildKernel() {
        boolean entered = guard.enter(this);
        try {
            return buildKernelInUse();
        } finally {
            guard.exit(entered);
        }
    }

    private Tensor buildKernelInUse() {
        ensureOpen();
        if (inference) {
            buildInferenceKernel();
        } else {
            construction.forward(weight.value(), positions.value(), sigma == null ? null : sigma.value(), kernel);
        }
        return kernel;
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
            return inferenceModeInUse(roundPositions);
        } finally {
            guard.exit(entered);
        }
    }

    private DclsConv inferenceModeInUse(boolean roundPositions) {
        ensureOpen();
        if (inferenceKernel == null) {
            inferenceKernel = new InferenceKernel(backend, layout, outChannels, inChannels / groups, kernelCount, arena,
                    device, positionOps);
        }
        inferenceKernel.roundPositions(roundPositions);
        inference = true;
        buildInferenceKernel();
        return this;
    }

    /** Leaves inference mode: forward builds the kernel from the parameters again and backward works. */
    public DclsConv trainingMode() {
        ensureOpen();
        inference = false;
        return this;
    }

    /** Whether the layer is in inference mode. */
    public boolean isInferenceMode() {
        return inference;
    }

    /** Whether inference mode rounds the positions (meaningful only in inference mode). */
    public boolean inferenceRoundsPositions() {
        return inferenceKernel != null && inferenceKernel.roundsPositions();
    }

    private void buildInferenceKernel() {
        inferenceKernel.build(weight.value(), positions.value(), kernel, window);
        kernelVersion++;
    }

    /**
     * Tells a plan which kernel cells the kernel now in {@code kernel} can make non-zero (and, training, whose
     * gradient the construction's backward reads), so that it convolves with those cells only where that pays: the
     * tap-sparse engine, whose cost follows the taps, not the kernel size. A device or kernel layout without it (a
     * GPU; the reshaped kinds) gets the box of those cells instead, a kernel window.
     */
    private void hintKernel(Convolution plan) {
        boolean cells = inference
                ? LayerBackend.setKernelCells(plan, inferenceKernel.construction(), inferenceKernel.positions(),
                        inferenceKernel.sigma(), false)
                : LayerBackend.setKernelCells(plan, construction, positions.value(),
                        sigma == null ? null : sigma.value(), true);
        if (!cells) {
            if (!inference) {   // the inference kernel's window was set when it was built
                construction.window(positions.value(), sigma == null ? null : sigma.value(), window);
            }
            plan.setKernelWindow(window);
        }
    }

    /**
     * y = conv(pad(x), construct(weight, P, SIG)) + bias. x is (N, Cin, spatial...). The returned
     * tensor belongs to the layer (see the class comment).
     */
    public Tensor forward(Tensor x) {
        boolean entered = guard.enter(this);
        try {
            return forwardInUse(x);
        } finally {
            guard.exit(entered);
        }
    }

    private Tensor forwardInUse(Tensor x) {
        ensureOpen();
        ShapeCache.Entry state = stateFor(x);
        if (!inference) {
            buildKernel();
            kernelVersion++;
        }
        if (state.hintedKernelVersion != kernelVersion) {
            hintKernel(state.plan);
            state.hintedKernelVersion = kernelVersion;
        }
        state.plan.forward(x, kernel, bias == null ? null : bias.value(), state.y);
        shapes.setCurrent(state);
        lastInput = x;
        return state.y;
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
            return backwardInUse(gradY);
        } finally {
            guard.exit(entered);
        }
    }

    private Tensor backwardInUse(Tensor gradY) {
        ensureOpen();
        if (inference) {
            throw new IllegalStateException("backward called in inference mode; call trainingMode() first");
        }
        ShapeCache.Entry state = shapes.current();
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
        state.plan.backwardWeights(lastInput, gradY, gradKernel, bias == null ? null : bias.grad(), true);
        construction.backward(weight.value(), positions.value(), sigma == null ? null : sigma.value(), gradKernel,
                weight.grad(), positions.grad(), sigma == null || sigmaFrozen ? null : sigma.grad(), true);
        state.plan.backwardData(gradY, kernel, state.gradX);
        return state.gradX;
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
            zeroGradInUse();
        } finally {
            guard.exit(entered);
        }
    }

    private void zeroGradInUse() {
        ensureOpen();
        for (int i = 0; i < parameters.size(); i++) {
            Parameter p = parameters.get(i);
            p.grad().fill(0f);
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
            loadReferenceParametersInUse(weightValues, referenceP, referenceSig, biasValues);
        } finally {
            guard.exit(entered);
        }
    }

    private void loadReferenceParametersInUse(float[] weightValues, float[] referenceP, float[] referenceSig,
                                              float[] biasValues) {
        ensureOpen();
        ReferenceImport.load(interpolation, dilatedKernelSize, weight, positions, sigma, bias, weightValues, referenceP,
                referenceSig, biasValues);
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

    /** Where the layer's tensors live and its passes run. */
    public Device device() {
        return device;
    }

    /** Whether cuDNN may use TF32 for this layer's convolutions ({@link Builder#cudaTf32}). */
    public boolean cudaTf32() {
        return cudaTf32;
    }

    /** Number of spatial dimensions of the input and the convolution, 1 to 3. */
    public int ndim() {
        return layout.convNdim();
    }

    /** Which of the reference's layer kinds this is. */
    public DclsKind kind() {
        return layout.kind();
    }

    /** The dense kernel sizes of a Dcls2_1d (one) or Dcls3_1d (two); empty for the other kinds. */
    public int[] denseKernelSize() {
        return layout.denseKernelSize();
    }

    /** The flat axis of a Dcls2dK1d (0: the kernel runs along H, 1: along W); -1 for the other kinds. */
    public int flatDim() {
        return layout.flatDim();
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
            spatial[d] = Shapes.toInt("spatial size [" + d + "]", shape[2 + d]);
        }
        return new ConvConfig(Shapes.toInt("batch size", shape[0]), inChannels, outChannels, groups, spatial,
                layout.convKernelSize(), stride, padding, paddingMode);
    }

    private ShapeCache.Entry stateFor(Tensor x) {
        if (x == null) {
            throw new IllegalArgumentException("x is null");
        }
        x.requireAlive("x");
        requireOnDevice("x", x);
        return shapes.entryFor(x);
    }

    private void requireOnDevice(String name, Tensor t) {
        if (!t.device().equals(device)) {
            throw new IllegalArgumentException(name + " is on " + t.device() + ", but this layer is on " + device
                    + ": copy it there first, e.g. with " + name + ".to(arena, " + (device.isCuda()
                    ? "Device.cuda(" + device.index() + ")" : "Device.cpu()") + ")");
        }
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
        return layout.kind().referenceName() + "(" + inChannels + ", " + outChannels + ", kernelCount=" + kernelCount
                + ", dilatedKernelSize=" + Arrays.toString(dilatedKernelSize)
                + (layout.denseKernelSize().length > 0 ? ", denseKernelSize=" + Arrays.toString(denseKernelSize()) : "")
                + (layout.flatDim() >= 0 ? ", flatDim=" + layout.flatDim() : "") + ", stride=" + Arrays.toString(stride)
                + ", padding=" + Arrays.toString(padding) + ", groups=" + groups + ", bias=" + (bias != null)
                + ", interpolation=" + interpolation + ", paddingMode=" + paddingMode
                + (device.isCuda() ? ", device=" + device : "") + ")";
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
            checkChannels();
            if (groups < 1) {
                throw new IllegalArgumentException("groups must be >= 1, got " + groups);
            }
            if (inChannels % groups != 0 || outChannels % groups != 0) {
                throw new IllegalArgumentException("groups (" + groups + ") must divide in_channels (" + inChannels
                        + ") and out_channels (" + outChannels + ")");
            }
            checkKernelCount();
            checkDilatedKernelSize("dilatedKernelSize is required, with 1 to 3 sizes (one per spatial axis)");
            if (interpolation == null || paddingMode == null) {
                throw new IllegalArgumentException("interpolation and paddingMode must not be null");
            }
            if (device == null) {
                throw new IllegalArgumentException("device must not be null");
            }
            KernelLayout layout = KernelLayout.of(dilatedKernelSize, denseKernelSize, flatDim); // validates
            // sizes that depend on the input (padding against the input size) are checked per input shape
            perDimension("stride", stride, layout.convNdim(), 1);
            perDimension("padding", padding, layout.convNdim(), 0);
            if (positionOwner != null) {
                PositionSharing.check(positionOwner, layout.positionShape(outChannels, inChannels / groups,
                        kernelCount), dilatedKernelSize, device, interpolation);
            }
            MemoryBudget.requireLayer(inChannels, outChannels, groups, kernelCount, dilatedKernelSize,
                    interpolation.learnsSigma(), bias, positionOwner == null);
            return new DclsConv(this);
        }
    }
}
