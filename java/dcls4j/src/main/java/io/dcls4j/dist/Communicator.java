package io.dcls4j.dist;

import io.dcls4j.Tensor;
import io.dcls4j.ffi.mpi.mpi_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.Locale;

/**
 * The processes of one training job and the collective operations between them: MPI's {@code MPI_COMM_WORLD}
 * when the program was started by {@code mpirun} or {@code srun} ({@link #mpi()}), or a single process that
 * needs no MPI at all ({@link #single()}); {@link #fromEnvironment()} picks the one that fits, so a training
 * program is written once.
 *
 * <p><b>Errors.</b> The communicator's error handler is MPI_ERRORS_RETURN, so every MPI error becomes a
 * {@link DistributedException} with MPI's message and this process's rank. <b>No wait is unbounded</b>: every
 * collective is started non-blocking and polled (MPI_Test) until {@link #timeout()} has passed, and then
 * {@link #timeoutAction()} applies (by default the job ends through MPI_Abort with a printed
 * {@link DistributedTimeoutException}). The timeout comes from {@code dcls4j.dist.timeout} /
 * {@code DCLS4J_DIST_TIMEOUT} (seconds, default {@value #DEFAULT_TIMEOUT_SECONDS}) unless given.
 *
 * <p><b>Threads.</b> MPI is initialised with MPI_THREAD_SERIALIZED and every call here is synchronized, so any
 * thread may use the communicator. MPI can be initialised once per process: after {@link #close()}
 * (MPI_Finalize) no other MPI communicator can be made.
 */
public final class Communicator implements AutoCloseable {
    public static final String TIMEOUT_PROPERTY = "dcls4j.dist.timeout";
    public static final long DEFAULT_TIMEOUT_SECONDS = 300;
    /** The largest count one MPI call takes (an int); bigger tensors go in several calls. */
    static final int MAX_COUNT = 1 << 30;
    /** MPI_Test calls spun before the poll loop starts yielding between them. */
    private static final int SPINS = 1_000;

    private static Communicator world;
    private static boolean finalized;

    private final boolean mpi;
    private final int rank;
    private final int size;
    private final Duration timeout;
    private final TimeoutAction timeoutAction;
    /** One request, flag and int out-parameter for the blocking operations (all synchronized). */
    private final MemorySegment request;
    private final MemorySegment flag;
    private volatile boolean closed;
    private volatile boolean broken;

    private Communicator(boolean mpi, int rank, int size, Duration timeout, TimeoutAction action,
                         MemorySegment scratch) {
        this.mpi = mpi;
        this.rank = rank;
        this.size = size;
        this.timeout = timeout;
        this.timeoutAction = action;
        this.request = scratch == null ? null : scratch.asSlice(0, ValueLayout.ADDRESS.byteSize());
        this.flag = scratch == null ? null : scratch.asSlice(ValueLayout.ADDRESS.byteSize(), Integer.BYTES);
    }

    /** One process, rank 0 of 1: every collective is the identity. Loads no MPI. */
    public static Communicator single() {
        return new Communicator(false, 0, 1, configuredTimeout(), TimeoutAction.ABORT, null);
    }

    /** Whether this process was started by an MPI launcher (Open MPI's mpirun, or srun / PMIx). */
    public static boolean launchedByMpi() {
        return System.getenv("OMPI_COMM_WORLD_SIZE") != null || System.getenv("PMIX_RANK") != null
                || System.getenv("PMI_RANK") != null;
    }

    /** {@link #mpi()} when {@link #launchedByMpi()}, else {@link #single()}. */
    public static Communicator fromEnvironment() {
        return launchedByMpi() ? mpi() : single();
    }

    /** MPI's world with the configured timeout and {@link TimeoutAction#ABORT}. */
    public static Communicator mpi() {
        return mpi(configuredTimeout(), TimeoutAction.ABORT);
    }

    /**
     * MPI's world: loads libmpi ({@code dcls4j.mpi.library}, java.library.path, the standard locations),
     * MPI_Init_thread (MPI_THREAD_SERIALIZED) and MPI_ERRORS_RETURN on MPI_COMM_WORLD. The first call initialises
     * MPI; later calls return the same communicator (the arguments of the first call apply).
     */
    public static synchronized Communicator mpi(Duration timeout, TimeoutAction action) {
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        if (action == null) {
            throw new IllegalArgumentException("timeout action is null");
        }
        if (world != null) {
            return world;
        }
        if (finalized) {
            throw new IllegalStateException("MPI was finalized (Communicator.close()); it cannot start twice");
        }
        MpiLibrary.load(); // before any MPI symbol is looked up
        MemorySegment scratch = Arena.global().allocate(16, 8);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment provided = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            check(mpi_h.MPI_Init_thread(MemorySegment.NULL, MemorySegment.NULL, mpi_h.MPI_THREAD_SERIALIZED(),
                    provided), "MPI_Init_thread", -1, -1);
            check(mpi_h.MPI_Comm_set_errhandler(Mpi.COMM_WORLD, Mpi.ERRORS_RETURN), "MPI_Comm_set_errhandler",
                    -1, -1);
            check(mpi_h.MPI_Comm_rank(Mpi.COMM_WORLD, out), "MPI_Comm_rank", -1, -1);
            int rank = out.get(ValueLayout.JAVA_INT, 0);
            check(mpi_h.MPI_Comm_size(Mpi.COMM_WORLD, out), "MPI_Comm_size", rank, -1);
            int size = out.get(ValueLayout.JAVA_INT, 0);
            if (provided.get(ValueLayout.JAVA_INT, 0) < mpi_h.MPI_THREAD_SERIALIZED()) {
                throw new DistributedException(rank, size, 0, "MPI gives thread level "
                        + provided.get(ValueLayout.JAVA_INT, 0) + ", dcls4j needs MPI_THREAD_SERIALIZED");
            }
            world = new Communicator(true, rank, size, timeout, action, scratch);
        }
        Communicator c = world;
        // mpirun ends the other processes with SIGTERM when one dies: say which rank this was and why.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (!c.closed) {
                System.err.println("dcls4j dist: rank " + c.rank + " of " + c.size + ": process ending before"
                        + " Communicator.close() (MPI_Finalize): stopped by the launcher because another rank"
                        + " failed, or the program did not close its communicator");
            }
        }, "dcls4j-dist-shutdown"));
        return world;
    }

    /** The timeout from {@code dcls4j.dist.timeout} / {@code DCLS4J_DIST_TIMEOUT} (seconds, fractions allowed). */
    public static Duration configuredTimeout() {
        String s = System.getProperty(TIMEOUT_PROPERTY, System.getenv("DCLS4J_DIST_TIMEOUT"));
        if (s == null || s.isBlank()) {
            return Duration.ofSeconds(DEFAULT_TIMEOUT_SECONDS);
        }
        double seconds;
        try {
            seconds = Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(TIMEOUT_PROPERTY + " must be a number of seconds, got '" + s + "'");
        }
        if (!(seconds > 0) || Double.isInfinite(seconds)) {
            throw new IllegalArgumentException(TIMEOUT_PROPERTY + " must be a positive number of seconds, got " + s);
        }
        return Duration.ofNanos((long) (seconds * 1e9));
    }

    /** This process's rank, 0 to size() - 1. */
    public int rank() {
        return rank;
    }

    /** The number of processes. */
    public int size() {
        return size;
    }

    /** Whether this is rank 0, the one process that prints progress and writes files. */
    public boolean isRoot() {
        return rank == 0;
    }

    /** Whether this communicator is MPI's (even with one process), not {@link #single()}. */
    public boolean isMpi() {
        return mpi;
    }

    public Duration timeout() {
        return timeout;
    }

    public TimeoutAction timeoutAction() {
        return timeoutAction;
    }

    /** Sums {@code tensor} over every process, in place (MPI_IN_PLACE); every process gets the sum. */
    public synchronized void allReduceSum(Tensor tensor) {
        requireHost(tensor, "allReduceSum");
        allReduceSum(tensor.segment(), tensor.elementCount());
    }

    /** Sums {@code count} floats at the start of {@code floats} over every process, in place. */
    public synchronized void allReduceSum(MemorySegment floats, long count) {
        requireFloats(floats, count, "allReduceSum");
        if (!mpi || size == 1) {
            return;
        }
        for (long done = 0; done < count; done += MAX_COUNT) {
            int n = (int) Math.min(MAX_COUNT, count - done);
            MemorySegment part = floats.asSlice(done * Float.BYTES, (long) n * Float.BYTES);
            startAllReduce(part, n, request);
            await(request, flag, "MPI_Iallreduce of " + n + " floats");
        }
    }

    /** Copies {@code root}'s {@code tensor} into every other process's. */
    public synchronized void broadcast(Tensor tensor, int root) {
        requireHost(tensor, "broadcast");
        broadcastBytes(tensor.segment(), root);
    }

    /** Copies {@code root}'s bytes of {@code bytes} into every other process's {@code bytes}. */
    public synchronized void broadcastBytes(MemorySegment bytes, int root) {
        requireUsable();
        if (root < 0 || root >= size) {
            throw new IllegalArgumentException("root " + root + " is not a rank of " + size);
        }
        if (!bytes.isNative()) {
            throw new IllegalArgumentException("broadcast needs off-heap memory, got a heap segment");
        }
        if (!mpi || size == 1) {
            return;
        }
        for (long done = 0; done < bytes.byteSize(); done += MAX_COUNT) {
            int n = (int) Math.min(MAX_COUNT, bytes.byteSize() - done);
            check(mpi_h.MPI_Ibcast(bytes.asSlice(done, n), n, Mpi.BYTE, root, Mpi.COMM_WORLD, request),
                    "MPI_Ibcast");
            await(request, flag, "MPI_Ibcast of " + n + " bytes from rank " + root);
        }
    }

    /** Waits until every process has called barrier (bounded by the timeout). */
    public synchronized void barrier() {
        requireUsable();
        if (!mpi || size == 1) {
            return;
        }
        check(mpi_h.MPI_Ibarrier(Mpi.COMM_WORLD, request), "MPI_Ibarrier");
        await(request, flag, "MPI_Ibarrier");
    }

    /** Ends every process of the job with {@code exitCode} (MPI_Abort); for a single process, System.exit. */
    public void abort(int exitCode) {
        System.err.flush();
        System.out.flush();
        if (mpi) {
            mpi_h.MPI_Abort(Mpi.COMM_WORLD, exitCode);
        }
        Runtime.getRuntime().halt(exitCode);
    }

    /** MPI_Finalize (after a barrier, so that no process leaves while another still sends). Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        if (mpi && !broken) {
            barrier();
            check(mpi_h.MPI_Finalize(), "MPI_Finalize");
        }
        closed = true;
        if (mpi) {
            synchronized (Communicator.class) {
                world = null;
                finalized = true;
            }
        }
    }

    @Override
    public String toString() {
        return (mpi ? "MPI" : "single-process") + " communicator, rank " + rank + " of " + size;
    }

    // ---- for DataParallel: non-blocking all-reduce of a bucket into its own request slot ----

    /** MPI_Iallreduce of {@code count} floats in place, its request written to {@code requestSlot}. */
    synchronized void startAllReduce(MemorySegment floats, int count, MemorySegment requestSlot) {
        requireUsable();
        check(mpi_h.MPI_Iallreduce(Mpi.IN_PLACE, floats, count, Mpi.FLOAT, Mpi.SUM, Mpi.COMM_WORLD, requestSlot),
                "MPI_Iallreduce");
    }

    /** One MPI_Test: lets MPI progress the request; true when it completed. */
    synchronized boolean test(MemorySegment requestSlot, MemorySegment flagSlot) {
        check(mpi_h.MPI_Test(requestSlot, flagSlot, Mpi.STATUS_IGNORE), "MPI_Test");
        return flagSlot.get(ValueLayout.JAVA_INT, 0) != 0;
    }

    /** Polls {@code requestSlot} until it completes or the timeout passes (then {@link #timeoutAction}). */
    void await(MemorySegment requestSlot, MemorySegment flagSlot, String operation) {
        long start = System.nanoTime();
        long limit = timeout.toNanos();
        for (int polls = 0; !test(requestSlot, flagSlot); polls++) {
            if (System.nanoTime() - start > limit) {
                timedOut(operation);
            }
            // Open MPI moves a non-blocking collective forward only inside MPI calls, so a wait keeps testing,
            // as MPI_Wait would; past the first spins it yields the core between tests (Open MPI's own
            // yield_when_idle), so that an oversubscribed machine still runs the other ranks.
            if (polls < SPINS) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    private void timedOut(String operation) {
        broken = true;
        DistributedTimeoutException e = new DistributedTimeoutException(rank, size, operation, timeout);
        if (timeoutAction == TimeoutAction.ABORT) {
            System.err.println("dcls4j dist: " + e.getMessage() + "; ending the job (MPI_Abort)");
            e.printStackTrace();
            abort(1);
        }
        throw e;
    }

    void check(int code, String function) {
        check(code, function, rank, size);
    }

    private static void check(int code, String function, int rank, int size) {
        if (code != mpi_h.MPI_SUCCESS()) {
            throw new DistributedException(rank, size, code, function + " failed: " + Mpi.errorString(code)
                    + " (MPI error " + code + ")");
        }
    }

    void requireUsable() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
        if (broken) {
            throw new IllegalStateException(this + " is broken by an earlier timeout");
        }
    }

    private static void requireHost(Tensor t, String operation) {
        if (t == null) {
            throw new IllegalArgumentException(operation + ": tensor is null");
        }
        if (t.device().isCuda()) {
            throw new IllegalArgumentException(operation + ": " + t + " is on " + t.device()
                    + "; MPI reduces host memory, use NcclCommunicator for device tensors");
        }
    }

    private void requireFloats(MemorySegment floats, long count, String operation) {
        requireUsable();
        if (floats == null || !floats.isNative()) {
            throw new IllegalArgumentException(operation + " needs off-heap memory, got " + floats);
        }
        if (count < 0 || floats.byteSize() < count * Float.BYTES) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "%s: %d floats do not fit in a segment of %d bytes", operation, count, floats.byteSize()));
        }
    }
}
