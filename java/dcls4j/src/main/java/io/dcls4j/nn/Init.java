package io.dcls4j.nn;

import io.dcls4j.Tensor;

import java.util.SplittableRandom;

/** PyTorch's initialisations, drawn from a seeded generator (the values differ from torch's; the laws do not). */
final class Init {
    private Init() {}

    /**
     * Uniform in [-bound, bound): kaiming_uniform_(a=sqrt(5)) and the default bias of Linear and ConvNd. The same
     * draws on any device (a CUDA tensor gets them in one copy).
     */
    static void uniform(Tensor t, double bound, SplittableRandom random) {
        float[] values = new float[Math.toIntExact(t.elementCount())];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextDouble(-bound, bound);
        }
        t.copyFrom(values);
    }

    /** timm's trunc_normal_(std): normal(0, std) redrawn outside [-2, 2] (absolute, as timm). */
    static void truncatedNormal(Tensor t, double std, SplittableRandom random) {
        float[] values = new float[Math.toIntExact(t.elementCount())];
        for (int i = 0; i < values.length; i++) {
            double v;
            do {
                v = std * random.nextGaussian();
            } while (v < -2 || v > 2);
            values[i] = (float) v;
        }
        t.copyFrom(values);
    }
}
