package io.dcls4j.fuzz;

/** One generated case: what it does, what it should come to, and the code that does it. */
record FuzzCase(long seed, String kind, String description, Expect expect, Body body) {

    /** What a correct library does with the case. */
    enum Expect {
        /** Runs, and the results match the reference. */
        VALID,
        /** Is refused with a clear exception. */
        INVALID,
        /** At the extremes: runs and matches, or is refused with a clear exception. */
        EITHER
    }

    @FunctionalInterface
    interface Body {
        void run() throws Exception;
    }

    @Override
    public String toString() {
        return kind + " " + expect + ": " + description;
    }
}
