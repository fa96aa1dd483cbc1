package io.dcls4j.fuzz;

/**
 * What one fuzz case came to. The first four are fine; the rest fail the run.
 */
enum Outcome {
    /** A valid case whose results matched the float64 reference. */
    OK(true),
    /** An invalid case refused with IllegalArgumentException, IllegalStateException or DclsException (or an
     *  IOException naming the problem, for files), with a message. */
    REFUSED(true),
    /** A case at the extremes that may be valid or refused (the memory limit decides): refused properly. */
    REFUSED_EXTREME(true),
    /** A case at the extremes that ran and matched the reference. */
    OK_EXTREME(true),
    /** A valid case refused: the library rejected something it must accept. */
    UNEXPECTED_REFUSAL(false),
    /** Any other exception, or one without a message. */
    UNCLEAR(false),
    /** A result differing from the float64 reference. */
    WRONG(false),
    /** The child JVM died inside the case. */
    CRASH(false),
    /** The case ran past the time limit. */
    HANG(false);

    final boolean fine;

    Outcome(boolean fine) {
        this.fine = fine;
    }
}
