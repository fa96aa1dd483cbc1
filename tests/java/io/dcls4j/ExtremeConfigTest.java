package io.dcls4j;

import io.dcls4j.NativeVsReferenceTest.Case;
import io.dcls4j.internal.MemoryBudget;
import io.dcls4j.ops.ConvConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;

import static io.dcls4j.BadInputTest.fails;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Configurations at the extremes (issue 10, findings 1 to 3): huge strides give the right single output
 * instead of a crash in oneDNN, sizes past int range an IllegalArgumentException naming the dimension and
 * the limit, and configurations needing more memory than allowed fail at once with the size.
 */
class ExtremeConfigTest {

    /** Finding 1: strides past the padded input crashed oneDNN (SIGSEGV) in forward, backward or the plan. */
    @ParameterizedTest(name = "stride {0}")
    @ValueSource(ints = {32768, 65535, 131072, 1 << 20, 1 << 24, 1 << 30, Integer.MAX_VALUE})
    void hugeStridesMatchTheReference(int stride) {
        NativeVsReferenceTest.check(new Case(7, Interpolation.GAUSSIAN, 1, 2, 3, 2, 1, 3, new int[] {3},
                new int[] {stride}, new int[] {2}, PaddingMode.ZEROS, true, new int[] {11}), false);
        NativeVsReferenceTest.check(new Case(8, Interpolation.BILINEAR, 2, 1, 2, 4, 2, 2, new int[] {3, 5},
                new int[] {stride, 2}, new int[] {1, 2}, PaddingMode.REFLECT, true, new int[] {6, 7}), false);
        NativeVsReferenceTest.check(new Case(9, Interpolation.TRIANGLE, 3, 1, 2, 2, 2, 2, new int[] {3, 3, 3},
                new int[] {stride, 1, stride}, new int[] {1, 0, 1}, PaddingMode.CIRCULAR, false,
                new int[] {4, 5, 3}), false);
    }

    /** Finding 2: sizes past int range got a bare ArithmeticException from Math.toIntExact. */
    @Test
    void sizesPastIntRangeNameTheDimension() {
        try (DclsConv conv = DclsConv.builder(2, 3).kernelCount(2).dilatedKernelSize(3).build()) {
            fails(IllegalArgumentException.class, "batch size 2147483648 exceeds the limit 2147483647",
                    () -> conv.outputShape(1L << 31, 2, 8));
            fails(IllegalArgumentException.class, "spatial size [0] 8589934592 exceeds the limit 2147483647",
                    () -> conv.outputShape(1, 2, 1L << 33));
            fails(IllegalArgumentException.class, "channels", () -> conv.outputShape(1, 1L << 33, 8));
        }
    }

    /** Finding 2, the reference config: padded sizes past int range must not wrap around. */
    @Test
    void paddedSizesDoNotOverflow() {
        ConvConfig c = new ConvConfig(1, 1, 1, 1, new int[] {5}, new int[] {3}, new int[] {1 << 30},
                new int[] {(1 << 30) - 8}, PaddingMode.ZEROS);
        assertArrayEquals(new int[] {2}, c.outputSize()); // (2^31 - 11 - 3) / 2^30 + 1
        fails(IllegalArgumentException.class, "padded input size 5 + 2*1073741824 exceeds the limit 2147483647",
                () -> new ConvConfig(1, 1, 1, 1, new int[] {5}, new int[] {3}, new int[] {1}, new int[] {1 << 30},
                        PaddingMode.ZEROS));
    }

    /** Finding 3: huge but valid configurations allocated or computed for 30 s and more. */
    @Test
    void hugeConfigurationsFailAtOnceWithTheSize() {
        assertTimeoutPreemptively(java.time.Duration.ofSeconds(10), () -> {
            long before = System.nanoTime();
            fails(IllegalArgumentException.class, "GiB", () -> DclsConv.builder(64, 64).kernelCount(1 << 28)
                    .dilatedKernelSize(3).build());
            fails(IllegalArgumentException.class, "GiB", () -> DclsConv.builder(8, 8).kernelCount(4)
                    .dilatedKernelSize(1 << 20, 1 << 20).build());
            try (Arena arena = Arena.ofConfined();
                 DclsConv conv = DclsConv.builder(2, 2).kernelCount(2).dilatedKernelSize(3, 3).padding(1 << 20)
                         .build()) {
                fails(IllegalArgumentException.class, "padded 4398067482649", // (5 + 2^21)^2 cells
                        () -> conv.forward(Tensor.allocate(arena, 1, 2, 5, 5)));
            }
            assertTrue(System.nanoTime() - before < 5_000_000_000L, "checks took over 5 s");
        });
    }

    /** Finding 3: the limit is configurable, and the message says how to change it. */
    @Test
    void theMemoryLimitIsConfigurable() {
        String old = System.getProperty(MemoryBudget.PROPERTY); // (the tests run one at a time)
        try {
            System.setProperty(MemoryBudget.PROPERTY, "1m");
            fails(IllegalArgumentException.class, MemoryBudget.PROPERTY,
                    () -> DclsConv.builder(16, 16).kernelCount(256).dilatedKernelSize(9, 9).build());
            System.setProperty(MemoryBudget.PROPERTY, "64m");
            DclsConv.builder(16, 16).kernelCount(256).dilatedKernelSize(9, 9).build().close();
            // a plan: the padded input (4 x 2^25 cells) alone is 512 MiB
            System.setProperty(MemoryBudget.PROPERTY, "256m");
            try (Arena arena = Arena.ofConfined();
                 DclsConv conv = DclsConv.builder(4, 4).kernelCount(2).dilatedKernelSize(3).padding(1 << 24).build()) {
                fails(IllegalArgumentException.class, "for input shape [1, 4, 5] needs", () -> conv.forward(
                        Tensor.allocate(arena, 1, 4, 5)));
                fails(IllegalArgumentException.class, "a tensor of shape [1, 4, 33554432] needs 512.0 MiB",
                        () -> Tensor.allocate(arena, 1, 4, 1 << 25));
            }
        } finally {
            if (old == null) {
                System.clearProperty(MemoryBudget.PROPERTY);
            } else {
                System.setProperty(MemoryBudget.PROPERTY, old);
            }
        }
    }

    /** Found by the fuzz harness: an element index outside the tensor gave a bare IndexOutOfBoundsException. */
    @Test
    void elementIndexOutsideTheTensorIsAnIllegalArgument() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.allocate(arena, 2, 3);
            fails(IllegalArgumentException.class, "index 6 is outside tensor [2, 3] of 6 elements", () -> t.get(6));
            fails(IllegalArgumentException.class, "index -1 is outside", () -> t.set(-1, 1f));
            // MemorySegment's own check lets this one through (the byte offset wraps around to 0)
            fails(IllegalArgumentException.class, "index " + Long.MIN_VALUE + " is outside",
                    () -> t.set(Long.MIN_VALUE, 1f));
            assertTrue(t.get(0) == 0f);
        }
    }
}
