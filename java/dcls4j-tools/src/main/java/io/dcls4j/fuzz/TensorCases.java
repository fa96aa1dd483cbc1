package io.dcls4j.fuzz;

import io.dcls4j.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;

/** Tensors: allocation with good and bad shapes, wrapping, reshaping, copies, element access. */
final class TensorCases {
    private TensorCases() {}

    static FuzzCase make(long seed, SplittableRandom r) {
        int what = r.nextInt(10);
        long[] shape = new long[1 + r.nextInt(4)];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = 1 + r.nextInt(6);
        }
        boolean valid = what == 0;
        String d = "tensor op #" + what + " on " + Arrays.toString(shape);
        FuzzCase.Expect expect = valid ? FuzzCase.Expect.VALID : what == 9 ? FuzzCase.Expect.EITHER
                : FuzzCase.Expect.INVALID;
        return new FuzzCase(seed, "tensor", d, expect, () -> {
            try (Arena arena = Arena.ofConfined()) {
                Tensor t = Tensor.allocate(arena, shape);
                float[] v = LayerCases.random(r, (int) LayerCases.product(shape));
                switch (what) {
                    case 0 -> {
                        t.copyFrom(v);
                        Wrong.check("round trip", Arrays.equals(v, t.toFloatArray()));
                        Tensor flat = t.reshape(LayerCases.product(shape));
                        for (int i = 0; i < v.length; i++) {
                            Wrong.check("get " + i, flat.get(i) == v[i]);
                        }
                        Tensor copy = Tensor.allocate(arena, shape).copyFrom(t);
                        Wrong.check("copy", Arrays.equals(v, copy.toFloatArray()));
                    }
                    case 1 -> {
                        long[] bad = shape.clone();
                        bad[r.nextInt(bad.length)] = r.nextBoolean() ? 0 : -r.nextLong(1, Long.MAX_VALUE);
                        Tensor.allocate(arena, bad);
                    }
                    case 2 -> t.copyFrom(new float[v.length + 1 + r.nextInt(3)]);
                    case 3 -> t.get(r.nextBoolean() ? -1 - r.nextInt(5) : v.length + r.nextInt(5));
                    case 4 -> t.set(r.nextBoolean() ? Long.MIN_VALUE : v.length, 1f);
                    case 5 -> t.reshape(LayerCases.product(shape) + 1);
                    case 6 -> Tensor.wrap(arena.allocate(4L * v.length - 4, 4), shape);
                    case 7 -> Tensor.wrap(MemorySegment.ofArray(new float[v.length]), shape);
                    case 8 -> {
                        Arena other = Arena.ofConfined();
                        Tensor dead = Tensor.allocate(other, shape);
                        other.close();
                        dead.toFloatArray();
                    }
                    default -> {
                        long[] huge = shape.clone();
                        huge[r.nextInt(huge.length)] = r.nextBoolean() ? Long.MAX_VALUE / 2 : 1L << (28 + r.nextInt(20));
                        Tensor.allocate(arena, huge).fill(1f);
                    }
                }
            }
        });
    }
}
