package io.dcls4j;

import io.dcls4j.internal.Cuda;
import org.junit.jupiter.api.Assumptions;

/**
 * Assumptions of the GPU tests: they report SKIPPED, never passed, where there is no CUDA device (and
 * scripts/gpu-check.sh counts a skip on the GPU host as a failure).
 */
final class GpuSupport {
    /** The device the GPU tests use. */
    static final Device GPU = Device.cuda(0);

    private GpuSupport() {}

    static void assumeGpu() {
        Assumptions.assumeTrue(Device.cudaAvailable(), () -> "no CUDA device: " + Cuda.noDeviceReason());
    }

    /**
     * Whether the device is the tests' CPU emulation of CUDA (tests/native/test_cuda_emu, loaded through
     * dcls4j.cuda.library by the build's "gpu-emulated" test run), not a GPU.
     */
    static boolean emulated() {
        return Device.cudaAvailable() && Cuda.describe(0).startsWith("CPU emulation");
    }
}
