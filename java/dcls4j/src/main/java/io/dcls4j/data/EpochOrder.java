package io.dcls4j.data;

import java.util.Arrays;

/**
 * The order in which an epoch visits a dataset's samples, and which of them one rank of a data-parallel job takes.
 *
 * <p>With shuffling, epoch {@code e}'s order is a uniformly random permutation (Fisher-Yates over SplitMix64, see
 * {@link SplitMix}) that depends only on (seed, e): the same in every run and on every rank, different from epoch to
 * epoch. Without it, the order is 0, 1, 2, ...
 *
 * <p>{@link #shard(int, int)} splits that one permutation among {@code worldSize} ranks: rank {@code r} takes
 * positions r, r + worldSize, r + 2 worldSize, ... of it. Every rank computes the same permutation from the shared
 * seed, so in every epoch every sample is visited exactly once across all ranks, with no communication; shard sizes
 * differ by at most one (the first {@code size % worldSize} ranks take one more). Nothing is padded or repeated.
 */
public final class EpochOrder {
    private final int datasetSize;
    private final long seed;
    private final boolean shuffle;
    private final int rank;
    private final int worldSize;

    /** The whole dataset of {@code datasetSize} samples, shuffled per epoch from {@code seed} if {@code shuffle}. */
    public EpochOrder(int datasetSize, long seed, boolean shuffle) {
        this(datasetSize, seed, shuffle, 0, 1);
    }

    private EpochOrder(int datasetSize, long seed, boolean shuffle, int rank, int worldSize) {
        if (datasetSize < 1) {
            throw new IllegalArgumentException("dataset size must be >= 1, got " + datasetSize);
        }
        if (worldSize < 1 || rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("rank " + rank + " of world size " + worldSize
                    + ": need worldSize >= 1 and 0 <= rank < worldSize");
        }
        if (worldSize > datasetSize) {
            throw new IllegalArgumentException("world size " + worldSize + " is larger than the dataset ("
                    + datasetSize + " samples): some ranks would get nothing");
        }
        this.datasetSize = datasetSize;
        this.seed = seed;
        this.shuffle = shuffle;
        this.rank = rank;
        this.worldSize = worldSize;
    }

    /**
     * Rank {@code rank}'s share of this order among {@code worldSize} ranks. Only an unsharded order can be sharded
     * (a shard of a shard would not be what a data-parallel sampler means).
     */
    public EpochOrder shard(int rank, int worldSize) {
        if (this.worldSize != 1) {
            throw new IllegalStateException("already a shard (rank " + this.rank + " of " + this.worldSize + ")");
        }
        return new EpochOrder(datasetSize, seed, shuffle, rank, worldSize);
    }

    /** Samples of the whole dataset. */
    public int datasetSize() {
        return datasetSize;
    }

    /** Samples this rank visits per epoch: {@code ceil((datasetSize - rank) / worldSize)}. */
    public int size() {
        return (int) (((long) datasetSize - rank + worldSize - 1) / worldSize);
    }

    public int rank() {
        return rank;
    }

    public int worldSize() {
        return worldSize;
    }

    public long seed() {
        return seed;
    }

    public boolean shuffled() {
        return shuffle;
    }

    /**
     * Writes this rank's sample indices for {@code epoch} to {@code work[0 .. size())}. {@code work} must hold the whole
     * dataset ({@link #datasetSize()} ints): the full permutation is built in it first. Allocation-free.
     */
    public void fill(int epoch, int[] work) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
        }
        if (work.length < datasetSize) {
            throw new IllegalArgumentException("work array of " + work.length + " ints; the order needs "
                    + datasetSize);
        }
        for (int i = 0; i < datasetSize; i++) {
            work[i] = i;
        }
        if (shuffle) {
            long state = SplitMix.hash(seed, epoch, -1);
            for (int i = datasetSize - 1; i > 0; i--) {
                // uniform in [0, i] by rejection over 31-bit values (as java.util.Random.nextInt): no modulo bias
                int bound = i + 1;
                int j;
                while (true) {
                    state += SplitMix.GAMMA;
                    int bits = (int) (SplitMix.mix(state) >>> 33);
                    j = bits % bound;
                    if (bits - j + (bound - 1) >= 0) {
                        break;
                    }
                }
                int t = work[i];
                work[i] = work[j];
                work[j] = t;
            }
        }
        if (worldSize > 1) {
            // position rank + k * worldSize moves to k; it never lies before k, so moving forward in place is safe
            int n = size();
            for (int k = 0; k < n; k++) {
                work[k] = work[rank + k * worldSize];
            }
        }
    }

    /** This rank's sample indices for {@code epoch}, in a new array of {@link #size()}. */
    public int[] order(int epoch) {
        int[] work = new int[datasetSize];
        fill(epoch, work);
        return Arrays.copyOf(work, size());
    }

    @Override
    public String toString() {
        return "EpochOrder[" + datasetSize + " samples, " + (shuffle ? "shuffled, seed " + seed : "in order")
                + (worldSize > 1 ? ", rank " + rank + " of " + worldSize : "") + "]";
    }
}
