package io.dcls4j;

/**
 * A failure reported by the native core (the status and message of a {@code dcls.h} call), or a
 * native library that could not be loaded. Invalid arguments are caught in Java before any native
 * call and reported as {@link IllegalArgumentException} or {@link IllegalStateException} instead.
 */
public class DclsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;

    public DclsException(int status, String message) {
        super(message);
        this.status = status;
    }

    public DclsException(String message, Throwable cause) {
        super(message, cause);
        this.status = -1;
    }

    /** The {@code dcls_status} code, or -1 when the failure did not come from a native call. */
    public int status() {
        return status;
    }
}
