package io.dcls4j.vector;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes {@code vector/DwWeightKernels.java}: one unrolled Vector API kernel per (R rows, W columns) of depthwise
 * weight-gradient taps, R * W accumulators in registers. Generated because the JIT keeps accumulators in
 * registers only when each is its own local variable, and 28 hand-written copies would drift apart.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp target/test-classes io.dcls4j.vector.DwWeightKernelsGenerator \
 *     java/dcls4j/src/main/java/io/dcls4j/vector/DwWeightKernels.java</pre>
 *
 * {@code DwWeightKernelsGeneratorTest} fails when the committed file is not this generator's output.
 */
public final class DwWeightKernelsGenerator {
    /** Rows 1..5; the widest block per row count is {@link #maxWidth}. */
    static final int MAX_ROWS = 5;

    private DwWeightKernelsGenerator() {}

    static int maxWidth(int rows) {
        return rows <= 4 ? 6 : 4;
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: DwWeightKernelsGenerator <output .java file>");
            System.exit(2);
        }
        Files.writeString(Path.of(args[0]), generate());
    }

    /** The whole file's text. */
    static String generate() {
        StringBuilder s = new StringBuilder();
        s.append("""
                package io.dcls4j.vector;

                import jdk.incubator.vector.FloatVector;
                import jdk.incubator.vector.VectorSpecies;

                /**
                 * Depthwise (one input channel per group) weight-gradient kernels, generated: {@code weightsR_W} accumulates the
                 * gradient of the R x W taps (z, h0 .. h0+R-1, c0 .. c0+W-1) of one (output, input) pair over one sample, in
                 * R * W vector registers, into {@code part[0 .. R*W*L)} ([row][column][lane]).
                 *
                 * <p>R &gt;= 2 needs stride 1 along H: input row {@code r} meets gradient row {@code r - i} for tap row
                 * {@code h0 + i}, so each loaded input vector serves R taps and each loaded gradient vector W taps; the gradient's
                 * zero margin rows ({@link CorrPlan#gyMargin}) stand in for rows that do not exist. R = 1 works for any stride.
                 * The row offsets come from {@link CorrPlan#dwRowIn} / {@link CorrPlan#dwRowGrad} (R &gt;= 2) or
                 * {@link CorrPlan#gSlotIn} / {@link CorrPlan#gSlotGrad} (R = 1), one flat loop over vectors.
                 */
                final class DwWeightKernels {
                    private static final VectorSpecies<Float> S = CorrPlan.S;
                    private static final int L = CorrPlan.L;

                    private DwWeightKernels() {
                    }

                    /** The widest column block for R rows (register budget: R * W accumulators). */
                    static int maxWidth(int rows) {
                        return rows <= 4 ? 6 : 4;
                    }

                    /** Runs the R x W kernel. */
                    static void run(int rows, int width, CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,
                                    float[] part) {
                        switch (rows * 8 + width) {
                """);
        for (int r = 1; r <= MAX_ROWS; r++) {
            for (int w = 1; w <= maxWidth(r); w++) {
                s.append("            case ").append(r * 8 + w).append(" -> weights").append(r).append('x').append(w)
                        .append("(p, g, gb, xs, xb, z, h0, c0, part);\n");
            }
        }
        s.append("""
                            default -> throw new IllegalArgumentException("no kernel for " + rows + " x " + width);
                        }
                    }
                """);
        for (int r = 1; r <= MAX_ROWS; r++) {
            for (int w = 1; w <= maxWidth(r); w++) {
                kernel(s, r, w);
            }
        }
        s.append("}\n");
        return s.toString();
    }

    private static String offset(int slot) {
        return slot == 0 ? "0" : slot == 1 ? "L" : slot + " * L";
    }

    private static void kernel(StringBuilder s, int rows, int width) {
        s.append("\n    private static void weights").append(rows).append('x').append(width)
                .append("(CorrPlan p, float[] g, int gb, float[] xs, int xb, int z, int h0, int c0,\n")
                .append("                                   float[] part) {\n");
        if (rows > 1) {
            s.append("        final int owr = p.owr;\n");
        }
        for (int c = 0; c < width; c++) {
            s.append("        final int k").append(c).append(" = p.colOff[c0").append(c == 0 ? "" : " + " + c).append("];\n");
        }
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < width; c++) {
                s.append("        FloatVector a").append(r).append(c).append(" = FloatVector.fromArray(S, part, ")
                        .append(offset(r * width + c)).append(");\n");
            }
        }
        if (rows > 1) {
            s.append("        final int[] rowIn = p.dwRowIn[").append(rows).append("];\n");
            s.append("        final int[] rowGrad = p.dwRowGrad[").append(rows).append("];\n");
        } else {
            s.append("        final int[] rowIn = p.gSlotIn;\n");
            s.append("        final int[] rowGrad = p.gSlotGrad;\n");
        }
        s.append("        final int xBase = xb + (z * p.xh + h0) * p.wr;\n");
        s.append("        for (int t = 0; t < rowIn.length; t++) {\n");
        s.append("            int xo = xBase + rowIn[t];\n");
        s.append("            int go = gb + rowGrad[t];\n");
        for (int r = 0; r < rows; r++) {
            s.append("            FloatVector g").append(r).append(" = FloatVector.fromArray(S, g, go")
                    .append(r == 0 ? "" : r == 1 ? " - owr" : " - " + r + " * owr").append(");\n");
        }
        for (int c = 0; c < width; c++) {
            s.append("            FloatVector x").append(c).append(" = FloatVector.fromArray(S, xs, xo + k").append(c)
                    .append(");\n");
            for (int r = 0; r < rows; r++) {
                s.append("            a").append(r).append(c).append(" = g").append(r).append(".fma(x").append(c)
                        .append(", a").append(r).append(c).append(");\n");
            }
        }
        s.append("        }\n");
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < width; c++) {
                s.append("        a").append(r).append(c).append(".intoArray(part, ").append(offset(r * width + c))
                        .append(");\n");
            }
        }
        s.append("    }\n");
    }
}
