package io.dcls4j.dist;

import io.dcls4j.DclsConv;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;
import io.dcls4j.optim.AdamW;

import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The program DataParallelMpiTest runs under mpirun (and alone, as the one-process reference): trains a small
 * DclsConv with AdamW for {@value #STEPS} steps on a fixed synthetic regression set, each step one global batch
 * of {@value #GLOBAL_BATCH} samples split over the processes by a DistributedSampler, the loss the mean squared
 * error over the global batch. Each rank starts from its own random initialisation (seed + rank), so the result
 * is rank 0's model only if DataParallel's broadcast works. Rank 0 writes the step-0 averaged gradients and the
 * final parameters to args[0].
 *
 * <p>Failure injection (system properties): {@code test.failRank} and {@code test.failStep}; at that step that
 * rank either exits ({@code test.failMode=exit}, System.exit(3) without MPI_Finalize) or stops answering
 * ({@code hang}, sleeps) so that the others must time out.
 */
public final class DataParallelTrainMain {
    static final int STEPS = 20;
    static final int GLOBAL_BATCH = 8;
    static final int SAMPLES = 64;
    static final long SEED = 42;

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

    private DataParallelTrainMain() {}

    public static void main(String[] args) throws IOException, InterruptedException {
        Path out = Path.of(args[0]);
        Communicator comm = Communicator.fromEnvironment();
        Files.writeString(out.resolveSibling(out.getFileName() + ".pid" + comm.rank()),
                Long.toString(ProcessHandle.current().pid()));
        int failRank = Integer.getInteger("test.failRank", -1);
        int failStep = Integer.getInteger("test.failStep", -1);
        String failMode = System.getProperty("test.failMode", "exit");
        if (GLOBAL_BATCH % comm.size() != 0) {
            throw new IllegalArgumentException("global batch " + GLOBAL_BATCH + " does not split over " + comm.size());
        }
        int localBatch = GLOBAL_BATCH / comm.size();
        try (Arena arena = Arena.ofConfined();
             DclsConv conv = DclsConv.builder(2, 4).kernelCount(3).dilatedKernelSize(5, 5).padding(2, 2)
                     .seed(SEED + 1000L * comm.rank()).build()) {
            Tensor inputs = random(arena, 1, SAMPLES, 2, 6, 6);
            Tensor targets = random(arena, 2, SAMPLES, 4, 6, 6);
            Tensor x = Tensor.allocate(arena, localBatch, 2, 6, 6);
            Tensor target = Tensor.allocate(arena, localBatch, 4, 6, 6);
            Tensor gradY = Tensor.allocate(arena, localBatch, 4, 6, 6);
            List<Parameter> params = conv.parameters();
            DistributedSampler sampler = DistributedSampler.of(comm, SAMPLES, SEED, true, false);
            int[] order = sampler.indices(0);
            // 256-byte buckets: three per step (bias+SIG, P, weight), so that bucketing and the launch order are exercised.
            try (DataParallel dp = DataParallel.of(comm, params, List.of(), 256);
                 AdamW opt = AdamW.builder().lr(0.02).weightDecay(0.01).params(params).build()) {
                float[][] firstGrads = new float[params.size()][];
                long dpAllocatedBytes = 0;
                for (int step = 0; step < STEPS; step++) {
                    if (comm.rank() == failRank && step == failStep) {
                        System.err.println("test: rank " + comm.rank() + " fails (" + failMode + ") at step " + step);
                        if (failMode.equals("hang")) {
                            Thread.sleep(Long.MAX_VALUE);
                        }
                        System.exit(3);
                    }
                    for (int b = 0; b < localBatch; b++) {
                        int sample = order[(step * localBatch + b) % order.length];
                        copySample(inputs, sample, x, b);
                        copySample(targets, sample, target, b);
                    }
                    conv.zeroGrad();
                    Tensor y = conv.forward(x);
                    // d/dy of the mean over the LOCAL share; averaging over the ranks gives the global mean.
                    double scale = 2.0 / y.elementCount();
                    for (long i = 0; i < y.elementCount(); i++) {
                        gradY.set(i, (float) (scale * (y.get(i) - target.get(i))));
                    }
                    conv.backward(gradY);
                    long before = THREADS.getCurrentThreadAllocatedBytes();
                    for (int i = params.size() - 1; i >= 0; i--) {
                        dp.gradientReady(params.get(i));
                    }
                    dp.finish();
                    long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
                    if (step >= STEPS / 2) {
                        dpAllocatedBytes += allocated; // after warm-up: DataParallel's own steady state
                    }
                    if (step == 0) {
                        for (int i = 0; i < params.size(); i++) {
                            firstGrads[i] = params.get(i).grad().toFloatArray();
                        }
                    }
                    opt.step();
                }
                if (comm.isRoot()) {
                    try (DataOutputStream o = new DataOutputStream(Files.newOutputStream(out))) {
                        o.writeInt(2 * params.size() + 1); // entries
                        write(o, "dataParallel.allocatedBytes", new float[] {dpAllocatedBytes});
                        for (int i = 0; i < params.size(); i++) {
                            write(o, params.get(i).name() + ".grad0", firstGrads[i]);
                            write(o, params.get(i).name(), params.get(i).value().toFloatArray());
                        }
                    }
                }
            }
        }
        comm.close();
    }

    private static void write(DataOutputStream o, String name, float[] values) throws IOException {
        o.writeUTF(name);
        o.writeInt(values.length);
        for (float v : values) {
            o.writeFloat(v);
        }
    }

    private static Tensor random(Arena arena, long seed, long... shape) {
        Tensor t = Tensor.allocate(arena, shape);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < t.elementCount(); i++) {
            t.set(i, (float) (r.nextDouble() * 2 - 1));
        }
        return t;
    }

    private static void copySample(Tensor from, int sample, Tensor to, int slot) {
        long per = to.elementCount() / to.dim(0);
        java.lang.foreign.MemorySegment.copy(from.segment(), sample * per * Float.BYTES, to.segment(),
                slot * per * Float.BYTES, per * Float.BYTES);
    }
}
