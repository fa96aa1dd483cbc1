package io.dcls4j.data;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shuffling: a permutation, reproducible from the seed, new every epoch, uniform; shards cover it exactly once. */
class EpochOrderTest {

    private static void assertPermutation(int[] order, int n) {
        assertEquals(n, order.length);
        boolean[] seen = new boolean[n];
        for (int i : order) {
            assertFalse(seen[i], "sample " + i + " twice");
            seen[i] = true;
        }
    }

    @Test
    void theSameSeedAndEpochGiveTheSameOrder() {
        EpochOrder a = new EpochOrder(1000, 42, true);
        EpochOrder b = new EpochOrder(1000, 42, true);
        for (int epoch = 0; epoch < 5; epoch++) {
            int[] o = a.order(epoch);
            assertPermutation(o, 1000);
            assertArrayEquals(o, b.order(epoch));
        }
    }

    @Test
    void epochsAndSeedsGiveDifferentOrders() {
        EpochOrder a = new EpochOrder(1000, 42, true);
        int[] e0 = a.order(0);
        assertFalse(Arrays.equals(e0, a.order(1)));
        assertFalse(Arrays.equals(e0, new EpochOrder(1000, 43, true).order(0)));
        int[] identity = new int[1000];
        Arrays.setAll(identity, i -> i);
        assertFalse(Arrays.equals(e0, identity));
        // in order without shuffling, whatever the seed and epoch
        assertArrayEquals(identity, new EpochOrder(1000, 42, false).order(3));
    }

    @Test
    void everyPermutationIsEquallyLikely() {
        // 4 samples: 24 permutations, 24,000 epochs, about 1,000 each; the classic wrong shuffle (j drawn from [0, n)
        // instead of [0, i]) gives some 750 and others over 1,300. Bounds: 1000 +- 5 sigma (sigma = sqrt(1000 * 23/24) = 31).
        EpochOrder o = new EpochOrder(4, 1234, true);
        Map<String, Integer> counts = new HashMap<>();
        int[] work = new int[4];
        for (int epoch = 0; epoch < 24_000; epoch++) {
            o.fill(epoch, work);
            counts.merge(Arrays.toString(work), 1, Integer::sum);
        }
        assertEquals(24, counts.size());
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            assertTrue(Math.abs(e.getValue() - 1000) < 155, e.getKey() + " came " + e.getValue() + " times");
        }
    }

    @Test
    void shardsCoverEveryoneExactlyOnce() {
        for (int n : new int[] {1000, 1003, 7}) {
            for (int world : new int[] {1, 2, 3, 7}) {
                EpochOrder whole = new EpochOrder(n, 9, true);
                int[] count = new int[n];
                int total = 0;
                for (int r = 0; r < world; r++) {
                    EpochOrder shard = whole.shard(r, world);
                    int[] mine = shard.order(5);
                    assertEquals(shard.size(), mine.length);
                    // sizes differ by at most one: floor or ceil of n / world
                    assertTrue(mine.length == n / world || mine.length == (n + world - 1) / world);
                    total += mine.length;
                    for (int i : mine) {
                        count[i]++;
                    }
                    // a shard is the whole order's positions r, r + world, ...
                    int[] full = whole.order(5);
                    for (int k = 0; k < mine.length; k++) {
                        assertEquals(full[r + k * world], mine[k]);
                    }
                }
                assertEquals(n, total);
                for (int i = 0; i < n; i++) {
                    assertEquals(1, count[i], "n " + n + ", world " + world + ", sample " + i);
                }
            }
        }
    }

    @Test
    void badArgumentsAreNamed() {
        EpochOrder o = new EpochOrder(10, 1, true);
        assertThrows(IllegalArgumentException.class, () -> o.shard(2, 2));
        assertThrows(IllegalArgumentException.class, () -> o.shard(-1, 2));
        assertThrows(IllegalArgumentException.class, () -> o.shard(0, 11));
        assertThrows(IllegalStateException.class, () -> o.shard(0, 2).shard(0, 1));
        assertThrows(IllegalArgumentException.class, () -> o.fill(0, new int[9]));
        assertThrows(IllegalArgumentException.class, () -> o.order(-1));
        assertThrows(IllegalArgumentException.class, () -> new EpochOrder(0, 1, true));
    }
}
