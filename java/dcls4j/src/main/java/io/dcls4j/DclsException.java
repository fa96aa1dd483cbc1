package io.dcls4j;

/**
 * A failure reported by the native core (the status and message of a {@code dcls.h} call), or a
 * native library that could not be loaded. Invalid arguments are caught in Java before any native
 * call and reported as {@link IllegalArgumentException} or {@link IllegalStateException} instead.
 */
public class DclsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Why it failed: the C ABI's {@code dcls_status} values, mapped by value (never by declaration order),
     * and the Java-side causes that come before any native call.
     */
    public enum Status {
        /** {@code DCLS_ERROR_INVALID_ARGUMENT}: a null pointer, a bad size or an unsupported setting. */
        INVALID_ARGUMENT(1),
        /** {@code DCLS_ERROR_OUT_OF_MEMORY}. */
        OUT_OF_MEMORY(2),
        /** {@code DCLS_ERROR_BACKEND}: oneDNN, CUDA or cuDNN reported an error. */
        BACKEND(3),
        /** {@code DCLS_ERROR_INTERNAL}: anything else, a bug. */
        INTERNAL(4),
        /** The native libraries could not be found, extracted or loaded (no native call was made). */
        LOAD_FAILED(-2),
        /** A failure on the Java side around a native call, e.g. no such device (no native status). */
        NOT_NATIVE(-1),
        /** A status value this version of the Java code does not know. */
        UNKNOWN(Integer.MIN_VALUE);

        private final int code;

        Status(int code) {
            this.code = code;
        }

        /** The {@code dcls_status} value, or a negative value for the Java-side causes. */
        public int code() {
            return code;
        }

        /** The status whose C ABI value is {@code code}; {@link #UNKNOWN} for a value not listed. */
        public static Status of(int code) {
            for (Status s : values()) {
                if (s.code == code) {
                    return s;
                }
            }
            return UNKNOWN;
        }

        /** Lower-case words for messages, e.g. "invalid argument". */
        public String words() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
        }
    }

    private final Status status;
    private final int code;

    /** A failure with the native status value {@code code} (or a negative Java-side value). */
    public DclsException(int code, String message) {
        super(message);
        this.code = code;
        this.status = Status.of(code);
    }

    public DclsException(Status status, String message) {
        super(message);
        this.code = status.code();
        this.status = status;
    }

    public DclsException(String message, Throwable cause) {
        this(Status.NOT_NATIVE, message, cause);
    }

    public DclsException(Status status, String message, Throwable cause) {
        super(message, cause);
        this.code = status.code();
        this.status = status;
    }

    /** Why it failed. */
    public Status status() {
        return status;
    }

    /** The raw {@code dcls_status} value (negative for Java-side causes): for logs and unknown values. */
    public int statusCode() {
        return code;
    }
}
