package io.dcls4j.vector;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The thread pool of the pure-Java implementation: {@link #threads()} workers (the calling thread
 * plus {@code threads() - 1} pool threads) take tasks from a shared counter, so uneven tasks balance
 * themselves. Every task writes to its own slice of the output, so results do not depend on the
 * schedule.
 *
 * <p>The default is {@code Runtime.availableProcessors()}, or the system property
 * {@code dcls4j.vector.threads}.
 */
public final class VectorParallel {

    /** A unit of work: task number {@code task} run by worker {@code worker} (0 to threads() - 1). */
    @FunctionalInterface
    interface Body {
        void run(int task, int worker);
    }

    private static volatile int threads = Math.max(1,
            Integer.getInteger("dcls4j.vector.threads", Runtime.getRuntime().availableProcessors()));
    private static volatile ForkJoinPool pool;

    private VectorParallel() {
    }

    /** The number of workers used by every parallel loop of this package. */
    public static int threads() {
        return threads;
    }

    /** Sets the number of workers (at least 1); takes effect at the next parallel loop. */
    public static synchronized void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + n);
        }
        threads = n;
    }

    private static synchronized ForkJoinPool pool(int parallelism) {
        ForkJoinPool p = pool;
        if (p == null || p.getParallelism() < parallelism) {
            if (p != null) {
                p.shutdown();
            }
            p = new ForkJoinPool(parallelism);
            pool = p;
        }
        return p;
    }

    /** Runs {@code body} for tasks {@code 0 .. tasks-1}, on up to {@link #threads()} workers; returns when all are done. */
    static void run(int tasks, Body body) {
        int workers = Math.min(threads, tasks);
        if (workers <= 1) {
            for (int t = 0; t < tasks; t++) {
                body.run(t, 0);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        ForkJoinPool p = pool(workers - 1);
        @SuppressWarnings("unchecked")
        ForkJoinTask<?>[] forked = new ForkJoinTask<?>[workers - 1];
        for (int w = 1; w < workers; w++) {
            int worker = w;
            forked[w - 1] = p.submit(() -> drain(next, tasks, body, worker));
        }
        Throwable failure = null;
        try {
            drain(next, tasks, body, 0);
        } catch (RuntimeException | Error e) {
            failure = e;
            next.set(tasks); // stop the others early
        }
        for (ForkJoinTask<?> f : forked) {
            try {
                f.join();
            } catch (RuntimeException | Error e) {
                if (failure == null) {
                    failure = e;
                }
            }
        }
        if (failure instanceof RuntimeException re) {
            throw re;
        }
        if (failure instanceof Error err) {
            throw err;
        }
    }

    private static void drain(AtomicInteger next, int tasks, Body body, int worker) {
        for (int t; (t = next.getAndIncrement()) < tasks; ) {
            body.run(t, worker);
        }
    }
}
