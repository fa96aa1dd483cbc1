package io.dcls4j.internal;

import io.dcls4j.Dcls;
import io.dcls4j.DclsException;
import io.dcls4j.Interpolation;
import io.dcls4j.Tensor;

import java.lang.foreign.Arena;

/**
 * Started in a separate JVM by {@link NativeLibraryTest} with libraries that cannot load: prints what each of
 * several calls throws. Every one must be a DclsException naming the cause, never an Error.
 */
public final class FailingLoadProbe {
    private FailingLoadProbe() {}

    public static void main(String[] args) {
        Runnable[] calls = {
            Dcls::oneDnnVersion,
            Dcls::cpuIsa,
            () -> io.dcls4j.DclsConv.builder(1, 1).kernelCount(1).dilatedKernelSize(3)
                    .interpolation(Interpolation.BILINEAR).build().forward(Tensor.allocate(Arena.ofAuto(), 1, 1, 5)),
        };
        for (int i = 0; i < calls.length; i++) {
            try {
                calls[i].run();
                System.out.println("call " + i + ": no exception");
            } catch (DclsException e) {
                System.out.println("call " + i + ": DclsException " + e.status() + ": " + e.getMessage());
            } catch (Throwable t) {
                System.out.println("call " + i + ": " + t.getClass().getName() + ": " + t.getMessage());
            }
        }
    }
}
