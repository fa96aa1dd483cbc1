package io.dcls4j;

import io.dcls4j.ffi.dcls_h;

/** How the input is extended beyond its border before the convolution, as in PyTorch's {@code padding_mode}. */
public enum PaddingMode {
    ZEROS("zeros", dcls_h.DCLS_PADDING_ZEROS()),
    REFLECT("reflect", dcls_h.DCLS_PADDING_REFLECT()),
    REPLICATE("replicate", dcls_h.DCLS_PADDING_REPLICATE()),
    CIRCULAR("circular", dcls_h.DCLS_PADDING_CIRCULAR());

    private final String referenceName;
    private final int code;

    PaddingMode(String referenceName, int code) {
        this.referenceName = referenceName;
        this.code = code;
    }

    /** The name PyTorch uses for this mode. */
    public String referenceName() {
        return referenceName;
    }

    /** The value of this mode in the C ABI ({@code dcls_padding_mode}). */
    public int code() {
        return code;
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
