package io.dcls4j;

import io.dcls4j.ops.KernelConstruction;
import io.dcls4j.optim.AdamW;
import io.dcls4j.ops.ConstructConfig;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static io.dcls4j.BadInputTest.fails;
import static io.dcls4j.GpuSupport.GPU;
import static io.dcls4j.GpuSupport.assumeGpu;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tensors on devices. The first tests run everywhere: argument checks that come before any CUDA call,
 * and a device tensor's refusals, on a stand-in device tensor (an address nothing reads; these tests
 * never let it reach native code). The rest need a GPU: copies in every direction, pinned memory, and
 * device memory given back when its arena closes.
 */
class DeviceTensorTest {

    /** A device tensor over an address no test dereferences or passes to native code. */
    private static Tensor standIn(long... shape) {
        return Tensor.onDevice(MemorySegment.ofAddress(1L << 40), GPU, shape);
    }

    @Test
    void allocationArgumentsAreCheckedBeforeCuda() {
        try (Arena arena = Arena.ofConfined()) {
            fails(IllegalArgumentException.class, "device is null", () -> Tensor.allocate(arena, (Device) null, 2));
            fails(IllegalArgumentException.class, "arena is null", () -> Tensor.allocate(null, GPU, 2));
            fails(IllegalArgumentException.class, "sizes must be >= 1", () -> Tensor.allocate(arena, GPU, 2, 0));
            fails(IllegalArgumentException.class, "too large", () -> Tensor.allocate(arena, GPU, Long.MAX_VALUE, 2));
            fails(IllegalArgumentException.class, "pinned memory comes from a CUDA device's context, got cpu",
                    () -> Tensor.allocatePinned(arena, Device.cpu(), 2));
            fails(IllegalArgumentException.class, "got null", () -> Tensor.allocatePinned(arena, null, 2));
            fails(IllegalArgumentException.class, "sizes must be >= 1", () -> Tensor.allocatePinned(arena, GPU, 0));
        }
        Arena closed = Arena.ofConfined();
        closed.close();
        fails(IllegalStateException.class, "arena is already closed", () -> Tensor.allocate(closed, GPU, 2));
        fails(IllegalStateException.class, "arena is already closed", () -> Tensor.allocatePinned(closed, GPU, 2));
    }

    @Test
    void onTheCpuAllocateIsTheOrdinaryAllocation() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.allocate(arena, Device.cpu(), 2, 3);
            assertEquals(Device.cpu(), t.device());
            assertFalse(t.isPinned());
            assertEquals(0, t.segment().address() % Tensor.ALIGNMENT);
            assertArrayEquals(new float[6], t.toFloatArray());
            t.set(4, 2f);
            assertEquals(2f, t.get(4));
            assertEquals("Tensor[2, 3]", t.toString());
            Tensor copy = t.to(arena, Device.cpu());
            assertArrayEquals(t.toFloatArray(), copy.toFloatArray());
            copy.set(0, 1f);
            assertEquals(0f, t.get(0), "to() copies");
        }
    }

    @Test
    void aDeviceTensorIsNeverReadableFromJava() {
        Tensor d = standIn(2, 3);
        assertEquals(GPU, d.device());
        assertFalse(d.isPinned());
        assertEquals("Tensor[2, 3] on cuda:0", d.toString());
        fails(IllegalStateException.class, "segment() on a tensor on cuda:0", d::segment);
        fails(IllegalStateException.class, "get(i) on a tensor on cuda:0", () -> d.get(0));
        fails(IllegalStateException.class, "set(i, value) on a tensor on cuda:0", () -> d.set(0, 1f));
        Tensor r = d.reshape(3, 2);
        assertEquals(GPU, r.device());
        fails(IllegalStateException.class, "cannot be read or written from Java", r::segment);
    }

    @Test
    void copiesCheckSizesAndArenasBeforeCuda() {
        Tensor d = standIn(2, 3);
        try (Arena arena = Arena.ofConfined()) {
            fails(IllegalArgumentException.class, "got 5 values for a tensor of shape [2, 3]",
                    () -> d.copyFrom(new float[5]));
            fails(IllegalArgumentException.class, "cannot copy a tensor of shape [7] into one of shape [2, 3]",
                    () -> d.copyFrom(Tensor.allocate(arena, 7)));
            fails(IllegalArgumentException.class, "cannot copy a tensor of shape [2, 3] into one of shape [5]",
                    () -> Tensor.allocate(arena, 5).copyFrom(d));
        }
        Arena closed = Arena.ofConfined();
        Tensor gone = Tensor.allocate(closed, 2, 3);
        Tensor deviceGone = Tensor.onDevice(MemorySegment.ofAddress(1L << 40).reinterpret(closed, null), GPU, 2, 3);
        closed.close();
        fails(IllegalStateException.class, "source tensor: the arena of its memory is closed", () -> d.copyFrom(gone));
        fails(IllegalStateException.class, "tensor: the arena of its memory is closed", () -> gone.copyFrom(d));
        fails(IllegalStateException.class, "the arena of its memory is closed", deviceGone::toFloatArray);
        fails(IllegalStateException.class, "the arena of its memory is closed", () -> deviceGone.fill(1f));
        fails(IllegalStateException.class, "the arena of its memory is closed",
                () -> deviceGone.copyFrom(new float[6]));
        fails(IllegalStateException.class, "the arena of its memory is closed",
                () -> deviceGone.to(Arena.ofAuto(), Device.cpu()));
    }

    @Test
    void cpuCodeRefusesDeviceTensorsNamingBothDevices() {
        try (Arena arena = Arena.ofConfined();
             DclsConv conv = DclsConv.builder(4, 6).kernelCount(3).dilatedKernelSize(5, 7).padding(2, 3).seed(1)
                     .build()) {
            fails(IllegalArgumentException.class, "x is on cuda:0, but this layer is on cpu",
                    () -> conv.forward(standIn(1, 4, 8, 8)));
            conv.forward(Tensor.allocate(arena, 1, 4, 8, 8));
            fails(IllegalArgumentException.class, "gradY is on cuda:0, but this layer is on cpu",
                    () -> conv.backward(standIn(1, 6, 8, 8)));

            KernelConstruction kc = new KernelConstruction(new ConstructConfig(Interpolation.GAUSSIAN, 2, 3, 4,
                    new int[] {5, 5}));
            Tensor p = Tensor.allocate(arena, 2, 2, 3, 4);
            fails(IllegalArgumentException.class, "positions is on cpu, expected cuda:0",
                    () -> kc.forward(standIn(2, 3, 4), p, p, Tensor.allocate(arena, 2, 3, 5, 5)));

            Parameter mixed = new Parameter("weight", standIn(2, 3), Tensor.allocate(arena, 2, 3));
            fails(IllegalArgumentException.class, "parameter weight: value on cuda:0, grad on cpu",
                    () -> AdamW.builder().params(mixed).build());
        }
    }

    @Test
    void layerConfigurationIsCheckedBeforeCuda() {
        DclsConv.Builder onGpu = DclsConv.builder(4, 6).kernelCount(3).dilatedKernelSize(5, 7).device(GPU);
        fails(IllegalArgumentException.class, "groups (4) must divide", () -> onGpu.groups(4).build());
        onGpu.groups(1);
        fails(IllegalArgumentException.class, "device must not be null",
                () -> DclsConv.builder(4, 6).kernelCount(3).dilatedKernelSize(5, 7).device(null).build());
        try (DclsConv owner = DclsConv.builder(4, 6).kernelCount(3).dilatedKernelSize(5, 7).build()) {
            fails(IllegalArgumentException.class, "cannot share positions: the owner is on cpu, this layer on cuda:0",
                    () -> onGpu.sharePositionsWith(owner).build());
        }
    }

    // ------------------------------------------------------------------------------------------ on a GPU

    private static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextDouble(-1, 1);
        }
        return v;
    }

    @Test
    void copiesRoundTripInEveryDirection() {
        assumeGpu();
        float[] values = random(2 * 3 * 5, 1);
        try (Arena arena = Arena.ofConfined()) {
            Tensor host = Tensor.allocate(arena, 2, 3, 5).copyFrom(values);
            Tensor d1 = Tensor.allocate(arena, GPU, 2, 3, 5);
            assertEquals(GPU, d1.device());
            assertArrayEquals(new float[values.length], d1.toFloatArray(), "device memory starts zeroed");
            d1.copyFrom(host);                                        // host -> device
            Tensor d2 = Tensor.allocate(arena, GPU, 6, 5).copyFrom(d1);  // device -> device (same count)
            Tensor back = Tensor.allocate(arena, 2, 3, 5).copyFrom(d2); // device -> host, waited for
            assertArrayEquals(values, back.toFloatArray());
            assertArrayEquals(values, d2.toFloatArray());
            assertArrayEquals(values, d1.to(arena, Device.cpu()).toFloatArray());
            Tensor d3 = d1.to(arena, GPU);
            d1.fill(0f);
            assertArrayEquals(values, d3.toFloatArray(), "to() makes a copy");
            assertArrayEquals(new float[values.length], d1.toFloatArray());
            d1.fill(-2.5f);
            for (float v : d1.toFloatArray()) {
                assertEquals(-2.5f, v);
            }
            d1.copyFrom(values);                                     // float[] -> device
            assertArrayEquals(values, d1.toFloatArray());
            assertArrayEquals(values, d1.reshape(30).toFloatArray());
            fails(IllegalStateException.class, "segment() on a tensor on cuda:0", d1::segment);
            fails(IllegalStateException.class, "get(i) on a tensor on cuda:0", () -> d1.get(0));
        }
    }

    @Test
    void pinnedMemoryIsHostMemoryCopiedAsynchronously() {
        assumeGpu();
        float[] values = random(1000, 2);
        try (Arena arena = Arena.ofConfined()) {
            Tensor pinned = Tensor.allocatePinned(arena, GPU, 10, 100);
            assertEquals(Device.cpu(), pinned.device());
            assertTrue(pinned.isPinned());
            assertEquals("Tensor[10, 100] (pinned)", pinned.toString());
            assertArrayEquals(new float[1000], pinned.toFloatArray(), "zero-filled");
            pinned.copyFrom(values);
            assertEquals(values[7], pinned.get(7));

            Tensor d = Tensor.allocate(arena, GPU, 10, 100).copyFrom(pinned); // enqueued
            Tensor pinnedBack = Tensor.allocatePinned(arena, GPU, 1000);
            pinnedBack.copyFrom(d);                                          // enqueued after it
            GPU.synchronize();                                               // then read
            assertArrayEquals(values, pinnedBack.toFloatArray());
            for (int i = 0; i < values.length; i++) {
                assertEquals(values[i], pinnedBack.segment().getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i));
            }
        }
    }

    @Test
    void closedArenasAndSizeMismatchesOnTheGpu() {
        assumeGpu();
        Arena arena = Arena.ofConfined();
        Tensor d = Tensor.allocate(arena, GPU, 4, 4);
        fails(IllegalArgumentException.class, "cannot copy a tensor of shape [3] into one of shape [4, 4]",
                () -> d.copyFrom(Tensor.allocate(Arena.ofAuto(), GPU, 3)));
        arena.close();
        fails(IllegalStateException.class, "the arena of its memory is closed", d::toFloatArray);
        fails(IllegalStateException.class, "the arena of its memory is closed",
                () -> Tensor.allocate(Arena.ofAuto(), 16).copyFrom(d));
    }

    @Test
    void closingTheArenaGivesTheDeviceMemoryBack() {
        assumeGpu();
        Assumptions.assumeFalse(GpuSupport.emulated(), "160 GiB of allocations: a GPU test, too slow on the emulation");
        // 80 x 2 GiB is more than any GPU has: this passes only if every close frees its memory
        for (int i = 0; i < 80; i++) {
            try (Arena arena = Arena.ofConfined()) {
                Tensor big = Tensor.allocate(arena, GPU, 512, 1024, 1024);
                assertEquals(512L * 1024 * 1024, big.elementCount());
            }
        }
        GPU.synchronize();
    }
}
