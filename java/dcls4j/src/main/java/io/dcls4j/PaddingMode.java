package io.dcls4j;

/** How the input is extended beyond its border before the convolution, as in PyTorch's {@code padding_mode}. */
public enum PaddingMode {
    ZEROS("zeros"),
    REFLECT("reflect"),
    REPLICATE("replicate"),
    CIRCULAR("circular");

    private final String referenceName;

    PaddingMode(String referenceName) {
        this.referenceName = referenceName;
    }

    /** The name PyTorch uses for this mode. */
    public String referenceName() {
        return referenceName;
    }

    /** The value of this mode in the C ABI ({@code dcls_padding_mode}). */
    public int code() {
        return ordinal();
    }

    /** Looks up a padding mode by PyTorch's name: {@code zeros, reflect, replicate, circular}. */
    public static PaddingMode fromReferenceName(String name) {
        for (PaddingMode m : values()) {
            if (m.referenceName.equals(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException(
                "unknown padding mode '" + name + "': expected one of zeros, reflect, replicate, circular");
    }
}
