package io.dcls4j.dist;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Locale;

/**
 * Times DataParallel's gradient all-reduce (25 MiB buckets, MPI_Iallreduce, scaled by 1/size) of N floats, the
 * communication of one training step. Run by scripts/bench-allreduce.sh under mpirun; rank 0 prints one line per
 * size: floats, bytes, median and best time in ms, and the bus bandwidth 2(n-1)/n * bytes / time.
 */
public final class AllReduceBenchMain {
    private AllReduceBenchMain() {}

    public static void main(String[] args) {
        Communicator comm = Communicator.fromEnvironment();
        int repeats = 15;
        try (Arena arena = Arena.ofConfined()) {
            for (String arg : args) {
                long floats = Long.parseLong(arg);
                io.dcls4j.Tensor value = io.dcls4j.Tensor.allocate(arena, floats);
                io.dcls4j.Tensor grad = io.dcls4j.Tensor.allocate(arena, floats);
                MemorySegment g = grad.segment();
                for (long i = 0; i < floats; i++) {
                    g.setAtIndex(ValueLayout.JAVA_FLOAT, i, comm.rank() + 1);
                }
                io.dcls4j.Parameter p = new io.dcls4j.Parameter("p", value, grad);
                double[] ms = new double[repeats];
                try (DataParallel dp = DataParallel.of(comm, java.util.List.of(p))) {
                    dp.finish(); // warm-up
                    for (int r = 0; r < repeats; r++) {
                        comm.barrier();
                        long t0 = System.nanoTime();
                        dp.finish();
                        ms[r] = (System.nanoTime() - t0) / 1e6;
                    }
                }
                Arrays.sort(ms);
                if (comm.isRoot()) {
                    double bytes = 4.0 * floats;
                    double busGBs = 2.0 * (comm.size() - 1) / comm.size() * bytes / (ms[repeats / 2] / 1e3) / 1e9;
                    System.out.printf(Locale.ROOT, "ranks %d  floats %,d  bytes %,.0f  median %.3f ms  best %.3f ms"
                            + "  bus %.2f GB/s%n", comm.size(), floats, bytes, ms[repeats / 2], ms[0], busGBs);
                }
            }
        }
        comm.close();
    }
}
