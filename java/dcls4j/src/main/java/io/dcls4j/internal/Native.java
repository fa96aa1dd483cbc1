package io.dcls4j.internal;

import io.dcls4j.DclsException;
import io.dcls4j.ffi.dcls_h;

import java.lang.foreign.MemorySegment;

/**
 * The one gate to the generated bindings: loads the native library before the bindings are used,
 * and turns a failing {@code dcls_status} into a {@link DclsException} carrying the native message.
 */
public final class Native {
    static {
        // Never throws: a load failure is remembered and thrown as a DclsException by ensureLoaded(), on
        // the first call and every later one (an exception here would become ExceptionInInitializerError,
        // then NoClassDefFoundError).
        NativeLibrary.tryLoad();
    }

    private Native() {}

    /**
     * Makes sure the native library is loaded (for callers that then use {@link dcls_h} directly); throws
     * {@link DclsException} with status {@link DclsException.Status#LOAD_FAILED} naming the cause when it
     * could not be.
     */
    public static void ensureLoaded() {
        NativeLibrary.load();
    }

    /** Throws a {@link DclsException} with the native error message unless {@code status} is DCLS_OK. */
    public static void check(int status) {
        if (status != dcls_h.DCLS_OK()) {
            throw new DclsException(status, lastError() + " (" + statusName(status) + ")");
        }
    }

    /** The calling thread's last native error message. */
    public static String lastError() {
        return cString(dcls_h.dcls_last_error());
    }

    /** Reads a NUL-terminated C string the native library owns. */
    public static String cString(MemorySegment pointer) {
        return pointer.reinterpret(4096).getString(0);
    }

    /** The status in words for messages, e.g. "invalid argument"; the number for an unknown one. */
    static String statusName(int status) {
        DclsException.Status s = DclsException.Status.of(status);
        return s == DclsException.Status.UNKNOWN ? "status " + status : s.words();
    }
}
