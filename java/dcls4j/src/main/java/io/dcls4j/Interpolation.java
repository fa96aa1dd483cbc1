package io.dcls4j;

import io.dcls4j.ffi.dcls_h;

/**
 * How a real-valued kernel element position is spread over the integer grid of the dilated kernel.
 * {@link #code()} is the header's constant for it (by value: reordering the constants cannot shift it).
 */
public enum Interpolation {
    /** Bilinear (trilinear in 3D) spread over the 2^ndim neighbouring cells; reference name {@code v0}. */
    BILINEAR("v0", false, dcls_h.DCLS_INTERPOLATION_BILINEAR()),
    /** Triangle {@code prod relu(1 - |d|)}, normalised over the grid; reference name {@code v1}. */
    TRIANGLE("v1", false, dcls_h.DCLS_INTERPOLATION_TRIANGLE()),
    /** Triangle of learnable half-width {@code |sigma| + 1}, normalised; reference name {@code max}. */
    TRIANGLE_LEARNED_WIDTH("max", true, dcls_h.DCLS_INTERPOLATION_TRIANGLE_LEARNED_WIDTH()),
    /** Gaussian of learnable width {@code |sigma| + 0.27}, normalised; reference name {@code gauss}. */
    GAUSSIAN("gauss", true, dcls_h.DCLS_INTERPOLATION_GAUSSIAN());

    private final String referenceName;
    private final boolean learnsSigma;
    private final int code;

    Interpolation(String referenceName, boolean learnsSigma, int code) {
        this.referenceName = referenceName;
        this.learnsSigma = learnsSigma;
        this.code = code;
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
        return code;
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
