package io.dcls4j.internal;

import io.dcls4j.DclsConv;
import io.dcls4j.DclsException;
import io.dcls4j.Device;
import io.dcls4j.Tensor;
import io.dcls4j.optim.AdamW;

import java.lang.foreign.Arena;

/**
 * Started in a separate JVM by {@link NativeLibraryTest}: trains a CPU layer one step and prints whether
 * that loaded libdcls_cuda.so (it must not), then asks for CUDA and prints what it found.
 */
public final class CudaLoadProbe {
    private CudaLoadProbe() {}

    public static void main(String[] args) {
        try (Arena arena = Arena.ofConfined();
             DclsConv conv = DclsConv.builder(2, 2).kernelCount(2).dilatedKernelSize(5).padding(2).seed(1).build();
             AdamW opt = AdamW.builder().params(conv.parameters()).build()) {
            Tensor x = Tensor.allocate(arena, 1, 2, 9).fill(1f);
            Tensor y = conv.forward(x);
            conv.backward(Tensor.allocate(arena, y.shape()).fill(1f));
            opt.step();
            Device.cpu().synchronize();
        }
        System.out.println("cpu only: cudaLoaded=" + NativeLibrary.cudaLoaded());
        System.out.println("bundled=" + NativeLibrary.cudaBundled() + " cudaLoaded=" + NativeLibrary.cudaLoaded());
        int n = Device.cudaDeviceCount();
        System.out.println("count=" + n + " cudaLoaded=" + NativeLibrary.cudaLoaded()
                + (n == 0 ? " reason=" + Cuda.noDeviceReason() : ""));
        if (n == 0) {
            try (Arena arena = Arena.ofConfined()) {
                Tensor.allocate(arena, Device.cuda(0), 4);
                System.out.println("allocated without a device?");
            } catch (DclsException e) {
                System.out.println("allocate: DclsException: " + e.getMessage());
            }
        }
    }
}
