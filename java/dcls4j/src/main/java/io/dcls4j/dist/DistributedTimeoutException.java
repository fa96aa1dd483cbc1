package io.dcls4j.dist;

import java.time.Duration;

/**
 * A collective operation did not complete within {@link Communicator#timeout()}: another process died, hangs
 * or never reached the same call. Under {@link TimeoutAction#ABORT} the process prints this exception and ends
 * the whole job with MPI_Abort; under {@link TimeoutAction#THROW} it is thrown and the communicator is unusable.
 */
public final class DistributedTimeoutException extends DistributedException {
    private static final long serialVersionUID = 1L;

    private final transient Duration timeout;

    public DistributedTimeoutException(int rank, int size, String operation, Duration timeout) {
        super(rank, size, 0, operation + " did not complete within " + timeout.toMillis() / 1000.0
                + " s: another rank died, hangs or never reached it (timeout: dcls4j.dist.timeout)");
        this.timeout = timeout;
    }

    /** The bounded wait that passed. */
    public Duration timeout() {
        return timeout;
    }
}
