package io.dcls4j.data;

/**
 * How a pixel becomes a network input: {@code (pixel / 255 - mean) / std}, as torchvision's {@code ToTensor} followed by
 * {@code Normalize(mean, std)}. {@link #NONE} only scales to [0, 1].
 */
public record Normalization(float mean, float std) {
    /** Pixels scaled to [0, 1], nothing else. */
    public static final Normalization NONE = new Normalization(0f, 1f);

    public Normalization {
        if (!Float.isFinite(mean) || !Float.isFinite(std) || !(std > 0)) {
            throw new IllegalArgumentException("normalization needs a finite mean and a finite std > 0, got mean "
                    + mean + ", std " + std);
        }
    }

    /** The input value of pixel {@code pixel} (0 to 255), computed in double and rounded once to float. */
    public float apply(int pixel) {
        if (pixel < 0 || pixel > 255) {
            throw new IllegalArgumentException("pixel " + pixel + " is not in [0, 255]");
        }
        return (float) ((pixel / 255.0 - mean) / std);
    }

    /** {@link #apply} for every pixel value: what the batch assembler looks up instead of dividing. */
    float[] table() {
        float[] t = new float[256];
        for (int p = 0; p < 256; p++) {
            t[p] = apply(p);
        }
        return t;
    }
}
