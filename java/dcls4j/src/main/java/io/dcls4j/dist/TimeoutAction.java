package io.dcls4j.dist;

/** What a process does when a collective operation outlives {@link Communicator#timeout()}. */
public enum TimeoutAction {
    /**
     * Print the {@link DistributedTimeoutException} to standard error and end every process of the job with
     * MPI_Abort (the default): a stuck job never waits for someone to notice it.
     */
    ABORT,
    /**
     * Throw the {@link DistributedTimeoutException}; the communicator is then broken and the caller must end
     * the process (a library user with its own clean-up).
     */
    THROW
}
