package io.dcls4j.cli;

import io.dcls4j.Dcls;
import io.dcls4j.Interpolation;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code dcls4j demo}: a DCLS student learns the tap positions of a teacher convolution from random inputs,
 * with a progress bar, then writes {@code positions.png} and {@code loss.png} and prints the position error.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = Versions.class, sortOptions = false,
        header = "Trains DCLS positions to find a teacher's taps; plots them (the main job).",
        description = {
                "A teacher DCLS convolution (2 -> 3 channels) has one tap per channel pair at known non-integer"
                        + " positions inside a large kernel (15x15 in 2D, 31 in 1D). A DCLS student with random"
                        + " positions and zero weights learns to match it from random inputs: MSE loss, AdamW with"
                        + " the positions at 5x the learning rate, and sigma decaying from the kernel's size to"
                        + " 0.23 (gauss, max) or inputs smoothed less and less (v0, v1).",
                "Writes positions.png (the learned positions' paths beside the true ones) and loss.png into the"
                        + " output folder, and prints the final position error: the largest |learned - true| after"
                        + " matching each learned tap to a teacher tap."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the positions were recovered (error <= 0.1 px)",
                "1:the error exceeds 0.1 px, or the run failed", "2:usage error"})
public final class DemoCommand implements Callable<Integer> {
    /** The largest position error, in pixels, that counts as recovered. */
    public static final double TOLERANCE = 0.1;

    @Spec
    CommandSpec spec;

    @Option(names = "--dims", paramLabel = "N", description = "Spatial dimensions, 1 or 2 (default: ${DEFAULT-VALUE}).")
    int dims = 2;

    @Option(names = "--interpolation", paramLabel = "NAME", converter = InterpolationConverter.class,
            description = "v0, v1, max or gauss (or BILINEAR, TRIANGLE, TRIANGLE_LEARNED_WIDTH, GAUSSIAN;"
                    + " default: gauss).")
    Interpolation interpolation = Interpolation.GAUSSIAN;

    @Option(names = "--steps", paramLabel = "N", description = "Training steps (default: ${DEFAULT-VALUE}).")
    int steps = Demo.DEFAULT_STEPS;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the student's initialisation and of the"
            + " inputs (default: ${DEFAULT-VALUE}).")
    long seed = 1;

    @Option(names = "--output", paramLabel = "DIR", description = "Folder for the PNGs (default: ${DEFAULT-VALUE}).")
    Path output = Path.of("demo-output");

    @Option(names = "--threads", paramLabel = "N", description = "Native threads; 0 = all cores"
            + " (default: ${DEFAULT-VALUE}).")
    int threads = 0;

    @Option(names = "--no-progress-bar", description = "Print progress as lines, never redraw one line.")
    boolean noProgressBar;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (dims != 1 && dims != 2) {
            throw new CommandLine.ParameterException(cl, "--dims must be 1 or 2, got " + dims);
        }
        if (steps < 1) {
            throw new CommandLine.ParameterException(cl, "--steps must be >= 1, got " + steps);
        }
        if (threads < 0) {
            throw new CommandLine.ParameterException(cl, "--threads must be >= 0, got " + threads);
        }
        System.setProperty("java.awt.headless", "true");
        PrintWriter out = cl.getOut();
        Dcls.setNumThreads(threads);
        Demo.Config config = new Demo.Config(dims, interpolation, steps, seed);
        int k = config.kernelSize();
        String kernel = dims == 1 ? Integer.toString(k) : k + "x" + k;
        out.printf("dcls4j demo: a %dD DCLS student learns where a teacher's %d taps are (%d -> %d channels, %d per"
                        + " channel pair, %s kernel, %s interpolation), %d steps on %d native threads%n", dims,
                Demo.IN * Demo.OUT * Demo.TAPS, Demo.IN, Demo.OUT, Demo.TAPS, kernel,
                interpolation.name().toLowerCase(Locale.ROOT), steps, Dcls.numThreads());
        out.flush();
        Progress progress = new Progress(out, Progress.onTerminal() && !noProgressBar);
        Demo.Result r = Demo.run(config, progress);
        progress.finish(r);
        double[] l = r.losses();
        out.printf("final loss %.3g (first %.3g)%n", l[l.length - 1], l[0]);
        Path positionsPng = output.resolve("positions.png");
        Path lossPng = output.resolve("loss.png");
        String what = String.format("dcls4j demo: %dD, %s interpolation, seed %d", dims,
                interpolation.referenceName(), seed);
        DemoCharts.positions(r, positionsPng, what + ": learned positions vs true positions");
        DemoCharts.loss(r, lossPng, what + ": training loss");
        out.printf("wrote %s and %s%n", positionsPng, lossPng);
        boolean ok = r.error() <= TOLERANCE;
        out.printf("position error: max |learned - true| = %.4f px (%s %.1f px)%n", r.error(),
                ok ? "within" : "NOT within", TOLERANCE);
        out.flush();
        if (!ok) {
            cl.getErr().printf("the student did not recover the teacher's positions to within %.1f px%n", TOLERANCE);
            cl.getErr().flush();
            return Main.FAILURE;
        }
        return Main.OK;
    }

    /** v0, v1, max, gauss, or an enum name, in any case. */
    static final class InterpolationConverter implements CommandLine.ITypeConverter<Interpolation> {
        @Override
        public Interpolation convert(String value) {
            String v = value.trim();
            for (Interpolation i : Interpolation.values()) {
                if (i.referenceName().equalsIgnoreCase(v) || i.name().equalsIgnoreCase(v)) {
                    return i;
                }
            }
            throw new CommandLine.TypeConversionException("unknown interpolation '" + value
                    + "': expected v0, v1, max, gauss or BILINEAR, TRIANGLE, TRIANGLE_LEARNED_WIDTH, GAUSSIAN");
        }
    }

    /**
     * A progress bar: on a terminal one line redrawn with a carriage return at most ten times a second;
     * otherwise (output to a file or a pipe) one line per tenth of the run.
     */
    static final class Progress implements Demo.Listener {
        private static final int WIDTH = 30;
        private final PrintWriter out;
        private final boolean terminal;
        private final long start = System.nanoTime();
        private long lastDraw;
        private int lastTenth;

        Progress(PrintWriter out, boolean terminal) {
            this.out = out;
            this.terminal = terminal;
        }

        /** Whether standard output is an interactive terminal. */
        static boolean onTerminal() {
            java.io.Console console = System.console();
            return console != null && console.isTerminal();
        }

        @Override
        public void step(int step, int steps, double loss) {
            long now = System.nanoTime();
            if (terminal) {
                if (step != steps && now - lastDraw < 100_000_000L) {
                    return;
                }
            } else {
                int tenth = (int) (10L * step / steps);
                if (tenth == lastTenth && step != 1) {
                    return;
                }
                lastTenth = tenth;
            }
            lastDraw = now;
            double seconds = (now - start) / 1e9;
            int filled = (int) ((long) WIDTH * step / steps);
            out.printf("%s[%s%s] step %d/%d  loss %.3e  %.0f steps/s %s", terminal ? "\r" : "", "#".repeat(filled),
                    "-".repeat(WIDTH - filled), step, steps, loss, step / Math.max(seconds, 1e-9),
                    terminal ? "" : System.lineSeparator());
            out.flush();
        }

        void finish(Demo.Result r) {
            out.printf("%sdone: %d steps in %.1f s (%.0f steps/s)%n", terminal ? System.lineSeparator() : "",
                    r.config().steps(), r.seconds(), r.config().steps() / r.seconds());
        }
    }
}
