package io.dcls4j.dist;

import java.util.SplittableRandom;

/**
 * Which samples of a dataset each process trains on in an epoch, as PyTorch's DistributedSampler chooses them:
 * every process shuffles the indices 0..size-1 with the same generator (seeded with {@code seed} and the epoch,
 * so every process gets the same permutation without talking), and takes every {@code worldSize}-th index
 * starting at its rank.
 *
 * <p>When the dataset does not divide by the number of processes: by default (padding) the permutation is
 * extended by repeating its first indices until it does, as PyTorch does, so that every sample is seen at least
 * once per epoch and a few twice; with {@code dropLast} its tail is dropped instead, so that no sample is seen
 * twice and a few not at all. Either way every process gets {@link #samplesPerRank()} indices, so that all take
 * the same number of steps. The permutation is this class's own (a Fisher-Yates shuffle from
 * {@link SplittableRandom}), not torch.randperm's: the same seed gives the same order here on every process
 * and every run, not the same order as PyTorch.
 */
public final class DistributedSampler {
    private final int datasetSize;
    private final int rank;
    private final int worldSize;
    private final long seed;
    private final boolean shuffle;
    private final boolean dropLast;
    private final int samplesPerRank;

    /**
     * @param datasetSize the number of samples (indices 0..datasetSize-1)
     * @param rank this process's rank, 0..worldSize-1
     * @param worldSize the number of processes
     * @param seed the same on every process
     * @param shuffle false keeps the dataset order (evaluation)
     * @param dropLast drop the tail instead of padding by repetition
     */
    public DistributedSampler(int datasetSize, int rank, int worldSize, long seed, boolean shuffle, boolean dropLast) {
        if (worldSize < 1) {
            throw new IllegalArgumentException("worldSize must be >= 1, got " + worldSize);
        }
        if (rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("rank " + rank + " is not in 0.." + (worldSize - 1));
        }
        if (datasetSize < 1) {
            throw new IllegalArgumentException("datasetSize must be >= 1, got " + datasetSize);
        }
        if (dropLast && datasetSize < worldSize) {
            throw new IllegalArgumentException("dropLast with " + datasetSize + " samples and " + worldSize
                    + " processes would leave a process no sample");
        }
        this.datasetSize = datasetSize;
        this.rank = rank;
        this.worldSize = worldSize;
        this.seed = seed;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.samplesPerRank = dropLast ? datasetSize / worldSize : (datasetSize + worldSize - 1) / worldSize;
    }

    /** A sampler for {@code communicator}'s rank and size. */
    public static DistributedSampler of(Communicator communicator, int datasetSize, long seed, boolean shuffle,
                                        boolean dropLast) {
        return new DistributedSampler(datasetSize, communicator.rank(), communicator.size(), seed, shuffle, dropLast);
    }

    /** The number of indices each process gets per epoch. */
    public int samplesPerRank() {
        return samplesPerRank;
    }

    /** This process's indices for {@code epoch}, in the order to train on them. */
    public int[] indices(int epoch) {
        return indices(epoch, new int[samplesPerRank], new int[datasetSize]);
    }

    /**
     * {@link #indices(int)} into {@code out} (samplesPerRank() long), with {@code scratch} (datasetSize long)
     * for the permutation: no allocation. Returns {@code out}.
     */
    public int[] indices(int epoch, int[] out, int[] scratch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
        }
        if (out.length != samplesPerRank || scratch.length != datasetSize) {
            throw new IllegalArgumentException("out must hold " + samplesPerRank + " indices and scratch "
                    + datasetSize + ", got " + out.length + " and " + scratch.length);
        }
        for (int i = 0; i < datasetSize; i++) {
            scratch[i] = i;
        }
        if (shuffle) {
            // Each epoch its own stream of the shared seed, as PyTorch's seed + epoch.
            SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
            for (int i = datasetSize - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = scratch[i];
                scratch[i] = scratch[j];
                scratch[j] = t;
            }
        }
        // Position rank + k * worldSize of the (padded or cut) permutation; padding repeats it from its start.
        for (int k = 0; k < samplesPerRank; k++) {
            long position = rank + (long) k * worldSize;
            out[k] = scratch[(int) (position % datasetSize)];
        }
        return out;
    }
}
