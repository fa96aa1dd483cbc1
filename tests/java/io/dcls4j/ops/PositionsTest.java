package io.dcls4j.ops;

import io.dcls4j.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Positions} against the rules written out here: the reference's clamp_parameters per axis ({@code
 * [-(L // 2), L // 2]}, NaN kept) and torch.round (half to even), with halves, bounds, NaN and infinities.
 */
class PositionsTest {

    private static final float[] SPECIALS = {0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 3f, -3f, 3.5f, 2f, -2f, 0f, -0f,
            Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};

    @Test
    void clampAndRoundFollowTheReference() {
        int[] dks = {7, 4, 1};
        long[] shape = {3, 5, 2, 9};
        Positions ops = new Positions(dks, shape);
        long perAxis = 5 * 2 * 9;
        SplittableRandom r = new SplittableRandom(3);
        float[] v = new float[(int) (3 * perAxis)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextDouble(-6, 6);
        }
        for (int a = 0; a < 3; a++) {
            System.arraycopy(SPECIALS, 0, v, (int) (a * perAxis), SPECIALS.length);
        }
        try (Arena arena = Arena.ofConfined()) {
            Tensor p = Tensor.allocate(arena, shape).copyFrom(v);
            ops.clamp(p);
            float[] clamped = p.toFloatArray();
            for (int i = 0; i < v.length; i++) {
                float lim = dks[(int) (i / perAxis)] / 2;
                float want = v[i] < -lim ? -lim : v[i] > lim ? lim : v[i];
                assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(clamped[i]), "clamp of " + v[i]);
            }
            Tensor rounded = Tensor.allocate(arena, shape);
            ops.round(p, rounded);
            float[] got = rounded.toFloatArray();
            for (int i = 0; i < v.length; i++) {
                assertEquals((float) Math.rint(clamped[i]), got[i], 0f, "round of " + clamped[i]);
            }
            Tensor halves = Tensor.allocate(arena, 1, 4).copyFrom(new float[] {0.5f, 1.5f, 2.5f, -2.5f});
            new Positions(new int[] {9}, 1, 4).round(halves, halves);
            float[] h = halves.toFloatArray();
            assertTrue(h[0] == 0f && h[1] == 2f && h[2] == 2f && h[3] == -2f, java.util.Arrays.toString(h));
        }
    }

    @Test
    void badShapesAreRefusedBeforeTheNativeCall() {
        assertThrows(IllegalArgumentException.class, () -> new Positions(new int[] {5, 5}, 1, 4));
        Positions ops = new Positions(new int[] {5}, 1, 4);
        try (Arena arena = Arena.ofConfined()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ops.clamp(Tensor.allocate(arena, 1, 5)));
            assertTrue(e.getMessage().contains("positions has shape [1, 5], expected [1, 4]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> ops.round(Tensor.allocate(arena, 1, 4), null));
        }
    }
}
