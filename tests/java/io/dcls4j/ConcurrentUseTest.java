package io.dcls4j;

import io.dcls4j.ops.Convolution;
import io.dcls4j.optim.SGD;
import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;
import io.dcls4j.reference.ReferenceConstruct;
import io.dcls4j.reference.ReferenceConv;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static io.dcls4j.Compare.close;
import static io.dcls4j.Compare.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue 10, finding 4: two threads on one layer corrupted native memory (ASan: heap-buffer-overflow in
 * WindowedConv's copy_box) or silently gave wrong outputs. Concurrent use of one layer, plan or optimizer
 * now gets an IllegalStateException naming it; different layers on different threads stay parallel.
 */
class ConcurrentUseTest {

    /** Runs {@code body} on two threads started together; returns what they threw. */
    private static List<Throwable> onTwoThreads(Consumer<Integer> body) throws InterruptedException {
        CyclicBarrier start = new CyclicBarrier(2);
        ConcurrentLinkedQueue<Throwable> thrown = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            int id = t;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    body.accept(id);
                } catch (Throwable e) {
                    thrown.add(e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        return new ArrayList<>(thrown);
    }

    /** Every failure is the documented IllegalStateException naming the object; returns how many there were. */
    private static int requireOnlyConcurrentUse(List<Throwable> thrown, String name) {
        for (Throwable t : thrown) {
            if (!(t instanceof IllegalStateException) || !t.getMessage().contains(name)
                    || !t.getMessage().contains("another thread")) {
                fail("unexpected failure", t);
            }
        }
        return thrown.size();
    }

    private static double[] referenceOutput(DclsConv conv, ConvConfig vc, float[] x) {
        ConstructConfig cc = new ConstructConfig(conv.interpolation(), conv.outChannels(),
                conv.inChannels() / conv.groups(), conv.kernelCount(), conv.dilatedKernelSize());
        double[] kernel = ReferenceConstruct.forward(cc, toDouble(conv.weight().value().toFloatArray()),
                toDouble(conv.positions().value().toFloatArray()),
                conv.sigma() == null ? null : toDouble(conv.sigma().value().toFloatArray()));
        return ReferenceConv.forward(vc, toDouble(x), kernel, toDouble(conv.bias().value().toFloatArray()));
    }

    private static float[] input(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.sin(0.7 * i + n);
        }
        return v;
    }

    /** Same and different shapes, many rounds: each call either gives the reference's output or is refused. */
    @Test
    void oneLayerOnTwoThreadsIsRefusedNeverWrong() throws InterruptedException {
        int[][] sizes = {{12, 10}, {12, 10}, {9, 14}};
        try (Arena arena = Arena.ofShared();
             DclsConv conv = DclsConv.builder(3, 4).kernelCount(3).dilatedKernelSize(7, 5).padding(3, 2).seed(5)
                     .build()) {
            Tensor[] xs = new Tensor[sizes.length];
            double[][] expected = new double[sizes.length][];
            for (int s = 0; s < sizes.length; s++) {
                float[] x = input(2 * 3 * sizes[s][0] * sizes[s][1]);
                xs[s] = Tensor.allocate(arena, 2, 3, sizes[s][0], sizes[s][1]).copyFrom(x);
                expected[s] = referenceOutput(conv, new ConvConfig(2, 3, 4, 1, sizes[s], new int[] {7, 5},
                        new int[] {1, 1}, new int[] {3, 2}, PaddingMode.ZEROS), x);
            }
            AtomicInteger ok = new AtomicInteger();
            int refused = 0;
            for (int round = 0; round < 60; round++) {
                int[] pick = {round % 2, round % 2 == 0 ? 1 : 2}; // same shape, then different shapes
                refused += requireOnlyConcurrentUse(onTwoThreads(id -> {
                    for (int i = 0; i < 20; i++) {
                        try {
                            Tensor y = conv.forward(xs[pick[id]]);
                            float[] got = y.toFloatArray(); // may race with the other thread's next forward:
                            close("y", expected[pick[id]], got); // only when that one was refused too
                            ok.incrementAndGet();
                        } catch (IllegalStateException e) {
                            if (!e.getMessage().contains("another thread")) {
                                throw e;
                            }
                        }
                    }
                }), conv.toString());
            }
            assertTrue(ok.get() > 0, "some calls must get through");
            assertEquals(0, refused, "refusals are caught inside the loop");
        }
    }

    /** Deterministic: while one thread is inside forward, a second call on another thread is refused. */
    @Test
    void aSecondThreadInsideTheLayerIsRefused() throws Exception {
        try (Arena arena = Arena.ofShared();
             DclsConv conv = DclsConv.builder(32, 32).kernelCount(8).dilatedKernelSize(23, 23).padding(11).seed(1)
                     .build()) {
            Tensor big = Tensor.allocate(arena, 8, 32, 96, 96);
            Tensor small = Tensor.allocate(arena, 1, 32, 24, 24);
            Thread worker = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 3; i++) {
                    conv.forward(big);
                }
            });
            int refused = 0;
            while (worker.isAlive()) {
                if (conv.inUseByAnotherThread()) {
                    try {
                        conv.forward(small);
                    } catch (IllegalStateException e) {
                        assertTrue(e.getMessage().contains(conv.toString()) && e.getMessage().contains("another thread"),
                                e.getMessage());
                        refused++;
                    }
                }
            }
            worker.join();
            assertTrue(refused > 0, "the second thread must have been refused at least once");
            conv.forward(small); // free again
        }
    }

    /** Two layers, one per thread, run at the same time and both match the reference. */
    @Test
    void differentLayersStayParallel() throws InterruptedException {
        try (Arena arena = Arena.ofShared();
             DclsConv a = DclsConv.builder(3, 4).kernelCount(3).dilatedKernelSize(7, 5).padding(3, 2).seed(1).build();
             DclsConv b = DclsConv.builder(3, 4).kernelCount(3).dilatedKernelSize(7, 5).padding(3, 2).seed(2).build()) {
            float[] x = input(2 * 3 * 12 * 10);
            Tensor xt = Tensor.allocate(arena, 2, 3, 12, 10).copyFrom(x);
            ConvConfig vc = new ConvConfig(2, 3, 4, 1, new int[] {12, 10}, new int[] {7, 5}, new int[] {1, 1},
                    new int[] {3, 2}, PaddingMode.ZEROS);
            DclsConv[] layers = {a, b};
            double[][] expected = {referenceOutput(a, vc, x), referenceOutput(b, vc, x)};
            List<Throwable> thrown = onTwoThreads(id -> {
                for (int i = 0; i < 50; i++) {
                    close("y", expected[id], layers[id].forward(xt).toFloatArray());
                }
            });
            assertTrue(thrown.isEmpty(), () -> "unexpected: " + thrown);
        }
    }

    /** A convolution plan and an optimizer detect concurrent use too. */
    @Test
    void plansAndOptimizersDetectConcurrentUse() throws InterruptedException {
        ConvConfig vc = new ConvConfig(4, 16, 16, 1, new int[] {40, 40}, new int[] {9, 9}, new int[] {1, 1},
                new int[] {4, 4}, PaddingMode.ZEROS);
        try (Arena arena = Arena.ofShared(); Convolution plan = new Convolution(vc)) {
            Tensor x = Tensor.allocate(arena, plan.inputShape());
            Tensor k = Tensor.allocate(arena, plan.kernelShape());
            Tensor[] y = {Tensor.allocate(arena, plan.outputShape()), Tensor.allocate(arena, plan.outputShape())};
            int refused = 0;
            for (int round = 0; round < 20 && refused == 0; round++) {
                List<Throwable> thrown = onTwoThreads(id -> {
                    for (int i = 0; i < 5; i++) {
                        plan.forward(x, k, null, y[id]);
                    }
                });
                refused += requireOnlyConcurrentUse(thrown, "Convolution");
            }
            assertTrue(refused > 0, "concurrent use of one plan must be detected");
        }
        try (DclsConv conv = DclsConv.builder(64, 64).kernelCount(64).dilatedKernelSize(9, 9).seed(1).build();
             SGD sgd = SGD.builder().lr(0.1).momentum(0.9).params(conv.parameters()).build()) {
            int refused = 0;
            for (int round = 0; round < 20 && refused == 0; round++) {
                refused += requireOnlyConcurrentUse(onTwoThreads(id -> {
                    for (int i = 0; i < 5; i++) {
                        sgd.step();
                    }
                }), "SGD");
            }
            assertTrue(refused > 0, "concurrent use of one optimizer must be detected");
        }
    }
}
