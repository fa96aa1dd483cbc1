package io.dcls4j.internal;

import io.dcls4j.Backend;
import io.dcls4j.Interpolation;
import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;
import io.dcls4j.vector.VectorConstruct;
import io.dcls4j.vector.VectorConv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@link DeviceOps} in pure Java, {@link Backend#VECTOR_API}: kernel construction by {@link VectorConstruct} and
 * convolution plans around {@link VectorConv}, on host memory. Those work on float arrays, so each call copies its
 * tensors in and its results out ({@code MemorySegment.copy}); a plan's arrays are made with it, once per shape,
 * while a construction's are made per call (as {@link VectorConstruct}'s own scratch is). No kernel windows; a
 * plan's kernel cells become the mask of cells whose weight gradient it computes.
 */
public final class VectorOps implements DeviceOps {
    static final String MODULE = "jdk.incubator.vector";
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final VectorOps INSTANCE = new VectorOps();

    private VectorOps() {}

    /** The Java backend; {@link IllegalStateException} naming the flag where this JVM lacks the Vector API. */
    static VectorOps instance() {
        if (ModuleLayer.boot().findModule(MODULE).isEmpty()) {
            throw new IllegalStateException("the " + Backend.VECTOR_API + " backend needs the Vector API: run java "
                    + "with --add-modules " + MODULE);
        }
        return INSTANCE;
    }

    @Override
    public void constructForward(ConstructDesc desc, MemorySegment weight, MemorySegment positions,
                                 MemorySegment sigma, MemorySegment kernel) {
        ConstructConfig c = desc.config();
        float[] k = new float[c.kernelLength()];
        VectorConstruct.forward(c, floats(weight, c.elementCount()), floats(positions, c.positionLength()),
                sigmaOf(c, sigma), k);
        MemorySegment.copy(k, 0, kernel, FLOAT, 0, k.length);
    }

    @Override
    public void constructBackward(ConstructDesc desc, MemorySegment weight, MemorySegment positions,
                                  MemorySegment sigma, MemorySegment gradKernel, MemorySegment gradWeight,
                                  MemorySegment gradPositions, MemorySegment gradSigma, boolean accumulate) {
        ConstructConfig c = desc.config();
        float[] gw = new float[c.elementCount()];
        float[] gp = new float[c.positionLength()];
        float[] gs = isNull(gradSigma) ? null : new float[c.positionLength()];
        VectorConstruct.backward(c, floats(weight, c.elementCount()), floats(positions, c.positionLength()),
                sigmaOf(c, sigma), floats(gradKernel, c.kernelLength()), gw, gp, gs, false);
        store(gw, gradWeight, accumulate);
        store(gp, gradPositions, accumulate);
        store(gs, gradSigma, accumulate);
    }

    @Override
    public boolean constructWindow(ConstructDesc desc, MemorySegment positions, MemorySegment sigma,
                                   MemorySegment lo, MemorySegment hi) {
        return false;
    }

    /** As the reference's clamp_parameters: component d into [-(L / 2), L / 2], L / 2 rounded down; NaN stays. */
    @Override
    public void clampPositions(ConstructDesc desc, MemorySegment positions) {
        int[] dks = desc.config().dilatedKernelSize();
        long elements = desc.config().elementCount();
        for (int d = 0; d < dks.length; d++) {
            float lim = dks[d] / 2;
            for (long i = d * elements, end = i + elements; i < end; i++) {
                float v = positions.getAtIndex(FLOAT, i);
                positions.setAtIndex(FLOAT, i, Math.max(-lim, Math.min(lim, v)));
            }
        }
    }

    /** Half to even, as torch.round ({@link Math#rint}). */
    @Override
    public void roundPositions(MemorySegment src, MemorySegment dst, long count) {
        for (long i = 0; i < count; i++) {
            dst.setAtIndex(FLOAT, i, (float) Math.rint(src.getAtIndex(FLOAT, i)));
        }
    }

    @Override
    public Plan createPlan(ConvConfig config, boolean tf32) {
        return new VectorPlan(config);
    }

    private static float[] sigmaOf(ConstructConfig c, MemorySegment sigma) {
        return c.interpolation().learnsSigma() ? floats(sigma, c.positionLength()) : null;
    }

    private static boolean isNull(MemorySegment s) {
        return s == null || s.address() == 0 && s.byteSize() == 0;
    }

    private static float[] floats(MemorySegment s, int count) {
        float[] a = new float[count];
        MemorySegment.copy(s, FLOAT, 0, a, 0, count);
        return a;
    }

    /** Writes {@code a} into {@code dst}, or adds it there; nothing when either is absent. */
    private static void store(float[] a, MemorySegment dst, boolean accumulate) {
        if (a == null || isNull(dst)) {
            return;
        }
        if (!accumulate) {
            MemorySegment.copy(a, 0, dst, FLOAT, 0, a.length);
            return;
        }
        for (int i = 0; i < a.length; i++) {
            dst.setAtIndex(FLOAT, i, dst.getAtIndex(FLOAT, i) + a[i]);
        }
    }

    /**
     * A {@link VectorConv} for one shape and the arrays its passes read and write. The input is padded again by each
     * pass that reads it, and the output gradient loaded by each that reads it: a plan's passes may be called in any
     * order and with any tensors, as the native plans' may.
     */
    private static final class VectorPlan implements Plan {
        private static final String INFO = "forward=java:vector_api backward_data=java:vector_api "
                + "backward_weights=java:vector_api";

        private final ConvConfig config;
        private final VectorConv conv;
        private final float[] kernel;
        private final float[] bias;
        private final float[] y;
        private final float[] gradX;
        private final float[] gradKernel;
        private float[] positions;
        private float[] sigma;
        /** The cells whose weight gradient is computed, from the last setKernelCells; null: all. */
        private boolean[] cells;

        VectorPlan(ConvConfig config) {
            this.config = config;
            conv = new VectorConv(config);
            kernel = new float[config.kernelLength()];
            bias = new float[config.outChannels()];
            y = new float[config.outputLength()];
            gradX = new float[config.inputLength()];
            gradKernel = new float[config.kernelLength()];
        }

        @Override
        public void forward(MemorySegment x, MemorySegment k, MemorySegment b, MemorySegment out) {
            MemorySegment.copy(k, FLOAT, 0, kernel, 0, kernel.length);
            boolean withBias = !isNull(b);
            if (withBias) {
                MemorySegment.copy(b, FLOAT, 0, bias, 0, bias.length);
            }
            conv.forward(x, kernel, withBias ? bias : null, y);
            MemorySegment.copy(y, 0, out, FLOAT, 0, y.length);
        }

        @Override
        public void backwardData(MemorySegment gradY, MemorySegment k, MemorySegment gx) {
            MemorySegment.copy(k, FLOAT, 0, kernel, 0, kernel.length);
            conv.loadGradY(gradY, true);
            conv.backwardDataLoaded(kernel, gradX);
            MemorySegment.copy(gradX, 0, gx, FLOAT, 0, gradX.length);
        }

        @Override
        public void backwardWeights(MemorySegment x, MemorySegment gradY, MemorySegment gk, MemorySegment gb,
                                    boolean accumulate) {
            conv.padInput(x);
            conv.loadGradY(gradY, false);
            weightsAndBias(gk, gb, accumulate);
        }

        /** One load of gradY serves the three gradients. */
        @Override
        public void backward(MemorySegment x, MemorySegment gradY, MemorySegment k, MemorySegment gk,
                             MemorySegment gb, boolean accumulate, MemorySegment gx) {
            conv.padInput(x);
            conv.loadGradY(gradY, true);
            weightsAndBias(gk, gb, accumulate);
            MemorySegment.copy(k, FLOAT, 0, kernel, 0, kernel.length);
            conv.backwardDataLoaded(kernel, gradX);
            MemorySegment.copy(gradX, 0, gx, FLOAT, 0, gradX.length);
        }

        /** The kernel and bias gradients of the loaded input and output gradient, written or added. */
        private void weightsAndBias(MemorySegment gk, MemorySegment gb, boolean accumulate) {
            conv.backwardWeightsLoaded(gradKernel, cells);
            store(gradKernel, gk, accumulate);
            if (!isNull(gb)) {
                if (accumulate) {
                    MemorySegment.copy(gb, FLOAT, 0, bias, 0, bias.length);
                }
                conv.backwardBiasLoaded(bias, accumulate);
                MemorySegment.copy(bias, 0, gb, FLOAT, 0, bias.length);
            }
        }

        @Override
        public boolean setKernelWindow(MemorySegment lo, MemorySegment hi) {
            return false;
        }

        @Override
        public boolean setKernelCells(ConstructDesc construct, MemorySegment p, MemorySegment s, boolean gradient) {
            ConstructConfig c = construct.config();
            if (c.interpolation() == Interpolation.GAUSSIAN) {
                cells = null;   // a Gaussian reaches every cell
                return true;
            }
            // a layer gives its training construction and, in inference mode, the learned-width triangle's
            if (positions == null) {
                positions = new float[c.positionLength()];
            }
            boolean learnsSigma = c.interpolation().learnsSigma();
            if (learnsSigma && sigma == null) {
                sigma = new float[c.positionLength()];
            }
            if (cells == null) {
                cells = new boolean[config.kernelLength()];
            }
            MemorySegment.copy(p, FLOAT, 0, positions, 0, positions.length);
            if (learnsSigma) {
                MemorySegment.copy(s, FLOAT, 0, sigma, 0, sigma.length);
            }
            VectorConstruct.support(c, positions, learnsSigma ? sigma : null, cells);
            return true;
        }

        @Override
        public String info() {
            return INFO;
        }

        @Override
        public void destroy() {
        }
    }
}
