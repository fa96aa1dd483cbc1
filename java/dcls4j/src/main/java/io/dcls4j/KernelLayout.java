package io.dcls4j;

import io.dcls4j.ops.ConstructConfig;

import java.util.Arrays;

/**
 * Where a {@link DclsConv}'s learnable positions live in its convolution kernel, per {@link DclsKind}: the
 * shapes of its parameters and kernel, and the kernel construction that builds it.
 *
 * <p>Every kind beyond Dcls1d/2d/3d is a 1D construction in disguise: Dcls2_1d and Dcls3_1d build, for each
 * dense cell, a 1D kernel along the last axis from that cell's own elements, so their weight
 * (Cout, Cin/g, dense..., K), positions (1, Cout, Cin/g, dense..., K) and kernel (Cout, Cin/g, dense..., L) are,
 * in C order, exactly those of a 1D construction with Cin/g * prod(dense) input channels per group; Dcls2dK1d's
 * kernel (Cout, Cin/g, L, 1) or (Cout, Cin/g, 1, L) is that of a plain 1D construction. So the native 1D
 * construction builds them all (in place, through reshaped views: {@link ReshapedConstruction}).
 */
final class KernelLayout {
    private final DclsKind kind;
    private final int[] dilatedKernelSize;
    private final int[] denseKernelSize;  // empty unless Dcls2_1d / Dcls3_1d
    private final int flatDim;            // -1 unless Dcls2dK1d
    private final int[] convKernelSize;
    private final int learnableAxis;      // the kernel axis of the construction's axis 0 (-1: full kinds)

    private KernelLayout(DclsKind kind, int[] dilatedKernelSize, int[] denseKernelSize, int flatDim) {
        this.kind = kind;
        this.dilatedKernelSize = dilatedKernelSize.clone();
        this.denseKernelSize = denseKernelSize.clone();
        this.flatDim = flatDim;
        switch (kind) {
            case DCLS2_1D, DCLS3_1D -> {
                convKernelSize = Arrays.copyOf(denseKernelSize, denseKernelSize.length + 1);
                convKernelSize[denseKernelSize.length] = dilatedKernelSize[0];
                learnableAxis = denseKernelSize.length;
            }
            case DCLS2DK1D -> {
                convKernelSize = new int[] {1, 1};
                convKernelSize[flatDim] = dilatedKernelSize[0];
                learnableAxis = flatDim;
            }
            default -> {
                convKernelSize = dilatedKernelSize.clone();
                learnableAxis = -1;
            }
        }
    }

    /**
     * The layout of a builder's settings; validates them (IllegalArgumentException naming the problem).
     * denseKernelSize null or empty and flatDim null mean neither was set.
     */
    static KernelLayout of(int[] dilatedKernelSize, int[] denseKernelSize, Integer flatDim) {
        boolean dense = denseKernelSize != null && denseKernelSize.length > 0;
        if (dense && flatDim != null) {
            throw new IllegalArgumentException("denseKernelSize (Dcls2_1d, Dcls3_1d) and flatDim (Dcls2dK1d) exclude"
                    + " each other");
        }
        if (!dense && flatDim == null) {
            DclsKind kind = switch (dilatedKernelSize.length) {
                case 1 -> DclsKind.DCLS1D;
                case 2 -> DclsKind.DCLS2D;
                default -> DclsKind.DCLS3D;
            };
            return new KernelLayout(kind, dilatedKernelSize, new int[0], -1);
        }
        String kindName = dense ? "denseKernelSize (Dcls2_1d, Dcls3_1d)" : "flatDim (Dcls2dK1d)";
        if (dilatedKernelSize.length != 1) {
            throw new IllegalArgumentException("with " + kindName + ", dilatedKernelSize is the learnable axis' size:"
                    + " one value, got " + Arrays.toString(dilatedKernelSize));
        }
        if (dense) {
            if (denseKernelSize.length > 2) {
                throw new IllegalArgumentException("denseKernelSize needs 1 (Dcls2_1d) or 2 (Dcls3_1d) sizes, got "
                        + Arrays.toString(denseKernelSize));
            }
            for (int d = 0; d < denseKernelSize.length; d++) {
                if (denseKernelSize[d] < 1) {
                    throw new IllegalArgumentException("denseKernelSize[" + d + "] must be >= 1, got "
                            + denseKernelSize[d]);
                }
            }
            return new KernelLayout(denseKernelSize.length == 1 ? DclsKind.DCLS2_1D : DclsKind.DCLS3_1D,
                    dilatedKernelSize, denseKernelSize, -1);
        }
        if (flatDim != 0 && flatDim != 1) {
            throw new IllegalArgumentException("flatDim must be 0 (a kernel along H) or 1 (along W), got " + flatDim);
        }
        return new KernelLayout(DclsKind.DCLS2DK1D, dilatedKernelSize, new int[0], flatDim);
    }

    DclsKind kind() {
        return kind;
    }

    /** Whether the kind is one of the reference's Dcls1d/2d/3d (no reshaping needed). */
    boolean isFull() {
        return learnableAxis < 0;
    }

    /** The dense kernel sizes of Dcls2_1d / Dcls3_1d; empty for the other kinds. */
    int[] denseKernelSize() {
        return denseKernelSize.clone();
    }

    /** Dcls2dK1d's flat_dim, -1 for the other kinds. */
    int flatDim() {
        return flatDim;
    }

    /** The number of spatial axes of the convolution (and of the input). */
    int convNdim() {
        return convKernelSize.length;
    }

    /** The convolution kernel's spatial size. */
    int[] convKernelSize() {
        return convKernelSize.clone();
    }

    /** The kernel axis the construction's axis 0 runs along (Dcls2_1d, Dcls3_1d, Dcls2dK1d). */
    int learnableAxis() {
        return learnableAxis;
    }

    /** Product of the dense kernel sizes (1 without any). */
    private int denseVolume() {
        int v = 1;
        for (int s : denseKernelSize) {
            v *= s;
        }
        return v;
    }

    /** Weight: (Cout, Cin/g, K), or (Cout, Cin/g, dense..., K). */
    long[] weightShape(int outChannels, int inPerGroup, int kernelCount) {
        long[] s = new long[3 + denseKernelSize.length];
        s[0] = outChannels;
        s[1] = inPerGroup;
        for (int d = 0; d < denseKernelSize.length; d++) {
            s[2 + d] = denseKernelSize[d];
        }
        s[s.length - 1] = kernelCount;
        return s;
    }

    /** Positions and sigma: (ndim of the construction, weight shape...). */
    long[] positionShape(int outChannels, int inPerGroup, int kernelCount) {
        long[] w = weightShape(outChannels, inPerGroup, kernelCount);
        long[] s = new long[w.length + 1];
        s[0] = dilatedKernelSize.length;
        System.arraycopy(w, 0, s, 1, w.length);
        return s;
    }

    /** Kernel: (Cout, Cin/g, convKernelSize...). */
    long[] kernelShape(int outChannels, int inPerGroup) {
        long[] s = new long[2 + convKernelSize.length];
        s[0] = outChannels;
        s[1] = inPerGroup;
        for (int d = 0; d < convKernelSize.length; d++) {
            s[2 + d] = convKernelSize[d];
        }
        return s;
    }

    /** The construction that builds the kernel: the layer's own, or the 1D one of the kinds beyond it. */
    ConstructConfig constructConfig(Interpolation interpolation, int outChannels, int inPerGroup, int kernelCount) {
        double offset = kind == DclsKind.DCLS2_1D ? ConstructConfig.GAUSSIAN_UNIT_SIGMA_OFFSET
                : ConstructConfig.GAUSSIAN_SIGMA_OFFSET;
        return new ConstructConfig(interpolation, outChannels, Math.multiplyExact(inPerGroup, denseVolume()),
                kernelCount, dilatedKernelSize, offset);
    }

    /** {@code construction} (of {@link #constructConfig}) as the layer's: itself, or through reshaped views. */
    LayerBackend.Construction adapt(LayerBackend.Construction construction, ConstructConfig config) {
        return isFull() ? construction : new ReshapedConstruction(construction, config, this);
    }

    /** Whether the reference initialises the positions uniformly in +-L/2 (Dcls2_1d, Dcls3_1d), not N(0, 0.5). */
    boolean uniformPositionInit() {
        return kind == DclsKind.DCLS2_1D || kind == DclsKind.DCLS3_1D;
    }
}
