package io.dcls4j.data;

import java.lang.foreign.Arena;
import java.util.concurrent.locks.LockSupport;

/**
 * Prepares batches ahead of the training thread: a background thread runs a {@link BatchAssembler} into a small ring
 * of reusable off-heap {@link Batch} buffers, epoch after epoch from {@code firstEpoch} on, so that a training step
 * finds its data ready. The batches are exactly those of {@link BatchAssembler#fill} for (epoch, index) in sequence.
 *
 * <p>{@link #next()} hands out the next batch and takes back the one it handed out before: a batch is valid until the
 * following {@code next()} (or {@link #close()}). The ring holds {@code prefetch + 1} buffers: the one in use and up to
 * {@code prefetch} ready. The two threads meet through two volatile counters and {@link LockSupport#park}, not a
 * {@link java.util.concurrent.BlockingQueue}, so that in steady state neither allocates anything on the Java heap.
 *
 * <p>One consumer thread at a time. A failure in the background thread is rethrown by {@code next()}. Always
 * {@link #close()} it: that stops the thread and frees the buffers.
 */
public final class BatchLoader implements AutoCloseable {
    private final BatchAssembler assembler;
    private final Arena arena;
    private final Batch[] ring;
    private final int batchesPerEpoch;
    private final int firstEpoch;
    private final Thread producer;

    /** Batches the producer has published (sequence numbers below this are ready). */
    private volatile long produced;
    /** Batches the consumer has given back (their slots may be refilled). */
    private volatile long consumed;
    /** Batches handed out by {@link #next()}; only the consumer thread touches it. */
    private long handedOut;
    private volatile Thread waitingConsumer;
    private volatile boolean closed;
    private volatile Throwable failure;
    private long waitNanos;

    /** Starts preparing batches of {@code data} as {@code options} say, beginning with epoch {@code firstEpoch}. */
    public BatchLoader(ImageDataset data, LoaderOptions options, int firstEpoch) {
        if (firstEpoch < 0) {
            throw new IllegalArgumentException("first epoch must be >= 0, got " + firstEpoch);
        }
        this.assembler = new BatchAssembler(data, options);
        this.batchesPerEpoch = assembler.batchesPerEpoch();
        this.firstEpoch = firstEpoch;
        this.arena = Arena.ofShared();
        this.ring = new Batch[options.prefetch() + 1];
        for (int i = 0; i < ring.length; i++) {
            ring[i] = assembler.newBatch(arena);
        }
        this.producer = Thread.ofPlatform().daemon().name("dcls4j-batches-" + data.name()).unstarted(this::produce);
        producer.start();
    }

    /** Batches per epoch (the same for every epoch). */
    public int batchesPerEpoch() {
        return batchesPerEpoch;
    }

    /** The synchronous assembler's view of the configuration: options, order, samples per epoch. */
    public LoaderOptions options() {
        return assembler.options();
    }

    /** Samples per epoch for this rank (see {@link BatchAssembler#samplesPerEpoch()}). */
    public int samplesPerEpoch() {
        return assembler.samplesPerEpoch();
    }

    /**
     * The next batch in sequence (epoch {@code firstEpoch}, batches 0 to {@code batchesPerEpoch() - 1}, then the next
     * epoch...), waiting for it if it is not ready. The batch returned before this one goes back to be refilled.
     */
    public Batch next() {
        if (closed) {
            throw new IllegalStateException("batch loader is closed");
        }
        if (handedOut > 0) {
            consumed = handedOut; // the previous batch is free again
            LockSupport.unpark(producer);
        }
        long wanted = handedOut;
        if (produced <= wanted) {
            long start = System.nanoTime();
            waitingConsumer = Thread.currentThread();
            while (produced <= wanted) {
                if (failure != null) {
                    throw new IllegalStateException("preparing batches of " + assembler.dataset().name()
                            + " failed: " + failure, failure);
                }
                if (closed) {
                    throw new IllegalStateException("batch loader was closed while waiting for a batch");
                }
                LockSupport.park(this);
            }
            waitingConsumer = null;
            waitNanos += System.nanoTime() - start;
        }
        handedOut = wanted + 1;
        return ring[(int) (wanted % ring.length)];
    }

    /** Total time {@link #next()} has spent waiting for the background thread, in nanoseconds. */
    public long waitNanos() {
        return waitNanos;
    }

    private void produce() {
        try {
            for (long seq = 0; ; seq++) {
                while (seq - consumed >= ring.length) { // slot still in use or unread
                    if (closed) {
                        return;
                    }
                    LockSupport.park(this);
                }
                if (closed) {
                    return;
                }
                int epoch = Math.toIntExact(firstEpoch + seq / batchesPerEpoch);
                assembler.fill(epoch, (int) (seq % batchesPerEpoch), ring[(int) (seq % ring.length)]);
                produced = seq + 1;
                Thread waiter = waitingConsumer;
                if (waiter != null) {
                    LockSupport.unpark(waiter);
                }
            }
        } catch (Throwable t) {
            failure = t;
            Thread waiter = waitingConsumer;
            if (waiter != null) {
                LockSupport.unpark(waiter);
            }
        }
    }

    /** Stops the background thread, waits for it, and frees the buffers; batches handed out become unusable. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        LockSupport.unpark(producer);
        Thread waiter = waitingConsumer;
        if (waiter != null) {
            LockSupport.unpark(waiter);
        }
        boolean interrupted = false;
        while (true) {
            try {
                producer.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // finish closing first: the arena must not close under a running producer
            }
        }
        arena.close();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
