package io.dcls4j;

/**
 * How a real-valued kernel element position is spread over the integer grid of the dilated kernel.
 * The native code and the pure-Java reference use {@link #code()} as the C ABI value.
 */
public enum Interpolation {
    /** Bilinear (trilinear in 3D) spread over the 2^ndim neighbouring cells; reference name {@code v0}. */
    BILINEAR("v0", false),
    /** Triangle {@code prod relu(1 - |d|)}, normalised over the grid; reference name {@code v1}. */
    TRIANGLE("v1", false),
    /** Triangle of learnable half-width {@code |sigma| + 1}, normalised; reference name {@code max}. */
    TRIANGLE_LEARNED_WIDTH("max", true),
    /** Gaussian of learnable width {@code |sigma| + 0.27}, normalised; reference name {@code gauss}. */
    GAUSSIAN("gauss", true);

    private final String referenceName;
    private final boolean learnsSigma;

    Interpolation(String referenceName, boolean learnsSigma) {
        this.referenceName = referenceName;
        this.learnsSigma = learnsSigma;
    }

    /** The name the PyTorch reference uses for its {@code version} argument. */
    public String referenceName() {
        return referenceName;
    }

    /** Whether this interpolation has a sigma parameter. */
    public boolean learnsSigma() {
        return learnsSigma;
    }

    /** The value of this interpolation in the C ABI ({@code dcls_interpolation}). */
    public int code() {
        return ordinal();
    }

    /** Looks up an interpolation by the PyTorch reference's name: {@code v0, v1, max, gauss}. */
    public static Interpolation fromReferenceName(String name) {
        for (Interpolation i : values()) {
            if (i.referenceName.equals(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException(
                "unknown DCLS version '" + name + "': expected one of v0, v1, max, gauss");
    }
}
