package io.dcls4j.dist;

import io.dcls4j.Device;
import io.dcls4j.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** NCCL through its bindings: one process, one GPU (the only case a one-GPU machine can run). */
class NcclCommunicatorTest {
    @Test
    void aCpuDeviceIsRefusedBeforeNcclIsLoaded() {
        assertThrows(IllegalArgumentException.class, () -> NcclCommunicator.create(Communicator.single(), Device.cpu()));
    }

    @Test
    void oneRankAllReduceAndBroadcastOnTheGpu() {
        assumeTrue(Device.cudaAvailable(), "no CUDA device: " + Device.cudaUnavailableReason());
        assumeTrue(NcclLibrary.candidates().stream().anyMatch(Files::isRegularFile),
                "no libnccl.so.2 (set dcls4j.nccl.library or install PyTorch's nvidia-nccl-cu12)");
        assertTrue(NcclCommunicator.version() >= 20000, "NCCL 2.x");
        Device gpu = Device.cuda(0);
        try (Arena arena = Arena.ofConfined();
             NcclCommunicator nccl = NcclCommunicator.create(Communicator.single(), gpu)) {
            Tensor t = Tensor.allocate(arena, gpu, 4);
            t.copyFrom(new float[] {1, -2, 3.5f, 4});
            nccl.allReduceSum(t); // on the device's stream, after the copy; one rank: the sum is the tensor
            nccl.broadcast(t, 0);
            assertArrayEquals(new float[] {1, -2, 3.5f, 4}, t.toFloatArray());
            assertThrows(IllegalArgumentException.class, () -> nccl.broadcast(t, 1));
            Tensor host = Tensor.allocate(arena, 4);
            assertThrows(IllegalArgumentException.class, () -> nccl.allReduceSum(host));
        }
    }
}
