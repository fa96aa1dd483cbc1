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
 * ResNet (torchvision's layout and names: conv1, bn1, layer1.0.conv1, ..., downsample.0/1, fc) with every
 * 3x3 convolution of its blocks replaced by a DCLS convolution (no bias, padding dilatedKernelSize / 2, the
 * block's stride), as in the DCLS paper's ResNet experiment. {@link Layout#RESNET18} has basic blocks,
 * {@link Layout#RESNET50} bottlenecks (stride on the 3x3, expansion 4). Width, depths, stem and classes can be
 * set for small inputs: {@link Stem#IMAGENET} is conv 7x7 stride 2, BatchNorm, ReLU, max pool 3x3 stride 2;
 * {@link Stem#SMALL} is conv 3x3 stride 1, BatchNorm, ReLU. BatchNorm has running statistics and
 * train/eval behaviour; {@link #loadPyTorchState} / {@link #saveState} include them.
 */
public final class ResNetDcls implements Module {
    /** Block kind and default depths. */
    public enum Layout {
        RESNET18(false, 2, 2, 2, 2),
        RESNET50(true, 3, 4, 6, 3);

        final boolean bottleneck;
        final int[] depths;

        Layout(boolean bottleneck, int... depths) {
            this.bottleneck = bottleneck;
            this.depths = depths;
        }
    }

    /** The first layers. */
    public enum Stem { IMAGENET, SMALL }

    private final Sequential net = new Sequential();
    private final Interpolation interpolation;
    private final int[] dks;
    private final List<DclsConv> dcls = new ArrayList<>();
    private final int inChannels;
    private final Device device;
    private boolean closed;
    /** The DCLS layers' host mirrors, refreshed at each forward on CUDA (one wait instead of one per layer). */
    private final PositionMirrors mirrors;

    private ResNetDcls(Builder b) {
        interpolation = b.interpolation;
        device = b.device;
        dks = new int[] {b.dclsKernelSize, b.dclsKernelSize};
        inChannels = b.inChannels;
        SplittableRandom random = new SplittableRandom(b.seed);
        try {
            int k = b.stem == Stem.IMAGENET ? 7 : 3;
            int s = b.stem == Stem.IMAGENET ? 2 : 1;
            net.add("conv1", new Conv(b.inChannels, b.width, new int[] {k, k}, new int[] {s, s},
                    new int[] {k / 2, k / 2}, null, 1, false, random.nextLong(), device));
            net.add("bn1", batchNorm(b.width)).add("relu", new Relu(device));
            if (b.stem == Stem.IMAGENET) {
                net.add("maxpool", new MaxPool(new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, device));
            }
            int in = b.width;
            int expansion = b.layout.bottleneck ? 4 : 1;
            for (int i = 0; i < b.depths.length; i++) {
                Sequential layer = new Sequential();
                int planes = b.width << i;
                for (int j = 0; j < b.depths[i]; j++) {
                    int stride = j == 0 && i > 0 ? 2 : 1;
                    layer.add(block(b, in, planes, stride, random));
                    in = planes * expansion;
                }
                net.add("layer" + (i + 1), layer);
            }
            net.add("avgpool", new GlobalAvgPool(device));
            net.add("fc", new Linear(in, b.numClasses, true, random.nextLong(), device));
        } catch (RuntimeException | Error e) {
            net.close();
            throw e;
        }
        mirrors = new PositionMirrors(device, dcls, dcls.stream().map(DclsConv::positions).toList());
    }

    private Module block(Builder b, int in, int planes, int stride, SplittableRandom random) {
        int expansion = b.layout.bottleneck ? 4 : 1;
        Sequential body = new Sequential();
        if (b.layout.bottleneck) {
            body.add("conv1", conv1x1(in, planes, 1, random)).add("bn1", batchNorm(planes))
                    .add("relu1", new Relu(device));
            body.add("conv2", dcls(b, planes, planes, stride, random)).add("bn2", batchNorm(planes))
                    .add("relu2", new Relu(device));
            body.add("conv3", conv1x1(planes, planes * 4, 1, random)).add("bn3", batchNorm(planes * 4));
        } else {
            body.add("conv1", dcls(b, in, planes, stride, random)).add("bn1", batchNorm(planes))
                    .add("relu1", new Relu(device));
            body.add("conv2", dcls(b, planes, planes, 1, random)).add("bn2", batchNorm(planes));
        }
        Module shortcut = null;
        if (stride != 1 || in != planes * expansion) {
            shortcut = Sequential.of(conv1x1(in, planes * expansion, stride, random), batchNorm(planes * expansion));
        }
        return Sequential.of(new Residual(body, "downsample", shortcut, device)).add("relu", new Relu(device));
    }

    private BatchNorm batchNorm(int channels) {
        return new BatchNorm(channels, 1e-5, 0.1, device);
    }

    private Conv conv1x1(int in, int out, int stride, SplittableRandom random) {
        return new Conv(in, out, new int[] {1, 1}, new int[] {stride, stride}, new int[] {0, 0}, null, 1, false,
                random.nextLong(), device);
    }

    private DclsConv dcls(Builder b, int in, int out, int stride, SplittableRandom random) {
        DclsConv c = DclsConv.builder(in, out).kernelCount(b.dclsKernelCount)
                .dilatedKernelSize(b.dclsKernelSize, b.dclsKernelSize).padding(b.dclsKernelSize / 2).stride(stride)
                .bias(false).interpolation(b.interpolation).seed(random.nextLong()).device(device).build();
        dcls.add(c);
        return c;
    }

    public static Builder builder(Layout layout) {
        return new Builder(layout);
    }

    /** The DCLS layers' host mirrors (for tests). */
    PositionMirrors positionMirrors() {
        return mirrors;
    }

    @Override
    public Tensor forward(Tensor x) {
        ensureOpen();
        if (x == null || x.rank() != 4 || x.dim(1) != inChannels) {
            throw new IllegalArgumentException("ResNetDcls: input has shape "
                    + (x == null ? "null" : Arrays.toString(x.shape())) + "; expected (N, " + inChannels + ", H, W)");
        }
        try {
            mirrors.begin();
            return net.forward(x);
        } finally {
            mirrors.end();
        }
    }

    @Override
    public Tensor backward(Tensor gradY) {
        ensureOpen();
        return net.backward(gradY);
    }

    /** torchvision's names: "layerI.J." blocks with their body unprefixed (a block is Sequential(residual, relu)). */
    @Override
    public Map<String, Parameter> namedParameters() {
        ensureOpen();
        return Collections.unmodifiableMap(rename(net.namedParameters()));
    }

    @Override
    public Map<String, Tensor> namedBuffers() {
        ensureOpen();
        return Collections.unmodifiableMap(rename(net.namedBuffers()));
    }

    /** Drops the ".0" of each block's Sequential(residual, relu): layer1.0.0.conv1.weight -> layer1.0.conv1.weight. */
    private static <V> Map<String, V> rename(Map<String, V> names) {
        Map<String, V> out = new LinkedHashMap<>();
        names.forEach((k, v) -> out.put(k.replaceFirst("^(layer\\d+\\.\\d+)\\.0\\.", "$1."), v));
        return out;
    }

    private List<StateDict.Entry> stateEntries() {
        List<StateDict.Entry> out = new ArrayList<>();
        for (var e : namedParameters().entrySet()) {
            String name = e.getKey();
            Tensor t = e.getValue().value();
            if (name.endsWith(".P")) {
                out.add(new StateDict.Entry(name, t, t.shape(),
                        v -> PyTorchLayout.positionsFromReference(interpolation, dks, v),
                        v -> PyTorchLayout.positionsToReference(interpolation, dks, v)));
            } else if (name.endsWith(".SIG")) {
                out.add(new StateDict.Entry(name, t, t.shape(),
                        v -> PyTorchLayout.sigmaFromReference(interpolation, dks, v),
                        v -> PyTorchLayout.sigmaToReference(interpolation, dks, v)));
            } else {
                out.add(StateDict.Entry.plain(name, t));
            }
        }
        for (var e : namedBuffers().entrySet()) {
            Tensor t = e.getValue();
            out.add(e.getKey().endsWith("num_batches_tracked")
                    ? new StateDict.Entry(e.getKey(), t, new long[0], v -> v, v -> v)
                    : StateDict.Entry.plain(e.getKey(), t));
        }
        return out;
    }

    /** Loads torchvision-named state (parameters and BatchNorm buffers), as {@link ConvNeXtDcls#loadPyTorchState}. */
    public void loadPyTorchState(Path path) throws IOException {
        ensureOpen();
        StateDict.load(path, stateEntries());
    }

    /** Writes the state dict (float32), loadable by torch's load_state_dict. */
    public void saveState(Path path) throws IOException {
        ensureOpen();
        StateDict.save(path, stateEntries());
    }

    /** Where the parameters live and the layers run; the inputs must be there. */
    public Device device() {
        return device;
    }

    /** Clamps every DCLS layer's positions, as the reference's clamp_parameters. */
    public void clampPositions() {
        ensureOpen();
        dcls.forEach(DclsConv::clampPositions);
    }

    @Override
    public void zeroGrad() {
        ensureOpen();
        net.zeroGrad();
    }

    @Override
    public Module train() {
        ensureOpen();
        net.train();
        return this;
    }

    @Override
    public Module eval() {
        ensureOpen();
        net.eval();
        return this;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("ResNetDcls is closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            net.close();
        }
    }

    /** Configures a {@link ResNetDcls}. */
    public static final class Builder {
        private final Layout layout;
        private int inChannels = 3;
        private int numClasses = 1000;
        private int width = 64;
        private int[] depths;
        private Stem stem = Stem.IMAGENET;
        private int dclsKernelSize = 5;
        private int dclsKernelCount = 9;
        private Interpolation interpolation = Interpolation.GAUSSIAN;
        private long seed;
        private Device device = Device.cpu();

        private Builder(Layout layout) {
            if (layout == null) {
                throw new IllegalArgumentException("ResNetDcls: layout is null");
            }
            this.layout = layout;
            this.depths = layout.depths.clone();
        }

        public Builder inChannels(int v) {
            inChannels = v;
            return this;
        }

        public Builder numClasses(int v) {
            numClasses = v;
            return this;
        }

        /** Channels of the first stage (doubled at each next one). Default 64. */
        public Builder width(int v) {
            width = v;
            return this;
        }

        /** Blocks per stage. Default the layout's (2, 2, 2, 2 or 3, 4, 6, 3). */
        public Builder depths(int... v) {
            depths = v == null ? null : v.clone();
            return this;
        }

        public Builder stem(Stem v) {
            stem = v;
            return this;
        }

        /** The DCLS dilated kernel size replacing 3x3. Default 5. */
        public Builder dclsKernelSize(int v) {
            dclsKernelSize = v;
            return this;
        }

        /** The DCLS elements per (out, in) pair. Default 9, the 3x3 kernel's count. */
        public Builder dclsKernelCount(int v) {
            dclsKernelCount = v;
            return this;
        }

        /** Default {@link Interpolation#GAUSSIAN}. */
        public Builder interpolation(Interpolation v) {
            interpolation = v;
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        /**
         * Where the model's parameters live and its layers run: the CPU (the default) or a CUDA device, with the
         * same initial values from the same seed. Its inputs must be on that device.
         */
        public Builder device(Device v) {
            if (v == null) {
                throw new IllegalArgumentException("ResNetDcls: device must not be null");
            }
            device = v;
            return this;
        }

        public ResNetDcls build() {
            if (depths == null || depths.length == 0 || Arrays.stream(depths).anyMatch(d -> d < 1)) {
                throw new IllegalArgumentException("ResNetDcls: depths must be >= 1, got " + Arrays.toString(depths));
            }
            if (inChannels < 1 || numClasses < 1 || width < 1 || dclsKernelSize < 1 || dclsKernelCount < 1
                    || stem == null || interpolation == null) {
                throw new IllegalArgumentException("ResNetDcls: sizes must be >= 1 and stem and interpolation set");
            }
            return new ResNetDcls(this);
        }
    }
}
