package io.dcls4j.dist;

import io.dcls4j.Device;
import io.dcls4j.Tensor;
import io.dcls4j.ffi.nccl.nccl_h;
import io.dcls4j.ffi.nccl.ncclUniqueId;
import io.dcls4j.internal.CudaContext;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * NCCL collectives between the GPUs of an MPI job, one GPU per process, as PyTorch's NCCL backend: MPI stays the
 * launcher (rank 0 makes the NCCL unique id with ncclGetUniqueId and broadcasts it over MPI), and the data moves
 * GPU to GPU through NCCL. libnccl.so.2 is loaded on the first {@link #create} ({@link NcclLibrary}).
 *
 * <p>The operations are enqueued on the device's stream, the one dcls4j's layers and copies use, and return at
 * once: an all-reduce of gradients runs after the backward that wrote them and before the optimizer step that
 * reads them, with no synchronisation ({@link Device#synchronize()} waits for it). The overloads with a stream
 * argument enqueue on another {@code cudaStream_t}, which the caller orders. Every NCCL error becomes a {@link DistributedException} with
 * ncclGetErrorString's message and this process's rank.
 */
public final class NcclCommunicator implements AutoCloseable {
    private final Communicator mpi;
    private final Device device;
    private final MemorySegment comm;
    private final MemorySegment deviceStream;
    private boolean closed;

    private NcclCommunicator(Communicator mpi, Device device, MemorySegment comm, MemorySegment deviceStream) {
        this.mpi = mpi;
        this.device = device;
        this.comm = comm;
        this.deviceStream = deviceStream;
    }

    /** NCCL's version as it reports it (e.g. 22105 for 2.21.5). Loads libnccl. */
    public static int version() {
        NcclLibrary.load();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ValueLayout.JAVA_INT);
            check(nccl_h.ncclGetVersion(v), "ncclGetVersion", -1, -1);
            return v.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /**
     * Joins every process of {@code mpi} in one NCCL communicator on {@code device} (this process's GPU; the
     * caller picks it, e.g. cuda:(local rank)). Collective: every rank must call it.
     */
    public static NcclCommunicator create(Communicator mpi, Device device) {
        if (mpi == null || device == null) {
            throw new IllegalArgumentException("communicator and device are required");
        }
        if (!device.isCuda()) {
            throw new IllegalArgumentException("NCCL needs a CUDA device, got " + device);
        }
        NcclLibrary.load();
        MemorySegment stream = CudaContext.of(device.index()).stream(); // creates the device's context too
        device.synchronize();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment id = arena.allocate(ncclUniqueId.layout());
            if (mpi.isRoot()) {
                check(nccl_h.ncclGetUniqueId(id), "ncclGetUniqueId", mpi.rank(), mpi.size());
            }
            mpi.broadcastBytes(id, 0);
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            check(nccl_h.ncclCommInitRank(out, mpi.size(), id, mpi.rank()), "ncclCommInitRank", mpi.rank(),
                    mpi.size());
            return new NcclCommunicator(mpi, device, out.get(ValueLayout.ADDRESS, 0), stream);
        }
    }

    public int rank() {
        return mpi.rank();
    }

    public int size() {
        return mpi.size();
    }

    public Device device() {
        return device;
    }

    /** Sums {@code tensor} (on this communicator's device) over every process, in place, on the device's stream. */
    public void allReduceSum(Tensor tensor) {
        allReduceSum(tensor, deviceStream);
    }

    /** Copies {@code root}'s {@code tensor} into every other process's, on the device's stream. */
    public void broadcast(Tensor tensor, int root) {
        broadcast(tensor, root, deviceStream);
    }

    /** Sums {@code tensor} (on this communicator's device) over every process, in place, on {@code stream}. */
    public synchronized void allReduceSum(Tensor tensor, MemorySegment stream) {
        requireOnDevice(tensor, "allReduceSum");
        MemorySegment p = tensor.nativeAddress();
        check(nccl_h.ncclAllReduce(p, p, tensor.elementCount(), nccl_h.DCLS_NCCL_FLOAT32(), nccl_h.DCLS_NCCL_SUM(),
                comm, stream), "ncclAllReduce", rank(), size());
    }

    /** Copies {@code root}'s {@code tensor} into every other process's, on {@code stream}. */
    public synchronized void broadcast(Tensor tensor, int root, MemorySegment stream) {
        requireOnDevice(tensor, "broadcast");
        if (root < 0 || root >= size()) {
            throw new IllegalArgumentException("root " + root + " is not a rank of " + size());
        }
        MemorySegment p = tensor.nativeAddress();
        check(nccl_h.ncclBroadcast(p, p, tensor.elementCount(), nccl_h.DCLS_NCCL_FLOAT32(), root, comm, stream),
                "ncclBroadcast", rank(), size());
    }

    /** ncclCommDestroy. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            check(nccl_h.ncclCommDestroy(comm), "ncclCommDestroy", rank(), size());
        }
    }

    private void requireOnDevice(Tensor tensor, String operation) {
        if (closed) {
            throw new IllegalStateException("NCCL communicator is closed");
        }
        if (tensor == null) {
            throw new IllegalArgumentException(operation + ": tensor is null");
        }
        if (!device.equals(tensor.device())) {
            throw new IllegalArgumentException(operation + ": " + tensor + " is on " + tensor.device()
                    + ", this NCCL communicator on " + device);
        }
    }

    private static void check(int result, String function, int rank, int size) {
        if (result != nccl_h.DCLS_NCCL_SUCCESS()) {
            String text = nccl_h.ncclGetErrorString(result).reinterpret(1024).getString(0);
            throw new DistributedException(rank, size, result, function + " failed: " + text
                    + " (NCCL error " + result + ")");
        }
    }
}
