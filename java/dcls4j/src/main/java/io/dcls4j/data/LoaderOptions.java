package io.dcls4j.data;

import java.util.Objects;

/**
 * How batches are made from a dataset. Start from {@link #training(int, long)} or {@link #evaluation(int)} and change
 * what differs with the {@code with...} methods.
 *
 * @param batchSize     samples per batch (the last batch of an epoch may be smaller unless {@code dropLast})
 * @param shuffle       a new random order every epoch (see {@link EpochOrder})
 * @param seed          seeds the order and the augmentation; ranks of one data-parallel job share it
 * @param normalization pixel to input value
 * @param augmentation  random crop and flip, or {@link Augmentation#NONE}
 * @param rank          this process's rank in a data-parallel job, 0 alone
 * @param worldSize     number of ranks, 1 alone
 * @param dropLast      leave out an epoch's last, smaller batch (so that every step sees {@code batchSize} samples)
 * @param prefetch      batches a {@link BatchLoader} prepares ahead of the one in use (its buffers: prefetch + 1)
 */
public record LoaderOptions(int batchSize, boolean shuffle, long seed, Normalization normalization,
                            Augmentation augmentation, int rank, int worldSize, boolean dropLast, int prefetch) {

    public LoaderOptions {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        Objects.requireNonNull(normalization, "normalization");
        Objects.requireNonNull(augmentation, "augmentation");
        if (worldSize < 1 || rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("rank " + rank + " of world size " + worldSize
                    + ": need worldSize >= 1 and 0 <= rank < worldSize");
        }
        if (prefetch < 1 || prefetch > 64) {
            throw new IllegalArgumentException("prefetch must be in [1, 64], got " + prefetch);
        }
    }

    /** Training: shuffled from {@code seed}, no augmentation yet, no normalization yet, last partial batch dropped. */
    public static LoaderOptions training(int batchSize, long seed) {
        return new LoaderOptions(batchSize, true, seed, Normalization.NONE, Augmentation.NONE, 0, 1, true, 2);
    }

    /** Evaluation: in order, no augmentation, every sample (the last batch may be smaller). */
    public static LoaderOptions evaluation(int batchSize) {
        return new LoaderOptions(batchSize, false, 0L, Normalization.NONE, Augmentation.NONE, 0, 1, false, 2);
    }

    public LoaderOptions withNormalization(Normalization n) {
        return new LoaderOptions(batchSize, shuffle, seed, n, augmentation, rank, worldSize, dropLast, prefetch);
    }

    public LoaderOptions withAugmentation(Augmentation a) {
        return new LoaderOptions(batchSize, shuffle, seed, normalization, a, rank, worldSize, dropLast, prefetch);
    }

    /** This process is rank {@code r} of {@code world}: it gets its share of every epoch ({@link EpochOrder#shard}). */
    public LoaderOptions withShard(int r, int world) {
        return new LoaderOptions(batchSize, shuffle, seed, normalization, augmentation, r, world, dropLast, prefetch);
    }

    public LoaderOptions withDropLast(boolean drop) {
        return new LoaderOptions(batchSize, shuffle, seed, normalization, augmentation, rank, worldSize, drop,
                prefetch);
    }

    public LoaderOptions withPrefetch(int batches) {
        return new LoaderOptions(batchSize, shuffle, seed, normalization, augmentation, rank, worldSize, dropLast,
                batches);
    }

    public LoaderOptions withSeed(long s) {
        return new LoaderOptions(batchSize, shuffle, s, normalization, augmentation, rank, worldSize, dropLast,
                prefetch);
    }

    public LoaderOptions withShuffle(boolean s) {
        return new LoaderOptions(batchSize, s, seed, normalization, augmentation, rank, worldSize, dropLast,
                prefetch);
    }
}
