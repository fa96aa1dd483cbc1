package io.dcls4j.nn;

import io.dcls4j.Tensor;

import java.util.SplittableRandom;

/** PyTorch's initialisations, drawn from a seeded generator (the values differ from torch's; the laws do not). */
final class Init {
    private Init() {}

    /** Uniform in [-bound, bound): kaiming_uniform_(a=sqrt(5)) and the default bias of Linear and ConvNd. */
    static void uniform(Tensor t, double bound, SplittableRandom random) {
        for (long i = 0, n = t.elementCount(); i < n; i++) {
            t.set(i, (float) random.nextDouble(-bound, bound));
        }
    }

    /** timm's trunc_normal_(std): normal(0, std) redrawn outside [-2, 2] (absolute, as timm). */
    static void truncatedNormal(Tensor t, double std, SplittableRandom random) {
        for (long i = 0, n = t.elementCount(); i < n; i++) {
            double v;
            do {
                v = std * random.nextGaussian();
            } while (v < -2 || v > 2);
            t.set(i, (float) v);
        }
    }
}
