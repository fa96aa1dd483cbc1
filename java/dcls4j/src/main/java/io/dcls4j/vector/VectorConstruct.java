package io.dcls4j.vector;

import io.dcls4j.Interpolation;
import io.dcls4j.ops.ConstructConfig;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Objects;

/**
 * Pure-Java float32 DCLS kernel construction and its gradient, with the semantics of
 * {@link io.dcls4j.reference.ReferenceConstruct} (same array shapes, axis convention, normalisation and kink
 * conventions), written for speed.
 *
 * <p>Every interpolation is separable: element {@code e} contributes {@code scale_e * prod_d f_d(idx_d)}, so the
 * construction computes one 1-D profile per axis and element (in double) and adds their outer product to the pair's
 * kernel; only the cells where the profiles are non-zero are touched (2 per axis for {@code BILINEAR} and
 * {@code TRIANGLE}). The normalising sum over the whole grid is the product of the per-axis sums. The backward pass
 * contracts the pair's gradient kernel with outer products of profiles and their derivatives, again over the
 * support only, accumulating in double.
 *
 * <p>Shapes (C order): weight {@code (Cout, Cin/g, K)}, positions and sigma {@code (ndim, Cout, Cin/g, K)},
 * kernel {@code (Cout, Cin/g, dks...)}. Work is split over channel pairs on {@link VectorParallel#threads()} workers.
 */
public final class VectorConstruct {

    private static final double EPS = 1e-7;
    private static final double GAUSS_OFFSET = 0.27;
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    private static final int DL = DS.length();
    private static final DoubleVector IOTA = iota();

    private static DoubleVector iota() {
        double[] v = new double[DL];
        for (int i = 0; i < DL; i++) {
            v[i] = i;
        }
        return DoubleVector.fromArray(DS, v, 0);
    }

    private VectorConstruct() {
    }

    /**
     * Builds the dense kernel, overwriting {@code kernel}.
     *
     * @param sigma null unless the interpolation {@linkplain Interpolation#learnsSigma() learns sigma}
     */
    public static void forward(ConstructConfig c, float[] weight, float[] positions, float[] sigma, float[] kernel) {
        requireUsualGaussianOffset(c);
        check(c, weight, positions, sigma);
        checkLength("kernel", kernel, c.kernelLength());
        int pairs = c.pairCount();
        int tasks = taskCount(pairs);
        Scratch[] scratch = scratch(c);
        VectorParallel.run(tasks, (task, worker) -> {
            Scratch s = scratch[worker];
            for (int pair = task * pairs / tasks, end = (task + 1) * pairs / tasks; pair < end; pair++) {
                forwardPair(c, weight, positions, sigma, kernel, pair, s);
            }
        });
    }

    /** Convenience: builds and returns a new kernel. */
    public static float[] forward(ConstructConfig c, float[] weight, float[] positions, float[] sigma) {
        float[] kernel = new float[c.kernelLength()];
        forward(c, weight, positions, sigma, kernel);
        return kernel;
    }

    /**
     * The gradients of {@code L = sum(kernel * gradKernel)} with respect to weight, positions and sigma. With
     * {@code accumulate} they are added to the output arrays, otherwise the arrays are overwritten.
     *
     * @param gradSigma may be null (no sigma, or a frozen one): its gradient is then not computed
     */
    public static void backward(ConstructConfig c, float[] weight, float[] positions, float[] sigma,
                                float[] gradKernel, float[] gradWeight, float[] gradPositions, float[] gradSigma,
                                boolean accumulate) {
        requireUsualGaussianOffset(c);
        check(c, weight, positions, sigma);
        checkLength("gradKernel", gradKernel, c.kernelLength());
        checkLength("gradWeight", gradWeight, c.elementCount());
        checkLength("gradPositions", gradPositions, c.positionLength());
        if (gradSigma != null) {
            if (!c.interpolation().learnsSigma()) {
                throw new IllegalArgumentException(c.interpolation() + " has no sigma: pass a null gradSigma");
            }
            checkLength("gradSigma", gradSigma, c.positionLength());
        }
        int pairs = c.pairCount();
        int tasks = taskCount(pairs);
        Scratch[] scratch = scratch(c);
        VectorParallel.run(tasks, (task, worker) -> {
            Scratch s = scratch[worker];
            for (int pair = task * pairs / tasks, end = (task + 1) * pairs / tasks; pair < end; pair++) {
                backwardPair(c, weight, positions, sigma, gradKernel, gradWeight, gradPositions, gradSigma,
                        accumulate, pair, s);
            }
        });
    }

    /**
     * Marks, for every channel pair, the kernel cells whose gradient {@link #backward} reads: the union over the
     * pair's elements of the boxes where their profiles (or derivatives) are non-zero. All cells for
     * {@code GAUSSIAN}; at most 2^ndim cells per element for {@code BILINEAR} and {@code TRIANGLE}. A convolution's
     * weight gradient is only needed at the marked cells.
     *
     * @param mask shaped like the kernel; overwritten
     */
    public static void support(ConstructConfig c, float[] positions, float[] sigma, boolean[] mask) {
        requireUsualGaussianOffset(c);
        Objects.requireNonNull(c, "config");
        checkLength("positions", positions, c.positionLength());
        if (c.interpolation().learnsSigma()) {
            checkLength("sigma", sigma, c.positionLength());
        }
        if (mask.length != c.kernelLength()) {
            throw new IllegalArgumentException("mask has length " + mask.length + ", expected " + c.kernelLength());
        }
        int pairs = c.pairCount();
        int tasks = taskCount(pairs);
        Scratch[] scratch = scratch(c);
        int[] dks = c.dilatedKernelSize();
        int ndim = dks.length;
        int volume = c.kernelVolume();
        int kc = c.kernelCount();
        int elements = c.elementCount();
        Interpolation ip = c.interpolation();
        VectorParallel.run(tasks, (task, worker) -> {
            Scratch s = scratch[worker];
            for (int pair = task * pairs / tasks, end = (task + 1) * pairs / tasks; pair < end; pair++) {
                int base = pair * volume;
                java.util.Arrays.fill(mask, base, base + volume, false);
                if (ip == Interpolation.GAUSSIAN) {
                    java.util.Arrays.fill(mask, base, base + volume, true);
                    continue;
                }
                for (int k = 0; k < kc; k++) {
                    int e = pair * kc + k;
                    for (int d = 0; d < ndim; d++) {
                        profile(ip, dks[d], positions[d * elements + e] + dks[d] / 2,
                                sigma == null ? 0.0 : sigma[d * elements + e], s, d, false);
                    }
                    int lo0 = ndim == 3 ? s.lo[0] : 0, hi0 = ndim == 3 ? s.hi[0] : 1;
                    int lo1 = ndim >= 2 ? s.lo[ndim - 2] : 0, hi1 = ndim >= 2 ? s.hi[ndim - 2] : 1;
                    int lo2 = s.lo[ndim - 1], hi2 = s.hi[ndim - 1];
                    int h = ndim >= 2 ? dks[ndim - 2] : 1, w = dks[ndim - 1];
                    for (int a = lo0; a < hi0; a++) {
                        for (int b = lo1; b < hi1; b++) {
                            int row = base + (a * h + b) * w;
                            for (int x = lo2; x < hi2; x++) {
                                mask[row + x] = true;
                            }
                        }
                    }
                }
            }
        });
    }

    // ------------------------------------------------------------------------------------------------------------

    /** Per-worker scratch: the per-axis profiles of one element and a double accumulator for one pair's kernel. */
    static final class Scratch {
        final double[][] val;
        final double[][] dc;
        final double[][] ds;
        final int[] lo;
        final int[] hi;
        final double[] acc;
        final double[] t = new double[3];
        final double[] ts = new double[3];
        final double[] sv = new double[3];
        final int[] dks;
        final int volume;
        final int kc;
        final int elements;
        final Interpolation ip;

        Scratch(ConstructConfig c) {
            dks = c.dilatedKernelSize();
            volume = c.kernelVolume();
            kc = c.kernelCount();
            elements = c.elementCount();
            ip = c.interpolation();
            int ndim = dks.length;
            val = new double[ndim][];
            dc = new double[ndim][];
            ds = new double[ndim][];
            for (int d = 0; d < ndim; d++) {
                int padded = (dks[d] + DL - 1) / DL * DL; // whole vectors
                val[d] = new double[padded];
                dc[d] = new double[padded];
                ds[d] = new double[padded];
            }
            lo = new int[ndim];
            hi = new int[ndim];
            acc = new double[volume];
        }
    }

    private static Scratch[] scratch(ConstructConfig c) {
        Scratch[] s = new Scratch[VectorParallel.threads()];
        for (int i = 0; i < s.length; i++) {
            s[i] = new Scratch(c);
        }
        return s;
    }

    /** The Vector API path knows the usual Gaussian (|sigma| + 0.27) only, not the reference Dcls2_1d's. */
    public static void requireUsualGaussianOffset(ConstructConfig c) {
        if (c.gaussianSigmaOffset() != GAUSS_OFFSET) {
            throw new IllegalArgumentException("VectorConstruct supports the Gaussian sigma offset 0.27 only, got "
                    + c.gaussianSigmaOffset());
        }
    }

    private static int taskCount(int pairs) {
        return Math.max(1, Math.min(pairs, 8 * VectorParallel.threads()));
    }

    /**
     * Fills axis {@code d} of the scratch with the 1-D profile of an element centred at {@code centre} on a grid of
     * {@code n} cells: values, d/dcentre and d/dsigma on [lo, hi), the cells outside being zero. The expressions
     * and their kink conventions are those of the reference.
     */
    static void profile(Interpolation ip, int n, double centre, double sigma, Scratch s, int d,
                        boolean derivatives) {
        double[] val = s.val[d];
        double[] dc = s.dc[d];
        double[] ds = s.ds[d];
        int lo;
        int hi;
        switch (ip) {
            case BILINEAR -> {
                double floor = Math.floor(centre);
                double r = centre - floor;
                lo = (int) Math.max(0, Math.min(n, floor));
                hi = (int) Math.max(0, Math.min(n, floor + 2));
                for (int i = lo; i < hi; i++) {
                    if (i == floor) {
                        val[i] = 1 - r;
                        dc[i] = -1;
                    } else {
                        val[i] = r;
                        dc[i] = 1;
                    }
                    ds[i] = 0;
                }
            }
            case TRIANGLE, TRIANGLE_LEARNED_WIDTH -> {
                boolean learned = ip == Interpolation.TRIANGLE_LEARNED_WIDTH;
                double halfWidth = learned ? Math.abs(sigma) + 1 : 1;
                double sgn = learned ? Math.signum(sigma) : 0;
                int from = (int) Math.max(0, Math.min(n, Math.floor(centre - halfWidth)));
                int to = (int) Math.max(0, Math.min(n, Math.ceil(centre + halfWidth) + 1));
                lo = to;
                hi = from;
                for (int i = from; i < to; i++) {
                    double x = i - centre;
                    double a = learned ? Math.abs(sigma) + 1 - Math.abs(x) : 1 - Math.abs(x);
                    if (a > 0) {
                        val[i] = a;
                        dc[i] = Math.signum(x);
                        ds[i] = sgn;
                        lo = Math.min(lo, i);
                        hi = i + 1;
                    } else {
                        val[i] = 0;
                        dc[i] = 0;
                        ds[i] = 0;
                    }
                }
                if (hi <= lo) {
                    lo = 0;
                    hi = 0;
                }
            }
            case GAUSSIAN -> {
                // exp(-z^2 / 2), z = (idx - centre) / width, one vector of cells at a time (the scratch arrays
                // are padded to whole vectors)
                double invWidth = 1.0 / (Math.abs(sigma) + GAUSS_OFFSET);
                double sgn = Math.signum(sigma);
                for (int i = 0; i < n; i += DL) {
                    DoubleVector z = IOTA.add(i - centre).mul(invWidth);
                    DoubleVector v = z.mul(z).mul(-0.5).lanewise(VectorOperators.EXP);
                    v.intoArray(val, i);
                    if (derivatives) {
                        DoubleVector vz = v.mul(z).mul(invWidth);
                        vz.intoArray(dc, i);
                        vz.mul(z).mul(sgn).intoArray(ds, i);
                    }
                }
                lo = 0;
                hi = n;
            }
            default -> throw new IllegalStateException("unknown interpolation " + ip);
        }
        s.lo[d] = lo;
        s.hi[d] = hi;
    }

    private static void forwardPair(ConstructConfig c, float[] weight, float[] positions, float[] sigma,
                                    float[] kernel, int pair, Scratch s) {
        int[] dks = s.dks;
        int ndim = dks.length;
        int volume = s.volume;
        int kc = s.kc;
        int elements = s.elements;
        Interpolation ip = s.ip;
        boolean normalised = ip != Interpolation.BILINEAR;
        double[] acc = s.acc;
        java.util.Arrays.fill(acc, 0.0);
        for (int k = 0; k < kc; k++) {
            int e = pair * kc + k;
            double norm = 1;
            for (int d = 0; d < ndim; d++) {
                profile(ip, dks[d], positions[d * elements + e] + dks[d] / 2,
                        sigma == null ? 0.0 : sigma[d * elements + e], s, d, false);
                if (normalised) {
                    norm *= sum(s.val[d], s.lo[d], s.hi[d]);
                }
            }
            double scale = normalised ? weight[e] / (norm + EPS) : weight[e];
            switch (ndim) {
                case 1 -> {
                    double[] a = s.val[0];
                    for (int x = s.lo[0]; x < s.hi[0]; x++) {
                        acc[x] += scale * a[x];
                    }
                }
                case 2 -> {
                    double[] a = s.val[0];
                    double[] b = s.val[1];
                    int w = dks[1];
                    int lo1 = s.lo[1];
                    int hi1 = s.hi[1];
                    for (int h = s.lo[0]; h < s.hi[0]; h++) {
                        double ah = scale * a[h];
                        int row = h * w;
                        for (int x = lo1; x < hi1; x++) {
                            acc[row + x] += ah * b[x];
                        }
                    }
                }
                default -> {
                    double[] a = s.val[0];
                    double[] b = s.val[1];
                    double[] cc = s.val[2];
                    int hh = dks[1];
                    int w = dks[2];
                    int lo2 = s.lo[2];
                    int hi2 = s.hi[2];
                    for (int dd = s.lo[0]; dd < s.hi[0]; dd++) {
                        double ad = scale * a[dd];
                        for (int h = s.lo[1]; h < s.hi[1]; h++) {
                            double ah = ad * b[h];
                            int row = (dd * hh + h) * w;
                            for (int x = lo2; x < hi2; x++) {
                                acc[row + x] += ah * cc[x];
                            }
                        }
                    }
                }
            }
        }
        int base = pair * volume;
        for (int i = 0; i < volume; i++) {
            kernel[base + i] = (float) acc[i];
        }
    }

    private static void backwardPair(ConstructConfig c, float[] weight, float[] positions, float[] sigma,
                                     float[] gk, float[] gradWeight, float[] gradPositions, float[] gradSigma,
                                     boolean accumulate, int pair, Scratch s) {
        int[] dks = s.dks;
        int ndim = dks.length;
        int volume = s.volume;
        int kc = s.kc;
        int elements = s.elements;
        Interpolation ip = s.ip;
        boolean normalised = ip != Interpolation.BILINEAR;
        boolean wantSigma = gradSigma != null;
        int base = pair * volume;
        double[] t = s.t;
        double[] ts = s.ts;
        double[] sv = s.sv;
        for (int k = 0; k < kc; k++) {
            int e = pair * kc + k;
            for (int d = 0; d < ndim; d++) {
                profile(ip, dks[d], positions[d * elements + e] + dks[d] / 2,
                        sigma == null ? 0.0 : sigma[d * elements + e], s, d, true);
            }
            // n = sum g u; t[d] = sum g du/dc_d; ts[d] = sum g du/ds_d, over the support only.
            double n = 0;
            t[0] = t[1] = t[2] = 0;
            ts[0] = ts[1] = ts[2] = 0;
            switch (ndim) {
                case 1 -> {
                    double[] a = s.val[0], ad = s.dc[0], as = s.ds[0];
                    double n1 = 0, t1 = 0, ts1 = 0, n2 = 0, t2 = 0, ts2 = 0; // two chains each
                    int x = s.lo[0];
                    int end = s.hi[0];
                    for (; x + 1 < end; x += 2) {
                        double g = gk[base + x];
                        double g2 = gk[base + x + 1];
                        n1 += g * a[x];
                        t1 += g * ad[x];
                        ts1 += g * as[x];
                        n2 += g2 * a[x + 1];
                        t2 += g2 * ad[x + 1];
                        ts2 += g2 * as[x + 1];
                    }
                    if (x < end) {
                        double g = gk[base + x];
                        n1 += g * a[x];
                        t1 += g * ad[x];
                        ts1 += g * as[x];
                    }
                    n = n1 + n2;
                    t[0] = t1 + t2;
                    ts[0] = ts1 + ts2;
                }
                case 2 -> {
                    double[] a = s.val[0], ad = s.dc[0], as = s.ds[0];
                    double[] b = s.val[1], bd = s.dc[1], bs = s.ds[1];
                    int w = dks[1];
                    int lo1 = s.lo[1], hi1 = s.hi[1];
                    for (int h = s.lo[0]; h < s.hi[0]; h++) {
                        int row = base + h * w;
                        double s0 = 0, s1 = 0, s2 = 0, r0 = 0, r1 = 0, r2 = 0; // two chains each
                        int x = lo1;
                        for (; x + 1 < hi1; x += 2) {
                            double g = gk[row + x];
                            double g2 = gk[row + x + 1];
                            s0 += g * b[x];
                            s1 += g * bd[x];
                            s2 += g * bs[x];
                            r0 += g2 * b[x + 1];
                            r1 += g2 * bd[x + 1];
                            r2 += g2 * bs[x + 1];
                        }
                        if (x < hi1) {
                            double g = gk[row + x];
                            s0 += g * b[x];
                            s1 += g * bd[x];
                            s2 += g * bs[x];
                        }
                        s0 += r0;
                        s1 += r1;
                        s2 += r2;
                        n += a[h] * s0;
                        t[0] += ad[h] * s0;
                        ts[0] += as[h] * s0;
                        t[1] += a[h] * s1;
                        ts[1] += a[h] * s2;
                    }
                }
                default -> {
                    double[] a = s.val[0], ad = s.dc[0], as = s.ds[0];
                    double[] b = s.val[1], bd = s.dc[1], bs = s.ds[1];
                    double[] cc = s.val[2], cd = s.dc[2], cs = s.ds[2];
                    int hh = dks[1], w = dks[2];
                    int lo2 = s.lo[2], hi2 = s.hi[2];
                    for (int dd = s.lo[0]; dd < s.hi[0]; dd++) {
                        double q0 = 0, q1 = 0, q1s = 0, q2 = 0, q2s = 0;
                        for (int h = s.lo[1]; h < s.hi[1]; h++) {
                            int row = base + (dd * hh + h) * w;
                            double s0 = 0, s1 = 0, s2 = 0, r0 = 0, r1 = 0, r2 = 0;
                            int x = lo2;
                            for (; x + 1 < hi2; x += 2) {
                                double g = gk[row + x];
                                double g2 = gk[row + x + 1];
                                s0 += g * cc[x];
                                s1 += g * cd[x];
                                s2 += g * cs[x];
                                r0 += g2 * cc[x + 1];
                                r1 += g2 * cd[x + 1];
                                r2 += g2 * cs[x + 1];
                            }
                            if (x < hi2) {
                                double g = gk[row + x];
                                s0 += g * cc[x];
                                s1 += g * cd[x];
                                s2 += g * cs[x];
                            }
                            s0 += r0;
                            s1 += r1;
                            s2 += r2;
                            q0 += b[h] * s0;
                            q1 += bd[h] * s0;
                            q1s += bs[h] * s0;
                            q2 += b[h] * s1;
                            q2s += b[h] * s2;
                        }
                        n += a[dd] * q0;
                        t[0] += ad[dd] * q0;
                        ts[0] += as[dd] * q0;
                        t[1] += a[dd] * q1;
                        ts[1] += a[dd] * q1s;
                        t[2] += a[dd] * q2;
                        ts[2] += a[dd] * q2s;
                    }
                }
            }
            double w = weight[e];
            double gw;
            if (normalised) {
                double prod = 1;
                for (int d = 0; d < ndim; d++) {
                    sv[d] = sum(s.val[d], s.lo[d], s.hi[d]);
                    prod *= sv[d];
                }
                double den = prod + EPS;
                double ratio = n / den;
                gw = ratio;
                for (int d = 0; d < ndim; d++) {
                    double others = 1;
                    for (int o = 0; o < ndim; o++) {
                        if (o != d) {
                            others *= sv[o];
                        }
                    }
                    double gp = w / den * (t[d] - ratio * sum(s.dc[d], s.lo[d], s.hi[d]) * others);
                    store(gradPositions, d * elements + e, gp, accumulate);
                    if (wantSigma) {
                        double gs = w / den * (ts[d] - ratio * sum(s.ds[d], s.lo[d], s.hi[d]) * others);
                        store(gradSigma, d * elements + e, gs, accumulate);
                    }
                }
            } else {
                gw = n;
                for (int d = 0; d < ndim; d++) {
                    store(gradPositions, d * elements + e, w * t[d], accumulate);
                    if (wantSigma) {
                        store(gradSigma, d * elements + e, 0.0, accumulate);
                    }
                }
            }
            store(gradWeight, e, gw, accumulate);
        }
    }

    private static void store(float[] a, int i, double v, boolean accumulate) {
        a[i] = accumulate ? (float) (a[i] + v) : (float) v;
    }

    /** The sum of a[lo..hi), with four independent partial sums (a chain of dependent adds is 4x slower). */
    private static double sum(double[] a, int lo, int hi) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = lo;
        for (; i + 3 < hi; i += 4) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
        }
        for (; i < hi; i++) {
            s0 += a[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    private static void check(ConstructConfig c, float[] weight, float[] positions, float[] sigma) {
        Objects.requireNonNull(c, "config");
        checkLength("weight", weight, c.elementCount());
        checkLength("positions", positions, c.positionLength());
        if (c.interpolation().learnsSigma()) {
            if (sigma == null) {
                throw new IllegalArgumentException(c.interpolation() + " needs sigma");
            }
            checkLength("sigma", sigma, c.positionLength());
        } else if (sigma != null) {
            throw new IllegalArgumentException(c.interpolation() + " has no sigma: pass null");
        }
    }

    static void checkLength(String name, float[] array, int expected) {
        Objects.requireNonNull(array, name);
        if (array.length != expected) {
            throw new IllegalArgumentException(name + " has length " + array.length + ", expected " + expected);
        }
    }
}
