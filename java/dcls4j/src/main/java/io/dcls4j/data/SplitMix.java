package io.dcls4j.data;

/**
 * SplitMix64 (Steele, Lea and Flood 2014): a 64-bit mixing function and the generator built on it. Written out
 * rather than taken from {@link java.util.SplittableRandom} so that the data order is fixed by this file alone and
 * drawing needs no object: the state is a long the caller keeps.
 */
final class SplitMix {
    static final long GAMMA = 0x9e3779b97f4a7c15L;

    private SplitMix() {
    }

    /** The SplitMix64 finalizer: a bijection of 64-bit values that scrambles every bit into every other. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** A well-mixed 64-bit value for the triple (seed, a, b), different for every triple in practice. */
    static long hash(long seed, int a, int b) {
        return mix(mix(mix(seed) + GAMMA * (a + 1L)) + GAMMA * (b + 1L));
    }
}
