package io.dcls4j.vector;

import io.dcls4j.PaddingMode;
import io.dcls4j.ops.ConvConfig;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;

/**
 * Pure-Java float32 grouped N-d convolution (cross-correlation, as {@code torch.nn.functional.convNd}) and its
 * gradients, with the semantics of {@link io.dcls4j.reference.ReferenceConv}: groups, stride, padding in all four
 * {@link PaddingMode}s, 1 to 3 spatial axes.
 *
 * <p>Arrays are C order: x {@code (N, Cin, in...)}, kernel {@code (Cout, Cin/groups, k...)}, bias {@code (Cout)},
 * y {@code (N, Cout, out...)}. The input is copied once into a padded buffer (rows split by phase when the W stride
 * exceeds 1, so every tap reads consecutive floats), then:
 * <ul>
 *   <li>forward and the data gradient are direct convolutions vectorised along the output width, accumulating in
 *       registers: 4 output channels x 4 vectors per block when a group has several input channels, 4 output rows x
 *       4 vectors sharing every input row when it has one (depthwise); taps whose kernel value is zero are
 *       skipped (exact: a zero tap adds nothing);</li>
 *   <li>the data gradient is the forward convolution of the (stride-upsampled, zero-padded) output gradient with
 *       the flipped, transposed kernel, computed only over the part of the padded input it is needed for;</li>
 *   <li>the weight gradient reduces gradient x input products with vector accumulators, 4 output channels x 4 taps
 *       (or 4 x 4 taps sharing input rows, depthwise) per block.</li>
 * </ul>
 * Work is split over samples, channels and blocks on {@link VectorParallel#threads()} workers; every output value
 * is computed by one worker, so results are deterministic. An instance owns its buffers and is not thread-safe.
 */
public final class VectorConv {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final int L = CorrPlan.L;

    private final ConvConfig config;
    private final PaddingMode mode;
    private final int batch;
    private final int inCh;
    private final int outCh;
    private final int groups;
    private final int ipg;
    private final int opg;
    private final int[] in = new int[3];
    private final int[] k = new int[3];
    private final int[] s = new int[3];
    private final int[] pad = new int[3];
    private final int[] padded = new int[3];
    private final int[] out = new int[3];
    private final int[] winLo = new int[3];
    private final int[] win = new int[3];
    private final int taps;

    private final CorrPlan fwd;
    private final CorrPlan bwd;
    private final PackedKernel fwdPacked;
    private PackedKernel bwdPacked;
    private float[] xs;
    private float[] gyr;
    private float[] stagingX;
    private float[] stagingG;
    private boolean gradLoaded;
    private boolean upsampledLoaded;
    private double[] planeSums;
    private float[] gyz;
    private float[] kt;
    private float[] gxp;
    private float[][] partScratch;
    private int[][] tapScratch;
    private double[][] accScratch;
    private float[][] outScratch;

    public VectorConv(ConvConfig c) {
        this.config = Objects.requireNonNull(c, "config");
        mode = c.paddingMode();
        batch = c.batch();
        inCh = c.inChannels();
        outCh = c.outChannels();
        groups = c.groups();
        ipg = c.inPerGroup();
        opg = c.outPerGroup();
        int shift = 3 - c.ndim();
        int[] inputSize = c.inputSize();
        int[] kernelSize = c.kernelSize();
        int[] stride = c.stride();
        int[] padding = c.padding();
        int[] outputSize = c.outputSize();
        for (int d = 0; d < 3; d++) {
            boolean real = d >= shift;
            in[d] = real ? inputSize[d - shift] : 1;
            k[d] = real ? kernelSize[d - shift] : 1;
            s[d] = real ? stride[d - shift] : 1;
            pad[d] = real ? padding[d - shift] : 0;
            out[d] = real ? outputSize[d - shift] : 1;
            padded[d] = in[d] + 2 * pad[d];
            winLo[d] = mode == PaddingMode.ZEROS ? pad[d] : 0;
            win[d] = mode == PaddingMode.ZEROS ? in[d] : padded[d];
        }
        taps = k[0] * k[1] * k[2];
        fwd = new CorrPlan(batch, inCh, outCh, groups, padded[0], padded[1], padded[2], s[2], k[0], k[1], k[2],
                s[0], s[1], out[0], out[1], out[2]);
        bwd = new CorrPlan(batch, outCh, inCh, groups, win[0] + k[0] - 1, win[1] + k[1] - 1, win[2] + k[2] - 1, 1,
                k[0], k[1], k[2], 1, 1, win[0], win[1], win[2]);
        fwdPacked = new PackedKernel(fwd);
    }

    /** The configuration this instance was built for. */
    public ConvConfig config() {
        return config;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Public API

    /** {@code y = conv(pad(x), kernel) + bias}; bias may be null; y is overwritten. */
    public void forward(float[] x, float[] kernel, float[] bias, float[] y) {
        checkLength("x", x, config.inputLength());
        forward(MemorySegment.ofArray(x), kernel, bias, y);
    }

    /** As {@link #forward(float[], float[], float[], float[])} with x read from memory (C order float32). */
    public void forward(MemorySegment x, float[] kernel, float[] bias, float[] y) {
        padInput(x);
        forwardPadded(kernel, bias, y);
    }

    /** The gradient with respect to x of {@code L = sum(y * gradY)}; gx is overwritten. */
    public void backwardData(float[] gradY, float[] kernel, float[] gx) {
        checkLength("gradY", gradY, config.outputLength());
        loadGradY(MemorySegment.ofArray(gradY), true);
        backwardDataLoaded(kernel, gx);
    }

    /** The gradient with respect to the kernel of {@code L = sum(y * gradY)}; gk is overwritten. */
    public void backwardWeights(float[] x, float[] gradY, float[] gk) {
        checkLength("x", x, config.inputLength());
        checkLength("gradY", gradY, config.outputLength());
        padInput(MemorySegment.ofArray(x));
        loadGradY(MemorySegment.ofArray(gradY), false);
        backwardWeightsLoaded(gk, null);
    }

    /** The bias gradient: gradY summed over samples and space, added to gb if {@code accumulate}. */
    public void backwardBias(float[] gradY, float[] gb, boolean accumulate) {
        checkLength("gradY", gradY, config.outputLength());
        loadGradY(MemorySegment.ofArray(gradY), false);
        backwardBiasLoaded(gb, accumulate);
    }

    // ---------------------------------------------------------------------------------------------------------
    // In steps, for the Java backend's plans (io.dcls4j.internal.VectorOps): the input is padded once for forward
    // or the weight gradient, and the output gradient is loaded once for the gradients that read it.

    /** Copies x (C order float32, from any memory) into the padded, phase-split input buffer. */
    public void padInput(MemorySegment x) {
        Objects.requireNonNull(x, "x");
        if (x.byteSize() < (long) config.inputLength() * Float.BYTES) {
            throw new IllegalArgumentException("x has " + x.byteSize() / Float.BYTES + " floats, expected "
                    + config.inputLength());
        }
        if (xs == null) {
            xs = new float[fwd.inputLength()];
        }
        float[] dst = xs;
        int planes = batch * inCh;
        int sw = s[2];
        int ws = fwd.ws;
        int wr = fwd.wr;
        int xPlane = fwd.xPlane;
        boolean zeros = mode == PaddingMode.ZEROS;
        float[] src = asArray(x, config.inputLength(), 0);
        forPlanes(planes, plane -> {
            int dBase = plane * xPlane;
            for (int pd = 0; pd < padded[0]; pd++) {
                int sd = sourceIndex(mode, pd - pad[0], in[0]);
                if (sd < 0) {
                    continue; // zero rows are never written
                }
                for (int ph = 0; ph < padded[1]; ph++) {
                    int sh = sourceIndex(mode, ph - pad[1], in[1]);
                    if (sh < 0) {
                        continue;
                    }
                    int row = dBase + (pd * padded[1] + ph) * wr;
                    int srcRow = ((plane * in[0] + sd) * in[1] + sh) * in[2];
                    if (sw == 1 && zeros) {
                        System.arraycopy(src, srcRow, dst, row + pad[2], in[2]);
                    } else {
                        for (int pw = 0; pw < padded[2]; pw++) {
                            int sx = sourceIndex(mode, pw - pad[2], in[2]);
                            float v = sx < 0 ? 0f : src[srcRow + sx];
                            dst[row + (pw % sw) * ws + pw / sw] = v;
                        }
                    }
                }
            }
        });
    }

    /**
     * Copies the output gradient (C order float32, from any memory) into the row-padded buffer the weight gradient
     * reads, sums every plane for the bias gradient, and with {@code forData} also places it into the upsampled,
     * zero-padded buffer the data gradient reads: one pass over the gradient for all three.
     */
    public void loadGradY(MemorySegment gy, boolean forData) {
        Objects.requireNonNull(gy, "gradY");
        if (gy.byteSize() < (long) config.outputLength() * Float.BYTES) {
            throw new IllegalArgumentException("gradY has " + gy.byteSize() / Float.BYTES + " floats, expected "
                    + config.outputLength());
        }
        if (gyr == null) {
            gyr = new float[fwd.gradLength()]; // zero; margins and row tails stay zero
            planeSums = new double[batch * outCh];
        }
        if (forData && gyz == null) {
            gyz = new float[bwd.inputLength()]; // zero; the cells written are the same on every call
        }
        float[] dst = gyr;
        float[] up = gyz;
        double[] sums = planeSums;
        CorrPlan p = fwd;
        float[] src = asArray(gy, config.outputLength(), 1);
        int zd = bwd.xd;
        int zh = bwd.xh;
        int zw = win[2] + k[2] - 1;
        int off = k[2] - 1 - winLo[2];
        forPlanes(batch * outCh, plane -> {
            FloatVector total = FloatVector.zero(CorrPlan.S);
            int upBase = plane * bwd.xPlane;
            for (int r = 0; r < p.rows; r++) {
                int from = plane * p.yPlane + p.rowOut[r];
                int to = plane * p.gPlane + p.rowGrad[r];
                System.arraycopy(src, from, dst, to, p.ow);
                for (int c = 0; c < p.owr; c += L) {
                    total = total.add(FloatVector.fromArray(CorrPlan.S, dst, to + c));
                }
                if (!forData) {
                    continue;
                }
                // gy[a, b, c] goes to (k - 1 + index * stride - winLo) along each axis of the upsampled buffer
                int a = r / out[1];
                int b = r % out[1];
                int jd = k[0] - 1 + a * s[0] - winLo[0];
                int jh = k[1] - 1 + b * s[1] - winLo[1];
                if (jd < 0 || jd >= zd || jh < 0 || jh >= zh) {
                    continue;
                }
                int row = upBase + (jd * zh + jh) * bwd.wr;
                if (s[2] == 1) {
                    int c0 = Math.max(0, -off);
                    int c1 = Math.min(out[2], zw - off);
                    if (c1 > c0) {
                        System.arraycopy(src, from + c0, up, row + off + c0, c1 - c0);
                    }
                } else {
                    for (int c = 0; c < out[2]; c++) {
                        int jw = off + c * s[2];
                        if (jw >= 0 && jw < zw) {
                            up[row + jw] = src[from + c];
                        }
                    }
                }
            }
            sums[plane] = CorrKernels.sum(total);
        });
        gradLoaded = true;
        upsampledLoaded = forData;
    }

    /** The float array a heap segment views from its start, or null. */
    private static float[] floatArray(MemorySegment segment) {
        return segment.heapBase().orElse(null) instanceof float[] a && segment.address() == 0 ? a : null;
    }

    /** Runs body for every plane, in parallel. */
    private static void forPlanes(int planes, java.util.function.IntConsumer body) {
        int tasks = Math.min(planes, 16 * VectorParallel.threads());
        VectorParallel.run(tasks, (task, worker) -> {
            for (int plane = task * planes / tasks, end = (task + 1) * planes / tasks; plane < end; plane++) {
                body.accept(plane);
            }
        });
    }

    /**
     * The floats of the source as a Java array: the array itself for a segment that views a float array from its
     * start, otherwise a staging array filled by one bulk copy on this thread (row by row copies from native memory
     * are slow, and memory confined to the calling thread cannot be read by the workers).
     */
    private float[] asArray(MemorySegment source, int floats, int which) {
        float[] direct = floatArray(source);
        if (direct != null && direct.length >= floats) {
            return direct;
        }
        float[] staging = which == 0 ? stagingX : stagingG;
        if (staging == null || staging.length != floats) {
            staging = new float[floats];
            if (which == 0) {
                stagingX = staging;
            } else {
                stagingG = staging;
            }
        }
        MemorySegment.copy(source, FLOAT, 0, staging, 0, floats);
        return staging;
    }


    /** The forward pass on the input last given to {@link #padInput}. */
    public void forwardPadded(float[] kernel, float[] bias, float[] y) {
        checkLength("kernel", kernel, config.kernelLength());
        checkLength("y", y, config.outputLength());
        if (bias != null) {
            checkLength("bias", bias, outCh);
        }
        if (xs == null) {
            throw new IllegalStateException("no input");
        }
        fwdPacked.pack(kernel);
        corr(fwd, xs, fwdPacked, bias, y);
    }

    private void requireGrad() {
        if (!gradLoaded) {
            throw new IllegalStateException("no output gradient loaded");
        }
    }

    /** The data gradient from the loaded output gradient; gx is overwritten. */
    public void backwardDataLoaded(float[] kernel, float[] gx) {
        checkLength("kernel", kernel, config.kernelLength());
        checkLength("gx", gx, config.inputLength());
        requireGrad();
        if (!upsampledLoaded) {
            throw new IllegalStateException("output gradient loaded without the data-gradient buffer");
        }
        transposeKernel(kernel);
        if (bwdPacked == null) {
            bwdPacked = new PackedKernel(bwd);
        }
        bwdPacked.pack(kt);
        if (mode == PaddingMode.ZEROS) {
            corr(bwd, gyz, bwdPacked, null, gx);
        } else {
            if (gxp == null) {
                gxp = new float[bwd.outputLength()];
            }
            corr(bwd, gyz, bwdPacked, null, gxp);
            fold(gxp, gx);
        }
    }

    /**
     * The weight gradient from the input last given to {@link #padInput} and the loaded output gradient. With a
     * mask (shaped like the kernel), only the marked taps are computed and the others are set to 0.
     */
    public void backwardWeightsLoaded(float[] gk, boolean[] mask) {
        checkLength("gk", gk, config.kernelLength());
        if (mask != null && mask.length != gk.length) {
            throw new IllegalArgumentException("mask has length " + mask.length + ", expected " + gk.length);
        }
        if (xs == null) {
            throw new IllegalStateException("no input");
        }
        requireGrad();
        ensureScratch();
        if (ipg == 1) {
            weightsDepthwise(gk, mask);
        } else {
            weightsDense(gk, mask);
        }
    }

    /** The bias gradient from the loaded output gradient. */
    public void backwardBiasLoaded(float[] gb, boolean accumulate) {
        checkLength("gb", gb, outCh);
        requireGrad();
        for (int o = 0; o < outCh; o++) {
            double total = 0;
            for (int n = 0; n < batch; n++) {
                total += planeSums[n * outCh + o];
            }
            gb[o] = accumulate ? (float) (gb[o] + total) : (float) total;
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    private void ensureScratch() {
        int threads = VectorParallel.threads();
        if (partScratch == null || partScratch.length < threads) {
            int tapGroups = (taps + 3) / 4;
            partScratch = new float[threads][24 * L * Math.max(1, tapGroups)];
            tapScratch = new int[threads][4 * tapGroups + 8];
            accScratch = new double[threads][24];
        }
    }

    private float[] outScratch(int worker, int length) {
        float[] t = outScratch[worker];
        if (t == null || t.length < length) {
            t = new float[length];
            outScratch[worker] = t;
        }
        return t;
    }

    /**
     * Runs the correlation of plan p: input buffer, packed kernel, optional bias, output y. Blocks whose vector
     * stores could reach past the end of y are computed into a scratch buffer and copied, so that every kernel
     * call stays in bounds.
     */
    private void corr(CorrPlan p, float[] input, PackedKernel pk, float[] bias, float[] y) {
        int threads = VectorParallel.threads();
        if (outScratch == null || outScratch.length < threads) {
            outScratch = new float[threads][];
        }
        int tmpLength = 4 * p.yPlane + 8 * L;
        if (pk.depthwise) {
            int colBlocks = p.ow >= 4 * L ? (p.ow + 4 * L - 1) / (4 * L) : 1;
            boolean shared = pk.sharedRows;
            int rowBlocks = shared ? (p.oh + 3) / 4 : p.oh;
            int planes = p.batch * p.outCh * p.od;
            int chunks = Math.max(1, Math.min(rowBlocks, (8 * threads + planes - 1) / planes));
            VectorParallel.run(planes * chunks, (task, worker) -> {
                int chunk = task % chunks;
                int plane = task / chunks;
                int d = plane % p.od;
                int no = plane / p.od;
                int o = no % p.outCh;
                int n = no / p.outCh;
                int xb = (n * p.inCh + o / p.opg) * p.xPlane;
                boolean tail = (long) (no + 1) * p.yPlane + 4 * L > y.length;
                float[] dst = tail ? outScratch(worker, tmpLength) : y;
                int yb = tail ? 0 : no * p.yPlane;
                float b = bias == null ? 0f : bias[o];
                int rFrom = chunk * rowBlocks / chunks;
                int rTo = (chunk + 1) * rowBlocks / chunks;
                int e0 = o * pk.cap;
                int e1 = e0 + pk.count1[o];
                for (int rbk = rFrom; rbk < rTo; rbk++) {
                    for (int cbk = 0; cbk < colBlocks; cbk++) {
                        int cb = p.ow >= 4 * L ? Math.min(cbk * 4 * L, p.ow - 4 * L) : 0;
                        if (shared) {
                            CorrKernels.forwardDw4(p, input, xb, pk.k1, pk.dx, pk.dk, pk.lo, pk.hi, e0, e1, b, dst,
                                    yb, d, Math.min(4 * rbk, p.oh - 4), cb);
                        } else {
                            CorrKernels.forwardDw1(p, input, xb, pk.k1, pk.dx, pk.dk, pk.lo, pk.hi, e0, e1, b, dst,
                                    yb, d, rbk, cb);
                        }
                    }
                }
                if (tail) {
                    int first = shared ? Math.min(4 * rFrom, p.oh - 4) : rFrom;
                    int last = shared ? Math.min(4 * rTo, p.oh) : rTo;
                    for (int r = first; r < last; r++) {
                        int off = (d * p.oh + r) * p.ow;
                        System.arraycopy(dst, off, y, no * p.yPlane + off, p.ow);
                    }
                }
            });
            return;
        }
        int bpg = pk.blocksPerGroup();
        int blocks = p.batch * p.groups * bpg;
        int slotGroups = p.slots / 4;
        int chunks = Math.max(1, Math.min(slotGroups, (8 * threads + blocks - 1) / blocks));
        VectorParallel.run(blocks * chunks, (task, worker) -> {
            int chunk = task % chunks;
            int blk = task / chunks;
            int b = blk % bpg;
            int ng = blk / bpg;
            int g = ng % p.groups;
            int n = ng / p.groups;
            int sgFrom = chunk * slotGroups / chunks;
            int sgTo = (chunk + 1) * slotGroups / chunks;
            int xb = (n * p.inCh + g * p.ipg) * p.xPlane;
            boolean four = b < pk.nb4;
            int o0 = four ? g * p.opg + 4 * b : g * p.opg + 4 * pk.nb4 + (b - pk.nb4);
            int nOut = four ? 4 : 1;
            int yb = (n * p.outCh + o0) * p.yPlane;
            float[] tile = outScratch(worker, 16 * L);
            int block = g * pk.nb4 + b;
            int e0 = four ? pk.base4 + block * pk.cap : o0 * pk.cap;
            int e1 = e0 + (four ? pk.count4[block] : pk.count1[o0]);
            float b0 = bias == null ? 0f : bias[o0];
            float b1 = bias == null || !four ? 0f : bias[o0 + 1];
            float b2 = bias == null || !four ? 0f : bias[o0 + 2];
            float b3 = bias == null || !four ? 0f : bias[o0 + 3];
            for (int sg = sgFrom; sg < sgTo; sg++) {
                if (four) {
                    CorrKernels.forward4x4(p, input, xb, pk.k4, pk.dx, pk.dk, pk.lo, pk.hi, e0, e1, b0, b1, b2, b3,
                            tile, sg);
                } else {
                    CorrKernels.forward1x4(p, input, xb, pk.k1, pk.dx, pk.dk, pk.lo, pk.hi, e0, e1, b0, tile, sg);
                }
                for (int v = 0; v < 4; v++) {
                    int slot = 4 * sg + v;
                    int len = Math.min(L, p.ow - p.slotCol[slot]);
                    for (int c = 0; c < nOut && len > 0; c++) {
                        System.arraycopy(tile, (4 * c + v) * L, y, yb + c * p.yPlane + p.slotOut[slot], len);
                    }
                }
            }
        });
    }

    private void weightsDense(float[] gk, boolean[] mask) {
        CorrPlan p = fwd;
        int nb4 = opg / 4;
        int rem = opg % 4;
        int bpg = nb4 + rem;
        int tasks = groups * bpg * ipg;
        float[][] parts = partScratch;
        int[][] tapLists = tapScratch;
        float[] g = gyr;
        float[] x = xs;
        VectorParallel.run(tasks, (task, worker) -> {
            int i = task % ipg;
            int gb = task / ipg;
            int b = gb % bpg;
            int grp = gb / bpg;
            boolean four = b < nb4;
            int o0 = four ? grp * opg + 4 * b : grp * opg + 4 * nb4 + (b - nb4);
            int nOut = four ? 4 : 1;
            // the taps to compute: needed by any of the block's output channels
            int[] list = tapLists[worker];
            int count = 0;
            for (int t = 0; t < taps; t++) {
                boolean need = mask == null;
                for (int c = 0; c < nOut && !need; c++) {
                    need = mask[((o0 + c) * ipg + i) * taps + t];
                }
                if (need) {
                    list[count++] = t;
                } else {
                    for (int c = 0; c < nOut; c++) {
                        gk[((o0 + c) * ipg + i) * taps + t] = 0f;
                    }
                }
            }
            if (count == 0) {
                return;
            }
            int group = four ? 6 : 4; // taps per kernel call
            int groupsOf = (count + group - 1) / group;
            for (int j = count; j < group * groupsOf; j++) {
                list[j] = list[0]; // padding: computed, never stored
            }
            float[] part = parts[worker];
            int stride = nOut * group * L;
            Arrays.fill(part, 0, groupsOf * stride, 0f);
            int[] off = p.tapOff;
            for (int n = 0; n < batch; n++) {
                int gyb = (n * outCh + o0) * p.gPlane;
                int xb = (n * inCh + grp * ipg + i) * p.xPlane;
                for (int tg = 0; tg < groupsOf; tg++) {
                    int t = group * tg;
                    if (four) {
                        CorrKernels.weights4x6(p, g, gyb, x, xb, off[list[t]], off[list[t + 1]], off[list[t + 2]],
                                off[list[t + 3]], off[list[t + 4]], off[list[t + 5]], part, tg * stride);
                    } else {
                        CorrKernels.weights1x4(p, g, gyb, x, xb, off[list[t]], off[list[t + 1]], off[list[t + 2]],
                                off[list[t + 3]], part, tg * stride);
                    }
                }
            }
            double[] acc = accScratch[worker];
            for (int j = 0; j < count; j++) {
                int tg = j / group;
                int slot = j % group;
                for (int c = 0; c < nOut; c++) {
                    acc[0] = 0;
                    CorrKernels.reduce(part, tg * stride + (c * group + slot) * L, 1, acc);
                    gk[((o0 + c) * ipg + i) * taps + list[j]] = (float) acc[0];
                }
            }
        });
    }

    private void weightsDepthwise(float[] gk, boolean[] mask) {
        CorrPlan p = fwd;
        int kd = k[0];
        int kh = k[1];
        int kw = k[2];
        float[][] parts = partScratch;
        float[] g = gyr;
        float[] x = xs;
        // One fixed block grid per shape (so that only a few kernel variants are used, all of them hot); blocks
        // without a needed tap are skipped and set to 0.
        int[] rowBlocks = rowBlocks(kh, p.sh == 1);
        VectorParallel.run(outCh * kd, (task, worker) -> {
            int z = task % kd;
            int o = task / kd;
            int ci = o / opg;
            int sliceBase = o * taps + z * kh * kw;
            float[] part = parts[worker];
            double[] acc = accScratch[worker];
            for (int rb = 0; rb < rowBlocks.length / 2; rb++) {
                int h0 = rowBlocks[2 * rb];
                int rows = rowBlocks[2 * rb + 1];
                int maxWidth = DwWeightKernels.maxWidth(rows);
                int colBlocks = (kw + maxWidth - 1) / maxWidth;
                int kBase = sliceBase + h0 * kw;
                for (int cb = 0, col = 0; cb < colBlocks; cb++) {
                    int width = (cb + 1) * kw / colBlocks - cb * kw / colBlocks; // balanced blocks
                    boolean need = mask == null;
                    for (int r = 0; r < rows && !need; r++) {
                        for (int c = 0; c < width && !need; c++) {
                            need = mask[kBase + r * kw + col + c];
                        }
                    }
                    int vectors = rows * width;
                    Arrays.fill(acc, 0, vectors, 0.0);
                    if (need) {
                        Arrays.fill(part, 0, vectors * L, 0f);
                        for (int n = 0; n < batch; n++) {
                            DwWeightKernels.run(rows, width, p, g, (n * outCh + o) * p.gPlane, x,
                                    (n * inCh + ci) * p.xPlane, z, h0, col, part);
                        }
                        CorrKernels.reduce(part, 0, vectors, acc);
                    }
                    for (int r = 0; r < rows; r++) {
                        for (int c = 0; c < width; c++) {
                            gk[kBase + r * kw + col + c] = (float) acc[r * width + c];
                        }
                    }
                    col += width;
                }
            }
        });
    }

    /**
     * Kernel rows in blocks for the depthwise weight gradient: pairs (first row, row count). With stride 1 along H,
     * blocks of 4 rows, one of 5, 3 or 2 taking up the remainder; otherwise (or for a single row) rows one by one.
     */
    static int[] rowBlocks(int kh, boolean stride1) {
        java.util.List<Integer> sizes = new java.util.ArrayList<>();
        if (!stride1 || kh == 1) {
            for (int h = 0; h < kh; h++) {
                sizes.add(1);
            }
        } else {
            int rest = kh;
            switch (kh % 4) {
                case 1 -> {
                    sizes.add(5);
                    rest -= 5;
                }
                case 2 -> {
                    sizes.add(2);
                    rest -= 2;
                }
                case 3 -> {
                    sizes.add(3);
                    rest -= 3;
                }
                default -> { }
            }
            while (rest > 0) {
                sizes.add(4);
                rest -= 4;
            }
        }
        int[] blocks = new int[2 * sizes.size()];
        for (int i = 0, h = 0; i < sizes.size(); i++) {
            blocks[2 * i] = h;
            blocks[2 * i + 1] = sizes.get(i);
            h += sizes.get(i);
        }
        return blocks;
    }

    /** kt (Cin, opg, taps) = kernel (Cout, ipg, taps) with channels swapped within groups and taps reversed. */
    private void transposeKernel(float[] kernel) {
        if (kt == null) {
            kt = new float[kernel.length];
        }
        for (int g = 0; g < groups; g++) {
            for (int i = 0; i < ipg; i++) {
                for (int ol = 0; ol < opg; ol++) {
                    int dst = ((g * ipg + i) * opg + ol) * taps;
                    int src = ((g * opg + ol) * ipg + i) * taps;
                    for (int t = 0; t < taps; t++) {
                        kt[dst + t] = kernel[src + taps - 1 - t];
                    }
                }
            }
        }
    }

    /** gx = the padded-input gradient gxp folded back onto the cells each padding cell was copied from. */
    private void fold(float[] gradPadded, float[] gx) {
        int planes = batch * inCh;
        int pv = padded[0] * padded[1] * padded[2];
        int iv = in[0] * in[1] * in[2];
        VectorParallel.run(planes, (plane, worker) -> {
            Arrays.fill(gx, plane * iv, (plane + 1) * iv, 0f);
            for (int a = 0; a < padded[0]; a++) {
                int sa = sourceIndex(mode, a - pad[0], in[0]);
                for (int b = 0; b < padded[1]; b++) {
                    int sb = sourceIndex(mode, b - pad[1], in[1]);
                    for (int c = 0; c < padded[2]; c++) {
                        int sc = sourceIndex(mode, c - pad[2], in[2]);
                        if (sa >= 0 && sb >= 0 && sc >= 0) {
                            gx[plane * iv + (sa * in[1] + sb) * in[2] + sc] +=
                                    gradPadded[plane * pv + (a * padded[1] + b) * padded[2] + c];
                        }
                    }
                }
            }
        });
    }

    /** The input cell a padded cell copies along one axis (i may be outside [0, size)); -1 for a zero cell. */
    static int sourceIndex(PaddingMode mode, int i, int size) {
        if (i >= 0 && i < size) {
            return i;
        }
        return switch (mode) {
            case ZEROS -> -1;
            case REFLECT -> i < 0 ? -i : 2 * (size - 1) - i;
            case REPLICATE -> i < 0 ? 0 : size - 1;
            case CIRCULAR -> Math.floorMod(i, size);
        };
    }

    private static void checkLength(String name, float[] array, int expected) {
        VectorConstruct.checkLength(name, array, expected);
    }
}
