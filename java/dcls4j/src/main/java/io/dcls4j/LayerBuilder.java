package io.dcls4j;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The settings {@link DclsConv.Builder} and {@link DclsConvTranspose.Builder} share (channels, kernel count and
 * size, stride, padding, groups, bias, interpolation, seed, device, backend, TF32), their setters, and the checks both
 * builds make. It exists so the two builders hold one copy of these; each adds only what its layer alone has,
 * and its own {@code build()}. It is public because its setters are part of both builders' API (every setter
 * returns the concrete builder, so chains keep their type), and sealed: only those two builders extend it.
 *
 * @param <B> the concrete builder, which every setter returns
 */
public abstract sealed class LayerBuilder<B extends LayerBuilder<B>>
        permits DclsConv.Builder, DclsConvTranspose.Builder {
    final int inChannels;
    final int outChannels;
    int kernelCount = -1; // -1: not set, so build() can say "required" rather than ">= 1"
    int[] dilatedKernelSize;
    int[] stride = {1};
    int[] padding = {0};
    int groups = 1;
    boolean bias = true;
    Interpolation interpolation = Interpolation.GAUSSIAN;
    Long seed;
    Device device = Device.cpu();
    Backend backend = Backend.NATIVE;
    boolean cudaTf32;

    LayerBuilder(int inChannels, int outChannels) {
        this.inChannels = inChannels;
        this.outChannels = outChannels;
    }

    /** This builder as its concrete type, for the setters to return. */
    abstract B self();

    /**
     * Number of learnable elements per pair of channels, at least 1: per (out, in/groups) pair for a convolution,
     * per (in, out/groups) pair for a transposed one. Required.
     */
    public B kernelCount(int kernelCount) {
        this.kernelCount = kernelCount;
        return self();
    }

    /** Size of the dilated kernel per spatial axis; its length (1 to 3) sets the dimensionality. Required. */
    public B dilatedKernelSize(int... sizes) {
        this.dilatedKernelSize = sizes == null ? null : sizes.clone();
        return self();
    }

    /** Stride per axis, or one value for all. Default 1. */
    public B stride(int... stride) {
        this.stride = stride == null ? null : stride.clone();
        return self();
    }

    /**
     * Padding per axis, or one value for all: added to both sides of a convolution's input, taken off both sides
     * of a transposed layer's output (as PyTorch's). Default 0.
     */
    public B padding(int... padding) {
        this.padding = padding == null ? null : padding.clone();
        return self();
    }

    /** Number of groups; must divide both channel counts. Default 1. */
    public B groups(int groups) {
        this.groups = groups;
        return self();
    }

    /** Whether the layer has a bias. Default true. */
    public B bias(boolean bias) {
        this.bias = bias;
        return self();
    }

    /** Default {@link Interpolation#GAUSSIAN}. */
    public B interpolation(Interpolation interpolation) {
        this.interpolation = interpolation;
        return self();
    }

    /** Seed of the initialisation; without one every build draws fresh values. */
    public B seed(long seed) {
        this.seed = seed;
        return self();
    }

    /**
     * Where the layer's tensors live and its passes run: {@link Device#cpu()} (the default) or a CUDA
     * device. Building on a CUDA device throws {@link DclsException} when CUDA is missing (dcls4j
     * built without it, no driver, no GPU); every configuration check comes first.
     */
    public B device(Device device) {
        this.device = device;
        return self();
    }

    /**
     * Which implementation runs the layer: {@link Backend#NATIVE} (the default) or {@link Backend#VECTOR_API}, pure
     * Java on the CPU, with the same API and results within float32 rounding. Building a Vector API layer on a CUDA
     * device throws {@link IllegalArgumentException}; without {@code --add-modules jdk.incubator.vector},
     * {@link IllegalStateException}.
     */
    public B backend(Backend backend) {
        this.backend = backend;
        return self();
    }

    /**
     * Lets cuDNN use TF32 tensor cores for this layer's float32 convolutions on a GPU: faster, with
     * about 1e-3 relative error instead of float32's 1e-7. Off by default (PyTorch's cuDNN default is
     * on): results match the CPU's unless asked otherwise. No effect on the CPU.
     */
    public B cudaTf32(boolean enabled) {
        this.cudaTf32 = enabled;
        return self();
    }

    /** The random stream of the initialisation: seeded if {@link #seed} was set, else fresh. */
    SplittableRandom random() {
        return seed == null ? new SplittableRandom() : new SplittableRandom(seed);
    }

    /** The device and backend are set and the backend runs on the device. */
    void checkDeviceAndBackend() {
        if (device == null) {
            throw new IllegalArgumentException("device must not be null");
        }
        if (backend == null) {
            throw new IllegalArgumentException("backend must not be null");
        }
        if (!backend.supports(device)) {
            throw new IllegalArgumentException("the " + backend + " backend runs on the CPU only, not on " + device);
        }
    }

    void checkChannels() {
        if (inChannels < 1 || outChannels < 1) {
            throw new IllegalArgumentException("channel counts must be >= 1, got in=" + inChannels + ", out="
                    + outChannels);
        }
    }

    void checkKernelCount() {
        if (kernelCount < 1) {
            throw new IllegalArgumentException(kernelCount == -1 ? "kernelCount is required"
                    : "kernelCount must be >= 1, got " + kernelCount);
        }
    }

    /** Checks 1 to 3 sizes, each >= 1; {@code missing} is the message when there are not 1 to 3. */
    void checkDilatedKernelSize(String missing) {
        if (dilatedKernelSize == null || dilatedKernelSize.length < 1 || dilatedKernelSize.length > 3) {
            throw new IllegalArgumentException(missing);
        }
        for (int d = 0; d < dilatedKernelSize.length; d++) {
            if (dilatedKernelSize[d] < 1) {
                throw new IllegalArgumentException("dilatedKernelSize[" + d + "] must be >= 1, got "
                        + dilatedKernelSize[d]);
            }
        }
    }

    /** {@code values} (one for all axes, or one per axis) spread to {@code ndim} axes, each checked >= min. */
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
