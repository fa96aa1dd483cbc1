package io.dcls4j.dist;

/**
 * A distributed operation failed on this process: an MPI or NCCL error (with the library's own message), or
 * another process that stopped answering. The message always starts with this process's place in the job,
 * "rank R of N", so that the line that reaches the console of a many-process job says who failed.
 */
public class DistributedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int rank;
    private final int size;
    private final int errorCode;

    /** {@code errorCode}: MPI's or NCCL's error code, 0 when the failure is not the library's. */
    public DistributedException(int rank, int size, int errorCode, String message) {
        super("rank " + rank + " of " + size + ": " + message);
        this.rank = rank;
        this.size = size;
        this.errorCode = errorCode;
    }

    /** This process's rank in the job (-1 when it failed before it knew it). */
    public int rank() {
        return rank;
    }

    /** The number of processes in the job (-1 when it failed before it knew it). */
    public int size() {
        return size;
    }

    /** The MPI or NCCL error code, 0 for a failure on the Java side (a timeout). */
    public int errorCode() {
        return errorCode;
    }
}
