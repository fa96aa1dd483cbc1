package io.dcls4j;

import io.dcls4j.ops.Convolution;
import io.dcls4j.ops.KernelConstruction;
import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input gets an exception naming the problem, before any native call; the JVM never crashes. */
class BadInputTest {

    static void fails(Class<? extends Throwable> type, String fragment, Executable call) {
        Throwable t = assertThrows(type, call);
        assertTrue(t.getMessage() != null && t.getMessage().contains(fragment),
                "message '" + t.getMessage() + "' should mention '" + fragment + "'");
    }

    static DclsConv.Builder valid() {
        return DclsConv.builder(4, 6).kernelCount(3).dilatedKernelSize(5, 7).padding(2, 3).seed(1);
    }

    @Test
    void invalidConfigurations() {
        fails(IllegalArgumentException.class, "groups (4) must divide", () -> valid().groups(4).build());
        fails(IllegalArgumentException.class, "groups must be >= 1", () -> valid().groups(0).build());
        fails(IllegalArgumentException.class, "kernelCount must be >= 1", () -> valid().kernelCount(0).build());
        fails(IllegalArgumentException.class, "kernelCount is required",
                () -> DclsConv.builder(1, 1).dilatedKernelSize(3).build());
        fails(IllegalArgumentException.class, "dilatedKernelSize[1] must be >= 1",
                () -> valid().dilatedKernelSize(3, 0).build());
        fails(IllegalArgumentException.class, "1 to 3 sizes", () -> valid().dilatedKernelSize(3, 3, 3, 3).build());
        fails(IllegalArgumentException.class, "padding[0] must be >= 0", () -> valid().padding(-1).build());
        fails(IllegalArgumentException.class, "stride[1] must be >= 1", () -> valid().stride(1, 0).build());
        fails(IllegalArgumentException.class, "stride needs 1 or 2 values", () -> valid().stride(1, 1, 1).build());
        fails(IllegalArgumentException.class, "channel counts must be >= 1",
                () -> DclsConv.builder(0, 3).kernelCount(1).dilatedKernelSize(3).build());
    }

    @Test
    void wrongInputShapes() {
        try (Arena arena = Arena.ofConfined(); DclsConv conv = valid().build()) {
            fails(IllegalArgumentException.class, "expects (N, 4, 2 spatial sizes)",
                    () -> conv.forward(Tensor.allocate(arena, 1, 4, 8)));
            fails(IllegalArgumentException.class, "input has 3 channels",
                    () -> conv.forward(Tensor.allocate(arena, 1, 3, 8, 8)));
            fails(IllegalArgumentException.class, "x is null", () -> conv.forward(null));
            fails(IllegalStateException.class, "backward called before forward",
                    () -> conv.backward(Tensor.allocate(arena, 1, 6, 8, 8)));
            conv.forward(Tensor.allocate(arena, 1, 4, 8, 8));
            fails(IllegalArgumentException.class, "gradY has shape [1, 6, 8, 7]",
                    () -> conv.backward(Tensor.allocate(arena, 1, 6, 8, 7)));
        }
        try (Arena arena = Arena.ofConfined();
             DclsConv reflect = valid().padding(4).paddingMode(PaddingMode.REFLECT).build()) {
            fails(IllegalArgumentException.class, "reflect padding 4 must be smaller than the input size 3",
                    () -> reflect.forward(Tensor.allocate(arena, 1, 4, 3, 12)));
        }
        try (Arena arena = Arena.ofConfined(); DclsConv conv = valid().padding(0).build()) {
            fails(IllegalArgumentException.class, "larger than the padded input",
                    () -> conv.forward(Tensor.allocate(arena, 1, 4, 4, 9)));
        }
    }

    @Test
    void badTensors() {
        fails(IllegalArgumentException.class, "sizes must be >= 1", () -> Tensor.allocate(Arena.ofAuto(), 2, 0));
        fails(IllegalArgumentException.class, "at least one dimension", () -> Tensor.allocate(Arena.ofAuto()));
        fails(IllegalArgumentException.class, "too large", () -> Tensor.allocate(Arena.ofAuto(), Long.MAX_VALUE, 2));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment small = arena.allocate(40, 64);
            fails(IllegalArgumentException.class, "too small", () -> Tensor.wrap(small, 11));
            fails(IllegalArgumentException.class, "not aligned to 4 bytes", () -> Tensor.wrap(small.asSlice(2), 4));
            fails(IllegalArgumentException.class, "Java heap", () -> Tensor.wrap(MemorySegment.ofArray(new float[4]), 4));
            fails(IllegalArgumentException.class, "got 3 values", () -> Tensor.allocate(arena, 2, 2).copyFrom(new float[3]));
        }
        Arena closed = Arena.ofConfined();
        MemorySegment gone = closed.allocate(64);
        closed.close();
        fails(IllegalStateException.class, "closed", () -> Tensor.wrap(gone, 4));
    }

    @Test
    void closedArenaIsCaughtBeforeTheNativeCall() {
        try (DclsConv conv = valid().build()) {
            Arena arena = Arena.ofConfined();
            Tensor x = Tensor.allocate(arena, 1, 4, 8, 8);
            conv.forward(x);
            arena.close();
            fails(IllegalStateException.class, "x: the arena of its memory is closed", () -> conv.forward(x));
        }
    }

    @Test
    void layerUsedAfterClose() {
        DclsConv conv = valid().build();
        conv.close();
        conv.close(); // idempotent
        fails(IllegalStateException.class, "DclsConv is closed", () -> conv.forward(Tensor.allocate(Arena.ofAuto(), 1, 4, 8, 8)));
        fails(IllegalStateException.class, "DclsConv is closed", conv::zeroGrad);
        fails(IllegalStateException.class, "DclsConv is closed", conv::clampPositions);
        fails(IllegalStateException.class, "closed", () -> conv.weight().value().toFloatArray());
    }

    @Test
    void functionalOpsCheckShapes() {
        KernelConstruction kc = new KernelConstruction(
                new ConstructConfig(Interpolation.GAUSSIAN, 2, 3, 4, new int[] {5, 5}));
        try (Arena arena = Arena.ofConfined()) {
            Tensor w = Tensor.allocate(arena, 2, 3, 4);
            Tensor p = Tensor.allocate(arena, 2, 2, 3, 4);
            Tensor k = Tensor.allocate(arena, 2, 3, 5, 5);
            fails(IllegalArgumentException.class, "sigma is null", () -> kc.forward(w, p, null, k));
            fails(IllegalArgumentException.class, "weight has shape [2, 3, 5], expected [2, 3, 4]",
                    () -> kc.forward(Tensor.allocate(arena, 2, 3, 5), p, p, k));
            fails(IllegalArgumentException.class, "kernel has shape",
                    () -> kc.forward(w, p, p, Tensor.allocate(arena, 2, 3, 5, 4)));
            kc.forward(w, p, p, k);

            Convolution plan = new Convolution(new ConvConfig(1, 4, 6, 2, new int[] {8, 8}, new int[] {3, 3},
                    new int[] {1, 1}, new int[] {1, 1}, PaddingMode.ZEROS));
            Tensor x = Tensor.allocate(arena, 1, 4, 8, 8);
            Tensor kernel = Tensor.allocate(arena, 6, 2, 3, 3);
            Tensor y = Tensor.allocate(arena, 1, 6, 8, 8);
            fails(IllegalArgumentException.class, "bias has shape [5], expected [6]",
                    () -> plan.forward(x, kernel, Tensor.allocate(arena, 5), y));
            plan.forward(x, kernel, null, y);
            plan.close();
            fails(IllegalStateException.class, "convolution plan is closed", () -> plan.forward(x, kernel, null, y));
        }
        fails(IllegalArgumentException.class, "groups (3) must divide",
                () -> new ConvConfig(1, 4, 6, 3, new int[] {8}, new int[] {3}, new int[] {1}, new int[] {1},
                        PaddingMode.ZEROS));
    }
}
