package io.dcls4j.fuzz;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * The child JVM of a fuzz run: runs the cases of seeds [from, to) one after another and reports each on
 * stdout as {@code START seed} before and {@code END seed OUTCOME detail} after, so that the parent can
 * tell which case a crash or a hang happened in. Crashes and hangs are the parent's to count.
 */
public final class FuzzWorker {
    private FuzzWorker() {}

    public static void main(String[] args) {
        long from = Long.parseLong(args[0]);
        long to = Long.parseLong(args[1]);
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
                StandardCharsets.UTF_8);
        System.setOut(new PrintStream(java.io.OutputStream.nullOutputStream())); // only the protocol on stdout
        for (long seed = from; seed < to; seed++) {
            out.println("START " + seed);
            FuzzCase c;
            try {
                c = FuzzCases.make(seed);
            } catch (RuntimeException e) {
                out.println("END " + seed + " " + Outcome.UNCLEAR + " generator failed: " + oneLine(e));
                continue;
            }
            long t0 = System.nanoTime();
            String[] result = run(c);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            out.println("END " + seed + " " + result[0] + " " + ms + " ms " + oneLine(c.toString()) + " => " + result[1]);
        }
    }

    /** Runs one case: {outcome, detail}. */
    static String[] run(FuzzCase c) {
        boolean files = c.kind().equals("checkpoint");
        try {
            c.body().run();
        } catch (Wrong w) {
            return new String[] {Outcome.WRONG.name(), oneLine(w.getMessage())};
        } catch (Throwable t) {
            if (!Clear.isClear(t, files)) {
                return new String[] {Outcome.UNCLEAR.name(), oneLine(t)};
            }
            return switch (c.expect()) {
                case INVALID -> new String[] {Outcome.REFUSED.name(), oneLine(t)};
                case EITHER -> new String[] {Outcome.REFUSED_EXTREME.name(), oneLine(t)};
                case VALID -> new String[] {Outcome.UNEXPECTED_REFUSAL.name(), oneLine(t)};
            };
        }
        return switch (c.expect()) {
            case VALID -> new String[] {Outcome.OK.name(), "matched the reference"};
            case EITHER -> new String[] {Outcome.OK_EXTREME.name(), "ran"};
            case INVALID -> new String[] {Outcome.UNCLEAR.name(), "invalid input accepted without an exception"};
        };
    }

    private static String oneLine(Throwable t) {
        StringBuilder s = new StringBuilder(t.getClass().getName() + ": " + t.getMessage());
        StackTraceElement[] trace = t.getStackTrace();
        if (!Clear.isClear(t, true) && trace.length > 0) {
            for (int i = 0; i < Math.min(4, trace.length); i++) {
                s.append(" at ").append(trace[i]);
            }
        }
        return oneLine(s.toString());
    }

    static String oneLine(String s) {
        String v = String.valueOf(s).replace('\n', ' ').replace('\r', ' ');
        return v.length() > 600 ? v.substring(0, 600) + "..." : v;
    }

}
