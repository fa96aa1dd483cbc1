package io.dcls4j.dist;

import io.dcls4j.Parameter;
import io.dcls4j.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Data-parallel training, as PyTorch's DistributedDataParallel and Horovod do it: every process holds the same
 * model, trains on its own share of each global batch, and after backward the gradients are averaged over the
 * processes, so that every process then takes the same optimizer step and the model stays the same everywhere.
 *
 * <p>Use: {@code of(communicator, parameters)} copies rank 0's parameter values (and buffers) to every process.
 * Each step: zero the gradients, forward and backward on the local share of the batch (its loss the mean over
 * the local share), call {@link #gradientReady(Parameter)} as each parameter's gradient is complete (optional),
 * then {@link #finish()}: the gradients are now the average over all processes; step the optimizer.
 *
 * <p><b>Buckets.</b> The gradients are packed into buckets of about {@code bucketBytes} (parameters in reverse
 * order, as backward produces them), each an off-heap buffer allocated once. A bucket is all-reduced
 * (MPI_Iallreduce, in place) as soon as all of its parameters are ready and every earlier bucket has started: the
 * buckets start in the same order on every process, which MPI's collectives need, and the reduction of the last
 * layers' gradients overlaps with the backward of the first layers. MPI progresses non-blocking collectives
 * mostly inside MPI calls, so each {@link #gradientReady} also polls the oldest bucket in flight. {@link #finish()}
 * starts what is left, waits for every bucket (bounded by the communicator's timeout), and copies the sums back
 * scaled by 1/size. Nothing is allocated on the Java heap per step.
 *
 * <p>With equal local batch sizes, the averaged gradient is the gradient of the mean loss over the global batch:
 * two processes give the model that one process gives with the same global batch (to float rounding).
 */
public final class DataParallel implements AutoCloseable {
    /** PyTorch DDP's default bucket size, 25 MiB. */
    public static final long DEFAULT_BUCKET_BYTES = 25L << 20;

    private final Communicator communicator;
    private final List<Parameter> parameters;
    private final List<Tensor> buffers;
    private final Map<Parameter, Integer> index = new IdentityHashMap<>();
    private final Arena arena = Arena.ofShared();
    // Per parameter (in the order given):
    private final int[] bucketOf;
    private final long[] offsetInBucket; // in floats
    private final boolean[] ready;
    // Per bucket, in launch order (reverse parameter order):
    private final MemorySegment[] bucketMemory;
    private final int[] bucketFloats;
    private final int[][] bucketParams;
    private final int[] pending;
    /** Each bucket's MPI_Request and MPI_Test flag, off-heap, sliced once (no slice objects per step). */
    private final MemorySegment[] requestSlots;
    private final MemorySegment[] flagSlots;
    private final String[] operationNames;
    private int nextToStart;
    private int nextToFinish;
    private boolean closed;

    private DataParallel(Communicator communicator, List<Parameter> params, List<Tensor> buffers, long bucketBytes) {
        this.communicator = communicator;
        this.parameters = params;
        this.buffers = buffers;
        int n = params.size();
        bucketOf = new int[n];
        offsetInBucket = new long[n];
        ready = new boolean[n];
        List<List<Integer>> groups = new ArrayList<>();
        long cap = Math.max(1, Math.min(bucketBytes / Float.BYTES, Communicator.MAX_COUNT));
        List<Integer> current = new ArrayList<>();
        long currentFloats = 0;
        for (int i = n - 1; i >= 0; i--) {
            long count = params.get(i).value().elementCount();
            if (count > Communicator.MAX_COUNT) {
                throw new IllegalArgumentException("parameter " + params.get(i).name() + " has " + count
                        + " elements, more than one MPI call takes (" + Communicator.MAX_COUNT + ")");
            }
            if (!current.isEmpty() && currentFloats + count > cap) {
                groups.add(current);
                current = new ArrayList<>();
                currentFloats = 0;
            }
            bucketOf[i] = groups.size();
            offsetInBucket[i] = currentFloats;
            current.add(i);
            currentFloats += count;
        }
        if (!current.isEmpty()) {
            groups.add(current);
        }
        int b = groups.size();
        bucketMemory = new MemorySegment[b];
        bucketFloats = new int[b];
        bucketParams = new int[b][];
        pending = new int[b];
        operationNames = new String[b];
        MemorySegment requests = arena.allocate(ValueLayout.ADDRESS, Math.max(1, b));
        MemorySegment flags = arena.allocate(ValueLayout.JAVA_INT, Math.max(1, b));
        requestSlots = new MemorySegment[b];
        flagSlots = new MemorySegment[b];
        for (int k = 0; k < b; k++) {
            List<Integer> g = groups.get(k);
            bucketParams[k] = g.stream().mapToInt(Integer::intValue).toArray();
            long floats = 0;
            for (int i : bucketParams[k]) {
                floats += params.get(i).value().elementCount();
            }
            bucketFloats[k] = (int) floats;
            bucketMemory[k] = arena.allocate(Math.max(1, floats) * Float.BYTES, Tensor.ALIGNMENT);
            pending[k] = bucketParams[k].length;
            requestSlots[k] = requests.asSlice(k * ValueLayout.ADDRESS.byteSize(), ValueLayout.ADDRESS.byteSize());
            flagSlots[k] = flags.asSlice((long) k * Integer.BYTES, Integer.BYTES);
            operationNames[k] = "MPI_Iallreduce of gradient bucket " + k + " (" + floats + " floats)";
        }
    }

    /** {@link #of(Communicator, List, List, long)} without buffers, with {@link #DEFAULT_BUCKET_BYTES}. */
    public static DataParallel of(Communicator communicator, List<Parameter> parameters) {
        return of(communicator, parameters, List.of(), DEFAULT_BUCKET_BYTES);
    }

    /**
     * Sets up the buckets for {@code parameters} (host tensors; one listed twice, e.g. shared positions, counts
     * once), checks that every process has the same parameter sizes, and copies rank 0's parameter values and
     * {@code buffers} (state that is not learned, e.g. running statistics) to every process.
     */
    public static DataParallel of(Communicator communicator, List<Parameter> parameters, List<Tensor> buffers,
                                  long bucketBytes) {
        if (communicator == null) {
            throw new IllegalArgumentException("communicator is null");
        }
        if (parameters == null || parameters.isEmpty()) {
            throw new IllegalArgumentException("no parameters to train");
        }
        if (bucketBytes < Float.BYTES) {
            throw new IllegalArgumentException("bucketBytes must be at least 4, got " + bucketBytes);
        }
        List<Parameter> unique = new ArrayList<>();
        Map<Parameter, Boolean> seen = new IdentityHashMap<>();
        for (Parameter p : parameters) {
            if (p == null) {
                throw new IllegalArgumentException("a parameter is null");
            }
            if (p.value().device().isCuda()) {
                throw new IllegalArgumentException(p + " is on " + p.value().device()
                        + "; DataParallel averages host gradients over MPI (NcclCommunicator reduces device ones)");
            }
            if (seen.put(p, Boolean.TRUE) == null) {
                unique.add(p);
            }
        }
        List<Tensor> bufs = List.copyOf(buffers == null ? List.of() : buffers);
        for (Tensor t : bufs) {
            if (t.device().isCuda()) {
                throw new IllegalArgumentException("buffer " + t + " is on a device; DataParallel needs host buffers");
            }
        }
        DataParallel dp = new DataParallel(communicator, Collections.unmodifiableList(unique), bufs, bucketBytes);
        for (int i = 0; i < unique.size(); i++) {
            dp.index.put(unique.get(i), i);
        }
        try {
            dp.checkSameLayout();
            dp.broadcastFromRoot();
        } catch (RuntimeException e) {
            dp.close();
            throw e;
        }
        return dp;
    }

    public Communicator communicator() {
        return communicator;
    }

    /** The parameters, each once, in the order given. */
    public List<Parameter> parameters() {
        return parameters;
    }

    public int bucketCount() {
        return bucketMemory.length;
    }

    /**
     * Copies rank 0's parameter values and buffers to every process (done by {@link #of}; again after, e.g.,
     * loading a checkpoint on rank 0 only).
     */
    public void broadcastFromRoot() {
        requireOpen();
        if (communicator.size() == 1) {
            return;
        }
        for (int k = 0; k < bucketMemory.length; k++) {
            if (communicator.isRoot()) {
                pack(k, false);
            }
            communicator.broadcastBytes(bucketMemory[k], 0);
            unpack(k, false, 1f);
        }
        for (Tensor t : buffers) {
            communicator.broadcast(t, 0);
        }
    }

    /**
     * Says that {@code parameter}'s gradient is complete for this step: its bucket starts its all-reduce when
     * all of its gradients are ready and the buckets before it have started. Optional: {@link #finish()} starts
     * whatever was not started. The gradient must not change until {@link #finish()} returns.
     */
    public void gradientReady(Parameter parameter) {
        requireOpen();
        Integer boxed = index.get(parameter);
        if (boxed == null) {
            throw new IllegalArgumentException(parameter + " is not one of this DataParallel's parameters");
        }
        int i = boxed;
        if (ready[i]) {
            throw new IllegalStateException(parameter + " was already reported ready in this step");
        }
        ready[i] = true;
        if (communicator.size() == 1) {
            return;
        }
        pending[bucketOf[i]]--;
        while (nextToStart < bucketMemory.length && pending[nextToStart] == 0) {
            start(nextToStart++);
        }
        if (nextToFinish < nextToStart) {
            // MPI progresses a non-blocking collective inside MPI calls: one test lets the oldest bucket advance.
            if (communicator.test(requestSlots[nextToFinish], flagSlots[nextToFinish])) {
                unpack(nextToFinish, true, 1f / communicator.size());
                nextToFinish++;
            }
        }
    }

    /**
     * Starts every bucket not started yet, waits for all (bounded by the communicator's timeout), and leaves in
     * each parameter's gradient the average over all processes. Then the next step may begin.
     */
    public void finish() {
        requireOpen();
        if (communicator.size() > 1) {
            while (nextToStart < bucketMemory.length) {
                start(nextToStart++);
            }
            float scale = 1f / communicator.size();
            for (; nextToFinish < bucketMemory.length; nextToFinish++) {
                int k = nextToFinish;
                communicator.await(requestSlots[k], flagSlots[k], operationNames[k]);
                unpack(k, true, scale);
            }
        }
        java.util.Arrays.fill(ready, false);
        for (int k = 0; k < pending.length; k++) {
            pending[k] = bucketParams[k].length;
        }
        nextToStart = 0;
        nextToFinish = 0;
    }

    /** {@link #finish()} for callers without per-parameter hooks: averages every gradient now. */
    public void averageGradients() {
        finish();
    }

    /** Frees the buckets (not the communicator). A step in flight is abandoned. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }

    private void start(int k) {
        pack(k, true);
        communicator.startAllReduce(bucketMemory[k], bucketFloats[k], requestSlots[k]);
    }

    /** Copies the bucket's parameters' gradients (or values) into its buffer. */
    private void pack(int k, boolean gradients) {
        MemorySegment bucket = bucketMemory[k];
        for (int i : bucketParams[k]) {
            Tensor t = gradients ? parameters.get(i).grad() : parameters.get(i).value();
            MemorySegment.copy(t.segment(), 0, bucket, offsetInBucket[i] * Float.BYTES, t.elementCount() * Float.BYTES);
        }
    }

    /** Copies the buffer back into the gradients (or values), times {@code scale}. */
    private void unpack(int k, boolean gradients, float scale) {
        MemorySegment bucket = bucketMemory[k];
        for (int i : bucketParams[k]) {
            Tensor t = gradients ? parameters.get(i).grad() : parameters.get(i).value();
            MemorySegment dst = t.segment();
            long n = t.elementCount();
            long base = offsetInBucket[i];
            if (scale == 1f) {
                MemorySegment.copy(bucket, base * Float.BYTES, dst, 0, n * Float.BYTES);
            } else {
                for (long e = 0; e < n; e++) {
                    dst.setAtIndex(ValueLayout.JAVA_FLOAT, e,
                            bucket.getAtIndex(ValueLayout.JAVA_FLOAT, base + e) * scale);
                }
            }
        }
    }

    /** Every process must have the same parameter sizes, else the buckets would mix different tensors. */
    private void checkSameLayout() {
        if (communicator.size() == 1) {
            return;
        }
        // A fixed-size message (count and a hash of the sizes in order), so that a mismatch cannot garble MPI.
        long hash = 17;
        for (Parameter p : parameters) {
            hash = hash * 1_000_003L + p.value().elementCount();
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment roots = a.allocate(ValueLayout.JAVA_LONG, 2);
            roots.setAtIndex(ValueLayout.JAVA_LONG, 0, parameters.size());
            roots.setAtIndex(ValueLayout.JAVA_LONG, 1, hash);
            communicator.broadcastBytes(roots, 0);
            if (roots.getAtIndex(ValueLayout.JAVA_LONG, 0) != parameters.size()
                    || roots.getAtIndex(ValueLayout.JAVA_LONG, 1) != hash) {
                throw new DistributedException(communicator.rank(), communicator.size(), 0,
                        "this process's parameters differ in number or sizes from rank 0's ("
                                + parameters.size() + " parameters here): every rank must build the same model");
            }
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("DataParallel is closed");
        }
    }
}
