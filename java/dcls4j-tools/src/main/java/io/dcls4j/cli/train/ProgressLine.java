package io.dcls4j.cli.train;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * The progress of one phase (an epoch) as a line: step, loss, accuracy, images/s and the time left, e.g.
 *
 * <pre>epoch 3/20 [#########...........] 210/468  loss 0.4123  acc 85.21%  2310 img/s  ETA 0:58</pre>
 *
 * On a terminal the line is redrawn in place ({@code \r}) at most {@code 10} times a second; elsewhere (a log file, CI)
 * a complete line is printed every {@code interval} and none in between, so logs stay readable. {@link #finish()}
 * prints the last state and ends the line either way.
 *
 * <p>{@link #update} is cheap when it prints nothing (no allocation), so it can be called every step.
 */
public final class ProgressLine {
    private static final long TERMINAL_REDRAW_NANOS = 100_000_000L;
    private static final int BAR_WIDTH = 20;

    private final PrintWriter out;
    private final boolean terminal;
    private final String label;
    private final int totalSteps;
    private final long intervalNanos;
    private final LongSupplier clock;
    private final long start;
    private long lastPrint;
    private int lastWidth;
    private int step;
    private double loss = Double.NaN;
    private double accuracy = Double.NaN;
    private double imagesPerSecond;
    private boolean finished;

    /**
     * @param out            where to print
     * @param terminal       redraw one line in place (see {@link #isTerminal()}) rather than print lines
     * @param label          what the phase is, printed first ("epoch 3/20")
     * @param totalSteps     steps of the phase, for the bar and the ETA
     * @param intervalNanos  for non-terminal output: the least time between two printed lines
     * @param clock          nanosecond clock ({@code System::nanoTime}; tests pass their own)
     */
    public ProgressLine(PrintWriter out, boolean terminal, String label, int totalSteps, long intervalNanos,
                        LongSupplier clock) {
        this.out = Objects.requireNonNull(out, "out");
        this.terminal = terminal;
        this.label = Objects.requireNonNull(label, "label");
        if (totalSteps < 1) {
            throw new IllegalArgumentException("total steps must be >= 1, got " + totalSteps);
        }
        if (intervalNanos < 0) {
            throw new IllegalArgumentException("interval must be >= 0, got " + intervalNanos);
        }
        this.totalSteps = totalSteps;
        this.intervalNanos = intervalNanos;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.start = clock.getAsLong();
        this.lastPrint = start;
    }

    /** On a terminal with {@code \r} redraws, elsewhere a line every 10 seconds; the system clock. */
    public static ProgressLine of(PrintWriter out, String label, int totalSteps) {
        return new ProgressLine(out, isTerminal(), label, totalSteps, 10_000_000_000L, System::nanoTime);
    }

    /** Whether standard output is an interactive terminal (not a pipe or a file). */
    public static boolean isTerminal() {
        java.io.Console console = System.console();
        return console != null && console.isTerminal();
    }

    /**
     * Records the state after step {@code step} (1 to totalSteps) and prints it if it is time.
     *
     * @param loss            running mean loss
     * @param accuracy        running accuracy, a fraction (NaN when not known)
     * @param imagesPerSecond current throughput
     */
    public void update(int step, double loss, double accuracy, double imagesPerSecond) {
        this.step = step;
        this.loss = loss;
        this.accuracy = accuracy;
        this.imagesPerSecond = imagesPerSecond;
        long now = clock.getAsLong();
        if (now - lastPrint >= (terminal ? TERMINAL_REDRAW_NANOS : intervalNanos)) {
            lastPrint = now;
            print(now);
        }
    }

    /** Prints the final state and ends the line. Once. */
    public void finish() {
        if (finished) {
            return;
        }
        finished = true;
        print(clock.getAsLong());
        if (terminal) {
            out.println();
        }
        out.flush();
    }

    private void print(long now) {
        String line = render(now);
        if (terminal) {
            // \r back to the start; spaces over whatever the longer previous line left
            int pad = Math.max(0, lastWidth - line.length());
            out.print("\r" + line + " ".repeat(pad));
            lastWidth = line.length();
        } else {
            out.println(line);
        }
        out.flush();
    }

    /** The line for the current state at time {@code now}. */
    String render(long now) {
        StringBuilder s = new StringBuilder(96);
        s.append(label).append(" [");
        int filled = (int) ((long) BAR_WIDTH * Math.min(step, totalSteps) / totalSteps);
        s.append("#".repeat(filled)).append(".".repeat(BAR_WIDTH - filled)).append("] ");
        s.append(step).append('/').append(totalSteps);
        s.append(String.format(Locale.ROOT, "  loss %.4f", loss));
        if (!Double.isNaN(accuracy)) {
            s.append(String.format(Locale.ROOT, "  acc %.2f%%", 100 * accuracy));
        }
        s.append(String.format(Locale.ROOT, "  %.0f img/s", imagesPerSecond));
        s.append("  ").append(step >= totalSteps ? "took " + clock(now - start) : "ETA " + eta(now));
        return s.toString();
    }

    /** Time left, extrapolating the mean time per step so far; "?" before the first step. */
    private String eta(long now) {
        if (step <= 0) {
            return "?";
        }
        double perStep = (double) (now - start) / step;
        return clock((long) (perStep * (totalSteps - step)));
    }

    /** h:mm:ss, or m:ss under an hour. */
    static String clock(long nanos) {
        long seconds = Math.round(nanos / 1e9);
        long h = seconds / 3600;
        long m = seconds / 60 % 60;
        long sec = seconds % 60;
        return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, sec)
                : String.format(Locale.ROOT, "%d:%02d", m, sec);
    }
}
