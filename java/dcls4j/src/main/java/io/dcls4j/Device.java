package io.dcls4j;

import io.dcls4j.internal.Cuda;
import io.dcls4j.internal.NativeLibrary;
import io.dcls4j.internal.CudaContext;

/**
 * Where a tensor's memory is and where a layer computes: the CPU, or one CUDA GPU ({@code cuda:0},
 * {@code cuda:1}, ...). A value: {@code Device.cuda(0).equals(Device.cuda(0))}. Creating one touches
 * nothing native; the first use of a CUDA device (allocating on it, a layer built on it) loads
 * {@code libdcls_cuda.so} and creates the device's context.
 *
 * <p><b>Ordering.</b> Each CUDA device has one context with one CUDA stream, created on first use and
 * shared by everything on that device. Work is enqueued on that stream and runs in the order it was
 * enqueued, so results flow from one call to the next without waiting: a layer's forward sees the
 * input copied before it, an optimizer's update sees the gradients of the backward before it. The host
 * waits only where it must:
 * <ul>
 *   <li>copies into ordinary (pageable) host memory, and {@link Tensor#toFloatArray()}, wait for the
 *       copy (and so for everything before it) before they return;
 *   <li>copies from pageable host memory may reuse the source as soon as they return;
 *   <li>pinned host memory ({@link Tensor#allocatePinned}) is read and written asynchronously:
 *       call {@link #synchronize()} before reading a pinned tensor a copy wrote, or before changing one
 *       a copy reads.
 * </ul>
 * An error in work that ran asynchronously is reported by the next call that waits.
 */
public final class Device {
    private static final Device CPU = new Device(-1);

    /** -1 for the CPU, else the CUDA device index. */
    private final int index;

    private Device(int index) {
        this.index = index;
    }

    /** The CPU: host memory, oneDNN and dcls4j's CPU kernels. */
    public static Device cpu() {
        return CPU;
    }

    /**
     * CUDA device {@code index} (0-based). Checked when first used, not here: a missing device or a
     * dcls4j built without CUDA is reported ({@link DclsException}) by the first allocation or layer.
     */
    public static Device cuda(int index) {
        if (index < 0) {
            throw new IllegalArgumentException("CUDA device index must be >= 0, got " + index);
        }
        return new Device(index);
    }

    /**
     * The device a name gives, as PyTorch writes them: {@code "cpu"}, {@code "cuda"} (device 0) or {@code "cuda:N"};
     * {@link IllegalArgumentException} for anything else. Like {@link #cuda}, it does not check that the device
     * exists.
     */
    public static Device parse(String name) {
        if (name == null) {
            throw new IllegalArgumentException("device name is null");
        }
        String n = name.strip();
        if (n.equals("cpu")) {
            return CPU;
        }
        if (n.equals("cuda")) {
            return cuda(0);
        }
        String digits = n.startsWith("cuda:") ? n.substring(5) : "";
        if (!digits.isEmpty() && digits.length() <= 10 && digits.chars().allMatch(Character::isDigit)) {
            long index = Long.parseLong(digits);
            if (index <= Integer.MAX_VALUE) {
                return cuda((int) index);
            }
        }
        throw new IllegalArgumentException("unknown device '" + name + "': expected cpu, cuda or cuda:N");
    }

    /** Whether this is a CUDA device. */
    public boolean isCuda() {
        return index >= 0;
    }

    /** The CUDA device index, or -1 for the CPU. */
    public int index() {
        return index;
    }

    /**
     * The number of CUDA devices this process can use: 0 when dcls4j was built without CUDA, or there is
     * no driver or no GPU. Never throws for any of those; loads {@code libdcls_cuda.so} if it is there.
     */
    public static int cudaDeviceCount() {
        return Cuda.deviceCount();
    }

    /** Whether at least one CUDA device can be used. */
    /** Whether this jar carries the CUDA library ({@code libdcls_cuda.so}); false on a CPU-only build. */
    public static boolean cudaLibraryBundled() {
        return NativeLibrary.cudaBundled();
    }

    /** Why {@link #cudaDeviceCount()} is 0 (no library, no driver, no device), or "" when it is not. */
    public static String cudaUnavailableReason() {
        if (!cudaLibraryBundled()) {
            return NativeLibrary.CUDA_LIBRARY + " is not in the jar";
        }
        return cudaDeviceCount() > 0 ? "" : Cuda.noDeviceReason();
    }

    /** The cuDNN version the CUDA library loads (e.g. "9.19.0"); a {@link DclsException} says why when none. */
    public static String cudnnVersion() {
        return Cuda.cudnnVersion();
    }

    /** This CUDA device's name, compute capability and memory, as the driver reports them. */
    public String describe() {
        if (!isCuda()) {
            return "cpu";
        }
        return Cuda.describe(index);
    }

    public static boolean cudaAvailable() {
        return cudaDeviceCount() > 0;
    }

    /**
     * Waits until all the work enqueued on this device has finished (see the class comment). Nothing to
     * wait for on the CPU, or on a CUDA device nothing has run on yet.
     */
    public void synchronize() {
        if (isCuda()) {
            CudaContext c = CudaContext.existing(index);
            if (c != null) {
                c.synchronize();
            }
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Device d && d.index == index;
    }

    @Override
    public int hashCode() {
        return Integer.hashCode(index);
    }

    /** {@code "cpu"} or {@code "cuda:N"}, as PyTorch writes devices. */
    @Override
    public String toString() {
        return isCuda() ? "cuda:" + index : "cpu";
    }
}
