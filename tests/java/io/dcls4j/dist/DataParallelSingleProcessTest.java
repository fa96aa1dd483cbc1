package io.dcls4j.dist;

import io.dcls4j.Parameter;
import io.dcls4j.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DataParallel and Communicator in one process without MPI (the path every non-distributed run takes). */
class DataParallelSingleProcessTest {
    private static Parameter param(Arena arena, String name, float... grad) {
        Tensor g = Tensor.allocate(arena, grad.length);
        g.copyFrom(grad);
        return new Parameter(name, Tensor.allocate(arena, grad.length), g);
    }

    @Test
    void oneProcessLeavesGradientsAsTheyAreAndChecksItsArguments() {
        Communicator single = Communicator.single();
        assertEquals(0, single.rank());
        assertEquals(1, single.size());
        assertTrue(single.isRoot());
        assertFalse(single.isMpi());
        try (Arena arena = Arena.ofConfined()) {
            Parameter a = param(arena, "a", 1, 2, 3);
            Parameter b = param(arena, "b", -4);
            Parameter stranger = param(arena, "c", 0);
            try (DataParallel dp = DataParallel.of(single, List.of(a, b, a), List.of(), 8)) {
                assertEquals(List.of(a, b), dp.parameters(), "a parameter listed twice counts once");
                assertEquals(2, dp.bucketCount(), "8-byte buckets: b alone, a alone (3 floats, over the cap)");
                dp.gradientReady(b);
                assertThrows(IllegalStateException.class, () -> dp.gradientReady(b));
                assertThrows(IllegalArgumentException.class, () -> dp.gradientReady(stranger));
                dp.finish();
                dp.gradientReady(b); // a new step
                dp.finish();
                assertArrayEquals(new float[] {1, 2, 3}, a.grad().toFloatArray());
                assertArrayEquals(new float[] {-4}, b.grad().toFloatArray());
            }
            assertThrows(IllegalArgumentException.class, () -> DataParallel.of(single, List.of()));
            assertThrows(IllegalArgumentException.class, () -> DataParallel.of(single, List.of(a), List.of(), 2));
            Tensor t = Tensor.allocate(arena, 2);
            t.copyFrom(new float[] {5, 6});
            single.allReduceSum(t);
            single.broadcast(t, 0);
            single.barrier();
            assertArrayEquals(new float[] {5, 6}, t.toFloatArray());
            assertThrows(IllegalArgumentException.class, () -> single.broadcast(t, 1));
        }
    }

    @Test
    void theTimeoutSettingIsParsedAndChecked() {
        String old = System.getProperty(Communicator.TIMEOUT_PROPERTY);
        try {
            System.setProperty(Communicator.TIMEOUT_PROPERTY, "2.5");
            assertEquals(2500, Communicator.configuredTimeout().toMillis());
            System.setProperty(Communicator.TIMEOUT_PROPERTY, "-1");
            assertThrows(IllegalArgumentException.class, Communicator::configuredTimeout);
            System.setProperty(Communicator.TIMEOUT_PROPERTY, "soon");
            assertThrows(IllegalArgumentException.class, Communicator::configuredTimeout);
        } finally {
            if (old == null) {
                System.clearProperty(Communicator.TIMEOUT_PROPERTY);
            } else {
                System.setProperty(Communicator.TIMEOUT_PROPERTY, old);
            }
        }
    }

    @Test
    void mpiErrorsNameTheRank() {
        DistributedException e = new DistributedException(3, 8, 15, "MPI_Iallreduce failed: MPI_ERR_TRUNCATE");
        assertEquals("rank 3 of 8: MPI_Iallreduce failed: MPI_ERR_TRUNCATE", e.getMessage());
        assertEquals(15, e.errorCode());
    }
}
