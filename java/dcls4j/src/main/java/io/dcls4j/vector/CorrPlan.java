package io.dcls4j.vector;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The geometry of one grouped cross-correlation in the form the kernels run: every problem is 3-D (missing leading
 * axes have size 1), the input is already padded, and a stride along W is realised by splitting every input row
 * into {@code phases} sub-rows (column {@code c} stored at {@code (c % phases) * ws + c / phases}), so that the
 * inputs of consecutive output columns are consecutive in memory for every kernel tap.
 *
 * <p>Input planes {@code (batch, inCh)} of {@code xd * xh} rows of {@code wr} floats, {@code xPlane} floats apart,
 * followed by {@link #slack()} floats so that whole vectors may be read past any row; output planes
 * {@code (batch, outCh)} of {@code od * oh * ow} floats (C order, no gaps); kernel {@code (outCh, ipg, kd, kh, kw)}
 * in C order.
 *
 * <p>The output gradient, when a kernel reads it, is in a "row-padded" layout: every depth slice has
 * {@link #gyMargin} zero rows above and below its {@code oh} rows, every row {@code owr} (a multiple of the vector length) floats with zeros
 * after the {@code ow} values, planes {@code gPlane} floats apart.
 */
final class CorrPlan {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    /**
     * Zero rows above and below every slice of a row-padded output gradient, when the depthwise weight-gradient
     * kernels need them (up to 5 kernel rows share input rows: 4 rows of margin); 0 otherwise.
     */
    final int gyMargin;

    final int batch;
    final int inCh;
    final int outCh;
    final int groups;
    final int ipg;
    final int opg;
    final int xd;
    final int xh;
    final int phases;
    final int ws;
    final int wr;
    final int xPlane;
    final int kd;
    final int kh;
    final int kw;
    final int taps;
    final int sd;
    final int sh;
    final int od;
    final int oh;
    final int ow;
    final int yPlane;
    /** Row-padded output gradient: row length, slice length, plane length. */
    final int owr;
    final int gSlice;
    final int gPlane;
    /** Offset of kernel column {@code kw} inside an input row. */
    final int[] colOff;
    /**
     * Kernel rows are stored "phase-ordered": the columns {@code f, f + phases, f + 2 * phases, ...} of phase f
     * together, from {@code phOff[f]} ({@code phN[f]} of them); {@code colPos[kw]} is the position of column kw.
     * With stride 1 this is the identity.
     */
    final int[] phOff;
    final int[] phN;
    final int[] colPos;
    /**
     * Depthwise weight gradient with R tap rows (index R, 2 to 5), stride 1 along H: input and gradient offsets of
     * the vectors of rows (d, r), r &lt; oh + R - 1 (the kernel reads gradient rows r - R + 1 .. r, the margins
     * being zero).
     */
    final int[][] dwRowIn = new int[6][];
    final int[][] dwRowGrad = new int[6][];
    /** Offset of kernel row {@code (kd, kh)} (index {@code kd * kh + kh}) relative to an output's first input. */
    final int[] kRowOff;
    /** Offset of tap {@code (kd, kh, kw)} (flat C index) relative to the input position of its output. */
    final int[] tapOff;
    /** Output rows (od, oh): offset of the first input row, of the output row, of the row-padded gradient row. */
    final int rows;
    final int[] rowIn;
    final int[] rowOut;
    final int[] rowGrad;
    /**
     * Output vectors (row, column block), padded with empty ones to a multiple of 4: input offset, output offset,
     * first column ({@code ow} for the padding, so that nothing is stored).
     */
    final int slots;
    final int[] slotIn;
    final int[] slotOut;
    final int[] slotCol;
    /** The real output vectors (no padding): input offset and offset in the row-padded output gradient. */
    final int[] gSlotIn;
    final int[] gSlotGrad;

    CorrPlan(int batch, int inCh, int outCh, int groups, int xd, int xh, int xw, int phases,
             int kd, int kh, int kw, int sd, int sh, int od, int oh, int ow) {
        this.batch = batch;
        this.inCh = inCh;
        this.outCh = outCh;
        this.groups = groups;
        this.ipg = inCh / groups;
        this.opg = outCh / groups;
        this.xd = xd;
        this.xh = xh;
        this.phases = phases;
        this.ws = (xw + phases - 1) / phases;
        this.wr = phases * ws;
        long plane = roundUp((long) xd * xh * wr);
        this.kd = kd;
        this.kh = kh;
        this.kw = kw;
        this.taps = kd * kh * kw;
        this.sd = sd;
        this.sh = sh;
        this.od = od;
        this.oh = oh;
        this.ow = ow;
        this.owr = (int) roundUp(ow);
        this.gyMargin = ipg == 1 && sh == 1 && kh >= 2 ? 4 : 0;
        long slice = (long) (oh + 2 * gyMargin) * owr;
        long gradPlane = roundUp(od * slice);
        long outPlane = (long) od * oh * ow;
        if (plane * batch * inCh + slack() > Integer.MAX_VALUE || outPlane * batch * outCh > Integer.MAX_VALUE
                || gradPlane * batch * outCh + 4L * L > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("convolution too large for Java arrays");
        }
        this.xPlane = (int) plane;
        this.yPlane = (int) outPlane;
        this.gSlice = (int) slice;
        this.gPlane = (int) gradPlane;
        colOff = new int[kw];
        for (int c = 0; c < kw; c++) {
            colOff[c] = (c % phases) * ws + c / phases;
        }
        phOff = new int[phases];
        phN = new int[phases];
        colPos = new int[kw];
        for (int f = 0, at = 0; f < phases; f++) {
            phOff[f] = at;
            phN[f] = Math.max(0, (kw - f + phases - 1) / phases);
            at += phN[f];
        }
        for (int c = 0; c < kw; c++) {
            colPos[c] = phOff[c % phases] + c / phases;
        }
        kRowOff = new int[kd * kh];
        tapOff = new int[taps];
        for (int a = 0; a < kd; a++) {
            for (int b = 0; b < kh; b++) {
                kRowOff[a * kh + b] = (a * xh + b) * wr;
                for (int c = 0; c < kw; c++) {
                    tapOff[(a * kh + b) * kw + c] = kRowOff[a * kh + b] + colOff[c];
                }
            }
        }
        int vectorsPerRow = owr / L;
        for (int rr = 2; rr <= 5; rr++) {
            int[] in = new int[od * (oh + rr - 1) * vectorsPerRow];
            int[] grad = new int[in.length];
            for (int a = 0, i = 0; a < od; a++) {
                for (int r = 0; r < oh + rr - 1; r++) {
                    for (int v = 0; v < vectorsPerRow; v++, i++) {
                        in[i] = (a * sd * xh + r) * wr + v * L;
                        grad[i] = a * gSlice + (gyMargin + r) * owr + v * L;
                    }
                }
            }
            dwRowIn[rr] = in;
            dwRowGrad[rr] = grad;
        }
        rows = od * oh;
        rowIn = new int[rows];
        rowOut = new int[rows];
        rowGrad = new int[rows];
        int perRow = (ow + L - 1) / L;
        int realSlots = rows * perRow;
        slots = (realSlots + 3) / 4 * 4;
        slotIn = new int[slots];
        slotOut = new int[slots];
        slotCol = new int[slots];
        gSlotIn = new int[realSlots];
        gSlotGrad = new int[realSlots];
        java.util.Arrays.fill(slotCol, ow);
        for (int a = 0; a < od; a++) {
            for (int b = 0; b < oh; b++) {
                int r = a * oh + b;
                rowIn[r] = (a * sd * xh + b * sh) * wr;
                rowOut[r] = r * ow;
                rowGrad[r] = a * gSlice + (b + gyMargin) * owr;
                for (int v = 0; v < perRow; v++) {
                    int s = r * perRow + v;
                    slotIn[s] = rowIn[r] + v * L;
                    slotOut[s] = rowOut[r] + v * L;
                    slotCol[s] = v * L;
                    gSlotIn[s] = slotIn[s];
                    gSlotGrad[s] = rowGrad[r] + v * L;
                }
            }
        }
    }

    private static long roundUp(long n) {
        return (n + L - 1) / L * L;
    }

    /** Floats after the last input plane: vectors may start anywhere in a row and read up to 4 vectors on. */
    int slack() {
        return wr + 8 * L;
    }

    /** Length of the input buffer. */
    int inputLength() {
        return batch * inCh * xPlane + slack();
    }

    int outputLength() {
        return batch * outCh * yPlane;
    }

    /** Length of a row-padded output gradient buffer. */
    int gradLength() {
        return batch * outCh * gPlane + 4 * L;
    }
}
