package io.dcls4j.internal;

import io.dcls4j.DclsException;
import io.dcls4j.ffi.dcls_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The gate to the {@code dcls_cuda_*} bindings, as {@link Native} is to the CPU ones: loads
 * {@code libdcls_cuda.so} on first use, checks statuses against {@code dcls_cuda_last_error()}, and
 * answers what the machine has (device count, names, cuDNN) without ever throwing for a machine that
 * has no CUDA.
 */
public final class Cuda {
    private static final Object LOCK = new Object();
    /** -1 until asked; the device count does not change while the process runs (the runtime caches it too). */
    private static int deviceCount = -1;
    private static String noDeviceReason;

    private Cuda() {}

    /** Loads {@code libdcls_cuda.so}; {@link DclsException} ("dcls4j was built without CUDA ...") when absent. */
    public static void ensureLoaded() {
        NativeLibrary.loadCuda();
    }

    /**
     * The number of CUDA devices: 0 when the library is not bundled or cannot be loaded, or there is no
     * driver or no device ({@link #noDeviceReason()} then says which). Never throws for those.
     */
    public static int deviceCount() {
        synchronized (LOCK) {
            if (deviceCount < 0) {
                try {
                    ensureLoaded();
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment n = arena.allocate(ValueLayout.JAVA_INT);
                        check(dcls_h.dcls_cuda_device_count(n));
                        deviceCount = n.get(ValueLayout.JAVA_INT, 0);
                        noDeviceReason = deviceCount > 0 ? null : lastError();
                    }
                } catch (DclsException e) {
                    deviceCount = 0;
                    noDeviceReason = e.getMessage();
                }
            }
            return deviceCount;
        }
    }

    /** Why {@link #deviceCount()} is 0, or null when there are devices. */
    public static String noDeviceReason() {
        synchronized (LOCK) {
            deviceCount();
            return noDeviceReason;
        }
    }

    /**
     * Throws unless {@code device} exists: {@link DclsException} when CUDA is not there at all (library
     * missing, no driver, no device), {@link IllegalArgumentException} for an index past the last device.
     */
    public static void requireDevice(int device) {
        int n = deviceCount();
        if (n == 0) {
            throw new DclsException(-1, "cuda:" + device + " is not available: " + noDeviceReason());
        }
        if (device >= n) {
            throw new IllegalArgumentException("cuda:" + device + " does not exist: this machine has " + n
                    + " CUDA device" + (n == 1 ? "" : "s"));
        }
    }

    /** The device's name and compute capability, e.g. "NVIDIA H100 80GB HBM3 (compute capability 9.0)". */
    public static String describe(int device) {
        requireDevice(device);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocate(256);
            MemorySegment cc = arena.allocate(ValueLayout.JAVA_INT);
            check(dcls_h.dcls_cuda_device_info(device, name, name.byteSize(), cc));
            int c = cc.get(ValueLayout.JAVA_INT, 0);
            return name.getString(0) + " (compute capability " + c / 10 + "." + c % 10 + ")";
        }
    }

    /**
     * cuDNN's version as "major.minor.patch", or "unavailable: why" (not built with cuDNN, or not
     * loadable). Loads cuDNN; needs the CUDA library ({@link DclsException} without it).
     */
    public static String cudnnVersion() {
        int version = cudnnVersionCode();
        // cuDNN 9 encodes major * 10000 + minor * 100 + patch
        return version == 0 ? "unavailable: " + lastError()
                : version / 10000 + "." + version / 100 % 100 + "." + version % 100;
    }

    /** cuDNN's version code (e.g. 91000 for 9.10.0), 0 when unavailable; as {@link #cudnnVersion()}. */
    public static int cudnnVersionCode() {
        ensureLoaded();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ValueLayout.JAVA_INT);
            check(dcls_h.dcls_cuda_cudnn_version(v));
            return v.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** Throws a {@link DclsException} with {@code dcls_cuda_last_error()} unless {@code status} is DCLS_OK. */
    public static void check(int status) {
        if (status != dcls_h.DCLS_OK()) {
            throw new DclsException(status, lastError() + " (" + Native.statusName(status) + ")");
        }
    }

    /** The calling thread's last CUDA-library error message. */
    public static String lastError() {
        return Native.cString(dcls_h.dcls_cuda_last_error());
    }
}
