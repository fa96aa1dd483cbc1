package io.dcls4j;

import io.dcls4j.internal.Cuda;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static io.dcls4j.BadInputTest.fails;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device API, on every machine: values, the device count (0 without CUDA, never an exception), errors. */
class DeviceTest {

    @Test
    void devicesAreValues() {
        Device cpu = Device.cpu();
        assertSame(cpu, Device.cpu());
        assertFalse(cpu.isCuda());
        assertEquals(-1, cpu.index());
        assertEquals("cpu", cpu.toString());

        Device c0 = Device.cuda(0);
        assertTrue(c0.isCuda());
        assertEquals(0, c0.index());
        assertEquals("cuda:0", c0.toString());
        assertEquals("cuda:12", Device.cuda(12).toString());
        assertEquals(c0, Device.cuda(0));
        assertEquals(c0.hashCode(), Device.cuda(0).hashCode());
        assertNotEquals(c0, Device.cuda(1));
        assertNotEquals(cpu, c0);
        assertNotEquals(c0, cpu);
        assertNotEquals(c0, "cuda:0");
    }

    @Test
    void namesParseAsPyTorchWritesThem() {
        assertSame(Device.cpu(), Device.parse("cpu"));
        assertEquals(Device.cuda(0), Device.parse("cuda"));
        assertEquals(Device.cuda(0), Device.parse("cuda:0"));
        assertEquals(Device.cuda(3), Device.parse(" cuda:3 "));
        for (Device d : new Device[] {Device.cpu(), Device.cuda(0), Device.cuda(12)}) {
            assertEquals(d, Device.parse(d.toString()), "toString and parse agree");
        }
        for (String bad : new String[] {"gpu", "cuda:", "cuda:-1", "cuda:x", "CPU", "cuda:99999999999", "cuda:1:2", ""}) {
            fails(IllegalArgumentException.class, "expected cpu, cuda or cuda:N", () -> Device.parse(bad));
        }
        fails(IllegalArgumentException.class, "device name is null", () -> Device.parse(null));
    }

    @Test
    void aNegativeIndexIsRejected() {
        fails(IllegalArgumentException.class, "must be >= 0, got -1", () -> Device.cuda(-1));
    }

    @Test
    void theDeviceCountNeverThrows() {
        int n = Device.cudaDeviceCount();
        assertTrue(n >= 0, "count " + n);
        assertEquals(n, Device.cudaDeviceCount(), "the count is stable");
        assertEquals(n > 0, Device.cudaAvailable());
        if (n == 0) {
            String why = Cuda.noDeviceReason();
            assertNotNull(why, "a count of 0 says why");
            assertFalse(why.isBlank());
        }
    }

    @Test
    void synchronizeWaitsForNothingWhereNothingRan() {
        Device.cpu().synchronize();
        Device.cuda(1000).synchronize(); // no context was ever made there: nothing to wait for, nothing loaded
    }

    @Test
    void aMissingDeviceIsReportedBeforeAnyWork() {
        int n = Device.cudaDeviceCount();
        try (Arena arena = Arena.ofConfined()) {
            if (n == 0) {
                // this machine: no CUDA (not built, no driver or no GPU) is a DclsException saying so
                fails(DclsException.class, "cuda:0 is not available: ",
                        () -> Tensor.allocate(arena, Device.cuda(0), 4));
                fails(DclsException.class, "cuda:0 is not available: ",
                        () -> Tensor.allocatePinned(arena, Device.cuda(0), 4));
                fails(DclsException.class, "cuda:0 is not available: ",
                        () -> DclsConv.builder(2, 2).kernelCount(1).dilatedKernelSize(3).device(Device.cuda(0))
                                .build());
            } else {
                fails(IllegalArgumentException.class, "cuda:" + n + " does not exist",
                        () -> Tensor.allocate(arena, Device.cuda(n), 4));
                Tensor t = Tensor.allocate(arena, Device.cuda(n - 1), 4);
                assertArrayEquals(new float[4], t.toFloatArray(), "zero-filled");
            }
        }
    }
}
