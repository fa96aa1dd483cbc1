package io.dcls4j.nn;

import io.dcls4j.DclsConv;
import io.dcls4j.Device;
import io.dcls4j.Interpolation;
import io.dcls4j.Parameter;
import io.dcls4j.PyTorchLayout;
import io.dcls4j.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * ConvNeXt with DCLS, as the official model (github:K-H-Ismail/ConvNeXt-dcls, models/convnext_dcls.py): a stem
 * (conv k x k, stride k, then a channels-first LayerNorm), stages of blocks (depthwise DCLS, LayerNorm,
 * Linear 4x, GELU, Linear, layer scale, residual with DropPath) whose DCLS layers share one P per stage,
 * between stages a LayerNorm and a conv 2x2 stride 2, then global average pooling, LayerNorm and a Linear
 * head. Input (N, inChannels, H, W), output logits (N, numClasses). Parameter names are the official ones
 * (downsample_layers.0.0.weight, stages.1.0.dwconv.P, norm.weight, head.bias, ...), and
 * {@link #loadPyTorchState} / {@link #saveState} read and write its state dicts. Initialisation as the
 * official code: truncated normal (std 0.02) weights and zero biases, P normal(0, 0.5) clamped.
 *
 * <p>For the DCLS paper's comparison at equal parameter counts, {@link Builder#depthwise} swaps every block's
 * DCLS convolution for a dense k x k depthwise convolution (ConvNeXt's own) or a fixed-grid dilated one with the
 * same k x k weights; their parameters are {@code dwconv.weight} and {@code dwconv.bias}, as in ConvNeXt.
 *
 * <p>{@link Builder#device} builds it on a CUDA device, from the same initial values: its input, the loss
 * ({@code new CrossEntropyLoss(0, device)}) and an optimizer's updates are then there too.
 *
 * <pre>{@code
 * try (ConvNeXtDcls model = ConvNeXtDcls.builder().inChannels(3).numClasses(10)
 *         .depths(3, 3, 9, 3).dims(96, 192, 384, 768).seed(0).build();
 *      CrossEntropyLoss loss = new CrossEntropyLoss()) {
 *     Tensor logits = model.forward(x);
 *     float l = loss.forward(logits, labels);
 *     model.zeroGrad();
 *     model.backward(loss.backward());
 * }
 * }</pre>
 */
public final class ConvNeXtDcls implements Module {
    /** The blocks' depthwise convolution. */
    public enum Depthwise {
        /** DCLS (the default): dclsKernelCount learnable taps per channel in a dclsKernelSize square, P per stage. */
        DCLS,
        /** A dense depthwise convolution of depthwiseKernelSize squared weights per channel (ConvNeXt). */
        DENSE,
        /** A depthwise convolution of depthwiseKernelSize squared weights on a fixed grid spread by dilation. */
        DILATED
    }

    private final Interpolation interpolation;
    private final int kernelSize;
    private final List<Sequential> downsample = new ArrayList<>();
    private final List<TiedStage> stages = new ArrayList<>();
    private final Device device;
    private final GlobalAvgPool pool;
    private final LayerNorm norm;
    private final Linear head;
    private final int inChannels;
    private boolean closed;
    /** The DCLS layers' host mirrors, refreshed at each forward on CUDA (one wait instead of one per layer). */
    private final PositionMirrors mirrors;

    private ConvNeXtDcls(Builder b) {
        interpolation = b.interpolation;
        kernelSize = b.dclsKernelSize;
        inChannels = b.inChannels;
        device = b.device;
        pool = new GlobalAvgPool(device);
        SplittableRandom random = new SplittableRandom(b.seed);
        int[] dims = b.dims;
        int total = Arrays.stream(b.depths).sum();
        int blockIndex = 0;
        try {
            for (int i = 0; i < dims.length; i++) {
                Sequential ds = new Sequential();
                if (i == 0) {
                    ds.add(conv(b.inChannels, dims[0], b.stemKernel, random))
                            .add(new LayerNorm(dims[0], 1e-6, device));
                } else {
                    ds.add(new LayerNorm(dims[i - 1], 1e-6, device)).add(conv(dims[i - 1], dims[i], 2, random));
                }
                downsample.add(ds);
                List<ConvNeXtBlock> blocks = new ArrayList<>();
                for (int j = 0; j < b.depths[i]; j++) {
                    double rate = total > 1 ? b.dropPathRate * blockIndex / (total - 1) : 0; // torch.linspace
                    blocks.add(block(dims[i], b, rate, random));
                    blockIndex++;
                }
                stages.add(new TiedStage(blocks));
            }
            int last = dims[dims.length - 1];
            norm = new LayerNorm(last, 1e-6, device);
            head = new Linear(last, b.numClasses, true, random.nextLong(), device);
            truncatedNormal(head.weight(), head.bias(), random);
        } catch (RuntimeException | Error e) {
            closeParts();
            throw e;
        }
        List<DclsConv> layers = new ArrayList<>();
        List<Parameter> sources = new ArrayList<>();
        for (TiedStage stage : stages) {
            for (ConvNeXtBlock block : stage.blocks()) {
                if (block.dcls() != null) {
                    layers.add(block.dcls());
                    sources.add(stage.positions());   // a tied block's P is a copy of its stage's shared P
                }
            }
        }
        mirrors = new PositionMirrors(device, layers, sources);
    }

    private Conv conv(int in, int out, int k, SplittableRandom random) {
        Conv c = new Conv(in, out, new int[] {k, k}, new int[] {k, k}, new int[] {0, 0}, null, 1, true,
                random.nextLong(), device);
        truncatedNormal(c.weight(), c.bias(), random);
        return c;
    }

    private static void truncatedNormal(Parameter weight, Parameter bias, SplittableRandom random) {
        Init.truncatedNormal(weight.value(), 0.02, random);
        bias.value().fill(0f);
    }

    private ConvNeXtBlock block(int dim, Builder b, double dropPath, SplittableRandom random) {
        Module dw = depthwise(dim, b, random);
        ConvNeXtBlock block;
        try {
            block = new ConvNeXtBlock(dw, dim, b.layerScaleInit, dropPath, random.nextLong(), device);
        } catch (RuntimeException | Error e) {
            dw.close();
            throw e;
        }
        truncatedNormal(dw.namedParameters().get("weight"), dw.namedParameters().get("bias"), random);
        truncatedNormal(block.pwconv1.weight(), block.pwconv1.bias(), random);
        truncatedNormal(block.pwconv2.weight(), block.pwconv2.bias(), random);
        return block;
    }

    private Module depthwise(int dim, Builder b, SplittableRandom random) {
        if (b.depthwise == Depthwise.DCLS) {
            return DclsConv.builder(dim, dim).groups(dim).kernelCount(b.dclsKernelCount)
                    .dilatedKernelSize(b.dclsKernelSize, b.dclsKernelSize).padding(b.dclsKernelSize / 2)
                    .interpolation(b.interpolation).bias(true).seed(random.nextLong()).device(device).build();
        }
        int k = b.depthwiseKernelSize;
        int dilation = b.depthwise == Depthwise.DILATED ? b.dilation : 1;   // dense: dilation 1
        int padding = (k - 1) * dilation / 2;                                // the span's half: sizes kept
        return new Conv(dim, dim, new int[] {k, k}, new int[] {1, 1}, new int[] {padding, padding},
                new int[] {dilation, dilation}, dim, true, random.nextLong(), device);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The DCLS layers' host mirrors (for tests). */
    PositionMirrors positionMirrors() {
        return mirrors;
    }

    @Override
    public Tensor forward(Tensor x) {
        ensureOpen();
        if (x == null) {
            throw new IllegalArgumentException("ConvNeXtDcls: input is null");
        }
        if (x.rank() != 4 || x.dim(1) != inChannels) {
            throw new IllegalArgumentException("ConvNeXtDcls: input has shape " + Arrays.toString(x.shape())
                    + "; expected (N, " + inChannels + ", H, W)");
        }
        try {
            mirrors.begin();
            Tensor t = x;
            for (int i = 0; i < stages.size(); i++) {
                t = downsample.get(i).forward(t);
                t = stages.get(i).forward(t);
            }
            return head.forward(norm.forward(pool.forward(t)));
        } finally {
            mirrors.end();
        }
    }

    @Override
    public Tensor backward(Tensor gradY) {
        ensureOpen();
        Tensor g = pool.backward(norm.backward(head.backward(gradY)));
        for (int i = stages.size() - 1; i >= 0; i--) {
            g = stages.get(i).backward(g);
            g = downsample.get(i).backward(g);
        }
        return g;
    }

    /** torch's named_parameters(): downsample layers, stages (each P once, under its stage's block 0), norm, head. */
    @Override
    public Map<String, Parameter> namedParameters() {
        ensureOpen();
        Map<String, Parameter> out = new LinkedHashMap<>();
        for (int i = 0; i < downsample.size(); i++) {
            String prefix = "downsample_layers." + i + ".";
            downsample.get(i).namedParameters().forEach((k, v) -> out.put(prefix + k, v));
        }
        for (int i = 0; i < stages.size(); i++) {
            String prefix = "stages." + i + ".";
            stages.get(i).namedParameters().forEach((k, v) -> out.put(prefix + k, v));
        }
        norm.namedParameters().forEach((k, v) -> out.put("norm." + k, v));
        head.namedParameters().forEach((k, v) -> out.put("head." + k, v));
        return Collections.unmodifiableMap(out);
    }

    /** torch's state_dict() entries: as the parameters, but a stage's P under every block, in the reference layout. */
    private List<StateDict.Entry> stateEntries() {
        List<StateDict.Entry> out = new ArrayList<>();
        int[] dks = {kernelSize, kernelSize};
        for (int i = 0; i < downsample.size(); i++) {
            String prefix = "downsample_layers." + i + ".";
            downsample.get(i).namedParameters().forEach((k, v) -> out.add(StateDict.Entry.plain(prefix + k, v.value())));
        }
        for (int i = 0; i < stages.size(); i++) {
            TiedStage stage = stages.get(i);
            Parameter positions = stage.positions();   // null without DCLS, and then no dwconv.P below
            Tensor shared = positions == null ? null : positions.value();
            List<ConvNeXtBlock> blocks = stage.blocks();
            for (int j = 0; j < blocks.size(); j++) {
                String prefix = "stages." + i + "." + j + ".";
                for (var e : blocks.get(j).namedParameters().entrySet()) {
                    String name = prefix + e.getKey();
                    Tensor t = e.getValue().value();
                    if (e.getKey().equals("dwconv.P")) {
                        out.add(new StateDict.Entry(name, shared, shared.shape(),
                                v -> PyTorchLayout.positionsFromReference(interpolation, dks, v),
                                v -> PyTorchLayout.positionsToReference(interpolation, dks, v)));
                    } else if (e.getKey().equals("dwconv.SIG")) {
                        out.add(new StateDict.Entry(name, t, t.shape(),
                                v -> PyTorchLayout.sigmaFromReference(interpolation, dks, v),
                                v -> PyTorchLayout.sigmaToReference(interpolation, dks, v)));
                    } else {
                        out.add(StateDict.Entry.plain(name, t));
                    }
                }
            }
        }
        norm.namedParameters().forEach((k, v) -> out.add(StateDict.Entry.plain("norm." + k, v.value())));
        head.namedParameters().forEach((k, v) -> out.add(StateDict.Entry.plain("head." + k, v.value())));
        return out;
    }

    /**
     * Loads a state dict of the official PyTorch model (torch's state_dict(), saved as .safetensors or NumPy
     * .npz, float32 or float64), converting P and SIG from the reference's axis order. A missing, unexpected or
     * mis-shaped key, or a stage's P differing between its blocks, throws {@link IllegalArgumentException}
     * naming it, and leaves the model unchanged.
     */
    public void loadPyTorchState(Path path) throws IOException {
        ensureOpen();
        StateDict.load(path, stateEntries());
    }

    /** Writes the state dict under the official names (float32; .safetensors or .npz by the file name), for torch's load_state_dict. */
    public void saveState(Path path) throws IOException {
        ensureOpen();
        StateDict.save(path, stateEntries());
    }

    /** Where the parameters live and the layers run; the inputs must be there. */
    public Device device() {
        return device;
    }

    /** Clamps every stage's P to +-dclsKernelSize/2, as the official clamp_parameters (after an optimizer step). */
    public void clampPositions() {
        ensureOpen();
        stages.forEach(TiedStage::clampPositions);
    }

    @Override
    public void zeroGrad() {
        ensureOpen();
        downsample.forEach(Module::zeroGrad);
        stages.forEach(Module::zeroGrad);
        norm.zeroGrad();
        head.zeroGrad();
    }

    @Override
    public Module train() {
        ensureOpen();
        downsample.forEach(Module::train);
        stages.forEach(Module::train);
        return this;
    }

    @Override
    public Module eval() {
        ensureOpen();
        downsample.forEach(Module::eval);
        stages.forEach(Module::eval);
        return this;
    }

    public Interpolation interpolation() {
        return interpolation;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("ConvNeXtDcls is closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeParts();
    }

    private void closeParts() {
        downsample.forEach(Module::close);
        stages.forEach(Module::close);
        pool.close();
        if (norm != null) {
            norm.close();
        }
        if (head != null) {
            head.close();
        }
    }

    /** Configures a {@link ConvNeXtDcls}; depths and dims are required, of one length (the number of stages). */
    public static final class Builder {
        private int inChannels = 3;
        private int numClasses = 1000;
        private int[] depths;
        private int[] dims;
        private int stemKernel = 4;
        private int dclsKernelSize = 17;
        private int dclsKernelCount = 34;
        private Interpolation interpolation = Interpolation.BILINEAR;
        private double layerScaleInit = 1e-6;
        private double dropPathRate;
        private long seed = 0;
        private Device device = Device.cpu();
        private Depthwise depthwise = Depthwise.DCLS;
        private int depthwiseKernelSize = 7;
        private int dilation = 2;

        private Builder() {}

        /** Default 3. */
        public Builder inChannels(int inChannels) {
            this.inChannels = inChannels;
            return this;
        }

        /** Default 1000. */
        public Builder numClasses(int numClasses) {
            this.numClasses = numClasses;
            return this;
        }

        /** Blocks per stage. Required. */
        public Builder depths(int... depths) {
            this.depths = depths == null ? null : depths.clone();
            return this;
        }

        /** Channels per stage. Required, as many as depths. */
        public Builder dims(int... dims) {
            this.dims = dims == null ? null : dims.clone();
            return this;
        }

        /** The stem's kernel size and stride. Default 4. */
        public Builder stemKernel(int stemKernel) {
            this.stemKernel = stemKernel;
            return this;
        }

        /** The DCLS dilated kernel size (square, padding size / 2). Default 17. */
        public Builder dclsKernelSize(int size) {
            this.dclsKernelSize = size;
            return this;
        }

        /** The DCLS elements per channel. Default 34. */
        public Builder dclsKernelCount(int count) {
            this.dclsKernelCount = count;
            return this;
        }

        /** Default {@link Interpolation#BILINEAR}, as the official code ("v0"). */
        public Builder interpolation(Interpolation interpolation) {
            this.interpolation = interpolation;
            return this;
        }

        /** gamma's initial value; 0 or less: no layer scale. Default 1e-6. */
        public Builder layerScaleInit(double value) {
            this.layerScaleInit = value;
            return this;
        }

        /** Stochastic depth, rising linearly from 0 to this over the blocks. Default 0. */
        public Builder dropPathRate(double rate) {
            this.dropPathRate = rate;
            return this;
        }

        /** The blocks' depthwise convolution. Default {@link Depthwise#DCLS}. */
        public Builder depthwise(Depthwise kind) {
            this.depthwise = kind;
            return this;
        }

        /** DENSE and DILATED: the taps per axis (odd, so that padding keeps the size). Default 7. */
        public Builder depthwiseKernelSize(int size) {
            this.depthwiseKernelSize = size;
            return this;
        }

        /** DILATED: the spacing of the taps. Default 2. */
        public Builder dilation(int dilation) {
            this.dilation = dilation;
            return this;
        }

        /** Seed of the initialisation and of DropPath. Default 0. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Where the model's parameters live and its layers run: the CPU (the default) or a CUDA device, with the
         * same initial values from the same seed. Its inputs must be on that device.
         */
        public Builder device(Device device) {
            if (device == null) {
                throw new IllegalArgumentException("ConvNeXtDcls: device must not be null");
            }
            this.device = device;
            return this;
        }

        public ConvNeXtDcls build() {
            if (depths == null || dims == null || depths.length == 0 || depths.length != dims.length) {
                throw new IllegalArgumentException("ConvNeXtDcls: depths and dims are required, one per stage, got "
                        + Arrays.toString(depths) + " and " + Arrays.toString(dims));
            }
            for (int i = 0; i < depths.length; i++) {
                if (depths[i] < 1 || dims[i] < 1) {
                    throw new IllegalArgumentException("ConvNeXtDcls: depths and dims must be >= 1, got "
                            + Arrays.toString(depths) + " and " + Arrays.toString(dims));
                }
            }
            if (inChannels < 1 || numClasses < 1 || stemKernel < 1 || dclsKernelSize < 1 || dclsKernelCount < 1) {
                throw new IllegalArgumentException("ConvNeXtDcls: inChannels, numClasses, stemKernel, dclsKernelSize and"
                        + " dclsKernelCount must be >= 1");
            }
            if (depthwise == null) {
                throw new IllegalArgumentException("ConvNeXtDcls: depthwise is null");
            }
            if (depthwise != Depthwise.DCLS && (depthwiseKernelSize < 1 || depthwiseKernelSize % 2 == 0)) {
                throw new IllegalArgumentException("ConvNeXtDcls: depthwiseKernelSize must be odd and >= 1, got "
                        + depthwiseKernelSize);
            }
            if (depthwise == Depthwise.DILATED && dilation < 1) {
                throw new IllegalArgumentException("ConvNeXtDcls: dilation must be >= 1, got " + dilation);
            }
            if (interpolation == null) {
                throw new IllegalArgumentException("ConvNeXtDcls: interpolation is null");
            }
            if (!(dropPathRate >= 0 && dropPathRate < 1)) {
                throw new IllegalArgumentException("ConvNeXtDcls: dropPathRate must be in [0, 1), got " + dropPathRate);
            }
            return new ConvNeXtDcls(this);
        }
    }
}
