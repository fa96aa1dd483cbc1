package io.dcls4j.dist;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DistributedSamplerTest {
    /** How often each sample appears in one epoch, over every rank. */
    private static int[] counts(int size, int world, long seed, int epoch, boolean dropLast) {
        int[] counts = new int[size];
        int perRank = -1;
        for (int r = 0; r < world; r++) {
            DistributedSampler s = new DistributedSampler(size, r, world, seed, true, dropLast);
            int[] idx = s.indices(epoch);
            if (perRank >= 0) {
                assertEquals(perRank, idx.length, "every rank takes the same number of steps");
            }
            perRank = idx.length;
            for (int i : idx) {
                counts[i]++;
            }
        }
        return counts;
    }

    @Test
    void everySampleExactlyOncePerEpochWhenTheDatasetDivides() {
        for (int epoch = 0; epoch < 3; epoch++) {
            int[] c = counts(60, 4, 7, epoch, false);
            for (int i = 0; i < c.length; i++) {
                assertEquals(1, c[i], "sample " + i + " epoch " + epoch);
            }
        }
    }

    @Test
    void paddingRepeatsTheFirstIndicesAndDropLastDropsTheTail() {
        // 10 samples, 3 ranks: padding to 12 shows 2 samples twice; dropLast to 9 leaves 1 out.
        int[] padded = counts(10, 3, 5, 1, false);
        assertEquals(12, Arrays.stream(padded).sum());
        assertEquals(0, Arrays.stream(padded).filter(c -> c == 0).count(), "every sample at least once");
        assertEquals(2, Arrays.stream(padded).filter(c -> c == 2).count());
        int[] dropped = counts(10, 3, 5, 1, true);
        assertEquals(9, Arrays.stream(dropped).sum());
        assertEquals(1, Arrays.stream(dropped).filter(c -> c == 0).count());
        assertEquals(0, Arrays.stream(dropped).filter(c -> c > 1).count(), "no sample twice");
        // More ranks than samples: padding wraps around the permutation more than once.
        int[] tiny = counts(2, 5, 1, 0, false);
        assertEquals(5, Arrays.stream(tiny).sum());
        assertFalse(Arrays.stream(tiny).anyMatch(c -> c == 0));
    }

    @Test
    void withoutShuffleRankRTakesEveryWorldSizeThIndexFromR() {
        assertArrayEquals(new int[] {1, 4, 7, 0},
                new DistributedSampler(10, 1, 3, 0, false, false).indices(0));
        assertArrayEquals(new int[] {2, 5, 8, 1},
                new DistributedSampler(10, 2, 3, 0, false, false).indices(0));
        assertArrayEquals(new int[] {0, 3, 6}, new DistributedSampler(10, 0, 3, 0, false, true).indices(0));
    }

    @Test
    void theSameSeedAndEpochGiveTheSameOrderOnEveryProcessAndRun() {
        DistributedSampler a = new DistributedSampler(1000, 2, 4, 123, true, false);
        DistributedSampler b = new DistributedSampler(1000, 2, 4, 123, true, false);
        assertArrayEquals(a.indices(3), b.indices(3));
        assertFalse(Arrays.equals(a.indices(3), a.indices(4)), "each epoch its own order");
        assertFalse(Arrays.equals(a.indices(3), new DistributedSampler(1000, 2, 4, 124, true, false).indices(3)),
                "another seed, another order");
        int[] sorted = a.indices(0).clone();
        Arrays.sort(sorted);
        assertFalse(Arrays.equals(sorted, a.indices(0)), "shuffled");
        // The no-allocation form gives the same.
        assertArrayEquals(a.indices(3), a.indices(3, new int[a.samplesPerRank()], new int[1000]));
    }

    @Test
    void badArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new DistributedSampler(10, 3, 3, 0, true, false));
        assertThrows(IllegalArgumentException.class, () -> new DistributedSampler(0, 0, 1, 0, true, false));
        assertThrows(IllegalArgumentException.class, () -> new DistributedSampler(2, 0, 3, 0, true, true));
        DistributedSampler s = new DistributedSampler(10, 0, 3, 0, true, false);
        assertThrows(IllegalArgumentException.class, () -> s.indices(0, new int[3], new int[10]));
        assertThrows(IllegalArgumentException.class, () -> s.indices(-1));
    }
}
