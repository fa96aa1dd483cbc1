package io.dcls4j.fuzz;

import java.util.SplittableRandom;

/** The case of a seed: the kind by the seed's hash, then everything else drawn from a generator on the seed. */
final class FuzzCases {
    private FuzzCases() {}

    static FuzzCase make(long seed) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 12345);
        int slot = r.nextInt(20);
        if (slot < 7) {
            return LayerCases.validCase(seed, r);
        }
        if (slot < 10) {
            return LayerCases.invalidCase(seed, r);
        }
        if (slot < 12) {
            return LayerCases.extremeCase(seed, r);
        }
        if (slot < 14) {
            return OpsCases.make(seed, r);
        }
        if (slot < 16) {
            return TensorCases.make(seed, r);
        }
        if (slot < 18) {
            return OptimizerCases.make(seed, r);
        }
        return CheckpointCases.make(seed, r);
    }
}
