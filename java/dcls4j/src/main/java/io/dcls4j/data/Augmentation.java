package io.dcls4j.data;

/**
 * Light training-time augmentation, as torchvision's {@code RandomCrop(size, padding)} followed by
 * {@code RandomHorizontalFlip()}: the image is padded with {@code padding} black pixels on every side, a window of the
 * original size is cut from it at a uniformly random offset in {@code [0, 2 * padding]} on each axis, and the result is
 * mirrored left to right with probability 1/2 when {@code horizontalFlip} is set. The shape never changes.
 *
 * <p>The random choices for a sample are a function of (seed, epoch, sample index) only, never of which thread or
 * batch prepares it, so a prefetching loader and a synchronous one produce the same inputs, and a sample is augmented
 * differently in every epoch.
 */
public record Augmentation(int padding, boolean horizontalFlip) {
    /** No augmentation: every image as it is. */
    public static final Augmentation NONE = new Augmentation(0, false);

    public Augmentation {
        if (padding < 0 || padding > 64) {
            throw new IllegalArgumentException("padding must be in [0, 64], got " + padding);
        }
    }

    /** Random crop with {@code padding} and a random horizontal flip. */
    public static Augmentation cropAndFlip(int padding) {
        return new Augmentation(padding, true);
    }

    /** Whether this changes anything. */
    public boolean isIdentity() {
        return padding == 0 && !horizontalFlip;
    }

    /**
     * The choice for one sample, packed: the row offset in bits 0-7, the column offset in bits 8-15 (both in
     * {@code [0, 2 * padding]}, an offset of {@code padding} being no shift) and the flip in bit 16. Allocation-free.
     */
    int draw(long seed, int epoch, int sample) {
        long bits = SplitMix.hash(seed ^ 0x6a09e667f3bcc909L, epoch, sample);
        int span = 2 * padding + 1;
        // top 32 bits of (uniform 32-bit value x span): uniform in [0, span) up to a bias below span / 2^32
        int dy = (int) (((bits >>> 32) * span) >>> 32);
        int dx = (int) (((bits & 0xffffffffL) * span) >>> 32);
        int flip = horizontalFlip && (SplitMix.mix(bits) & 1) != 0 ? 1 : 0;
        return dy | dx << 8 | flip << 16;
    }

    static int rowOffset(int drawn) {
        return drawn & 0xff;
    }

    static int columnOffset(int drawn) {
        return (drawn >>> 8) & 0xff;
    }

    static boolean flipped(int drawn) {
        return (drawn >>> 16 & 1) != 0;
    }
}
