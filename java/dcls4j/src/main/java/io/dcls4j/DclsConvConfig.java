package io.dcls4j;

import io.dcls4j.internal.MemoryBudget;
import io.dcls4j.internal.Shapes;
import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;

import java.util.Arrays;

/**
 * A {@link DclsConv}'s configuration, checked once by {@link #of}: its settings, the kind's {@link KernelLayout}, and
 * the shapes they give (parameters, kernel, and the convolution of each input shape), computed here and nowhere
 * else. Arrays are the layer's own: the layer hands out copies.
 */
record DclsConvConfig(int inChannels, int outChannels, int groups, int kernelCount, int[] dilatedKernelSize,
                      KernelLayout layout, int[] stride, int[] padding, PaddingMode paddingMode,
                      Interpolation interpolation, Device device, Backend backend, boolean cudaTf32, boolean bias) {

    /**
     * Checks a builder's settings (every check before any native call or allocation) and the memory the layer
     * needs, and returns them resolved: per-axis stride and padding, the kind's layout.
     */
    static DclsConvConfig of(LayerBuilder<?> b, int[] denseKernelSize, Integer flatDim, PaddingMode paddingMode,
                             DclsConv positionOwner) {
        b.checkChannels();
        if (b.groups < 1) {
            throw new IllegalArgumentException("groups must be >= 1, got " + b.groups);
        }
        if (b.inChannels % b.groups != 0 || b.outChannels % b.groups != 0) {
            throw new IllegalArgumentException("groups (" + b.groups + ") must divide in_channels (" + b.inChannels
                    + ") and out_channels (" + b.outChannels + ")");
        }
        b.checkKernelCount();
        b.checkDilatedKernelSize("dilatedKernelSize is required, with 1 to 3 sizes (one per spatial axis)");
        if (b.interpolation == null || paddingMode == null) {
            throw new IllegalArgumentException("interpolation and paddingMode must not be null");
        }
        b.checkDeviceAndBackend();
        KernelLayout layout = KernelLayout.of(b.dilatedKernelSize, denseKernelSize, flatDim); // validates
        // sizes that depend on the input (padding against the input size) are checked per input shape
        int ndim = layout.convNdim();
        DclsConvConfig c = new DclsConvConfig(b.inChannels, b.outChannels, b.groups, b.kernelCount,
                b.dilatedKernelSize.clone(), layout, LayerBuilder.perDimension("stride", b.stride, ndim, 1),
                LayerBuilder.perDimension("padding", b.padding, ndim, 0), paddingMode, b.interpolation, b.device,
                b.backend, b.cudaTf32, b.bias);
        if (positionOwner != null) {
            PositionSharing.check(positionOwner, c.positionShape(), c.dilatedKernelSize, c.device, c.interpolation);
        }
        MemoryBudget.requireLayer(c.inChannels, c.outChannels, c.groups, c.kernelCount, c.dilatedKernelSize,
                c.interpolation.learnsSigma(), c.bias, positionOwner == null);
        return c;
    }

    int inPerGroup() {
        return inChannels / groups;
    }

    /** (Cout, Cin/groups, K); (Cout, Cin/groups, dense..., K) for Dcls2_1d, Dcls3_1d. */
    long[] weightShape() {
        return layout.weightShape(outChannels, inPerGroup(), kernelCount);
    }

    /** (ndim, weight shape...), of the positions and sigma; ndim is 1 for Dcls2_1d, Dcls3_1d, Dcls2dK1d. */
    long[] positionShape() {
        return layout.positionShape(outChannels, inPerGroup(), kernelCount);
    }

    /** (Cout, Cin/groups, kernel size...): the dilated kernel size, with the dense and flat axes of the kinds. */
    long[] kernelShape() {
        return layout.kernelShape(outChannels, inPerGroup());
    }

    /** The construction of this layer's kernel with {@code interpolation} (inference mode uses another). */
    ConstructConfig constructConfig(Interpolation interpolation) {
        return layout.constructConfig(interpolation, outChannels, inPerGroup(), kernelCount);
    }

    /** The convolution for an input of {@code shape} (N, Cin, spatial...), which is checked here. */
    ConvConfig convConfig(long[] shape) {
        int ndim = layout.convNdim();
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

    /** The output shape for an input of {@code inputShape} (N, Cin, spatial...). */
    long[] outputShape(long[] inputShape) {
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

    /** {@link IllegalArgumentException} unless {@code t} is on the layer's device, saying how to move it there. */
    void requireOnDevice(String name, Tensor t) {
        if (!t.device().equals(device)) {
            throw new IllegalArgumentException(name + " is on " + t.device() + ", but this layer is on " + device
                    + ": copy it there first, e.g. with " + name + ".to(arena, " + (device.isCuda()
                    ? "Device.cuda(" + device.index() + ")" : "Device.cpu()") + ")");
        }
    }

    /** As the reference prints its layers: {@code Dcls2d(96, 96, kernelCount=34, ...)}. */
    String describe() {
        return layout.kind().referenceName() + "(" + inChannels + ", " + outChannels + ", kernelCount=" + kernelCount
                + ", dilatedKernelSize=" + Arrays.toString(dilatedKernelSize)
                + (layout.denseKernelSize().length > 0
                        ? ", denseKernelSize=" + Arrays.toString(layout.denseKernelSize()) : "")
                + (layout.flatDim() >= 0 ? ", flatDim=" + layout.flatDim() : "") + ", stride=" + Arrays.toString(stride)
                + ", padding=" + Arrays.toString(padding) + ", groups=" + groups + ", bias=" + bias
                + ", interpolation=" + interpolation + ", paddingMode=" + paddingMode
                + (device.isCuda() ? ", device=" + device : "")
                + (backend != Backend.NATIVE ? ", backend=" + backend : "") + ")";
    }
}
