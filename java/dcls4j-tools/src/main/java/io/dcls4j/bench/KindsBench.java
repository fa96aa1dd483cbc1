package io.dcls4j.bench;

import io.dcls4j.DclsConv;
import io.dcls4j.DclsConvTranspose;
import io.dcls4j.Interpolation;
import io.dcls4j.Tensor;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Forward and forward + backward times of one layer of each kind beyond Dcls1d/2d/3d (Dcls2_1d, Dcls3_1d,
 * Dcls2dK1d, transposed 2D), on the CPU; tests/pytorch/bench_kinds.py times the PyTorch reference on the same
 * shapes. Usage: {@code java -cp dcls4j-tools-all.jar io.dcls4j.bench.KindsBench [reps] [warmup]}.
 */
public final class KindsBench {
    private KindsBench() {}

    /** One case: a name, an input shape, and a forward and backward of a freshly built layer. */
    record Case(String name, long[] inputShape, Function<Arena, Layer> build) {}

    /** What the timing needs of a layer. */
    interface Layer extends AutoCloseable {
        Tensor forward(Tensor x);

        Tensor backward(Tensor gy);

        void zeroGrad();

        @Override
        void close();
    }

    static Layer of(DclsConv c) {
        return new Layer() {
            public Tensor forward(Tensor x) {
                return c.forward(x);
            }

            public Tensor backward(Tensor gy) {
                return c.backward(gy);
            }

            public void zeroGrad() {
                c.zeroGrad();
            }

            public void close() {
                c.close();
            }
        };
    }

    static Layer of(DclsConvTranspose c) {
        return new Layer() {
            public Tensor forward(Tensor x) {
                return c.forward(x);
            }

            public Tensor backward(Tensor gy) {
                return c.backward(gy);
            }

            public void zeroGrad() {
                c.zeroGrad();
            }

            public void close() {
                c.close();
            }
        };
    }

    static final List<Case> CASES = List.of(
            new Case("Dcls2_1d 64->64, K=4, dense 3 x L=25, pad (1,12), N=8, 32x256, gauss",
                    new long[] {8, 64, 32, 256}, a -> of(DclsConv.builder(64, 64).kernelCount(4)
                    .dilatedKernelSize(25).denseKernelSize(3).padding(1, 12).interpolation(Interpolation.GAUSSIAN)
                    .seed(1).build())),
            new Case("Dcls3_1d 32->32, K=3, dense 3x3 x L=15, pad (1,1,7), N=4, 8x16x64, gauss",
                    new long[] {4, 32, 8, 16, 64}, a -> of(DclsConv.builder(32, 32).kernelCount(3)
                    .dilatedKernelSize(15).denseKernelSize(3, 3).padding(1, 1, 7)
                    .interpolation(Interpolation.GAUSSIAN).seed(2).build())),
            new Case("Dcls2dK1d 64->64 depthwise, K=5, L=17 along W, pad (0,8), N=8, 56x56, v1",
                    new long[] {8, 64, 56, 56}, a -> of(DclsConv.builder(64, 64).groups(64).kernelCount(5)
                    .dilatedKernelSize(17).flatDim(1).padding(0, 8).interpolation(Interpolation.TRIANGLE)
                    .seed(3).build())),
            new Case("transposed 2D 64->32, K=9, 9x9, stride 2, pad 4, output pad 1, N=8, 16x16 -> 32x32, gauss",
                    new long[] {8, 64, 16, 16}, a -> of(DclsConvTranspose.builder(64, 32).kernelCount(9)
                    .dilatedKernelSize(9, 9).stride(2).padding(4).outputPadding(1)
                    .interpolation(Interpolation.GAUSSIAN).seed(4).build())));

    public static void main(String[] args) {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 9;
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        System.out.println("case | forward ms | fwd+bwd ms");
        for (Case c : CASES) {
            try (Arena arena = Arena.ofConfined(); Layer layer = c.build.apply(arena)) {
                Tensor x = random(arena, c.inputShape, 5);
                Tensor y = layer.forward(x);
                Tensor gy = random(arena, y.shape(), 6);
                double fwd = Timer.medianMs(warmup, reps, () -> layer.forward(x));
                double both = Timer.medianMs(warmup, reps, () -> {
                    layer.zeroGrad();
                    layer.forward(x);
                    layer.backward(gy);
                });
                System.out.printf("%s | %.2f | %.2f%n", c.name, fwd, both);
            }
        }
    }

    private static Tensor random(Arena arena, long[] shape, long seed) {
        Tensor t = Tensor.allocate(arena, shape);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < t.elementCount(); i++) {
            t.set(i, (float) r.nextDouble(-1, 1));
        }
        return t;
    }
}
