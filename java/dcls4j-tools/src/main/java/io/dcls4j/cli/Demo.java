package io.dcls4j.cli;

import io.dcls4j.DclsConv;
import io.dcls4j.Interpolation;
import io.dcls4j.Tensor;
import io.dcls4j.optim.AdamW;
import io.dcls4j.optim.LrSchedule;
import io.dcls4j.optim.ParamGroup;
import io.dcls4j.optim.SigmaSchedule;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The demo's training run, without any terminal or chart code.
 *
 * <p>A teacher DCLS convolution (2 -> 3 channels) has one tap per (out, in) channel pair, at known
 * non-integer positions spread over a large kernel (15x15 in 2D, 31 in 1D), with weights of both
 * signs. A student DCLS layer of the same shape, with random positions and zero weights, learns to
 * match it from fresh random inputs: MSE loss with its gradient by hand, AdamW with the positions at 5x
 * the learning rate (cosine schedule with warm-up), and sigma set by an exponential schedule from half
 * the kernel size (Gaussian; the whole kernel size for the triangle of learned width) down to the
 * teacher's 0.23, so that every position feels the gradient from across the kernel at first and is
 * pinned down precisely at the end. Interpolations without a sigma get that reach from smoothed inputs
 * instead ({@link InputBlur}).
 *
 * <p>Why one tap per pair: with several taps per pair, plain gradient descent on this loss can park
 * two student taps on one teacher tap (they then move in lockstep, and no gradient separates them),
 * so recovery depends on the seed. With one tap per pair the answer is unique and every seed finds it.
 */
final class Demo {
    static final int IN = 2;
    static final int OUT = 3;
    /** Taps per (out, in) pair, teacher and student alike. */
    static final int TAPS = 1;
    static final int BATCH = 8;
    static final int DEFAULT_STEPS = 1500;
    /** The teacher's sigma and the end of the student's sigma schedule. */
    static final double SIGMA = 0.23;

    /** What to run. */
    record Config(int dims, Interpolation interpolation, int steps, long seed) {
        Config {
            if (dims != 1 && dims != 2) {
                throw new IllegalArgumentException("dims must be 1 or 2, got " + dims);
            }
            if (steps < 1) {
                throw new IllegalArgumentException("steps must be >= 1, got " + steps);
            }
        }

        int kernelSize() {
            return dims == 1 ? 31 : 15;
        }

        int inputSize() {
            return dims == 1 ? 128 : 28;
        }
    }

    /** Called after every step. */
    interface Listener {
        void step(int step, int steps, double loss);
    }

    /**
     * The outcome.
     *
     * @param truth    teacher positions, [tap][axis], tap = (out * IN + in) * TAPS + k
     * @param paths    student positions over training, [tap][axis][recorded point]
     * @param recorded the step of each recorded point (0 = before training)
     * @param losses   the loss of every step
     * @param sigmas   the scheduled sigma of every step, or null without a schedule
     * @param matched  for each student tap, the teacher tap it was matched to
     * @param error    max |learned - true| over taps and axes after matching
     * @param seconds  wall time of the training loop
     */
    record Result(Config config, double[][] truth, double[][][] paths, int[] recorded, double[] losses,
                  double[] sigmas, int[] matched, double error, double seconds) {
        int taps() {
            return truth.length;
        }

        /** max over axes of |path - truth| of {@code tap} at each recorded point. */
        double[] errorPath(int tap) {
            double[][] p = paths[tap];
            double[] t = truth[matched[tap]];
            double[] e = new double[recorded.length];
            for (int i = 0; i < e.length; i++) {
                for (int d = 0; d < p.length; d++) {
                    e[i] = Math.max(e[i], Math.abs(p[d][i] - t[d]));
                }
            }
            return e;
        }
    }

    /** Teacher positions, one row per (out, in) pair: non-integer, spread over the kernel. */
    static double[][] teacherPositions(int dims) {
        double[][] twoD = {
                {-4.6, 3.3},   // pair (0,0): (axis 0 = row, axis 1 = column) offsets from the centre
                {2.7, 4.4},    // (0,1)
                {3.4, -3.8},   // (1,0)
                {-3.3, -4.7},  // (1,1)
                {0.4, 2.2},    // (2,0)
                {-1.8, -1.4},  // (2,1)
        };
        double[][] oneD = {{-10.4}, {2.3}, {9.6}, {-6.3}, {-0.7}, {12.4}};
        return dims == 1 ? oneD : twoD;
    }

    static double[] teacherWeights() {
        return new double[] {1.0, -0.8, 0.7, 0.9, -0.6, 0.8};
    }

    static Result run(Config c, Listener listener) {
        int dims = c.dims();
        int dks = c.kernelSize();
        int pad = dks / 2;
        int[] kernelSize = dims == 1 ? new int[] {dks} : new int[] {dks, dks};
        double[][] truth = teacherPositions(dims);
        double[] w = teacherWeights();
        int taps = OUT * IN * TAPS;
        boolean hasSigma = c.interpolation().learnsSigma();
        SplittableRandom random = new SplittableRandom(c.seed());
        try (Arena arena = Arena.ofConfined();
             DclsConv teacher = DclsConv.builder(IN, OUT).kernelCount(TAPS).dilatedKernelSize(kernelSize)
                     .padding(pad).bias(false).interpolation(c.interpolation()).seed(0).build();
             DclsConv student = DclsConv.builder(IN, OUT).kernelCount(TAPS).dilatedKernelSize(kernelSize)
                     .padding(pad).bias(false).interpolation(c.interpolation()).seed(c.seed()).build()) {
            // the teacher: chosen positions (dcls4j layout (ndim, OUT, IN, TAPS)) and weights
            for (int t = 0; t < taps; t++) {
                teacher.weight().value().set(t, (float) w[t]);
                for (int d = 0; d < dims; d++) {
                    teacher.positions().value().set((long) d * taps + t, (float) truth[t][d]);
                }
            }
            if (hasSigma) {
                teacher.sigma().value().fill((float) SIGMA);
            }
            // the student: positions uniform over most of the kernel; weights zero, so that each weight first
            // takes the sign of its teacher tap instead of pushing its position away from it
            double spread = dks / 2.0 - 1;
            for (long i = 0; i < (long) dims * taps; i++) {
                student.positions().value().set(i, (float) random.nextDouble(-spread, spread));
            }
            student.weight().value().fill(0f);
            long decaySteps = Math.max(1, (long) (c.steps() * 0.7));
            SigmaSchedule sigmas = null;
            if (hasSigma) {
                student.freezeSigma(true);  // set by the schedule, not learned (and left out of the optimizer)
                // Gaussian: from half the kernel size (the spiking-delay recipe); the triangle's half-width
                // is |sigma| + 1, so it starts at the whole kernel size to reach across it
                sigmas = c.interpolation() == Interpolation.GAUSSIAN
                        ? SigmaSchedule.fromKernelSize(student, SIGMA, decaySteps)
                        : SigmaSchedule.exponential(dks, SIGMA, decaySteps);
            }
            // without a sigma, a position only feels the loss within a pixel: smooth inputs widen its reach
            // instead (the loss then weighs kernel differences by the inputs' autocorrelation), and they
            // become white noise as training goes on
            InputBlur blur = hasSigma ? null : new InputBlur(dims, c.inputSize(), dks / 4.0, decaySteps);
            double lr = 0.02;
            try (AdamW opt = AdamW.builder().lr(lr).weightDecay(0)
                    .groups(ParamGroup.dcls(5, student))
                    .schedule(LrSchedule.cosine(lr, Math.max(1, c.steps() / 20), c.steps(), lr * 0.02))
                    .clampPositions(student)
                    .build()) {
                long[] inputShape = dims == 1 ? new long[] {BATCH, IN, c.inputSize()}
                        : new long[] {BATCH, IN, c.inputSize(), c.inputSize()};
                Tensor x = Tensor.allocate(arena, inputShape);
                Tensor target = Tensor.allocate(arena, student.outputShape(inputShape));
                Tensor gradY = Tensor.allocate(arena, student.outputShape(inputShape));
                int record = Math.max(1, c.steps() / 500);
                int points = c.steps() / record + 2;
                double[][][] paths = new double[taps][dims][points];
                int[] recorded = new int[points];
                int n = recordPositions(student, paths, recorded, 0, 0);
                double[] losses = new double[c.steps()];
                double[] sigmaValues = sigmas == null ? null : new double[c.steps()];
                MemorySegment xs = x.segment();
                long start = System.nanoTime();
                for (int step = 0; step < c.steps(); step++) {
                    if (blur != null) {
                        blur.fill(x, random, step);
                    } else {
                        for (long i = 0, e = x.elementCount(); i < e; i++) {
                            xs.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextGaussian());
                        }
                    }
                    if (sigmas != null) {
                        sigmas.apply(student, step);
                        sigmaValues[step] = sigmas.sigma(0, step);
                    }
                    target.copyFrom(teacher.forward(x));
                    Tensor y = student.forward(x);
                    losses[step] = mseGradient(y, target, gradY);
                    student.backward(gradY);
                    opt.step();
                    opt.zeroGrad();
                    if ((step + 1) % record == 0 || step + 1 == c.steps()) {
                        n = recordPositions(student, paths, recorded, n, step + 1);
                    }
                    if (listener != null) {
                        listener.step(step + 1, c.steps(), losses[step]);
                    }
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                for (int t = 0; t < taps; t++) {
                    for (int d = 0; d < dims; d++) {
                        paths[t][d] = Arrays.copyOf(paths[t][d], n);
                    }
                }
                recorded = Arrays.copyOf(recorded, n);
                double[][] learned = new double[taps][dims];
                for (int t = 0; t < taps; t++) {
                    for (int d = 0; d < dims; d++) {
                        learned[t][d] = paths[t][d][n - 1];
                    }
                }
                int[] matched = new int[taps];
                double error = match(learned, truth, matched);
                return new Result(c, truth, paths, recorded, losses, sigmaValues, matched, error, seconds);
            }
        }
    }

    /**
     * Random inputs smoothed by a Gaussian whose width decays exponentially from {@code start} to 0.3 pixel
     * over {@code decaySteps}, then white noise; unit variance throughout.
     */
    static final class InputBlur {
        private static final double END = 0.3;
        private final int dims;
        private final int size;
        private final double start;
        private final long decaySteps;
        private final int margin;
        private final double[] wide;
        private final double[] half;

        InputBlur(int dims, int size, double start, long decaySteps) {
            this.dims = dims;
            this.size = size;
            this.start = start;
            this.decaySteps = decaySteps;
            this.margin = (int) Math.ceil(3 * start);
            int full = size + 2 * margin;
            wide = new double[dims == 1 ? full : full * full];
            half = new double[dims == 1 ? size : full * size];
        }

        double width(long step) {
            return step >= decaySteps ? 0 : start * Math.pow(END / start, (double) step / decaySteps);
        }

        void fill(Tensor x, SplittableRandom random, long step) {
            double b = width(step);
            int r = b == 0 ? 0 : Math.min(margin, (int) Math.ceil(3 * b));
            double[] g = new double[2 * r + 1];
            double norm = 0;
            for (int i = -r; i <= r; i++) {
                g[i + r] = b == 0 ? 1 : Math.exp(-0.5 * i * i / (b * b));
                norm += g[i + r] * g[i + r];
            }
            for (int i = 0; i < g.length; i++) {
                g[i] /= Math.sqrt(norm);  // unit variance after each pass
            }
            int full = size + 2 * r;
            long planes = x.elementCount() / (dims == 1 ? size : (long) size * size);
            long out = 0;
            for (long plane = 0; plane < planes; plane++) {
                if (dims == 1) {
                    for (int i = 0; i < full; i++) {
                        wide[i] = random.nextGaussian();
                    }
                    for (int i = 0; i < size; i++) {
                        double v = 0;
                        for (int k = 0; k < g.length; k++) {
                            v += g[k] * wide[i + k];
                        }
                        x.set(out++, (float) v);
                    }
                    continue;
                }
                for (int i = 0; i < full * full; i++) {
                    wide[i] = random.nextGaussian();
                }
                for (int row = 0; row < full; row++) {            // along the columns
                    for (int col = 0; col < size; col++) {
                        double v = 0;
                        for (int k = 0; k < g.length; k++) {
                            v += g[k] * wide[row * full + col + k];
                        }
                        half[row * size + col] = v;
                    }
                }
                for (int row = 0; row < size; row++) {            // along the rows
                    for (int col = 0; col < size; col++) {
                        double v = 0;
                        for (int k = 0; k < g.length; k++) {
                            v += g[k] * half[(row + k) * size + col];
                        }
                        x.set(out++, (float) v);
                    }
                }
            }
        }
    }

    private static int recordPositions(DclsConv student, double[][][] paths, int[] recorded, int n, int step) {
        Tensor p = student.positions().value();
        int taps = paths.length;
        for (int t = 0; t < taps; t++) {
            for (int d = 0; d < paths[t].length; d++) {
                paths[t][d][n] = p.get((long) d * taps + t);
            }
        }
        recorded[n] = step;
        return n + 1;
    }

    /** Returns mean((y - t)^2) and writes its gradient, gradY = 2 (y - t) / n. */
    static double mseGradient(Tensor y, Tensor t, Tensor gradY) {
        long n = y.elementCount();
        double sum = 0;
        float scale = 2f / n;
        for (long i = 0; i < n; i++) {
            float r = y.get(i) - t.get(i);
            sum += (double) r * r;
            gradY.set(i, scale * r);
        }
        return sum / n;
    }

    /**
     * Matches the student taps of each (out, in) pair to the teacher taps of that pair (the permutation with
     * the smallest worst distance); returns the worst |learned - true| over taps and axes.
     */
    static double match(double[][] learned, double[][] truth, int[] matched) {
        int pairs = learned.length / TAPS;
        double worst = 0;
        int[][] perms = permutations(TAPS);
        for (int pair = 0; pair < pairs; pair++) {
            double best = Double.POSITIVE_INFINITY;
            int[] bestPerm = perms[0];
            for (int[] perm : perms) {
                double e = 0;
                for (int k = 0; k < TAPS; k++) {
                    e = Math.max(e, distance(learned[pair * TAPS + k], truth[pair * TAPS + perm[k]]));
                }
                if (e < best) {
                    best = e;
                    bestPerm = perm;
                }
            }
            for (int k = 0; k < TAPS; k++) {
                matched[pair * TAPS + k] = pair * TAPS + bestPerm[k];
            }
            worst = Math.max(worst, best);
        }
        return worst;
    }

    private static double distance(double[] a, double[] b) {
        double m = 0;
        for (int d = 0; d < a.length; d++) {
            m = Math.max(m, Math.abs(a[d] - b[d]));
        }
        return m;
    }

    /** Every permutation of 0..n-1. */
    static int[][] permutations(int n) {
        if (n == 1) {
            return new int[][] {{0}};
        }
        int[][] smaller = permutations(n - 1);
        int[][] out = new int[smaller.length * n][];
        int i = 0;
        for (int[] s : smaller) {
            for (int pos = 0; pos < n; pos++) {
                int[] p = new int[n];
                for (int j = 0, k = 0; j < n; j++) {
                    p[j] = j == pos ? n - 1 : s[k++];
                }
                out[i++] = p;
            }
        }
        return out;
    }
}
