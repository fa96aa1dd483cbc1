package io.dcls4j;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static io.dcls4j.BadInputTest.fails;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Issue 10, finding 6: a layer keeps the plans and results of its most recent input shapes; reading a
 * result of an evicted shape threw a bare "Already closed". The message now says it was evicted and why.
 */
class ResultEvictionTest {

    @Test
    void anEvictedResultSaysSo() {
        try (Arena arena = Arena.ofConfined();
             DclsConv conv = DclsConv.builder(2, 2).kernelCount(2).dilatedKernelSize(3).padding(1).seed(1).build()) {
            Tensor first = conv.forward(Tensor.allocate(arena, 1, 2, 4));
            Tensor firstGrad = conv.backward(first);
            assertEquals(8, first.toFloatArray().length);
            for (int n = 5; n < 5 + DclsConv.MAX_CACHED_SHAPES - 1; n++) {
                conv.forward(Tensor.allocate(arena, 1, 2, n)); // 8 shapes: the first is still there
            }
            assertEquals(8, first.toFloatArray().length);
            conv.forward(Tensor.allocate(arena, 1, 2, 5));  // touches shapes again: the first is the oldest
            conv.forward(Tensor.allocate(arena, 1, 2, 40)); // the 9th shape evicts [1, 2, 4]
            String why = "evicted";
            fails(IllegalStateException.class, why, first::toFloatArray);
            fails(IllegalStateException.class, "8 most recently used input shapes", () -> first.get(0));
            fails(IllegalStateException.class, "[1, 2, 4]", () -> firstGrad.get(0));
            fails(IllegalStateException.class, why, () -> first.set(0, 1f));
            fails(IllegalStateException.class, why, () -> Tensor.allocate(arena, 1, 2, 4).copyFrom(first));
        }
    }

    @Test
    void aClosedLayersResultSaysSo() {
        Tensor y;
        try (Arena arena = Arena.ofConfined();
             DclsConv conv = DclsConv.builder(2, 2).kernelCount(2).dilatedKernelSize(3).padding(1).seed(1).build()) {
            y = conv.forward(Tensor.allocate(arena, 1, 2, 4));
        }
        fails(IllegalStateException.class, "closed", () -> y.get(0));
    }
}
