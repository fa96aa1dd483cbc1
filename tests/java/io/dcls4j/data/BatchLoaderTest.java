package io.dcls4j.data;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The prefetching loader gives exactly the synchronous batches, allocates nothing per step, and closes cleanly. */
class BatchLoaderTest {

    private static ImageDataset random(int n, long seed) {
        byte[] pixels = new byte[n * 28 * 28];
        new Random(seed).nextBytes(pixels);
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) {
            labels[i] = (byte) (i * 7 % 10);
        }
        return ImageDataset.of("synthetic", 28, 28, 10, pixels, labels);
    }

    @Test
    void prefetchedBatchesAreTheSynchronousOnes() {
        ImageDataset d = random(300, 1);
        LoaderOptions[] configurations = {
            LoaderOptions.training(32, 5).withNormalization(FashionMnist.NORMALIZATION)
                    .withAugmentation(Augmentation.cropAndFlip(2)),
            LoaderOptions.evaluation(64).withPrefetch(1), // partial last batch of 44
            LoaderOptions.training(16, 9).withShard(1, 3).withDropLast(false).withPrefetch(4)
                    .withAugmentation(Augmentation.cropAndFlip(3)),
        };
        for (LoaderOptions o : configurations) {
            BatchAssembler sync = new BatchAssembler(d, o);
            try (Arena arena = Arena.ofConfined(); BatchLoader loader = new BatchLoader(d, o, 2)) {
                Batch expected = sync.newBatch(arena);
                int steps = loader.batchesPerEpoch() * 5 / 2; // two and a half epochs: across epoch boundaries
                for (int s = 0; s < steps; s++) {
                    Batch got = loader.next();
                    int epoch = 2 + s / loader.batchesPerEpoch();
                    int index = s % loader.batchesPerEpoch();
                    sync.fill(epoch, index, expected);
                    assertEquals(epoch, got.epoch());
                    assertEquals(index, got.index());
                    assertEquals(expected.size(), got.size());
                    assertArrayEquals(expected.images().shape(), got.images().shape());
                    assertArrayEquals(expected.images().toFloatArray(), got.images().toFloatArray(),
                            o + ": step " + s);
                    for (int k = 0; k < got.size(); k++) {
                        assertEquals(expected.labels()[k], got.labels()[k]);
                        assertEquals(expected.sampleIndex(k), got.sampleIndex(k));
                    }
                }
            }
        }
    }

    private static Thread producerThread() {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("dcls4j-batches-synthetic") && t.isAlive()) {
                return t;
            }
        }
        return null;
    }

    @Test
    void steadyStateStepsAllocateNothingOnTheHeap() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)
                ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled(),
                "this JVM measures per-thread allocation");
        ImageDataset d = random(512, 2);
        LoaderOptions o = LoaderOptions.training(32, 3).withAugmentation(Augmentation.cropAndFlip(2))
                .withNormalization(FashionMnist.NORMALIZATION).withShard(0, 2).withDropLast(false);
        try (BatchLoader loader = new BatchLoader(d, o, 0)) {
            Thread producer = producerThread();
            assertNotNull(producer, "the loader's thread");
            long checksum = 0;
            for (int s = 0; s < 2000; s++) { // warm-up: the JIT compiles both sides
                checksum += loader.next().labels()[0];
            }
            long consumerBefore = threads.getCurrentThreadAllocatedBytes();
            long producerBefore = threads.getThreadAllocatedBytes(producer.threadId());
            for (int s = 0; s < 500; s++) { // 31 epochs of 16 batches, the partial batch and epoch changes included
                checksum += loader.next().labels()[0];
            }
            long consumer = threads.getCurrentThreadAllocatedBytes() - consumerBefore;
            long producerBytes = threads.getThreadAllocatedBytes(producer.threadId()) - producerBefore;
            assertEquals(0, consumer, "bytes allocated by 500 next() calls");
            assertEquals(0, producerBytes, "bytes allocated by the loader's thread over 500 batches");
            assertTrue(checksum >= 0);
        }
    }

    @Test
    void closeStopsTheThreadAndFreesTheBuffers() throws InterruptedException {
        ImageDataset d = random(100, 3);
        BatchLoader loader = new BatchLoader(d, LoaderOptions.training(10, 1), 0);
        Batch b = loader.next();
        Thread producer = producerThread();
        assertNotNull(producer);
        loader.close();
        producer.join(5000);
        assertFalse(producer.isAlive(), "the loader's thread still runs after close()");
        assertThrows(IllegalStateException.class, loader::next);
        assertThrows(IllegalStateException.class, () -> b.images().toFloatArray()); // its memory is freed
        loader.close(); // twice is fine
    }

    @Test
    void aLoaderClosedBeforeItsFirstBatchHandsNoneOut() {
        BatchLoader unused = new BatchLoader(random(100, 3), LoaderOptions.training(10, 1), 0);
        unused.close();
        assertThrows(IllegalStateException.class, unused::next);
    }

    @Test
    void aFailureInTheLoadersThreadReachesTheConsumer() {
        // one batch per epoch from the last int epoch: the second batch's epoch does not exist
        ImageDataset d = random(10, 3);
        try (BatchLoader loader = new BatchLoader(d, LoaderOptions.training(10, 1), Integer.MAX_VALUE)) {
            assertEquals(Integer.MAX_VALUE, loader.next().epoch());
            IllegalStateException e = assertThrows(IllegalStateException.class, loader::next);
            assertTrue(e.getCause() instanceof ArithmeticException, String.valueOf(e.getCause()));
            assertTrue(e.getMessage().contains("synthetic"), e.getMessage());
        }
    }

    @Test
    void badArguments() {
        ImageDataset d = random(10, 3);
        assertThrows(IllegalArgumentException.class, () -> new BatchLoader(d, LoaderOptions.training(10, 1), -1));
        assertThrows(IllegalArgumentException.class, () -> LoaderOptions.training(0, 1));
        assertThrows(IllegalArgumentException.class, () -> LoaderOptions.training(4, 1).withPrefetch(0));
        assertThrows(IllegalArgumentException.class, () -> LoaderOptions.training(4, 1).withShard(2, 2));
    }
}
